"""The audit trail: append-only in the database, harmless with hostile names, the owner's page."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from trainer_app.audit.models import AuditEvent
from trainer_app.audit.service import clean
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow


def _one_row(app, clinic_id: int) -> int:
    with app.app_context():
        row_id = db.session.execute(
            insert(AuditEvent)
            .values(
                at=utcnow(),
                clinic_id=clinic_id,
                user_name="Someone",
                role="owner",
                action="view",
                what="clients.detail",
                detail="",
                address="127.0.0.1",
            )
            .returning(AuditEvent.id)
        ).scalar_one()
        db.session.commit()
        return row_id


@pytest.mark.parametrize(
    "statement",
    [
        lambda row_id: update(AuditEvent).where(AuditEvent.id == row_id).values(user_name="x"),
        lambda row_id: update(AuditEvent).values(client_id=None),
        lambda row_id: delete(AuditEvent).where(AuditEvent.id == row_id),
        lambda row_id: text("DELETE FROM audit_events"),
    ],
    ids=["update one", "update all", "delete one", "delete all"],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(app, factories, statement):
    owner = factories.user()
    row_id = _one_row(app, owner.clinic_id)
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(statement(row_id))
            db.session.commit()
        db.session.rollback()
        rows = db.session.scalars(select(AuditEvent)).all()
        assert [(r.id, r.user_name) for r in rows] == [(row_id, "Someone")]


def test_emptying_the_table_at_once_is_refused(app, factories, backend):
    # PostgreSQL's TRUNCATE skips row triggers (a statement trigger catches it); SQLite's
    # unqualified DELETE would take its truncate shortcut if the table had no trigger.
    statement = "TRUNCATE audit_events" if backend == "postgresql" else "DELETE FROM audit_events"
    owner = factories.user()
    _one_row(app, owner.clinic_id)
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
        assert len(db.session.scalars(select(AuditEvent)).all()) == 1


def test_line_breaks_and_controls_in_names_are_escaped_on_one_line():
    assert clean("Eve\r\nX-Admin: yes\x1b[2J\u2028", 200) == "Eve\\r\\nX-Admin: yes\\x1b[2J\\u2028"


def test_a_member_named_with_line_breaks_is_logged_on_one_harmless_line(client, auth, factories):
    auth.login(name="Eve\r\n2026-12-01 owner erased everything")
    patient = factories.client_record(auth.user)
    assert client.get(f"/clients/{patient.id}").status_code == 200
    with client.application.app_context():
        row = db.session.scalars(select(AuditEvent)).one()
    assert row.user_name == "Eve\\r\\n2026-12-01 owner erased everything"
    assert "\r" not in row.user_name and "\n" not in row.user_name
    page = client.get("/audit/").get_data(as_text=True)
    assert "Eve\\r\\n2026-12-01 owner erased everything" in page


def test_the_owner_browses_and_filters_the_trail(client, auth, factories):
    auth.login()
    owner = auth.user
    trainer = factories.user(clinic=_clinic(client.application, owner), role="trainer")
    first = factories.client_record(owner, name="Alma Ruiz")
    second = factories.client_record(owner, name="Bent Olsen")
    for _ in range(3):
        client.get(f"/clients/{first.id}")
    client.post(f"/clients/{second.id}/archive")
    other = client.application.test_client()
    other.post("/account/sign-in", data={"email": trainer.email, "password": factories.PASSWORD})
    other.get(f"/clients/{second.id}")

    page = client.get("/audit/").get_data(as_text=True)
    assert page.count("Alma Ruiz") == 3 and "Bent Olsen" in page and trainer.name in page
    only_changes = client.get("/audit/?action=change").get_data(as_text=True)
    assert "Bent Olsen" in only_changes and "Alma Ruiz" not in only_changes
    only_trainer = client.get(f"/audit/?user={trainer.id}").get_data(as_text=True)
    assert "Bent Olsen" in only_trainer and "Alma Ruiz" not in only_trainer
    only_first = client.get(f"/audit/?client={first.id}").get_data(as_text=True)
    assert only_first.count("Alma Ruiz") == 3 and "Bent Olsen" not in only_first
    assert "Nothing recorded" in client.get("/audit/?since=2099-01-01").get_data(as_text=True)
    bad = client.get("/audit/?since=2026-12-02&until=2026-12-01").get_data(as_text=True)
    assert "The end date is before the start date." in bad
    # Trainers see none of it.
    assert other.get("/audit/").status_code == 403


def test_the_trail_is_paged(client, auth, factories):
    auth.login()
    patient = factories.client_record(auth.user, name="Paged Person")
    for _ in range(55):
        _one_row(client.application, auth.user.clinic_id)
    client.get(f"/clients/{patient.id}")
    first = client.get("/audit/").get_data(as_text=True)
    assert "Paged Person" in first and "1–50 of 56" in first
    assert "51–56 of 56" in client.get("/audit/?page=2").get_data(as_text=True)


def _clinic(app, user):
    from trainer_app.accounts.models import Clinic

    with app.app_context():
        clinic = db.session.get(Clinic, user.clinic_id)
        db.session.expunge(clinic)
        return clinic
