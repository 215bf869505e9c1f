"""Faults as a whole: Redis restarted or flushed with jobs queued, a job that always fails, the
embedded queue's disk full, PostgreSQL restarted during a render.

Passing means: every job ends ``ready``/``sent`` or ``failed`` with a reason, none is done twice
(one document row, one render or one accepted message each), and no request hangs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tests.delivery.conftest import ScriptedHandler, free_port
from tests.support.factories import Factories
from tests.support.worker import WorkerProcess, wait_for
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.postgres]
QUICK_JOBS = {"JOB_HEARTBEAT_SECONDS": "1", "STALE_CLAIM_SECONDS": "4", "RELAY_AFTER_SECONDS": "1"}


def _documents(app) -> list[PlanDocument]:
    with app.app_context():
        db.session.expire_all()
        rows = db.session.scalars(select(PlanDocument).order_by(PlanDocument.id)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def _relay(app) -> dict:
    from worker.tasks import relay

    with app.app_context():
        return relay.apply().get()


def _make_pdf(browser, version_id: int, key: str) -> None:
    started = time.monotonic()
    response = browser.post(
        f"/plans/versions/{version_id}/make", data={"paper": "A4", "request_key": key}
    )
    assert response.status_code == 302
    assert time.monotonic() - started < 15, "Make PDF must answer whatever the broker does"


def _trainer_with_programs(app, programs: int):
    factories = Factories(app)
    user = factories.user()
    versions = [factories.program_version(user) for _ in range(programs)]
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": user.email, "password": Factories.PASSWORD})
    return browser, versions


def _all_settled(app, count: int, *, relay: bool) -> bool:
    if relay:
        _relay(app)
    documents = _documents(app)
    return len(documents) == count and all(d.status in ("ready", "failed") for d in documents)


@pytest.mark.parametrize("fault", ["restart", "flush"])
def test_jobs_queued_in_redis_when_it_restarts_or_is_flushed_are_each_rendered_once(
    worker_app, start_worker, redis_server, fault
):
    import redis

    worker_app.config["RELAY_AFTER_SECONDS"] = 1
    browser, versions = _trainer_with_programs(worker_app, 3)
    broker = redis.Redis.from_url(redis_server.url)
    for n, version_id in enumerate(versions[:2]):
        _make_pdf(browser, version_id, f"queued-before-{fault}-{n:04d}")
    assert broker.dbsize() > 0, "the two jobs wait in Redis: no worker runs yet"

    if fault == "restart":
        redis_server.stop()
        redis_server.start()
    else:
        broker.flushall()
    assert broker.dbsize() == 0  # the messages are gone; the rows are not

    start_worker(**QUICK_JOBS)
    time.sleep(1.1)  # older than RELAY_AFTER_SECONDS: the relay publishes both rows again
    assert _relay(worker_app)["documents"] == 2
    wait_for(lambda: _all_settled(worker_app, 2, relay=False), timeout=120, what="both PDFs")

    # Redis goes away again under the running worker; it reconnects and takes the next job.
    redis_server.stop()
    redis_server.start()
    _make_pdf(browser, versions[2], f"after-{fault}-with-a-worker")
    wait_for(lambda: _all_settled(worker_app, 3, relay=True), timeout=120, what="the third PDF")

    documents = _documents(worker_app)
    assert [d.status for d in documents] == ["ready"] * 3
    assert [d.attempts for d in documents] == [1, 1, 1], "each rendered exactly once"
    for document in documents:
        assert browser.get(f"/plans/{document.id}/download").data.startswith(b"%PDF")


class AlwaysLater(ScriptedHandler):
    """An SMTP server that answers every message with a temporary refusal."""

    async def handle_DATA(self, server, session, envelope):
        self.data_attempts += 1
        return "451 4.3.0 Mailbox busy, try later"


def test_an_email_refused_at_every_attempt_ends_failed_with_the_reason(worker_app, start_worker):
    from trainer_app.delivery.models import Delivery, DeliveryAttempt

    port = free_port()
    handler = AlwaysLater()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    retries = {
        "DELIVERY_RETRY_BASE_SECONDS": "0.2",
        "DELIVERY_RETRY_MAX_SECONDS": "0.5",
        "DELIVERY_MAX_ATTEMPTS": "3",
    }
    try:
        start_worker(SMTP_URL=f"smtp://127.0.0.1:{port}?timeout=5", **retries)
        worker_app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}?timeout=5"
        factories = Factories(worker_app)
        trainer = factories.user()
        client = factories.client_record(trainer, email="maria@example.com", email_consent=True)
        document_id = factories.ready_document(trainer, client, key="always-refused-doc")
        browser = worker_app.test_client()
        browser.post(
            "/account/sign-in", data={"email": trainer.email, "password": Factories.PASSWORD}
        )
        response = browser.post(
            f"/deliveries/documents/{document_id}/send",
            data={"idempotency_key": "always-refused-click-01"},
        )
        assert response.status_code == 302

        def delivery() -> Delivery:
            with worker_app.app_context():
                db.session.expire_all()
                row = db.session.scalar(select(Delivery))
                db.session.expunge_all()
                db.session.remove()
                return row

        wait_for(lambda: delivery().status == "failed", timeout=90, what="the final failure")
    finally:
        controller.stop()
    row = delivery()
    assert "451" in (row.last_error or "") and "busy" in row.last_error
    assert handler.data_attempts == 3, "three attempts, as DELIVERY_MAX_ATTEMPTS says, no more"
    with worker_app.app_context():
        outcomes = db.session.scalars(
            select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)
        ).all()
        db.session.remove()
    assert len(outcomes) == 3 and outcomes[-1] == "failed"
    # The trainer sees it failed, and why, where the plan is.
    status = browser.get(f"/deliveries/{row.id}/status").get_data(as_text=True)
    assert "451" in status or "busy" in status.lower()


def test_a_render_that_always_fails_is_marked_failed_with_the_reason(worker_app, start_worker):
    # A time limit no render meets (forking the renderer alone takes longer): it fails every
    # time. (A tiny memory limit did not: a worker that has already parsed the stylesheet and
    # the drawings lends its render child all it needs.)
    start_worker(PDF_RENDER_TIMEOUT="0.001", **QUICK_JOBS)
    browser, [version_id] = _trainer_with_programs(worker_app, 1)
    _make_pdf(browser, version_id, "always-fails-0001")
    wait_for(lambda: _all_settled(worker_app, 1, relay=False), timeout=120, what="the failure")
    [document] = _documents(worker_app)
    assert document.status == "failed" and "took longer than" in document.error
    assert document.attempts == 1
    # The relay leaves a failed job alone: it is not tried again behind the trainer's back.
    time.sleep(1.1)
    assert _relay(worker_app)["documents"] == 0
    status = browser.get(f"/plans/{document.id}/status").get_data(as_text=True)
    assert "failed" in status.lower() or "could not" in status.lower()


# -- the embedded queue's disk full ------------------------------------------------------------


@contextlib.contextmanager
def tiny_disk(path: Path, size: str = "1m"):
    """A tmpfs of ``size`` mounted at ``path`` (root only), unmounted on exit."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
                   check=True)  # fmt: skip
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(folder: Path) -> Path:
    """Fill the file system of ``folder`` to the last byte."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:  # unbuffered: nothing left to flush
        for size in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * size)
    return filler


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny tmpfs for a full disk needs root")
def test_embedded_queue_disk_full_loses_nothing_and_the_relay_publishes_when_space_returns(
    tmp_path, monkeypatch
):
    from flask_migrate import upgrade

    from trainer_app import create_app

    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    queue = instance / "queue"
    env = {
        "TRAINER_INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'trainer.sqlite3'}",
        "SECRET_KEY": "disk-full-secret",
        "RATELIMIT_ENABLED": "0",
        **QUICK_JOBS,
    }
    for key in ("CELERY_BROKER_URL", "REDIS_URL", "SMTP_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with tiny_disk(queue):
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
        assert app.config["CELERY_BROKER_URL"].startswith("filesystem://")
        with app.app_context():
            upgrade()
        browser, [version_id] = _trainer_with_programs(app, 1)
        filler = _fill(queue)
        _make_pdf(browser, version_id, "disk-full-request-01")
        [document] = _documents(app)
        assert document.status == "queued", "recorded, waiting for the relay"
        # no half-written message (or leftover temporary file) where a worker would read it
        files = [p for p in queue.rglob("*") if p.is_file() and p not in (filler,)]
        broken = [
            p for p in files if p.name != ".lock" and (p.stat().st_size == 0 or p.suffix == ".part")
        ]
        assert not broken

        filler.unlink()
        worker = WorkerProcess(
            {**env, "CELERY_BROKER_URL": app.config["CELERY_BROKER_URL"]},
            tmp_path / "worker.log",
        ).start()
        try:
            time.sleep(1.1)
            wait_for(lambda: _all_settled(app, 1, relay=True), timeout=120, what="the PDF")
        finally:
            worker.stop()
        [document] = _documents(app)
        assert (document.status, document.attempts) == ("ready", 1)
        assert not (queue / "bad").exists() or not list((queue / "bad").iterdir())
        with app.app_context():
            db.engine.dispose()


# -- PostgreSQL restarted during a render -------------------------------------------------------


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        pytest.skip(f"PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/{name})")
    return str(found[-1])


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb + pg_ctl) on a free loopback port.

    Only this cluster is ever restarted; the machine's shared server is never touched. As root
    the cluster runs as the ``postgres`` system user (PostgreSQL refuses to run as root).
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="trainer-pg-"))
        self.port = free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.prefix, _pg_bin("pg_ctl"), "-D", str(self.folder / "data"), "-w", "-t", "60",
             "-l", str(self.folder / "server.log"), *args],
            check=True, capture_output=True,
        )  # fmt: skip

    def start(self) -> PrivateCluster:
        subprocess.run(
            [*self.prefix, _pg_bin("initdb"), "-D", str(self.folder / "data"), "-U", "postgres",
             "--auth=trust", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off"
        self._ctl("-o", options, "start")
        return self

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def private_postgres():
    _pg_bin("initdb")
    cluster = PrivateCluster().start()
    yield cluster
    cluster.stop()


def test_postgres_restarted_during_a_render_the_pdf_is_made_once(
    private_postgres, redis_server, tmp_path, monkeypatch
):
    from flask_migrate import upgrade

    from trainer_app import create_app

    env = {
        "TRAINER_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": private_postgres.url,
        "CELERY_BROKER_URL": redis_server.url,
        "REDIS_URL": redis_server.url,
        "SECRET_KEY": "pg-restart-secret",
        "RATELIMIT_ENABLED": "0",
        "CELERY_VISIBILITY_TIMEOUT": "300",
        "SLOW_RENDER_SECONDS": "8",
        **QUICK_JOBS,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
    worker = WorkerProcess(
        env, tmp_path / "worker.log", app_module="tests.support.slow_worker"
    ).start()
    try:
        browser, [version_id] = _trainer_with_programs(app, 1)
        _make_pdf(browser, version_id, "pg-restart-request-1")
        wait_for(
            lambda: [d.status for d in _documents(app)] == ["rendering"],
            timeout=60,
            what="the render to start",
        )
        time.sleep(2)  # the claim is committed and the render is in its 8 s
        private_postgres.restart()  # heartbeats and the final commit meet dropped connections
        wait_for(lambda: _all_settled(app, 1, relay=True), timeout=180, what="the PDF")
    finally:
        worker.stop()
    [document] = _documents(app)
    assert document.status == "ready", document.error
    assert document.attempts <= 2, "at most the documented retake of a silent claim"
    assert browser.get(f"/plans/{document.id}/download").data.startswith(b"%PDF")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PlanDocument)) == 1
        db.session.remove()
        db.engine.dispose()
