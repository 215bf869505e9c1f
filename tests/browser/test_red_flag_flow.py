"""A client held by a red flag, as the trainer and the front desk see it in a real browser.

What a hold stops must look and be disabled (buttons, not links styled as buttons), with the
reason and the way to the clearance beside it; no script is needed for any of it.
"""

from __future__ import annotations

import pytest

from tests.support.factories import Factories, baseline_answers
from trainer_app.accounts.models import Clinic
from trainer_app.assessments.service import record_assessment
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.programs.models import ProgramVersion

pytestmark = pytest.mark.browser


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
    assert "A trainer records it on the assessment." in plans.inner_text()
    assert plans.get_by_role("link", name="Record the clearance").count() == 0
