"""An unchanged "Make PDF" shows the PDF already made instead of adding a row."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import worker.tasks  # noqa: F401  (registers the tasks the web runs eagerly in tests)
from trainer_app.extensions import db
from trainer_app.plans import service
from trainer_app.plans.models import FAILED, QUEUED, READY, PlanDocument
from trainer_app.programs.models import ProgramVersion
from trainer_app.timeutil import utcnow


@pytest.fixture
def program(app, auth, factories):
    auth.login()
    maria = factories.client_record(
        auth.user, name="Maria Jensen", email="maria@example.com", email_consent=True
    )
    version_id = factories.program_version(auth.user, maria)
    with app.app_context():
        return version_id, db.session.get(ProgramVersion, version_id).program_id


def _make(client, version_id, key, paper="A4"):
    return client.post(
        f"/plans/versions/{version_id}/make", data={"paper": paper, "request_key": key}
    )


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr id="document-(\d+)"', html)


def test_unchanged_request_shows_the_existing_pdf(app, client, program):
    version_id, program_id = program
    first = _make(client, version_id, "first-click-0000001")
    assert first.headers["Location"].endswith("#documents")
    with app.app_context():
        original = db.session.scalar(select(PlanDocument))
        assert original.status == READY
        original_id = original.id

    again = _make(client, version_id, "second-click-000001")
    assert again.headers["Location"].endswith(f"#document-{original_id}")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Nothing changed since the PDF of version 1 requested" in page
    assert _rows(page) == [str(original_id)]
    assert page.count(">Email plan to client</a>") == 1
    assert page.count("/download") == 1
    assert "Asked for again 1 time, last" in page
    _make(client, version_id, "third-click-0000001")
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert "Asked for again 2 times" in page and _rows(page) == [str(original_id)]
    with app.app_context():
        # every click is recorded (idempotency, history), each served by the one PDF
        rows = db.session.scalars(select(PlanDocument).order_by(PlanDocument.id)).all()
        assert len(rows) == 3
        assert [r.reused_from_id for r in rows] == [None, original_id, original_id]
        assert all(service.pdf_bytes(r) == rows[0].pdf for r in rows)

    letter = _make(client, version_id, "letter-click-000001", paper="Letter")
    assert letter.headers["Location"].endswith("#documents")
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert len(_rows(page)) == 2


def test_request_while_the_first_renders_waits_for_it(app, client, program, monkeypatch):
    monkeypatch.setattr("trainer_app.plans.views.enqueue", lambda *a, **k: True)
    version_id, program_id = program
    _make(client, version_id, "first-click-0000001")
    again = _make(client, version_id, "second-click-000001")
    with app.app_context():
        original, follower = db.session.scalars(select(PlanDocument).order_by(PlanDocument.id))
        assert again.headers["Location"].endswith(f"#document-{original.id}")
        assert follower.reused_from_id == original.id and follower.status == QUEUED
        assert service.claim_for_render(follower.id, "stray-task") is False
        assert service.due_for_relay(utcnow() + timedelta(hours=1)) == [original.id]
        db.session.rollback()
        assert service.render_document(original.id, claim_id="task-1") == "ready"
        db.session.expire_all()
        follower = db.session.get(PlanDocument, follower.id)
        assert follower.status == READY and service.pdf_bytes(follower).startswith(b"%PDF")
    assert len(_rows(client.get(f"/programs/{program_id}").get_data(as_text=True))) == 1


def test_failed_original_fails_its_waiting_requests_and_is_not_reused(
    app, client, program, monkeypatch
):
    from trainer_app.plans.render import RenderError

    monkeypatch.setattr("trainer_app.plans.views.enqueue", lambda *a, **k: True)
    version_id, _ = program
    _make(client, version_id, "first-click-0000001")
    _make(client, version_id, "second-click-000001")

    def boom(*args, **kwargs):
        raise RenderError("The PDF could not be rendered.")

    monkeypatch.setattr(service, "render_plan", boom)
    with app.app_context():
        original, follower = db.session.scalars(select(PlanDocument).order_by(PlanDocument.id))
        assert service.render_document(original.id, claim_id="t") == "failed"
        db.session.expire_all()
        assert db.session.get(PlanDocument, follower.id).status == FAILED
    # a new click after a failure renders afresh instead of pointing at the failure
    response = _make(client, version_id, "retry-click-0000001")
    assert response.headers["Location"].endswith("#documents")
    with app.app_context():
        newest = db.session.scalar(select(PlanDocument).order_by(PlanDocument.id.desc()))
        assert newest.reused_from_id is None and newest.status == QUEUED


def test_late_request_is_settled_by_the_relay(app, program):
    """A request committed just after its original settled the others is settled later."""
    version_id, _ = program
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        original = PlanDocument(
            clinic_id=version.clinic_id,
            program_version=version,
            request_key="x:original",
            paper_size="A4",
            status=READY,
            pdf=b"%PDF-1.7 test",
            size_bytes=13,
        )
        db.session.add(original)
        db.session.flush()
        late = PlanDocument(
            clinic_id=version.clinic_id,
            program_version=version,
            request_key="x:late",
            paper_size="A4",
            status=QUEUED,
            reused_from_id=original.id,
            queued_at=utcnow() - timedelta(hours=1),
        )
        db.session.add(late)
        db.session.commit()
        assert service.due_for_relay(utcnow()) == []
        db.session.commit()
        late = db.session.get(PlanDocument, late.id)
        assert late.status == READY and service.pdf_bytes(late) == b"%PDF-1.7 test"
        assert db.session.scalar(select(func.count()).select_from(PlanDocument)) == 2
