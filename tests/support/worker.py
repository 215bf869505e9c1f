"""Worker test fixtures: a real Celery worker process, a private Redis, shared PostgreSQL."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import services

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


class RedisServer:
    """A private redis-server on a free loopback port, so a test can stop and restart it."""

    def __init__(self, workdir: Path) -> None:
        self.port = services.free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = [
            shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: services.redis_available(self.url), timeout=20, what="redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


@pytest.fixture
def redis_server(tmp_path):
    """Our own Redis (the machine's shared one is never stopped by tests)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker_url(redis_server):
    return redis_server.url


@pytest.fixture
def worker_env(broker_url, tmp_path):
    """Environment shared by the test's app and the worker process."""
    database_url = services.fresh_postgres_database("trainer_test_worker")
    env = {
        "TRAINER_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "RATELIMIT_ENABLED": "0",
        "SECRET_KEY": "worker-test-secret",
        "RELAY_AFTER_SECONDS": "1",
        "CELERY_VISIBILITY_TIMEOUT": "300",
        # Tests that count documents see only what they asked for; tests/worker/test_prerender.py
        # turns pre-rendering on.
        "PRERENDER_PLANS": "0",
    }
    return env


@pytest.fixture
def worker_app(worker_env, monkeypatch):
    """The web side: same database and broker as the worker, tasks published for real."""
    for key, value in worker_env.items():
        monkeypatch.setenv(key, value)
    from flask_migrate import upgrade

    from trainer_app import create_app
    from trainer_app.extensions import db

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class WorkerProcess:
    """``celery -A worker.celery_app worker`` as a child process of the test."""

    def __init__(
        self,
        env: dict,
        log_path: Path,
        concurrency: int = 1,
        extra_env=None,
        app_module: str = "worker.celery_app",
    ) -> None:
        self.env = {**os.environ, **env, **(extra_env or {})}
        self.log_path = log_path
        self.concurrency = concurrency
        self.app_module = app_module
        self.proc: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        self.log = open(self.log_path, "ab")  # noqa: SIM115  (closed in stop())
        cmd = [
            sys.executable, "-m", "celery", "-A", self.app_module, "worker",
            "-Q", "pdf,email,celery", f"--concurrency={self.concurrency}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel=INFO", "-n", f"test-{os.getpid()}-{id(self)}@%h",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log)
        wait_for(self._ready, timeout=60, what="the Celery worker to start")
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
        return b" ready." in self.log_path.read_bytes()

    def children(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(worker_env, tmp_path):
    """Start worker processes; all are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(
        concurrency: int = 1, app_module: str = "worker.celery_app", **extra_env
    ) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(worker_env, log, concurrency, extra_env, app_module).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
