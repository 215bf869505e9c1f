"""Retention: clients archived past the clinic's period are erased by the scheduled job, after
the owner could see the list."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

import worker.tasks  # noqa: F401  (registers the scheduled job)
from tests.security.routes import sign_in
from trainer_app.audit.models import AuditEvent
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.privacy.erasure import months_before
from trainer_app.privacy.models import ErasedClient
from trainer_app.timeutil import utcnow


def test_months_before_keeps_the_calendar():
    assert months_before(datetime(2026, 3, 31, 9), 1) == datetime(2026, 2, 28, 9)
    assert months_before(datetime(2026, 12, 1), 24) == datetime(2024, 12, 1)


def _housekeeping(app) -> dict:
    """Run the scheduled job as the worker would, in this app (not the last app a test built)."""
    return app.extensions["celery"].tasks["privacy.housekeeping"].apply(throw=True).get()


def test_the_owner_sees_who_would_go_then_the_worker_erases_them(app, factories):
    owner = factories.user()
    old = factories.client_record(
        owner, name="Long Archived", archived_at=utcnow() - timedelta(days=400)
    )
    recent = factories.client_record(
        owner, name="Recently Archived", archived_at=utcnow() - timedelta(days=60)
    )
    active = factories.client_record(owner, name="Still Active")
    browser = app.test_client()
    sign_in(browser, owner.email)

    page = browser.get("/privacy/").get_data(as_text=True)
    assert "Retention is off" in page and "Long Archived" not in page
    dry_run = browser.get("/privacy/?months=12").get_data(as_text=True)
    assert "Long Archived" in dry_run and "Recently Archived" not in dry_run
    assert "Still Active" not in dry_run
    assert "Choose one of the listed periods." in browser.post(
        "/privacy/retention", data={"months": "7"}
    ).get_data(as_text=True)
    # Nothing is erased by looking, or by a refused setting.
    assert _housekeeping(app)["erased_clients"] == 0

    assert browser.post("/privacy/retention", data={"months": "12"}).status_code == 302
    assert "Long Archived" in browser.get("/privacy/").get_data(as_text=True)
    assert _housekeeping(app)["erased_clients"] == 1

    with app.app_context():
        assert db.session.get(Client, old.id) is None
        assert {c.id for c in db.session.scalars(select(Client))} == {recent.id, active.id}
        tombstone = db.session.scalars(select(ErasedClient)).one()
        assert (tombstone.client_id, tombstone.reason, tombstone.erased_by_id) == (
            old.id,
            "retention",
            None,
        )
        actions = [
            (row.action, row.role, row.client_id)
            for row in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert ("retention", "owner", None) in actions
    assert ("erase", "system", old.id) in actions
    assert "Retention (scheduled)" in browser.get("/privacy/").get_data(as_text=True)


def test_the_schedule_runs_the_housekeeping(app):
    celery = app.extensions["celery"]
    entry = celery.conf.beat_schedule["data-rights-housekeeping"]
    assert entry["task"] in celery.tasks


def test_trainers_cannot_open_the_clinic_pages(app, factories):
    from trainer_app.accounts.models import Clinic

    owner = factories.user()
    with app.app_context():
        clinic = db.session.get(Clinic, owner.clinic_id)
        db.session.expunge(clinic)
    trainer = factories.user(clinic=clinic, role="trainer")
    browser = app.test_client()
    sign_in(browser, trainer.email)
    assert browser.get("/privacy/").status_code == 403
    assert browser.post("/privacy/retention", data={"months": "12"}).status_code == 403
    assert (
        browser.post(
            "/privacy/clinic/export", data={"request_key": "clinic-export-00000003"}
        ).status_code
        == 403
    )
