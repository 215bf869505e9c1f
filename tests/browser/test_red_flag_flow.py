"""A client held by a red flag, as the trainer and the front desk see it in a real browser.

What a hold stops must look and be disabled (buttons, not links styled as buttons), with the
reason and the way to the clearance beside it; no script is needed for any of it.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from tests.support.factories import Factories, baseline_answers
from tests.support.world import bounced_letter_email
from trainer_app.accounts.models import Clinic
from trainer_app.assessments.service import record_assessment
from trainer_app.clients.models import Client
from trainer_app.delivery.models import Delivery
from trainer_app.extensions import db
from trainer_app.programs.models import ProgramVersion
from trainer_app.referrals import service as referrals
from trainer_app.timeutil import local_today

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def sign_in(page, live_server: str, user) -> None:
    page.goto(live_server + "/account/sign-in")
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password").fill(Factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")


def clinic_of(app, user) -> Clinic:
    with app.app_context():
        clinic = db.session.get(Clinic, user.clinic_id)
        db.session.expunge(clinic)
        return clinic


def flag(app, user, client, **flags) -> int:
    """A new assessment of ``client`` reporting the given red flags; returns its id."""
    with app.app_context():
        row = record_assessment(
            db.session.get(Client, client.id),
            trainer_id=user.id,
            answers=baseline_answers(**dict.fromkeys(flags, True)),
        )
        db.session.commit()
        return row.id


def _disabled_buttons(scope, *names: str) -> None:
    for name in names:
        assert scope.get_by_role("link", name=name).count() == 0, f"{name} is still a link"
        button = scope.get_by_role("button", name=name)
        assert button.count() == 1, name
        assert button.is_disabled(), f"{name} is not disabled"


def test_held_plan_actions_look_and_are_disabled(app, live_server, page, factories):
    owner = factories.user(name="Ana Trainer")
    desk = factories.user(name="Frank Desk", clinic=clinic_of(app, owner), role="front_desk")
    person = factories.client_record(
        owner, name="Maria Jensen", email="maria@example.com", email_consent=True
    )
    document_id = factories.ready_document(owner, person)
    with app.app_context():
        program_id = db.session.scalar(
            db.select(ProgramVersion.program_id).where(ProgramVersion.clinic_id == owner.clinic_id)
        )
    flagged = flag(app, owner, person, saddle_numbness=True)

    sign_in(page, live_server, owner)
    page.goto(f"{live_server}/programs/{program_id}")
    documents = page.locator("#documents")
    _disabled_buttons(documents, "Make PDF", "Download PDF", "Email plan to client")
    shot(page, "program-held")
    row = page.locator(f"#document-{document_id}")
    reason = row.locator(f"#held-{document_id}")
    assert reason.is_visible() and "red flag" in reason.inner_text()
    assert row.get_by_role("button", name="Download PDF").get_attribute("aria-describedby") == (
        f"held-{document_id}"
    )
    # the reason's link leads to the clearance in one click
    row.get_by_role("link", name="Record the clearance").click()
    page.wait_for_url(f"**/assessments/{flagged}#clearance")

    # the front desk's client page: the plan made before the flag is neither downloaded nor
    # emailed, and says why (the clearance is a trainer's, so no link to a clinical page)
    page.context.clear_cookies()
    sign_in(page, live_server, desk)
    page.goto(f"{live_server}/clients/{person.id}")
    plans = page.locator("#plans")
    _disabled_buttons(plans, "Download PDF", "Email plan to client")
    shot(page, "front-desk-held")
    assert "A trainer records it on the assessment." in plans.inner_text()
    assert plans.get_by_role("link", name="Record the clearance").count() == 0


def test_dashboard_puts_emergency_holds_first_with_their_actions(app, live_server, page, factories):
    owner = factories.user(name="Ana Trainer")
    # oldest first: a routine flag, an urgent one, then the emergency reported today
    routine = factories.client_record(owner, name="Rita Routine")
    flag(app, owner, routine, leg_pain_tingling=True)
    urgent = factories.client_record(owner, name="Uma Urgent")
    flag(app, owner, urgent, cancer_history=True, unexplained_weight_loss=True)
    emergency = factories.client_record(owner, name="Emma Emergency")
    flagged = flag(app, owner, emergency, saddle_numbness=True, cancer_history=True)
    # and ordinary work waiting: a re-test overdue
    retest = factories.client_record(owner, name="Otto Overdue")
    version_id = factories.program_version(owner, retest)
    with app.app_context():
        program = db.session.get(ProgramVersion, version_id).program
        program.retest_on = local_today(None) - timedelta(days=3)
        db.session.commit()

    sign_in(page, live_server, owner)
    shot(page, "dashboard-holds")
    holds = page.locator("#red-flags li")
    assert [item.get_attribute("id") for item in holds.all()] == [
        f"hold-{emergency.id}",
        f"hold-{urgent.id}",
        f"hold-{routine.id}",
    ]
    first = holds.first
    assert "Emma Emergency" in first.inner_text()
    assert "Emergency: same-day emergency care" in first.inner_text()
    assert "alert-danger" in first.get_attribute("class")
    assert "Urgent: see a doctor within days" in holds.nth(1).inner_text()
    # above everything else the dashboard lists (the re-test, the clients list)
    top = first.bounding_box()["y"]
    for other in ("Re-tests due", "Recently updated clients"):
        assert top < page.get_by_role("heading", name=other).bounding_box()["y"], other
    # the held client is not also listed as "assessed, no program yet"
    assert page.get_by_role("heading", name="Assessed, no program yet").count() == 0

    # the referral letter is one click away, and then downloadable from the dashboard
    first.get_by_role("button", name="Make referral letter").click()
    page.wait_for_url(f"**/assessments/{flagged}#referral")
    assert page.get_by_text("The referral letter").first.is_visible()
    page.goto(live_server + "/dashboard")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download referral letter for Emma Emergency").click()
    assert download.value.suggested_filename == "referral-emma-emergency.pdf"
    # and so is the clearance
    page.get_by_role("link", name="Record the clearance for Emma Emergency").click()
    page.wait_for_url(f"**/assessments/{flagged}#clearance")


def _failed_letter_email(app, owner, person) -> tuple[int, int]:
    """A ready referral letter for ``person``'s red flag whose email bounced."""
    flagged = flag(app, owner, person, cancer_history=True)
    with app.app_context():
        from trainer_app.accounts.models import User
        from trainer_app.assessments.models import Assessment

        letter, _ = referrals.request_letter(
            db.session.get(Assessment, flagged),
            user=db.session.get(User, owner.id),
            request_key="letter-key-bounce1",
        )
        db.session.commit()
        assert referrals.render_letter(letter.id, claim_id="test") == "ready"
        error = "The mail server refused the recipient address: 550 mailbox unavailable"
        return letter.id, bounced_letter_email(person, letter.id, error)


def _deliveries(app) -> list[tuple[int, str]]:
    with app.app_context():
        return [
            (d.referral_letter_id, d.status)
            for d in db.session.scalars(db.select(Delivery).order_by(Delivery.id))
        ]


def test_failed_referral_email_is_listed_and_sent_again(app, live_server, page, factories):
    owner = factories.user(name="Ana Trainer")
    person = factories.client_record(
        owner, name="Maria Jensen", email="maria@example.com", email_consent=True
    )
    letter_id, _ = _failed_letter_email(app, owner, person)

    sign_in(page, live_server, owner)
    failed = page.locator("li").filter(has_text="550 mailbox unavailable")
    assert failed.count() == 1 and "Referral letter" in failed.inner_text()
    failed.get_by_role("button", name="Send again").click()
    page.get_by_text("The referral letter is on its way to maria@example.com.").wait_for()
    assert _deliveries(app) == [(letter_id, "failed"), (letter_id, "sent")]
    page.goto(live_server + "/dashboard")
    assert page.get_by_role("heading", name="Plans or emails that failed").count() == 0

    # the client's email history offers the same on the bounced row
    page.goto(f"{live_server}/clients/{person.id}")
    row = page.locator("#deliveries tr").filter(has_text="550 mailbox unavailable")
    row.get_by_role("button", name="Send again").click()
    page.get_by_text("The referral letter is on its way to maria@example.com.").wait_for()
    assert _deliveries(app)[-1] == (letter_id, "sent") and len(_deliveries(app)) == 3
