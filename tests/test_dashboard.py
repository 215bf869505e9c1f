"""The dashboard lists what needs attention, each with a link to its next action."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.support.factories import ASSESSMENT_ANSWERS
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import result_to_dict, score
from trainer_app.delivery.models import Delivery
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.timeutil import local_today, utcnow

RESULT = result_to_dict(score(default_questionnaire(), ASSESSMENT_ANSWERS))


def _program(app, factories, user, name: str, retest_in: int | None) -> tuple[int, int, int]:
    """A client with a programmed assessment; returns (client id, program id, version id)."""
    client = factories.client_record(
        user, name=name, email=f"{name.split()[0].lower()}@example.com", email_consent=True
    )
    version_id = factories.program_version(user, client, title=f"{name} program")
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        program = version.program
        # the factory's assessment was made with the program; move it before
        program.assessment.created_at = program.created_at - timedelta(minutes=5)
        program.retest_on = (
            None if retest_in is None else local_today("UTC") + timedelta(days=retest_in)
        )
        db.session.commit()
        return client.id, program.id, version_id


def _assess(app, user, client_id: int, *, confirmed=("weak_glutes",), when=None) -> int:
    with app.app_context():
        row = Assessment(
            clinic_id=user.clinic_id,
            client_id=client_id,
            trainer_id=user.id,
            questionnaire_version=RESULT["questionnaire_version"],
            answers=ASSESSMENT_ANSWERS,
            result=RESULT,
            confirmed_imbalances=None if confirmed is None else list(confirmed),
            created_at=when or utcnow() + timedelta(minutes=1),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def _section(page: str, heading: str) -> str:
    start = page.index(heading)
    rest = page[start:]
    end = min(rest.find(h, 1) for h in ("<h3", "</section>") if rest.find(h, 1) > 0)
    return rest[:end]


def test_nothing_waiting(client, auth):
    auth.login()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Nothing waiting" in page


def test_retests_due_link_to_recording_one(app, client, auth, factories):
    auth.login()
    soon, _, _ = _program(app, factories, auth.user, "Soon Due", 3)
    late, _, _ = _program(app, factories, auth.user, "Long Overdue", -4)
    _program(app, factories, auth.user, "Far Away", 30)
    _program(app, factories, auth.user, "No Date", None)
    done, _, _ = _program(app, factories, auth.user, "Already Retested", -1)
    _assess(app, auth.user, done)
    archived, _, _ = _program(app, factories, auth.user, "Gone Client", -1)
    with app.app_context():
        from trainer_app.clients.models import Client

        db.session.get(Client, archived).archived_at = utcnow()
        db.session.commit()
    page = client.get("/dashboard").get_data(as_text=True)
    section = _section(page, "Re-tests due")
    assert section.index("Long Overdue") < section.index("Soon Due")
    assert "Overdue since" in section and "(in 3 days)" in section
    assert f'href="/assessments/new/{soon}"' in section
    assert f'href="/assessments/new/{late}"' in section
    for absent in ("Far Away", "No Date", "Already Retested", "Gone Client"):
        assert absent not in section


def test_failed_plans_and_emails_until_fixed(app, client, auth, factories):
    auth.login()
    client_id, program_id, version_id = _program(app, factories, auth.user, "Maria Jensen", None)
    with app.app_context():
        failed = PlanDocument(
            clinic_id=auth.user.clinic_id,
            program_version_id=version_id,
            request_key="1:failed",
            paper_size="A4",
            status="failed",
            error="Rendering the PDF took longer than 90 s and was stopped.",
        )
        ready = PlanDocument(
            clinic_id=auth.user.clinic_id,
            program_version_id=version_id,
            request_key="1:old-ready",
            paper_size="Letter",
            status="ready",
            pdf=b"%PDF",
        )
        db.session.add_all([ready])
        db.session.flush()
        db.session.add(failed)
        db.session.flush()
        bounced = Delivery(
            clinic_id=auth.user.clinic_id,
            client_id=client_id,
            plan_document_id=ready.id,
            idempotency_key="1:bounced",
            to_name="Maria Jensen",
            to_email="maria@example.com",
            status="failed",
            last_error="The mail server refused the recipient address: 550 no such user",
        )
        db.session.add(bounced)
        db.session.commit()
        ready_id, bounced_id = ready.id, bounced.id
    page = client.get("/dashboard").get_data(as_text=True)
    section = _section(page, "Plans or emails that failed")
    assert "longer than 90 s" in section and "550 no such user" in section
    assert f'href="/programs/{program_id}#documents"' in section
    assert f'href="/deliveries/documents/{ready_id}/compose?again={bounced_id}"' in section

    with app.app_context():
        db.session.add_all(
            [
                PlanDocument(
                    clinic_id=auth.user.clinic_id,
                    program_version_id=version_id,
                    request_key="1:retry",
                    paper_size="A4",
                    status="ready",
                    pdf=b"%PDF",
                ),
                Delivery(
                    clinic_id=auth.user.clinic_id,
                    client_id=client_id,
                    plan_document_id=ready_id,
                    idempotency_key="1:again",
                    to_name="Maria Jensen",
                    to_email="maria.j@example.com",
                    status="sent",
                ),
            ]
        )
        db.session.commit()
    assert "Plans or emails that failed" not in client.get("/dashboard").get_data(as_text=True)


def test_assessed_clients_without_a_program(app, client, auth, factories):
    auth.login()
    confirmed = factories.client_record(auth.user, name="Confirmed Client")
    confirmed_assessment = _assess(app, auth.user, confirmed.id)
    unconfirmed = factories.client_record(auth.user, name="Unconfirmed Client")
    unconfirmed_assessment = _assess(app, auth.user, unconfirmed.id, confirmed=None)
    nothing = factories.client_record(auth.user, name="Nothing To Treat")
    _assess(app, auth.user, nothing.id, confirmed=())
    reassessed, _, _ = _program(app, factories, auth.user, "Reassessed Client", None)
    newer = _assess(app, auth.user, reassessed)
    _program(app, factories, auth.user, "Programmed Client", None)
    factories.client_record(auth.user, name="Never Assessed")
    page = client.get("/dashboard").get_data(as_text=True)
    section = _section(page, "Assessed, no program yet")
    assert f'href="/programs/new/{confirmed_assessment}"' in section
    assert f'href="/assessments/{unconfirmed_assessment}#confirm"' in section
    assert f'href="/programs/new/{newer}"' in section
    for absent in ("Nothing To Treat", "Programmed Client", "Never Assessed"):
        assert absent not in section


def test_other_clinics_items_stay_out(app, client, auth, factories):
    other = factories.user()
    _program(app, factories, other, "Their Client", -2)
    theirs = factories.client_record(other, name="Their Assessed")
    _assess(app, other, theirs.id)
    auth.login()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Their Client" not in page and "Their Assessed" not in page
    assert "Nothing waiting" in page


def test_dashboard_programs_use_the_right_program(app, client, auth, factories):
    """Only the client's newest program decides the re-test date."""
    auth.login()
    _, old_program, _ = _program(app, factories, auth.user, "Two Programs", -10)
    with app.app_context():
        client_row = db.session.get(Program, old_program).client
        newest = Program(
            clinic_id=auth.user.clinic_id,
            client_id=client_row.id,
            title="Newer program",
            retest_on=local_today("UTC") + timedelta(days=20),
            created_at=utcnow() - timedelta(minutes=1),
        )
        db.session.add(newest)
        db.session.flush()
        db.session.add(
            ProgramVersion(
                clinic_id=auth.user.clinic_id,
                program_id=newest.id,
                number=1,
                content=db.session.scalar(select(ProgramVersion.content)),
                catalog_version="x",
            )
        )
        db.session.commit()
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Re-tests due" not in page
