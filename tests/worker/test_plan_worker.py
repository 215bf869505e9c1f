"""Plan documents rendered by a real worker process over real Redis; the relay after an outage."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.factories import Factories
from tests.support.worker import wait_for
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument
from trainer_app.tenancy import clinic_key

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.postgres]


def _status(app, doc_id: int) -> str:
    with app.app_context():
        db.session.expire_all()
        status = db.session.get(PlanDocument, doc_id).status
        db.session.remove()
        return status


def _signed_in(app):
    factories = Factories(app)
    user = factories.user()
    version_id = factories.program_version(user)
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": user.email, "password": Factories.PASSWORD})
    return browser, version_id


def _make(browser, version_id, key):
    response = browser.post(
        f"/plans/versions/{version_id}/make", data={"paper": "A4", "request_key": key}
    )
    assert response.status_code == 302


def _document_id(app, key: str) -> int:
    with app.app_context():
        documents = db.session.scalars(select(PlanDocument)).all()
        [doc] = [d for d in documents if d.request_key == clinic_key(d.clinic_id, key)]
        return doc.id


def test_worker_renders_the_requested_plan(worker_app, start_worker):
    start_worker()
    browser, version_id = _signed_in(worker_app)
    _make(browser, version_id, "first-request-0001")
    doc_id = _document_id(worker_app, "first-request-0001")
    wait_for(lambda: _status(worker_app, doc_id) == "ready", timeout=90, what="the PDF")
    download = browser.get(f"/plans/{doc_id}/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    status = browser.get(f"/plans/{doc_id}/status").get_data(as_text=True)
    assert "Download PDF" in status


def test_broker_down_at_request_then_relay_publishes(worker_app, start_worker, redis_server):
    browser, version_id = _signed_in(worker_app)
    redis_server.stop()
    started = time.monotonic()
    _make(browser, version_id, "while-broker-down-01")
    assert time.monotonic() - started < 10, "the request must not hang on a dead broker"
    doc_id = _document_id(worker_app, "while-broker-down-01")
    assert _status(worker_app, doc_id) == "queued"

    redis_server.start()
    start_worker()
    # The worker alone never hears of the document: only the relay publishes it.
    with worker_app.app_context():
        from worker.tasks import relay

        wait_for(
            lambda: relay.apply().get()["documents"] == 1,
            timeout=30,
            what="the relay to publish the queued document",
        )
    wait_for(lambda: _status(worker_app, doc_id) == "ready", timeout=90, what="the PDF")


def _document(app, doc_id: int) -> PlanDocument:
    with app.app_context():
        db.session.expire_all()
        document = db.session.get(PlanDocument, doc_id)
        db.session.expunge(document)
        db.session.remove()
        return document


def test_a_render_whose_worker_was_killed_is_finished_by_another_worker(
    worker_app, start_worker, monkeypatch
):
    from worker.tasks import relay

    # Small settings: a beat every second, a claim taken back after four silent seconds.
    settings = {"JOB_HEARTBEAT_SECONDS": "1", "STALE_CLAIM_SECONDS": "4"}
    for key, value in settings.items():
        monkeypatch.setitem(worker_app.config, key, float(value))
    stalled = start_worker(app_module="tests.support.stalled_worker", **settings)
    browser, version_id = _signed_in(worker_app)
    _make(browser, version_id, "killed-mid-render-01")
    doc_id = _document_id(worker_app, "killed-mid-render-01")
    wait_for(lambda: _status(worker_app, doc_id) == "rendering", timeout=60, what="the claim")
    claimed = _document(worker_app, doc_id)

    def published() -> int:
        with worker_app.app_context():
            return relay.apply().get()["documents"]

    # Alive for longer than STALE_CLAIM_SECONDS: the heartbeat keeps the claim where it is.
    wait_for(
        lambda: (
            (_document(worker_app, doc_id).heartbeat_at - claimed.started_at).total_seconds() > 5
        ),
        timeout=60,
        what="heartbeats past the stale delay",
    )
    assert published() == 0
    assert _document(worker_app, doc_id).claimed_by == claimed.claimed_by

    pool = stalled.children()
    stalled.stop(signal.SIGKILL)
    wait_for(lambda: not any(_alive(pid) for pid in pool), timeout=30, what="the pool to exit")
    start_worker(**settings)
    # The relay takes the claim back once the heartbeat has been silent for a few seconds.
    wait_for(lambda: published() == 1, timeout=60, what="the relay to take the claim back")
    wait_for(lambda: _status(worker_app, doc_id) == "ready", timeout=90, what="the PDF")
    document = _document(worker_app, doc_id)
    assert document.attempts == 2 and document.claimed_by != claimed.claimed_by
    assert document.page_count and document.size_bytes
    with worker_app.app_context():
        count = db.session.scalar(select(func.count()).select_from(PlanDocument))
        assert count == 1
    assert browser.get(f"/plans/{doc_id}/download").data.startswith(b"%PDF")


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_worker_builds_a_clients_data_export(worker_app, start_worker):
    import io
    import zipfile

    from trainer_app.privacy.models import DataExport

    start_worker()
    factories = Factories(worker_app)
    user = factories.user()
    client = factories.client_record(user, name="Exported By Worker")
    browser = worker_app.test_client()
    browser.post("/account/sign-in", data={"email": user.email, "password": Factories.PASSWORD})
    response = browser.post(
        f"/privacy/clients/{client.id}/export", data={"request_key": "worker-export-00000001"}
    )
    assert response.status_code == 302

    def export():
        with worker_app.app_context():
            row = db.session.scalars(select(DataExport)).one()
            db.session.expunge(row)
            db.session.remove()
            return row

    wait_for(lambda: export().status == "ready", timeout=90, what="the export")
    assert export().attempts == 1
    data = browser.get(f"/privacy/exports/{export().id}/download").data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"Exported By Worker" in archive.read(f"client-{client.id}/data.json")
