"""The review of unmatched events in the browser: nobody is chosen until the front desk chooses.

One click of Match used to book the slot to the first client in the list. Now the list shows
"Choose a client…", Match alone books nobody, and the event's person can be added as a new
client from the row, the form filled in from the event.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.support.factories import Factories
from trainer_app.appointments.models import Appointment
from trainer_app.extensions import db

pytestmark = pytest.mark.browser


def test_review_books_nobody_until_chosen_and_adds_a_new_client(app, live_server, page, factories):
    trainer = factories.user(name="Ana Trainer")
    with app.app_context():
        from trainer_app.accounts.models import Clinic

        clinic = db.session.get(Clinic, trainer.clinic_id)
        db.session.expunge(clinic)
    desk = factories.user(clinic=clinic, role="front_desk", name="Dee Desk")
    factories.client_record(trainer, name="Aiko Tanaka")  # first in the list
    with app.app_context():
        event = Appointment(
            clinic_id=trainer.clinic_id,
            starts_at=datetime(2026, 12, 2, 11, 0),
            ends_at=datetime(2026, 12, 2, 11, 45),
            title="Peter Newcomer",
            attendee_email="peter@example.com",
        )
        db.session.add(event)
        db.session.commit()
        event_id = event.id

    page.goto(live_server + "/account/sign-in")
    page.get_by_label("Email", exact=True).fill(desk.email)
    page.get_by_label("Password").fill(Factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/appointments/review")
    choice = page.get_by_label("Client of Peter Newcomer")
    assert choice.input_value() == ""
    assert choice.locator("option:checked").inner_text() == "Choose a client…"
    page.get_by_role("button", name="Match Peter Newcomer").click()
    # The browser keeps the form (the list is required) and nothing is booked.
    assert page.url.endswith("/appointments/review")
    with app.app_context():
        assert db.session.get(Appointment, event_id).client_id is None

    page.get_by_role("link", name="New client from Peter Newcomer").click()
    assert page.get_by_label("Full name").input_value() == "Peter Newcomer"
    assert page.get_by_label("Email", exact=True).input_value() == "peter@example.com"
    assert page.get_by_label("Notes").count() == 0  # the front desk adds contact details only
    page.get_by_role("button", name="Add client and book the event").click()
    page.get_by_text("Peter Newcomer added and booked for").wait_for()
    assert "/appointments/?day=2026-12-02" in page.url  # no event left to review
    assert page.get_by_role("link", name="Peter Newcomer", exact=True).is_visible()
    with app.app_context():
        booked = db.session.get(Appointment, event_id)
        assert booked.client is not None and booked.client.name == "Peter Newcomer"
    assert page.console_errors == [], page.console_errors
