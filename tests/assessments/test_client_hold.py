"""A red flag on the latest assessment holds the client: nothing is built, printed or emailed.

The older program and its PDF were made before the red flag; every action on them is refused
with the reason and a link to the clearance, on the web and in the worker, until a clearance
is recorded on the flagged assessment.
"""

from __future__ import annotations

import html as html_lib
import subprocess

import pytest
from sqlalchemy import func, select

from tests.assessments.test_views import valid_answers
from trainer_app.delivery import service as delivery_service
from trainer_app.delivery.models import FAILED as DELIVERY_FAILED
from trainer_app.delivery.models import Delivery
from trainer_app.extensions import db
from trainer_app.plans import service as plan_service
from trainer_app.plans.models import FAILED, PlanDocument
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.timeutil import format_local, local_today


def pdf_text(pdf: bytes, *pages: str) -> str:
    """The PDF's text as pdftotext reads it (poppler-utils); ``"-l", "1"`` for page one."""
    return subprocess.run(
        ["pdftotext", *pages, "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _document(app, owner, version_id: int, *, status: str, key: str) -> int:
    with app.app_context():
        pdf = b"%PDF-1.4\n% made before the red flag\n%%EOF\n" if status == "ready" else None
        document = PlanDocument(
            clinic_id=owner.clinic_id,
            program_version_id=version_id,
            request_key=f"{owner.clinic_id}:{key}",
            paper_size="A4",
            status=status,
            pdf=pdf,
            size_bytes=len(pdf) if pdf else None,
            created_by_id=owner.id,
        )
        db.session.add(document)
        db.session.commit()
        return document.id


@pytest.fixture
def held(app, client, auth, factories):
    """A client with a program and its ready PDF, then a new assessment reporting saddle
    numbness (an emergency red flag). Returns a dict of the ids."""
    auth.login()
    owner = auth.user
    person = factories.client_record(owner, email="held@example.com", email_consent=True)
    version_id = factories.program_version(owner, person)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        older_assessment, program_id = version.program.assessment_id, version.program_id
    ready = _document(app, owner, version_id, status="ready", key="ready-before-flag")
    queued = _document(app, owner, version_id, status="queued", key="queued-before-flag")
    with app.app_context():
        delivery = Delivery(
            clinic_id=owner.clinic_id,
            client_id=person.id,
            plan_document_id=ready,
            idempotency_key=f"{owner.clinic_id}:sent-before-flag",
            to_name=person.name,
            to_email=person.email,
            status="queued",
            message_id="<before-flag@trainer.invalid>",
        )
        db.session.add(delivery)
        db.session.commit()
        delivery_id = delivery.id
    response = client.post(
        f"/assessments/new/{person.id}", data=valid_answers(saddle_numbness="yes")
    )
    assert response.status_code == 302
    flagged = int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])
    return {
        "owner": owner,
        "client": person,
        "older_assessment": older_assessment,
        "flagged": flagged,
        "program": program_id,
        "version": version_id,
        "ready": ready,
        "queued": queued,
        "delivery": delivery_id,
    }


def _links_to_clearance(page: str, assessment_id: int) -> bool:
    return f'href="/assessments/{assessment_id}#clearance"' in page


def test_older_program_is_neither_built_printed_nor_emailed(app, client, held):
    flagged = held["flagged"]
    programs, documents, deliveries = rows(app, Program), rows(app, PlanDocument), 1

    # build from the older, confirmed assessment ("Build another"): refused, with the way out
    page = text(client.get(f"/programs/new/{held['older_assessment']}"))
    assert "reported a red flag. Until a medical clearance is recorded" in page
    assert "Numbness" not in page  # the reason names no symptom (the front desk sees it)
    assert _links_to_clearance(page, flagged)
    response = client.post(
        f"/programs/new/{held['older_assessment']}",
        data={"level": "beginner", "sessions_per_week": 3, "weeks": 4, "max_exercises": 6},
    )
    assert response.status_code == 409
    assert rows(app, Program) == programs
    client_page = text(client.get(f"/clients/{held['client'].id}"))
    assert "Build another" not in client_page and "Start from a template" not in client_page
    assert _links_to_clearance(client_page, flagged)
    response = client.get(f"/programs/start/{held['client'].id}", follow_redirects=True)
    assert "No program can be started for this client." in text(response)
    assert rows(app, Program) == programs

    # the program page says why and links to the clearance; Make PDF is refused
    page = text(client.get(f"/programs/{held['program']}"))
    assert 'id="clinical-hold"' in page and _links_to_clearance(page, flagged)
    response = client.post(
        f"/plans/versions/{held['version']}/make",
        data={"paper": "A4", "request_key": "after-the-flag-0001"},
        follow_redirects=True,
    )
    page = text(response)
    assert "No PDF was made." in page and _links_to_clearance(page, flagged)
    assert rows(app, PlanDocument) == documents
    response = client.get(f"/plans/{held['ready']}/download", follow_redirects=True)
    assert response.mimetype == "text/html"
    assert "The plan cannot be downloaded." in text(response)

    # email: the compose page and the send both refuse
    page = text(client.get(f"/deliveries/documents/{held['ready']}/compose"))
    assert "Not possible yet: The assessment of" in page and _links_to_clearance(page, flagged)
    response = client.post(
        f"/deliveries/documents/{held['ready']}/send",
        data={"idempotency_key": "after-the-flag-0002", "personal_note": ""},
        follow_redirects=True,
    )
    assert "Nothing was sent." in text(response)
    assert rows(app, Delivery) == deliveries


def test_jobs_queued_before_the_flag_are_refused_by_the_worker(app, held, tmp_path):
    with app.app_context():
        assert plan_service.render_document(held["queued"], claim_id="worker-1") == "refused"
        document = db.session.get(PlanDocument, held["queued"])
        assert document.status == FAILED and document.pdf is None
        assert "reported a red flag" in document.error

        outcome = delivery_service.send_delivery(held["delivery"], claim_id="worker-2")
        assert outcome.status == DELIVERY_FAILED
        delivery = db.session.get(Delivery, held["delivery"])
        assert delivery.sent_at is None and "reported a red flag" in delivery.last_error


def _clear(client, held, restrictions: str) -> str:
    """Record a GP's clearance on the flagged assessment; returns the line the plan prints."""
    today = local_today(None)
    response = client.post(
        f"/assessments/{held['flagged']}/clearance",
        data={
            "name": "Dr Anna Patel",
            "profession": "gp",
            "cleared_on": today.isoformat(),
            "restrictions": restrictions,
        },
    )
    assert response.status_code == 302
    return (
        f"Cleared by Dr Anna Patel (GP) on {format_local(today, None, 'date')} — "
        f"restrictions: {restrictions}"
    )


def test_a_program_saved_before_the_red_flag_waits_for_review_after_clearance(app, client, held):
    """Clearance lifts the client's hold, but a program written before the red flag was never
    checked against the restrictions: no PDF, download or email until the trainer reviews it."""
    restrictions = "No loaded single-leg work for 2 weeks"
    line = _clear(client, held, restrictions)
    today = format_local(local_today(None), None, "date")
    review = f'href="/programs/{held["program"]}#review"'

    page = text(client.get(f"/programs/{held['program']}"))
    assert 'id="clinical-hold"' not in page and line in page
    assert 'id="review"' in page
    assert f"the client was cleared on {today} with restrictions: {restrictions}" in page
    assert "Reviewed — keep this program" in page
    # Make PDF, Download and Email are drawn disabled with the reason, not offered
    assert 'type="submit">Make PDF</button>' not in page
    assert f'href="/plans/{held["ready"]}/download"' not in page
    assert "disabled" in page and review in page

    documents, deliveries = rows(app, PlanDocument), rows(app, Delivery)
    response = client.post(
        f"/plans/versions/{held['version']}/make",
        data={"paper": "A4", "request_key": "before-review-0001"},
        follow_redirects=True,
    )
    assert "No PDF was made." in text(response) and review in text(response)
    assert rows(app, PlanDocument) == documents
    response = client.get(f"/plans/{held['ready']}/download", follow_redirects=True)
    assert response.mimetype == "text/html"
    assert "The plan cannot be downloaded." in text(response)
    page = text(client.get(f"/deliveries/documents/{held['ready']}/compose"))
    assert "This program was saved before the red flag" in page and review in page
    response = client.post(
        f"/deliveries/documents/{held['ready']}/send",
        data={"idempotency_key": "before-review-0002", "personal_note": ""},
        follow_redirects=True,
    )
    assert "Nothing was sent." in text(response)
    assert rows(app, Delivery) == deliveries
    with app.app_context():  # a job queued before the review is not made by the worker either
        assert plan_service.render_document(held["queued"], claim_id="worker-3") == "refused"
        outcome = delivery_service.send_delivery(held["delivery"], claim_id="worker-4")
        assert outcome.status == DELIVERY_FAILED

    # the trainer reviews it: a new version records who and when; plans are made from it
    response = client.post(
        f"/programs/{held['program']}/reviewed", data={"base_number": 1}, follow_redirects=True
    )
    page = text(response)
    assert "Reviewed: kept unchanged as version 2." in page
    assert 'id="review"' not in page and 'type="submit">Make PDF</button>' in page
    with app.app_context():
        program = db.session.get(Program, held["program"])
        reviewed = program.latest
        assert reviewed.number == 2 and reviewed.created_by_id == held["owner"].id
        assert reviewed.change_note.startswith("Reviewed after the red flag and kept unchanged.")
        assert restrictions in reviewed.change_note
        assert reviewed.content["items"] == program.versions[0].content["items"]
        reviewed_id = reviewed.id
    # the PDF made before the red flag stays held; a new one prints the clearance
    response = client.get(f"/plans/{held['ready']}/download", follow_redirects=True)
    assert response.mimetype == "text/html"
    response = client.post(
        f"/plans/versions/{reviewed_id}/make",
        data={"paper": "A4", "request_key": "after-review-0001"},
    )
    assert response.status_code == 302
    with app.app_context():
        document = db.session.scalar(select(PlanDocument).order_by(PlanDocument.id.desc()))
        assert document.program_version_id == reviewed_id
        assert document.status == "ready", document.error
        pdf = plan_service.pdf_bytes(document)
    # on page one, the overview the client keeps on the fridge, not only on page two
    printed = " ".join(pdf_text(pdf, "-l", "1").split())
    assert line in printed


def test_a_restriction_ending_in_a_full_stop_is_not_followed_by_another(app, client, held):
    _clear(client, held, "Avoid impact. Fracture healing.")
    page = text(client.get(f"/programs/{held['program']}"))
    assert "with restrictions: Avoid impact. Fracture healing. Review it before" in page
    assert ".." not in page


def test_the_results_page_shows_the_red_flag_as_cleared_once_it_is(app, client, held):
    """After the clearance the flag section leads with who cleared the client, when and with
    what restrictions; the level's "Do not start the program" is no longer said."""
    before = text(client.get(f"/assessments/{held['flagged']}"))
    assert "Do not start the program" in before or "Stop the session" in before
    line = _clear(client, held, "No running for four weeks")
    page = text(client.get(f"/assessments/{held['flagged']}"))
    cleared = page.index('id="clearance"')
    assert "Red flags cleared: keep to the restrictions below" in page
    assert line in page and "recorded by" in page
    assert "Do not start the program" not in page and "Stop the session" not in page
    assert 'id="red-flags-' not in page
    # The flags reported are still listed, as history, inside the cleared section.
    assert cleared < page.index('id="cleared-flags"') < page.index('id="h-screening"')


def test_the_program_page_hold_names_the_flag_and_its_urgency(app, client, held):
    """The physio reading the program page sees which flag holds the plan and how soon the
    client must be seen, in the questionnaire's label and the results page's level words,
    beside the link to record the clearance."""
    page = text(client.get(f"/programs/{held['program']}"))
    hold = page[page.index('id="clinical-hold"') :]
    hold = hold[: hold.index("</div>")]
    assert "Reported: saddle numbness. Emergency: same-day emergency care." in hold
    assert _links_to_clearance(hold, held["flagged"])


def test_the_screening_is_said_uninterpreted_only_until_the_clearance(app, client, held):
    """Before the clearance the screening is not interpreted; after it the page interprets
    the screening and the body map, so it no longer says it does not."""
    sentence = "A red flag was reported, so the screening is not interpreted"
    assert sentence in text(client.get(f"/assessments/{held['flagged']}"))
    _clear(client, held, "No running for four weeks")
    page = text(client.get(f"/assessments/{held['flagged']}"))
    assert sentence not in page
    assert "Answers alone never flag an imbalance" in page


def test_a_program_saved_after_the_clearance_needs_no_review(app, client, held):
    """A new saved version counts as the review."""
    _clear(client, held, "No running until reviewed")
    with app.app_context():
        program = db.session.get(Program, held["program"])
        version = ProgramVersion(
            clinic_id=program.clinic_id,
            program_id=program.id,
            number=2,
            content=dict(program.latest.content),
            catalog_version=program.latest.catalog_version,
            created_by_id=held["owner"].id,
            change_note="Edited after the clearance",
        )
        db.session.add(version)
        db.session.commit()
    page = text(client.get(f"/programs/{held['program']}"))
    assert 'id="review"' not in page and 'type="submit">Make PDF</button>' in page


def test_the_clients_own_page_pauses_the_exercises(app, client, factories):
    from tests.progress.conftest import make_world
    from trainer_app.assessments import service as assessments
    from trainer_app.assessments.questionnaire import default_questionnaire, validate_answers
    from trainer_app.clients.models import Client

    world = make_world(app, factories)
    assert "How to do it" in text(client.get(world.path))
    typed, errors = validate_answers(
        default_questionnaire(), valid_answers(bladder_bowel_control="yes")
    )
    assert not errors
    with app.app_context():
        person = db.session.get(Client, world.client_id)
        assessments.record_assessment(person, trainer_id=world.user.id, answers=typed)
        db.session.commit()
    response = client.get(world.path)
    page = text(response)
    levels = default_questionnaire().red_flags.levels
    # An emergency flag: the notice says what the referral says (emergency care today), styled
    # as a warning, and the empty "tick each one you did" list is not shown.
    assert f"Your exercises are paused. {levels['emergency'].client_text}" in page
    assert '<p class="notice warning" role="alert" id="paused">' in response.text
    assert "How to do it" not in page and "Stop and seek help if" in page
    assert "This week's exercises" not in page and "Tick each one you did" not in page
    assert "How you are today" in page and "I had one of the warning signs" in page


def test_an_urgent_flag_tells_the_client_to_see_a_doctor_within_days(app, client, factories):
    from tests.progress.conftest import make_world
    from trainer_app.assessments import service as assessments
    from trainer_app.assessments.questionnaire import default_questionnaire, validate_answers
    from trainer_app.clients.models import Client

    world = make_world(app, factories)
    typed, _errors = validate_answers(
        default_questionnaire(), valid_answers(constant_night_pain="yes")
    )
    with app.app_context():
        person = db.session.get(Client, world.client_id)
        assessments.record_assessment(person, trainer_id=world.user.id, answers=typed)
        db.session.commit()
    page = text(client.get(world.path))
    assert "Please see your doctor within the next few days" in page
    assert "emergency department straight away if you lose bladder" in page
