"""An unmatched imported event is booked to nobody until someone chooses its client.

The review and edit pages used to pre-select the first client, so one click of Match or Save
booked the slot to whoever sorts first. Now nothing is chosen, an empty choice is refused with
a message, and the front desk can add the event's person as a new client in one step.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from trainer_app.accounts.models import Clinic
from trainer_app.appointments.models import Appointment
from trainer_app.audit.models import AuditEvent
from trainer_app.clients.models import Client
from trainer_app.extensions import db


def _event(app, clinic_id: int, title: str = "Peter Newcomer", email: str | None = None) -> int:
    with app.app_context():
        event = Appointment(
            clinic_id=clinic_id,
            starts_at=datetime(2026, 12, 2, 11, 0),
            ends_at=datetime(2026, 12, 2, 11, 45),
            title=title,
            attendee_email=email,
        )
        db.session.add(event)
        db.session.commit()
        return event.id


def _client_of(app, appointment_id: int) -> int | None:
    with app.app_context():
        return db.session.get(Appointment, appointment_id).client_id


def _front_desk(app, client, owner, factories):
    with app.app_context():
        clinic = db.session.get(Clinic, owner.clinic_id)
        db.session.expunge(clinic)
    desk = factories.user(clinic=clinic, role="front_desk", name="Frida Desk")
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": desk.email, "password": factories.PASSWORD})
    return browser


def _selected(page: str, select_id: str) -> list[str]:
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select #{select_id}"
    return re.findall(r"<option[^>]*selected[^>]*>([^<]*)</option>", select.group(1))


def test_review_preselects_no_client_and_refuses_an_empty_match(app, client, auth, factories):
    auth.login()
    factories.client_record(auth.user, name="Aiko Tanaka")  # sorts first
    event_id = _event(app, auth.user.clinic_id)
    page = client.get("/appointments/review").get_data(as_text=True)
    options = re.search(rf'id="client-{event_id}"[^>]*>\s*<option value="">([^<]*)</option>', page)
    assert options and options.group(1) == "Choose a client…"
    assert _selected(page, f"client-{event_id}") == []
    assert "Aiko Tanaka" in page

    refused = client.post(f"/appointments/{event_id}/match", data={"client_id": ""})
    assert refused.status_code == 302
    assert _client_of(app, event_id) is None
    message = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Nothing was matched: choose the client “Peter Newcomer” (2 Dec 2026, 11:00)" in message
    # A missing field is refused the same way, never booked to anyone.
    client.post(f"/appointments/{event_id}/match", data={})
    assert _client_of(app, event_id) is None


def test_editing_an_unmatched_event_preselects_no_client_and_save_is_refused(
    app, client, auth, factories
):
    auth.login()
    factories.client_record(auth.user, name="Aiko Tanaka")
    event_id = _event(app, auth.user.clinic_id)
    page = client.get(f"/appointments/{event_id}/edit").get_data(as_text=True)
    assert _selected(page, "client_id") == ["Choose a client…"]
    form = {"client_id": "", "trainer_id": "0", "day": "2026-12-02", "start": "12:00"}
    saved = client.post(f"/appointments/{event_id}/edit", data={**form, "minutes": "45"})
    assert saved.status_code == 200
    assert "Choose the client." in saved.get_data(as_text=True)
    assert _client_of(app, event_id) is None
    # A new appointment starts with nobody chosen either.
    new = client.get("/appointments/new?day=2026-12-02").get_data(as_text=True)
    assert _selected(new, "client_id") == ["Choose a client…"]


def test_front_desk_adds_the_events_person_as_a_new_client_and_books_them(
    app, client, auth, factories
):
    auth.login()
    owner = auth.user
    factories.client_record(owner, name="Aiko Tanaka")
    event_id = _event(app, owner.clinic_id, email="peter@example.com")
    later_id = _event(app, owner.clinic_id, title="Someone Else")
    desk = _front_desk(app, client, owner, factories)
    review = desk.get("/appointments/review").get_data(as_text=True)
    assert f'href="/appointments/{event_id}/new-client"' in review

    form_page = desk.get(f"/appointments/{event_id}/new-client").get_data(as_text=True)
    assert 'value="Peter Newcomer"' in form_page and 'value="peter@example.com"' in form_page
    assert "From the imported event “Peter Newcomer” (2 Dec 2026, 11:00)" in form_page
    assert 'name="notes"' not in form_page  # the front desk adds contact details only

    response = desk.post(
        f"/appointments/{event_id}/new-client",
        data={
            "name": "Peter Newcomer",
            "email": "peter@example.com",
            "phone": "+45 12 34 56 78",
            "primary_trainer_id": str(owner.id),
            "notes": "Not the front desk's to write",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/appointments/review"  # another event still waits
    with app.app_context():
        peter = db.session.scalar(select(Client).where(Client.name == "Peter Newcomer"))
        assert peter.email == "peter@example.com" and peter.phone == "+45 12 34 56 78"
        assert peter.notes in (None, "") and peter.primary_trainer_id == owner.id
        assert db.session.get(Appointment, event_id).trainer_id == owner.id
        trail = db.session.scalars(
            select(AuditEvent).where(AuditEvent.what == "appointments.new_client")
        ).all()
        assert [(e.action, e.client_id) for e in trail if e.client_id] == [("change", peter.id)]
    assert _client_of(app, event_id) == peter.id
    assert _client_of(app, later_id) is None
    flashed = desk.get("/appointments/review").get_data(as_text=True)
    assert "Peter Newcomer added and booked for “Peter Newcomer” (2 Dec 2026, 11:00)." in flashed
    # A second click of the same form makes no second client.
    again = desk.post(
        f"/appointments/{event_id}/new-client",
        data={
            "name": "Peter Newcomer",
            "email": "peter@example.com",
            "primary_trainer_id": str(owner.id),
        },
    )
    assert again.status_code == 302
    assert _client_of(app, event_id) == peter.id
    with app.app_context():
        assert (
            len(db.session.scalars(select(Client).where(Client.name == "Peter Newcomer")).all())
            == 1
        )


def test_an_appointment_booked_to_the_wrong_client_moves_to_a_new_one(app, client, auth, factories):
    auth.login()
    owner = auth.user
    aiko = factories.client_record(owner, name="Aiko Tanaka")
    event_id = _event(app, owner.clinic_id, email="peter@example.com")
    client.post(f"/appointments/{event_id}/match", data={"client_id": str(aiko.id)})
    assert _client_of(app, event_id) == aiko.id
    edit = client.get(f"/appointments/{event_id}/edit").get_data(as_text=True)
    assert f'href="/appointments/{event_id}/new-client"' in edit
    page = client.get(f"/appointments/{event_id}/new-client").get_data(as_text=True)
    assert "now booked to Aiko Tanaka: once added, the new client is booked for it instead" in page
    response = client.post(
        f"/appointments/{event_id}/new-client",
        data={
            "name": "Peter Newcomer",
            "email": "peter@example.com",
            "primary_trainer_id": str(owner.id),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        peter = db.session.scalar(select(Client).where(Client.name == "Peter Newcomer"))
        trail = db.session.scalars(
            select(AuditEvent.client_id).where(AuditEvent.what == "appointments.new_client")
        ).all()
    assert _client_of(app, event_id) == peter.id
    assert {aiko.id, peter.id} <= set(trail)  # both clients' trails show the move
