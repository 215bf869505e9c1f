"""A clinic with many clients, for load tests and query-count checks (`trainer-app seed-clients`).

The first client is assessed and programmed through the same service functions as the pages;
the rest are written with bulk inserts (thousands of rows per statement batch), and a share of
them get a copy of that assessment and program, so lists, dashboards and client pages meet
realistic data in seconds rather than the minutes one request per client would take.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from trainer_app.accounts.models import User
from trainer_app.assessments.models import Assessment
from trainer_app.clients.models import Client, search_text_of
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

FIRST_NAMES = [
    "Maria", "Zoë", "Tomás", "Aiko", "Oliver", "Søren", "Émile", "Łucja", "Ana", "Bjørn",
    "Chloé", "José", "Ingrid", "Kofi", "Priya", "Mateus", "Ærin", "Noémie", "Đorđe", "Siobhán",
    "Hyun-woo", "Fatima", "Björk", "Renée", "Jürgen", "Leïla", "Grzegorz", "Inés", "Sven", "Yusuf",
]  # fmt: skip
LAST_NAMES = [
    "Jensen", "Łukasiewicz", "Álvarez", "Tanaka", "Smith", "Ørsted", "Zola", "Nowak", "Müller",
    "García", "O'Brien", "Nguyễn", "Kowalczyk", "Dubois", "Håkansson", "Rossi", "Okafor",
    "Çelik", "Petrović", "van der Berg", "Ivanova", "Silva", "Larsen", "Novák", "Šimić",
    "Fernández", "Lindqvist", "Murphy", "Schröder", "Kim",
]  # fmt: skip
BATCH = 2000


@dataclass(frozen=True)
class SeedCounts:
    """What one seeding wrote."""

    clients: int
    assessments: int
    programs: int


def client_name(n: int) -> str:
    """The ``n``-th seeded name: first and last names cycle at different rates, so they mix."""
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    last = LAST_NAMES[(n // len(FIRST_NAMES) + n) % len(LAST_NAMES)]
    return f"{first} {last}"


def _email(n: int, name: str) -> str | None:
    if n % 6 == 5:  # some clients gave no email
        return None
    local = search_text_of(name, None).strip().replace(" ", ".").replace("'", "")
    return f"{local}.{n}@example.com"


def _insert(model, rows: list[dict]) -> list[int]:
    """Insert ``rows`` in batches; their new ids in the same order."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        ids += db.session.scalars(
            insert(model).returning(model.id, sort_by_parameter_order=True),
            rows[start : start + BATCH],
        ).all()
    return ids


def seed_clients(
    owner: User, count: int, *, assessed_every: int = 4, programmed_every: int = 2
) -> SeedCounts:
    """Give ``owner``'s clinic ``count`` more clients; every ``assessed_every``-th is assessed
    and every ``programmed_every``-th assessed one has a program. The caller commits.

    :raise ValueError: ``count`` below 1, or a share below 1.
    """
    if count < 1 or assessed_every < 1 or programmed_every < 1:
        raise ValueError("The number of clients and the shares must be at least 1.")
    clinic_id = owner.clinic_id
    offset = db.session.scalar(select(func.count(Client.id)).where(Client.clinic_id == clinic_id))
    now = utcnow()
    rows = []
    for i in range(count):
        n = offset + i
        name = client_name(n)
        email = _email(n, name)
        created = now - timedelta(days=730 * (count - i) / count, minutes=n % 997)
        rows.append(
            {
                "clinic_id": clinic_id,
                "name": name,
                "email": email,
                "phone": f"+45 {20000000 + n:08d}" if n % 3 else None,
                "date_of_birth": date(1950 + n % 55, 1 + n % 12, 1 + n % 28),
                "notes": "",
                "email_consent": email is not None and n % 2 == 0,
                "email_consent_at": created if email is not None and n % 2 == 0 else None,
                "primary_trainer_id": owner.id,
                "archived_at": now - timedelta(days=n % 300) if n % 50 == 49 else None,
                "created_at": created,
                "updated_at": created,
                # Bulk inserts skip the model's events: fill the search column as they would.
                "search_text": search_text_of(name, email),
                "last_assessed_at": None,
                "program_changed_at": None,
            }
        )
    assessed_every_n = range(0, count, assessed_every)
    for i in assessed_every_n[1:]:  # the events that keep the list's sort keys skip bulk inserts
        rows[i]["last_assessed_at"] = rows[i]["created_at"] + timedelta(days=1)
    for i in assessed_every_n[1:][programmed_every - 1 :: programmed_every]:
        rows[i]["program_changed_at"] = rows[i]["created_at"] + timedelta(days=1, minutes=5)
    client_ids = _insert(Client, rows)
    created_at = {cid: row["created_at"] for cid, row in zip(client_ids, rows, strict=True)}
    assessed_ids = client_ids[::assessed_every]
    assessment, version = _reference(owner, assessed_ids[0])
    later = assessed_ids[1:]
    assessment_ids = _insert(
        Assessment,
        [
            {
                "clinic_id": clinic_id,
                "client_id": cid,
                "trainer_id": owner.id,
                "questionnaire_version": assessment.questionnaire_version,
                "answers": assessment.answers,
                "result": assessment.result,
                "blocked": assessment.blocked,
                "confirmed_imbalances": assessment.confirmed_imbalances,
                "confirmed_at": created_at[cid] + timedelta(days=1),
                "notes": "",
                "created_at": created_at[cid] + timedelta(days=1),
            }
            for cid in later
        ],
    )
    from trainer_app.programs.models import Program, ProgramVersion

    pairs = list(zip(later, assessment_ids, strict=True))
    programmed = pairs[programmed_every - 1 :: programmed_every]
    program_ids = _insert(
        Program,
        [
            {
                "clinic_id": clinic_id,
                "client_id": cid,
                "assessment_id": aid,
                "title": version.program.title,
                "retest_on": (created_at[cid] + timedelta(days=29)).date(),
                "created_at": created_at[cid] + timedelta(days=1, minutes=5),
            }
            for cid, aid in programmed
        ],
    )
    _insert(
        ProgramVersion,
        [
            {
                "clinic_id": clinic_id,
                "program_id": pid,
                "number": 1,
                "content": version.content,
                "weeks": version.weeks,
                "catalog_version": version.catalog_version,
                "change_note": "",
                "created_by_id": owner.id,
                "created_at": created_at[cid] + timedelta(days=1, minutes=5),
            }
            for pid, (cid, _aid) in zip(program_ids, programmed, strict=True)
        ],
    )
    db.session.flush()
    return SeedCounts(count, len(assessed_ids), len(program_ids) + 1)


def _reference(owner: User, client_id: int):
    """Assess and program one client through the services; its rows are copied to the others."""
    from trainer_app.assessments.scoring import result_from_dict, suggested_imbalances
    from trainer_app.assessments.service import confirm_imbalances, record_assessment
    from trainer_app.demo import DEMO_ANSWERS
    from trainer_app.library.service import clinic_catalog
    from trainer_app.programs.builder import BuildOptions
    from trainer_app.programs.service import build_from_assessment

    client = db.session.get(Client, client_id)
    assessment = record_assessment(client, trainer_id=owner.id, answers=DEMO_ANSWERS)
    confirm_imbalances(assessment, suggested_imbalances(result_from_dict(assessment.result)))
    program = build_from_assessment(
        assessment,
        clinic_catalog(owner.clinic_id),
        BuildOptions(sessions_per_week=3, weeks=6),
        user_id=owner.id,
        title="Back-care program",
    )
    db.session.flush()
    return assessment, program.latest
