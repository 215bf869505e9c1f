"""The README's run command serves web and worker together and stops both cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.services import free_port
from tests.support.worker import wait_for

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = (
        Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "X"
    )
    return state != "Z"


@pytest.mark.worker
def test_serve_runs_web_and_worker_and_stops_both_on_sigterm(tmp_path):
    env = dict(os.environ, TRAINER_INSTANCE_PATH=str(tmp_path / "instance"))
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SMTP_URL"):
        env.pop(key, None)  # the embedded default: SQLite, filesystem broker, outbox
    cli = [sys.executable, "-m", "trainer_app.cli"]
    subprocess.run([*cli, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_for(healthy, timeout=60, what="the web server")
        wait_for(
            lambda: b" ready." in (tmp_path / "serve.log").read_bytes(),
            timeout=60,
            what="the Celery worker",
        )
        children = _children(serve.pid)
        assert len(children) == 2
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=90) == 0
        assert not any(_alive(pid) for pid in children), "web or worker outlived serve"
    finally:
        if serve.poll() is None:
            serve.kill()
        log.close()
