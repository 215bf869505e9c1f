"""Referral letters: made by the worker from a red-flag assessment, read back, reused, emailed."""

from __future__ import annotations

import email
import email.policy
import html as html_lib
import io
import re
import subprocess
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.assessments.test_views import valid_answers
from tests.support.world import bounced_letter_email
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.delivery.models import Delivery
from trainer_app.extensions import db
from trainer_app.mail import outbox_folder
from trainer_app.referrals import service
from trainer_app.referrals.models import ReferralLetter
from trainer_app.timeutil import format_local, utcnow


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return " ".join(out.split())


def letters(app) -> list[ReferralLetter]:
    with app.app_context():
        rows = db.session.scalars(select(ReferralLetter).order_by(ReferralLetter.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.fixture
def flagged(client, auth, factories):
    """A client who reported saddle numbness (emergency) and a history of cancer (urgent)."""
    auth.login(name="Tess Trainer", clinic_name="Harbour Physio")
    person = factories.client_record(
        auth.user, name="Maria Jensen", email="maria@example.com", email_consent=True
    )
    response = client.post(
        f"/assessments/new/{person.id}",
        data=valid_answers(saddle_numbness="yes", cancer_history="yes"),
    )
    assert response.status_code == 302
    return person, int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])


def test_letter_is_rendered_by_the_worker_and_reads_back(app, client, flagged):
    person, assessment_id = flagged
    page = text(client.get(f"/assessments/{assessment_id}"))
    assert 'id="referral"' in page and "Make referral letter" in page
    response = client.post(
        f"/referrals/assessments/{assessment_id}", data={"request_key": "letter-key-000001"}
    )
    assert response.status_code == 302
    (letter,) = letters(app)
    assert letter.status == "ready", letter.error
    page = text(client.get(f"/assessments/{assessment_id}"))
    assert f'href="/referrals/{letter.id}/download"' in page
    response = client.get(f"/referrals/{letter.id}/download")
    assert response.mimetype == "application/pdf"
    assert 'filename="referral-maria-jensen.pdf"' in response.headers["Content-Disposition"]
    pdf = response.get_data()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    words = pdf_text(pdf)
    for expected in (
        "Harbour Physio",
        "Maria Jensen",
        "Tess Trainer",
        "Referral: red flags reported before an exercise programme",
        "Urgency: Emergency",
        # clinical terms a doctor reads, with the question the client answered quoted
        "Emergency red flags",
        "Same-day emergency assessment requested",
        "cauda equina syndrome",
        "Saddle anaesthesia reported",
        "Answered yes to: “Numbness or altered feeling around the groin, genitals or "
        "buttocks (saddle area)?”",
        "Urgent red flags",
        "History of cancer",
        "Medical review within days requested",
        "not a diagnosis",
        "Clearance for exercise",
    ):
        assert expected in words, expected
    # the date it was made, who made it
    assert format_local(utcnow(), None, "long_date") in words
    assert "From: Tess Trainer, Harbour Physio" in words
    # the emergency comes first; the client's questionnaire wording is not the finding, and
    # there are no scores or thresholds
    assert words.index("Emergency red flags") < words.index("Urgent red flags")
    assert "Numbness or a strange feeling" not in words
    assert "moderate" not in words and "threshold" not in words.lower()

    # the same letter asked for again is served from the first: no second render
    client.post(
        f"/referrals/assessments/{assessment_id}", data={"request_key": "letter-key-000002"}
    )
    first, again = letters(app)
    assert again.reused_from_id == first.id and again.status == "ready"
    assert client.get(f"/referrals/{again.id}/download").get_data() == pdf


def test_every_red_flag_reads_in_clinical_terms_on_one_page(app, client, auth, factories):
    auth.login(name="Tess Trainer", clinic_name="Harbour Physio")
    person = factories.client_record(auth.user, name="Bo Holm")
    every = dict.fromkeys((q.id for q in default_questionnaire().red_flags.questions), "yes")
    response = client.post(f"/assessments/new/{person.id}", data=valid_answers(**every))
    assessment_id = int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])
    client.post(
        f"/referrals/assessments/{assessment_id}", data={"request_key": "letter-key-000010"}
    )
    (letter,) = letters(app)
    assert letter.status == "ready", letter.error
    pdf = client.get(f"/referrals/{letter.id}/download").get_data()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    words = pdf_text(pdf)
    ordered = [
        "Bladder or bowel dysfunction",
        "Saddle anaesthesia reported",
        "Progressive or bilateral neurological deficit",
        # a first onset over 50 follows the most urgent other flag: here an emergency
        "First onset of back pain under 20 or over 50",
        "Onset after significant trauma",
        "History of cancer",
        "Unexplained weight loss",
        "Night pain: constant, non-mechanical pain",
        "Fever, night sweats or systemic malaise",
        "Unilateral radicular symptoms below the knee",
        "Long-term systemic corticosteroids",
    ]
    positions = [words.index(term) for term in ordered]
    assert positions == sorted(positions)
    assert words.index("Urgent red flags") < words.index("Routine red flags")
    assert "Medical review in the coming weeks requested" in words


def test_letter_is_emailed_while_plans_are_held(app, client, flagged):
    person, assessment_id = flagged
    client.post(
        f"/referrals/assessments/{assessment_id}", data={"request_key": "letter-key-000003"}
    )
    (letter,) = letters(app)
    response = client.post(
        f"/referrals/{letter.id}/email",
        data={"request_key": "email-key-0000001"},
        follow_redirects=True,
    )
    assert "The referral letter is on its way to maria@example.com." in text(response)
    with app.app_context():
        delivery = db.session.scalar(select(Delivery))
        assert delivery.status == "sent", delivery.last_error
        assert delivery.referral_letter_id == letter.id and delivery.plan_document_id is None
        message_id = delivery.message_id.encode()
        (raw,) = [
            path.read_bytes()
            for path in outbox_folder(person.clinic_id).glob("*.eml")
            if message_id in path.read_bytes()
        ]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "A letter for your doctor from Harbour Physio"
    body = message.get_body(("plain",)).get_content()
    assert "Go to a hospital emergency department today" in body
    assert "does not replace medical advice" in body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "Maria Jensen - Referral letter.pdf"
    assert "Maria Jensen" in pdf_text(attachment.get_content())
    # the client page lists it as a referral letter, not a plan
    assert "Referral letter" in text(client.get(f"/clients/{person.id}"))


def test_no_letter_without_a_red_flag(app, client, auth, factories):
    auth.login()
    person = factories.client_record(auth.user)
    response = client.post(f"/assessments/new/{person.id}", data=valid_answers())
    assessment_id = int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])
    assert 'id="referral"' not in text(client.get(f"/assessments/{assessment_id}"))
    response = client.post(
        f"/referrals/assessments/{assessment_id}",
        data={"request_key": "letter-key-000004"},
        follow_redirects=True,
    )
    assert "no red flag, so no referral is needed" in text(response)
    assert letters(app) == []


def test_letter_job_is_claimed_once_and_relayed_when_left_queued(app, flagged):
    person, assessment_id = flagged
    from trainer_app.accounts.models import User
    from trainer_app.assessments.models import Assessment

    with app.app_context():
        user = db.session.scalar(select(User))
        assessment = db.session.get(Assessment, assessment_id)
        letter, needs_render = service.request_letter(
            assessment, user=user, request_key="letter-key-000005"
        )
        db.session.commit()
        assert needs_render and letter.status == "queued"
        # the broker was down: the relay publishes the row once it has waited long enough
        assert service.due_for_relay(utcnow()) == []
        later = utcnow() + timedelta(seconds=app.config["RELAY_AFTER_SECONDS"] + 1)
        assert service.due_for_relay(later) == [letter.id]
        db.session.commit()
        assert service.render_letter(letter.id, claim_id="task-a") == "ready"
        assert service.render_letter(letter.id, claim_id="task-b") == "skipped"
        assert db.session.scalar(select(func.count()).select_from(ReferralLetter)) == 1
        assert db.session.get(ReferralLetter, letter.id).attempts == 1


def test_send_again_is_recorded_before_it_is_enqueued_and_sends_once(
    app, client, flagged, monkeypatch
):
    person, assessment_id = flagged
    client.post(
        f"/referrals/assessments/{assessment_id}", data={"request_key": "letter-key-000020"}
    )
    (letter,) = letters(app)
    with app.app_context():
        bounced_id = bounced_letter_email(person, letter.id, "550 mailbox unavailable")
    page = client.get(f"/clients/{person.id}").get_data(as_text=True)
    row = page[page.index(f'id="delivery-{bounced_id}"') :]
    row = row[: row.index("</tr>")]
    assert f'action="/referrals/{letter.id}/email"' in row and "Send again" in row
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', row).group(1)

    enqueued = []

    def enqueue(task, delivery_id, **kwargs):
        # the row is committed before the job is published (another connection sees it)
        with db.engine.connect() as other:
            status = other.execute(
                select(Delivery.status).where(Delivery.id == delivery_id)
            ).scalar_one()
        enqueued.append((task, delivery_id, status))

    monkeypatch.setattr("trainer_app.referrals.views.enqueue", enqueue)
    for _ in range(2):  # a double click
        response = client.post(f"/referrals/{letter.id}/email", data={"request_key": key})
        assert response.status_code == 302
    with app.app_context():
        again = db.session.scalars(select(Delivery).where(Delivery.id != bounced_id)).all()
    assert len(again) == 1 and again[0].referral_letter_id == letter.id
    assert enqueued == [("delivery.send", again[0].id, "queued")]


def test_letter_gives_the_relevant_negatives_and_the_programme_on_hold(
    app, client, auth, factories
):
    # physiotherapist review: a doctor wants the red-flag questions answered no as well (the
    # relevant negatives, in clinical terms) and whether the client exercises with us now
    auth.login(name="Tess Trainer", clinic_name="Harbour Physio")
    person = factories.client_record(auth.user, name="Jon Berg")
    response = client.post(f"/assessments/new/{person.id}", data=valid_answers())
    first = int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])
    client.post(f"/assessments/{first}/confirm", data={"imbalances": ["weak_glutes"]})
    built = client.post(
        f"/programs/new/{first}",
        data={
            "level": "beginner",
            "sessions_per_week": 3,
            "weeks": 4,
            "max_exercises": 8,
            "equipment": ["mat", "none"],
            "title": "Glutes block one",
        },
    )
    assert built.status_code == 302, text(built)
    response = client.post(
        f"/assessments/new/{person.id}", data=valid_answers(saddle_numbness="yes")
    )
    flagged = int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])
    client.post(f"/referrals/assessments/{flagged}", data={"request_key": "letter-key-000020"})
    (letter,) = letters(app)
    assert letter.status == "ready", letter.error
    pdf = client.get(f"/referrals/{letter.id}/download").get_data()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    words = pdf_text(pdf)
    negatives = words[words.index("Relevant negatives") :]
    for term in (
        "No bladder or bowel dysfunction",
        "No progressive or bilateral lower-limb neurological deficit",
        "No history of cancer",
        "No unexplained weight loss",
        "No constant non-mechanical night or rest pain",
        "No fever, night sweats or systemic malaise",
        "First onset of back pain between 20 and 50 years of age",
    ):
        assert term in negatives, term
    assert "No saddle anaesthesia" not in words  # answered yes: a red flag, not a negative
    assert "Saddle anaesthesia reported" in words
    started = format_local(utcnow(), None, "long_date")
    assert f"Exercise programme with us: “Glutes block one”, started {started}" in words
    assert "It is on hold, and no plan is printed or sent, until clearance is recorded" in words


def test_letter_says_when_the_client_has_no_programme_yet(app, client, flagged):
    _, assessment_id = flagged
    client.post(
        f"/referrals/assessments/{assessment_id}", data={"request_key": "letter-key-000030"}
    )
    (letter,) = letters(app)
    words = pdf_text(client.get(f"/referrals/{letter.id}/download").get_data())
    assert "Maria Jensen has no exercise programme with us yet" in words
    assert "No history of cancer" not in words and "No bladder or bowel dysfunction" in words


def test_letter_gives_each_flag_the_results_pages_urgency_and_the_health_conditions(
    app, client, auth, factories
):
    # physiotherapist review: a first onset over 50 beside constant night pain is urgent on
    # the results page and on the letter alike (never "Routine" beside an urgent flag), and
    # the doctor reads the health conditions the client reported (osteoporosis) in clinical
    # terms
    auth.login(name="Tess Trainer", clinic_name="Harbour Physio")
    person = factories.client_record(auth.user, name="Hanna Berg")
    response = client.post(
        f"/assessments/new/{person.id}",
        data=valid_answers(
            onset_age="yes", constant_night_pain="yes", osteoporosis="yes", blood_thinners="yes"
        ),
    )
    assessment_id = int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])
    page = text(client.get(f"/assessments/{assessment_id}"))
    urgent = page[page.index('id="red-flags-urgent"') :]
    urgent = urgent[: urgent.index("</section>")]
    assert "after the age of 50" in urgent and "night" in urgent
    assert 'id="red-flags-routine"' not in page
    client.post(
        f"/referrals/assessments/{assessment_id}", data={"request_key": "letter-key-000040"}
    )
    (letter,) = letters(app)
    assert letter.status == "ready", letter.error
    pdf = client.get(f"/referrals/{letter.id}/download").get_data()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    words = pdf_text(pdf)
    assert "Routine red flags" not in words
    flags = words[words.index("Urgent red flags") :]
    assert "First onset of back pain under 20 or over 50" in flags
    assert "Night pain: constant, non-mechanical pain" in flags
    conditions = words[words.index("Known health conditions") :]
    assert conditions.index("Osteoporosis or low bone mineral density") < conditions.index(
        "Relevant negatives"
    )
    assert "Anticoagulant therapy or easy bruising" in conditions
    assert "Pregnant" not in words  # answered no


def test_letter_lists_the_tests_stopped_by_pain_with_their_side(app, client, auth, factories):
    # physiotherapist review: a test the client could not finish for pain is a clinical
    # finding the doctor weighs, so the letter names it in the findings, with the side of a
    # one-sided test, while the tests measured normally stay off it
    auth.login(name="Tess Trainer", clinic_name="Harbour Physio")
    person = factories.client_record(auth.user, name="Edith Berg")
    response = client.post(
        f"/assessments/new/{person.id}",
        data=valid_answers(
            constant_night_pain="yes",
            hamstring_bridge_reps_left="unable_pain",
            front_plank_hold="unable_pain",
        ),
    )
    assessment_id = int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])
    client.post(
        f"/referrals/assessments/{assessment_id}", data={"request_key": "letter-key-000050"}
    )
    (letter,) = letters(app)
    assert letter.status == "ready", letter.error
    pdf = client.get(f"/referrals/{letter.id}/download").get_data()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    words = pdf_text(pdf)
    pain = words[words.index("Tests stopped by pain") : words.index("Relevant negatives")]
    assert "Left single-leg hamstring bridge repetitions: stopped by pain" in pain
    assert "Front plank hold: stopped by pain" in pain
    assert "Right single-leg" not in pain and "Side plank" not in pain
