"""The README's run command: web, worker and scheduler together, each restarted if it dies, all
stopped with serve. Real processes on the embedded defaults (SQLite, filesystem queue)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.services import free_port
from tests.support.worker import wait_for

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "trainer_app.cli"]
pytestmark = pytest.mark.worker


def _children(pid: int) -> dict[int, list[str]]:
    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return {int(line.split()[0]): line.split()[1:] for line in out.splitlines() if line.strip()}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _processes_of(instance: Path) -> dict[int, list[str]]:
    """Every process on the machine started for this instance folder (pid -> argv)."""
    marker = f"TRAINER_INSTANCE_PATH={instance}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0") and _alive(int(proc.name)):
                found[int(proc.name)] = (proc / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def _schedulers(instance: Path) -> list[int]:
    return [pid for pid, argv in _processes_of(instance).items() if "beat" in argv]


class Serve:
    """``trainer-app serve`` on the embedded defaults in a fresh instance folder."""

    def __init__(self, tmp_path: Path, **settings: str) -> None:
        self.instance = tmp_path / "instance"
        self.env = dict(os.environ, TRAINER_INSTANCE_PATH=str(self.instance), **settings)
        for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SMTP_URL"):
            self.env.pop(key, None)  # the embedded default: SQLite, filesystem broker, outbox
        self.log_path = tmp_path / "serve.log"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def run_cli(self, *args: str) -> None:
        subprocess.run([*CLI, *args], cwd=ROOT, env=self.env, check=True, capture_output=True)

    def start(self) -> Serve:
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port), "--workers", "1"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # serve leads its process group, as in a terminal
        )
        wait_for(self.healthy, timeout=90, what="the web server")
        wait_for(lambda: self.output().count(" ready.") >= 1, timeout=90, what="the worker")
        return self

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def child(self, name: str) -> int | None:
        """The running child whose command is ``name`` (None while serve restarts it)."""
        found = [pid for pid, argv in _children(self.proc.pid).items() if name in argv]
        alive = [pid for pid in found if _alive(pid)]
        assert len(alive) <= 1, f"more than one {name}: {alive}"
        return alive[0] if alive else None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture
def serve(tmp_path):
    server = Serve(tmp_path)
    server.run_cli("db", "upgrade")
    yield server
    server.stop()


def test_serve_runs_web_worker_and_scheduler_and_stops_them_on_sigterm(serve):
    serve.start()
    children = _children(serve.proc.pid)
    assert len(children) == 3
    assert _schedulers(serve.instance) == [serve.child("beat")]
    serve.proc.send_signal(signal.SIGTERM)
    assert serve.proc.wait(timeout=90) == 0
    assert not any(_alive(pid) for pid in children), "a child outlived serve"


def _stop_group(serve: Serve) -> None:
    """What a terminal's Ctrl-C or ``kill -- -PGID`` does: signal serve's whole process group."""
    os.killpg(serve.proc.pid, signal.SIGTERM)
    assert serve.proc.wait(timeout=120) == 0
    serve.log.close()


def _assert_stopped_cleanly(serve: Serve) -> None:
    """Each child stopped on serve's one SIGTERM: none killed, no pool process signalled."""
    out = serve.output()
    for name in ("web", "worker", "scheduler"):
        assert f"serve: the {name} stopped (code 0)" in out, out[-3000:]
    assert "did not stop" not in out
    assert "exited with 'signal" not in out  # a pool process hit by the group's SIGTERM
    assert "Traceback" not in out
    assert not _processes_of(serve.instance), "a process outlived serve"


class Jobs:
    """The web side of the embedded deployment, in the test process: record and enqueue."""

    def __init__(self, serve: Serve, monkeypatch) -> None:
        for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SMTP_URL"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("TRAINER_INSTANCE_PATH", str(serve.instance))
        from trainer_app import create_app

        self.app = create_app({"TESTING": True})

    def make_pdf(self, paper: str, key: str) -> int:
        from trainer_app.accounts.models import User
        from trainer_app.extensions import db
        from trainer_app.jobs import enqueue
        from trainer_app.plans import service as plans
        from trainer_app.programs.models import ProgramVersion

        with self.app.app_context():
            version = db.session.scalars(select(ProgramVersion).limit(1)).one()
            user = db.session.scalars(select(User).limit(1)).one()
            document, needs_render = plans.request_document(
                version, user=user, paper=paper, large_print=False, request_key=key
            )
            db.session.commit()
            assert needs_render
            assert enqueue(plans.RENDER_TASK, document.id, queue="pdf")
            return document.id

    def status(self, document_id: int) -> str:
        from trainer_app.extensions import db
        from trainer_app.plans.models import PlanDocument

        with self.app.app_context():
            status = db.session.get(PlanDocument, document_id).status
            db.session.remove()
            return status

    def close(self) -> None:
        from trainer_app.extensions import db

        with self.app.app_context():
            db.engine.dispose()


def test_broken_queue_files_and_a_killed_worker_never_take_the_site_down(serve, monkeypatch):
    serve.run_cli("demo")
    serve.start()
    jobs = Jobs(serve, monkeypatch)
    try:
        # A message file caught half-written (empty) and one that is not a message at all.
        queue = serve.instance / "queue"
        (queue / "00000000000000000001_broken.pdf.msg").write_bytes(b"")
        (queue / "00000000000000000002_garbage.pdf.msg").write_bytes(b"\x00{not json")
        wait_for(
            lambda: len(list((queue / "bad").glob("*.msg"))) == 2,
            timeout=60,
            what="the broken files to be set aside",
        )
        assert serve.healthy()
        first = jobs.make_pdf("A4", "after-broken-files-01")
        wait_for(lambda: jobs.status(first) == "ready", timeout=120, what="a later job")

        # The worker's main process is killed: serve starts a new one, the web keeps answering.
        worker = serve.child("worker")
        pool = list(_children(worker))
        os.kill(worker, signal.SIGKILL)
        wait_for(
            lambda: serve.child("worker") not in (None, worker),
            timeout=60,
            what="serve to restart the worker",
        )
        assert serve.healthy()
        wait_for(lambda: not any(map(_alive, pool)), timeout=30, what="the old pool to exit")
        assert len(_schedulers(serve.instance)) == 1
        wait_for(lambda: serve.output().count(" ready.") >= 2, timeout=90, what="the new worker")
        second = jobs.make_pdf("Letter", "after-worker-killed-01")
        wait_for(lambda: jobs.status(second) == "ready", timeout=120, what="a job after restart")
        assert serve.proc.poll() is None
        assert "the worker exited (code -9)" in serve.output()
    finally:
        jobs.close()


def test_a_second_scheduler_refuses_to_start(serve):
    serve.start()
    second = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "worker.celery_app", "beat"],
        cwd=ROOT,
        env=serve.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode != 0
    assert "Another scheduler" in second.stdout + second.stderr
    assert len(_schedulers(serve.instance)) == 1


@pytest.fixture
def quick_relay(tmp_path):
    """serve whose relay takes back a job from a stopped worker within seconds, not minutes."""
    server = Serve(
        tmp_path, JOB_HEARTBEAT_SECONDS="1", STALE_CLAIM_SECONDS="3", RELAY_AFTER_SECONDS="2"
    )
    server.run_cli("db", "upgrade")
    server.run_cli("demo")
    yield server
    server.stop()


def test_sigterm_to_the_group_stops_an_idle_worker_that_has_rendered(quick_relay, monkeypatch):
    serve = quick_relay.start()
    jobs = Jobs(serve, monkeypatch)
    try:
        document = jobs.make_pdf("A4", "idle-after-render-01")
        wait_for(lambda: jobs.status(document) == "ready", timeout=120, what="the render")
        _stop_group(serve)
        _assert_stopped_cleanly(serve)
    finally:
        jobs.close()


def test_sigterm_to_the_group_while_rendering_loses_no_job(quick_relay, monkeypatch):
    serve = quick_relay.start()
    jobs = Jobs(serve, monkeypatch)
    try:
        document = jobs.make_pdf("A4", "stop-while-rendering-01")
        worker = serve.child("worker")

        def render_child_running() -> bool:
            # The render runs in a process forked from the worker's pool process.
            return any(_children(pool) for pool in _children(worker))

        wait_for(render_child_running, timeout=120, interval=0.05, what="the render to start")
        _stop_group(serve)
        # The worker finished the render in hand (a warm shutdown), or, if it was killed past
        # the bound, the row is still claimed and is handed out again: never recorded as failed.
        assert jobs.status(document) in ("ready", "rendering")
        assert not _processes_of(serve.instance), "a process outlived serve"
        serve.start()
        wait_for(lambda: jobs.status(document) == "ready", timeout=180, what="the job")
    finally:
        jobs.close()
