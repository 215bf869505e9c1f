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
