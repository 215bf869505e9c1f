"""Demo data for a newcomer: a trainer, five clients, and one client assessed and programmed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from trainer_app.accounts.models import User
from trainer_app.accounts.service import find_user_by_email, register_trainer
from trainer_app.appointments.models import Appointment
from trainer_app.appointments.service import local_midnight_utc
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.scoring import result_from_dict, suggested_imbalances
from trainer_app.assessments.service import confirm_imbalances, record_assessment
from trainer_app.clients.models import Client
from trainer_app.clients.service import create_client
from trainer_app.extensions import db
from trainer_app.library.service import clinic_catalog
from trainer_app.programs.builder import BuildOptions
from trainer_app.programs.service import build_from_assessment
from trainer_app.timeutil import local_today

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-1"  # noqa: S105  (printed in the README on purpose)
DEMO_CLIENTS = [
    (
        "Maria Jensen",
        "maria.jensen@example.com",
        date(1986, 4, 12),
        True,
        "Desk job, morning stiffness.",
    ),
    (
        "Tomás Álvarez",
        "tomas.alvarez@example.com",
        date(1979, 9, 3),
        True,
        "Runner; hamstring tightness.",
    ),
    ("Aiko Tanaka", None, date(1992, 1, 27), False, "Prefers printed plans."),
    ("Oliver Smith", "oliver.smith@example.com", None, False, ""),
    (
        "Zoë Łukasiewicz",
        "zoe.l@example.com",
        date(1990, 6, 30),
        True,
        "Left/right difference after ankle sprain.",
    ),
]
# A typical desk worker: weak glutes (left weaker), weak core, rounded shoulders, tight chest.
DEMO_ANSWERS = {
    "morning_stiffness": True,
    "pain_standing_sitting": True,
    "one_side_stronger": True,
    "recurring_tightness": False,
    "bladder_bowel_control": False,
    "saddle_numbness": False,
    "progressive_leg_weakness": False,
    "significant_trauma": False,
    "cancer_history": False,
    "unexplained_weight_loss": False,
    "constant_night_pain": False,
    "fever_with_back_pain": False,
    "leg_pain_tingling": False,
    "onset_age": False,
    "steroids_immunosuppression": False,
    "pregnant": False,
    "osteoporosis": False,
    "recent_hamstring_strain": False,
    "flexion_pain": False,
    "neck_pain": False,
    "blood_thinners": False,
    "single_leg_bridge_hold_left": 12,
    "single_leg_bridge_hold_right": 25,
    "hip_drop_left": True,
    "hip_drop_right": False,
    "bridge_compensation": True,
    "thomas_test_left": "not_tested",
    "thomas_test_right": "not_tested",
    "front_plank_hold": 15,
    "side_plank_hold_left": 20,
    "side_plank_hold_right": 24,
    "dead_bug_back_lifts": True,
    "hamstring_bridge_reps_left": 22,
    "hamstring_bridge_reps_right": 23,
    "hinge_back_takes_over": False,
    "forward_head_shoulders": "marked",
    "prone_y_raise_hold": 10,
    "pec_minor_short_left": True,
    "pec_minor_short_right": True,
    "wall_angel": False,
}


def load_demo() -> User:
    """Create what is missing of the demo (safe to run again); the caller commits."""
    user = find_user_by_email(DEMO_EMAIL)
    if user is None:
        user = register_trainer(
            name="Demo Trainer",
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            clinic_name="Demo Movement Clinic",
            time_zone="Europe/Copenhagen",
        )
        user.clinic.contact = "12 Harbour Street, Aarhus · +45 12 34 56 78 · demo@example.com"
    clients = {
        c.name: c
        for c in db.session.scalars(select(Client).where(Client.clinic_id == user.clinic_id))
    }
    for name, email, dob, consent, notes in DEMO_CLIENTS:
        if name not in clients:
            clients[name] = create_client(
                user.clinic_id,
                {
                    "name": name,
                    "email": email,
                    "phone": None,
                    "date_of_birth": dob,
                    "notes": notes,
                    "email_consent": consent,
                    "primary_trainer_id": user.id,
                },
            )
    maria = clients["Maria Jensen"]
    assessed = db.session.scalar(select(Assessment.id).where(Assessment.client_id == maria.id))
    if assessed is None:
        assessment = record_assessment(maria, trainer_id=user.id, answers=DEMO_ANSWERS)
        confirm_imbalances(assessment, suggested_imbalances(result_from_dict(assessment.result)))
        program = build_from_assessment(
            assessment,
            clinic_catalog(user.clinic_id),
            BuildOptions(sessions_per_week=3, weeks=6),
            user_id=user.id,
            title="Back-care program",
        )
        _demo_progress(maria, program, user.id)
    _demo_appointments(user, list(clients.values()))
    db.session.flush()
    return user


def _demo_appointments(user: User, clients: list[Client]) -> None:
    """Today's diary, once: a session per demo client from 09:00, Maria's with a focus note."""
    if db.session.scalar(select(Appointment.id).where(Appointment.clinic_id == user.clinic_id)):
        return
    start = local_midnight_utc(local_today(user.clinic.time_zone), user.clinic.time_zone)
    for n, client in enumerate(sorted(clients, key=lambda c: c.name)):
        begins = start + timedelta(hours=9 + n)
        db.session.add(
            Appointment(
                clinic_id=user.clinic_id,
                client_id=client.id,
                trainer_id=user.id,
                starts_at=begins,
                ends_at=begins + timedelta(minutes=45),
                note="Focus: slow lowering on the bridges" if client.name == "Maria Jensen" else "",
                created_by_id=user.id,
            )
        )


# Days after the program started that Maria logged, with her pain then (None: not asked).
DEMO_LOG = ((0, 5, True), (2, 4, True), (4, 4, True), (7, 4, True), (10, 3, True), (14, 3, False))
DEMO_PROGRAM_AGE_DAYS = 17


def _demo_progress(client: Client, program, user_id: int) -> None:
    """Two and a half weeks of Maria's progress: the program dated back, her personal link and
    the sessions and pain she logged (one session logged by the trainer at a visit)."""
    from trainer_app.programs.service import clinic_zone, day
    from trainer_app.progress.models import CLIENT, TRAINER, ProgressEntry
    from trainer_app.progress.service import ensure_link, program_start
    from trainer_app.tenancy import clinic_key

    age = timedelta(days=DEMO_PROGRAM_AGE_DAYS)
    assessment = program.assessment
    for row in (assessment, program, *program.versions):
        row.created_at -= age
    if assessment.confirmed_at is not None:
        assessment.confirmed_at -= age
    if program.retest_on is not None:
        program.retest_on -= age
    zone = clinic_zone(client.clinic_id)
    # Everything that was written from those dates follows them back: she became a client the
    # day before her assessment, the first version names the assessment's new day, and the
    # client list's "last assessed" and "program changed" agree with her page.
    client.created_at = assessment.created_at - timedelta(days=1)
    if client.email_consent_at is not None:
        client.email_consent_at = client.created_at
    client.last_assessed_at = assessment.created_at
    first = min(program.versions, key=lambda version: version.number)
    client.program_changed_at = first.created_at
    first.change_note = f"Built from assessment of {day(assessment.created_at, zone)}"
    db.session.flush()
    start = program_start(program, zone)
    slugs = [item["exercise_slug"] for item in program.latest.content["items"]]
    for n, (offset, pain, by_client) in enumerate(DEMO_LOG):
        db.session.add(
            ProgressEntry(
                clinic_id=client.clinic_id,
                client_id=client.id,
                program_id=program.id,
                day=start + timedelta(days=offset),
                exercises=slugs if by_client else slugs[:4],
                session=True,
                pain=pain,
                note="Lower back stiff in the morning" if n == 0 else "",
                warning_sign=False,
                source=CLIENT if by_client else TRAINER,
                created_by_id=None if by_client else user_id,
                request_key=clinic_key(client.clinic_id, f"demo-progress-{n}"),
            )
        )
    ensure_link(client, program)
