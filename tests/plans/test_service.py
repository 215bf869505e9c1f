"""Plan documents: one per request, reuse of unchanged renders, claims, relay."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from trainer_app.extensions import db
from trainer_app.plans import service
from trainer_app.plans.models import FAILED, QUEUED, READY, RENDERING, PlanDocument
from trainer_app.programs.models import ProgramVersion
from trainer_app.timeutil import utcnow


@pytest.fixture
def version_id(factories):
    user = factories.user(name="Ana Trainer")
    client = factories.client_record(user, name="Zoë Łukasiewicz")
    return user, factories.program_version(user, client)


def _request(app, user_id, version_id, key="k" * 20, paper="A4", large_print=False):
    from trainer_app.accounts.models import User

    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        doc, needs = service.request_document(
            version,
            user=db.session.get(User, user_id),
            paper=paper,
            large_print=large_print,
            request_key=key,
        )
        db.session.commit()
        return doc.id, needs


def test_same_request_key_makes_one_document(app, version_id):
    user, vid = version_id
    first = _request(app, user.id, vid)
    second = _request(app, user.id, vid)
    assert first[0] == second[0]
    assert first[1] is True and second[1] is False
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PlanDocument)) == 1


def test_render_then_unchanged_request_is_served_without_rendering(app, version_id, monkeypatch):
    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid, key="a" * 20)
    with app.app_context():
        assert service.render_document(doc_id, claim_id="task-1") == "ready"
        pdf = db.session.get(PlanDocument, doc_id).pdf
        assert pdf.startswith(b"%PDF")

    def no_render(*args, **kwargs):
        raise AssertionError("an unchanged plan must not be rendered again")

    monkeypatch.setattr(service, "render_plan", no_render)
    again_id, needs = _request(app, user.id, vid, key="b" * 20)
    assert needs is False and again_id != doc_id
    with app.app_context():
        again = db.session.get(PlanDocument, again_id)
        assert again.status == READY and again.reused_from_id == doc_id
        assert service.pdf_bytes(again) == pdf
    # A different option changes the fingerprint, so it is a new render.
    letter_id, needs = _request(app, user.id, vid, key="c" * 20, paper="Letter")
    assert needs is True


def test_pdf_reads_back_with_client_exercises_and_tracking(app, version_id, tmp_path):
    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid)
    with app.app_context():
        service.render_document(doc_id, claim_id="t")
        document = db.session.get(PlanDocument, doc_id)
        pdf = document.pdf
        context = service.document_context(document)
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Zoë Łukasiewicz" in text
    flat = " ".join(text.split())
    for item in context["items"]:
        assert item["name"] in flat
        assert item["steps"], item["name"]
        assert " ".join(item["steps"][0].split()) in flat
    assert "WEEK 1" in flat and "Track your progress" in flat
    assert "Ana Trainer" in flat


def test_claim_is_exclusive_but_a_redelivered_message_resumes(app, version_id):
    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid)
    with app.app_context():
        assert service.claim_for_render(doc_id, "task-1") is True
        assert service.claim_for_render(doc_id, "task-2") is False
        assert service.claim_for_render(doc_id, "task-1") is True
        assert db.session.get(PlanDocument, doc_id).attempts == 2


def test_finished_document_is_not_rendered_again(app, version_id):
    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid)
    with app.app_context():
        service.render_document(doc_id, claim_id="task-1")
        assert service.render_document(doc_id, claim_id="task-1") == "skipped"
        assert db.session.scalar(select(func.count()).select_from(PlanDocument)) == 1


def test_render_failure_is_recorded_with_reason(app, version_id, monkeypatch):
    from trainer_app.plans.render import RenderError

    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid)

    def boom(*args, **kwargs):
        raise RenderError("Rendering the PDF took longer than 90 s and was stopped.")

    monkeypatch.setattr(service, "render_plan", boom)
    with app.app_context():
        assert service.render_document(doc_id, claim_id="t") == "failed"
        doc = db.session.get(PlanDocument, doc_id)
        assert doc.status == FAILED and "longer than 90 s" in doc.error


def test_relay_picks_old_queued_and_abandoned_documents_once(app, version_id):
    user, vid = version_id
    fresh_id, _ = _request(app, user.id, vid, key="f" * 20)
    old_id, _ = _request(app, user.id, vid, key="o" * 20, paper="Letter")
    stuck_id, _ = _request(app, user.id, vid, key="s" * 20, large_print=True)
    with app.app_context():
        now = utcnow()
        db.session.get(PlanDocument, old_id).queued_at = now - timedelta(minutes=5)
        stuck = db.session.get(PlanDocument, stuck_id)
        stuck.status = RENDERING
        stuck.started_at = now - timedelta(hours=2)
        stuck.heartbeat_at = now - timedelta(minutes=2)
        db.session.commit()
        due = service.due_for_relay(now)
        db.session.commit()
        assert sorted(due) == sorted([old_id, stuck_id])
        assert db.session.get(PlanDocument, stuck_id).status == QUEUED
        assert service.due_for_relay(now) == []
        assert fresh_id not in due


def test_render_records_the_page_count(app, version_id, tmp_path):
    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid)
    reused_id, _ = _request(app, user.id, vid, key="r" * 20)
    with app.app_context():
        assert service.render_document(doc_id, claim_id="t") == "ready"
        document = db.session.get(PlanDocument, doc_id)
        (tmp_path / "plan.pdf").write_bytes(document.pdf)
        page_count = document.page_count
        # the second request waited on the first (same PDF) and settled with its outcome
        follower = db.session.get(PlanDocument, reused_id)
        assert (follower.status, follower.reused_from_id) == (READY, doc_id)
        assert follower.page_count == page_count
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "plan.pdf")], capture_output=True, text=True, check=True
    ).stdout
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    assert pages > 1 and page_count == pages


def _set_heartbeat(app, doc_id, age: timedelta) -> None:
    with app.app_context():
        db.session.get(PlanDocument, doc_id).heartbeat_at = utcnow() - age
        db.session.commit()


def test_a_claim_is_taken_back_only_after_its_heartbeat_stops(app, version_id):
    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid)
    stale = timedelta(seconds=app.config["STALE_CLAIM_SECONDS"])
    with app.app_context():
        assert service.claim_for_render(doc_id, "task-1") is True
        # Claimed long ago, but its worker is alive: the heartbeat is recent.
        db.session.get(PlanDocument, doc_id).started_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    _set_heartbeat(app, doc_id, stale - timedelta(seconds=10))
    with app.app_context():
        assert service.claim_for_render(doc_id, "task-2") is False
        assert service.due_for_relay(utcnow()) == []
        db.session.commit()
    # The heartbeat stopped a little over STALE_CLAIM_SECONDS ago: the worker died.
    _set_heartbeat(app, doc_id, stale + timedelta(seconds=1))
    with app.app_context():
        assert service.claim_for_render(doc_id, "task-2") is True
        document = db.session.get(PlanDocument, doc_id)
        assert document.claimed_by == "task-2" and document.attempts == 2
    _set_heartbeat(app, doc_id, stale + timedelta(seconds=1))
    with app.app_context():
        assert service.due_for_relay(utcnow()) == [doc_id]
        db.session.commit()
        assert db.session.get(PlanDocument, doc_id).status == QUEUED


def test_a_render_that_lost_its_claim_does_not_overwrite_the_new_one(app, version_id, monkeypatch):
    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid)
    stale = timedelta(seconds=app.config["STALE_CLAIM_SECONDS"] + 1)

    def render_while_taken_over(context, **limits):
        # Meanwhile this task's heartbeat looked dead and another worker took the document.
        _set_heartbeat(app, doc_id, stale)
        with app.app_context():
            assert service.claim_for_render(doc_id, "task-2") is True
        return b"%PDF-1.7 from the task that lost its claim"

    monkeypatch.setattr(service, "render_plan", render_while_taken_over)
    with app.app_context():
        assert service.render_document(doc_id, claim_id="task-1") == "superseded"
        db.session.expire_all()
        document = db.session.get(PlanDocument, doc_id)
        assert document.status == RENDERING and document.claimed_by == "task-2"
        assert document.pdf is None


def test_a_running_render_writes_its_heartbeat(app, version_id, monkeypatch):
    from tests.support.worker import wait_for

    user, vid = version_id
    doc_id, _ = _request(app, user.id, vid)
    monkeypatch.setitem(app.config, "JOB_HEARTBEAT_SECONDS", 0.05)

    def heartbeats() -> set:
        with db.engine.connect() as conn:
            seen.add(
                conn.scalar(select(PlanDocument.heartbeat_at).where(PlanDocument.id == doc_id))
            )
        return len(seen) >= 3  # the claim's own stamp and two beats after it

    def slow_render(context, **limits):
        wait_for(heartbeats, timeout=30, interval=0.02, what="heartbeats during the render")
        return b"%PDF-1.7 rendered slowly"

    seen: set = set()
    monkeypatch.setattr(service, "render_plan", slow_render)
    with app.app_context():
        assert service.render_document(doc_id, claim_id="task-1") == "ready"
        assert db.session.get(PlanDocument, doc_id).status == READY
