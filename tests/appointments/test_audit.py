"""The diary's changes in the audit trail name the client the appointment was with."""

from __future__ import annotations

from sqlalchemy import select

from trainer_app.appointments.models import Appointment
from trainer_app.audit.models import AuditEvent
from trainer_app.extensions import db


def _trail(app) -> list[tuple[str, str, int | None, str]]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(r.action, r.what, r.client_id, r.detail) for r in rows]


def test_adding_editing_and_removing_an_appointment_name_the_client(app, client, auth, factories):
    auth.login()
    maria = factories.client_record(auth.user, name="Maria Jensen")
    form = {
        "client_id": str(maria.id),
        "trainer_id": str(auth.user.id),
        "day": "2026-12-03",
        "start": "09:30",
        "minutes": "45",
        "note": "Knee check",
    }
    assert client.post("/appointments/new", data=form).status_code == 302
    with app.app_context():
        appointment_id = db.session.scalar(select(Appointment.id))
    edited = {**form, "start": "10:00"}
    assert client.post(f"/appointments/{appointment_id}/edit", data=edited).status_code == 302
    assert client.post(f"/appointments/{appointment_id}/remove").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Appointment.id)) is None
    trail = _trail(app)
    assert [row[:3] for row in trail] == [
        ("change", "appointments.create", maria.id),
        ("change", "appointments.edit", maria.id),
        ("change", "appointments.remove", maria.id),
    ]
    # the removed session is named by its time: its row is gone
    assert trail[-1][3] == f"appointment {appointment_id} at 3 Dec 2026, 10:00 UTC"


def test_matching_an_imported_event_and_moving_a_session_name_the_clients(
    app, client, auth, factories
):
    from datetime import datetime

    auth.login()
    maria = factories.client_record(auth.user, name="Maria Jensen")
    oliver = factories.client_record(auth.user, name="Oliver Smith")
    with app.app_context():
        event = Appointment(
            clinic_id=auth.user.clinic_id,
            starts_at=datetime(2026, 12, 3, 9, 0),
            ends_at=datetime(2026, 12, 3, 10, 0),
            title="Session with M.",
        )
        db.session.add(event)
        db.session.commit()
        event_id = event.id
    matched = client.post(f"/appointments/{event_id}/match", data={"client_id": str(maria.id)})
    assert matched.status_code == 302
    assert [row[:3] for row in _trail(app)] == [("change", "appointments.match", maria.id)]
    form = {
        "client_id": str(oliver.id),
        "trainer_id": str(auth.user.id),
        "day": "2026-12-03",
        "start": "09:00",
        "minutes": "60",
        "note": "",
    }
    assert client.post(f"/appointments/{event_id}/edit", data=form).status_code == 302
    # the session moved from Maria to Oliver: both their trails show it
    assert {row[2] for row in _trail(app)[1:]} == {maria.id, oliver.id}


def test_an_import_names_each_client_whose_diary_it_changed(app, client, auth, factories):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.appointments.test_import import DAY, calendar_file, upload

    auth.login()
    anna = factories.client_record(auth.user, name="Anna Berg", email="anna@example.com")
    utc = ZoneInfo("UTC")
    event = {
        "uid": "one@booking",
        "start": datetime(2026, 12, 1, 9, 0, tzinfo=utc),
        "end": datetime(2026, 12, 1, 10, 0, tzinfo=utc),
        "attendees": [("anna@example.com", "Anna Berg")],
    }
    stranger = {**event, "uid": "two@booking", "attendees": [("who@example.com", "Who")]}
    assert upload(client, calendar_file(event, stranger), DAY).status_code == 302
    assert [row[:3] for row in _trail(app)] == [("change", "appointments.import_calendar", anna.id)]
    # the same file again changes nothing, and says nothing
    assert upload(client, calendar_file(event, stranger), DAY).status_code == 302
    assert len(_trail(app)) == 1
    moved = {**event, "start": datetime(2026, 12, 1, 11, 0, tzinfo=utc)}
    moved["end"] = datetime(2026, 12, 1, 12, 0, tzinfo=utc)
    assert upload(client, calendar_file(moved), DAY).status_code == 302
    assert [row[2] for row in _trail(app)] == [anna.id, anna.id]
    assert _trail(app)[-1][3].endswith("at 1 Dec 2026, 11:00 UTC")
