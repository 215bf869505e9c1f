"""Shared helpers for benchmarks: private services, worker processes, bounded waits, tables.

Everything here starts what it needs on its own (a redis-server on a free loopback port, a
PostgreSQL database with a unique name, ``celery worker`` processes) and stops it again, also
on Ctrl-C or an exception: use the classes as context managers or push them on an
``contextlib.ExitStack``. Nothing here touches the machine's shared Redis or other databases.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
BENCH_SECRET_KEY = "benchmark-secret-not-for-production"  # noqa: S105 - throwaway databases


class BenchError(RuntimeError):
    """A service did not come up, or a wait ran out of time."""


def wait_until(
    predicate: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str
) -> object:
    """Poll ``predicate`` until it returns a truthy value; ``BenchError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago.

    ``BENCH_PORTS=FIRST-LAST`` keeps the servers a benchmark starts in that range (a shared
    machine where each engineer has ports of their own); by default the kernel picks one.
    Within a range each call starts past the port the previous call gave, which may not be
    bound yet.
    """
    wanted = os.environ.get("BENCH_PORTS", "")
    if not wanted:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    first, _, last = wanted.partition("-")
    span = range(int(first), int(last or first) + 1)
    for step in range(len(span)):
        port = span[(_next_port[0] + step) % len(span)]
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _next_port[0] += step + 1
        return port
    raise BenchError(f"no free port in BENCH_PORTS={wanted}")


_next_port = [0]  # where the next search in BENCH_PORTS starts


def _stop_process_group(proc: subprocess.Popen, sig: int, timeout: float) -> None:
    """Send ``sig`` to the process, wait; then SIGKILL its whole group (children included)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    # The process was started in its own session: its pid is the group id. Kill what is left
    # (pool children, forked renderers) so nothing outlives the benchmark.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


class RedisServer:
    """A private ``redis-server`` on a free loopback port (no persistence)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            import redis

            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except Exception:
            return False

    def start(self, timeout: float = 20) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise BenchError("redis-server is not installed (apt-get install redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        cmd = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.workdir),
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_until(self.ping, timeout=timeout, interval=0.05, what="redis-server to answer")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _stop_process_group(self.proc, signal.SIGTERM, timeout=10)
            self.proc = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class PostgresDatabase:
    """A database of our own on the running PostgreSQL server, dropped on exit."""

    def __init__(self, prefix: str = "bench", server_url: str = POSTGRES_SERVER_URL) -> None:
        self.server_url = server_url.rstrip("/")
        self.name = f"{prefix}_{os.getpid()}"
        self.created = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver)."""
        return self.server_url.replace("postgresql://", "postgresql+psycopg://") + "/" + self.name

    def _admin(self):
        import psycopg

        return psycopg.connect(self.server_url + "/postgres", autocommit=True, connect_timeout=5)

    def create(self) -> PostgresDatabase:
        try:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.name}"')
        except Exception as error:
            raise BenchError(f"PostgreSQL not usable at {self.server_url}: {error}") from error
        self.created = True
        return self

    def drop(self) -> None:
        if not self.created:
            return
        with contextlib.suppress(Exception), self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.created = False

    def __enter__(self) -> PostgresDatabase:
        return self.create()

    def __exit__(self, *exc) -> None:
        self.drop()


class CeleryWorker:
    """``celery -A worker.celery_app worker`` as a child process with its own log file."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        name: str,
        queues: Sequence[str] = ("pdf", "email", "celery"),
        concurrency: int = 1,
        loglevel: str = "INFO",
        extra_args: Sequence[str] = (),
        entry: Sequence[str] | None = None,
    ) -> None:
        """``entry``: the command before ``worker ...`` (default ``python -m celery -A
        worker.celery_app``), e.g. a wrapper that instruments the app and then calls
        ``celery.worker_main``."""
        self.env = {**os.environ, **env}
        self.log_path = Path(log_path)
        self.name = name
        self.queues = list(queues)
        self.concurrency = concurrency
        self.loglevel = loglevel
        self.extra_args = list(extra_args)
        self.entry = list(entry or [sys.executable, "-m", "celery", "-A", "worker.celery_app"])
        self.proc: subprocess.Popen | None = None
        self._log = None

    def launch(self) -> CeleryWorker:
        """Start the process without waiting (see ``wait_ready``), so several start together."""
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        cmd = [
            *self.entry, "worker", "-Q", ",".join(self.queues), f"--concurrency={self.concurrency}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            f"--loglevel={self.loglevel}", "-n", f"{self.name}-{os.getpid()}@%h",
            *self.extra_args,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,  # we stop it ourselves, also after Ctrl-C in the terminal
        )
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise BenchError(f"worker {self.name} exited early:\n{self.tail()}")
        return b" ready." in self.log_path.read_bytes()

    def wait_ready(self, timeout: float = 90) -> CeleryWorker:
        wait_until(self._ready, timeout=timeout, interval=0.1, what=f"worker {self.name} to start")
        return self

    def start(self, timeout: float = 90) -> CeleryWorker:
        return self.launch().wait_ready(timeout)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 30) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL to the whole process group if it hangs."""
        if self.proc is not None:
            _stop_process_group(self.proc, signal.SIGTERM, timeout=timeout)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> CeleryWorker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_workers(workers: Iterable[CeleryWorker], stack: contextlib.ExitStack, timeout=90):
    """Launch several workers at once (their start-up overlaps), stopped by ``stack``."""
    workers = list(workers)
    for worker in workers:
        worker.launch()
        stack.callback(worker.stop)
    for worker in workers:
        worker.wait_ready(timeout)
    return workers


def service_env(
    instance: Path,
    database: PostgresDatabase,
    redis: RedisServer | None = None,
    **extra: str,
) -> dict[str, str]:
    """The settings every process of a benchmark shares, also put into this process's
    environment (``create_app`` here reads them as the workers and web servers do).

    The instance folder, the benchmark's database, its Redis as broker and limiter store, a
    fixed secret key and no sign-in throttling; ``extra`` adds or overrides settings.
    """
    env = {
        "TRAINER_INSTANCE_PATH": str(instance),
        "DATABASE_URL": database.url,
        "SECRET_KEY": BENCH_SECRET_KEY,
        "RATELIMIT_ENABLED": "0",
    }
    if redis is not None:
        env.update({"CELERY_BROKER_URL": redis.url, "REDIS_URL": redis.url})
    env.update(extra)
    os.environ.update(env)
    return env


def flask_app(stack: contextlib.ExitStack, config: dict | None = None, *, migrate: bool = False):
    """An app from ``trainer_app.create_app(config)``, its connections closed when ``stack``
    closes; ``migrate=True`` first builds the schema with ``flask_migrate.upgrade()``, as
    ``tests/support/worker.py`` does. Alembic's, Celery's and the app's info logs are quietened.
    """
    import logging

    from flask_migrate import upgrade

    from trainer_app import create_app
    from trainer_app.extensions import db

    app = create_app(config or {})
    for noisy in ("alembic", "celery", "kombu", "trainer_app", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    def dispose() -> None:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    stack.callback(dispose)
    if migrate:
        with app.app_context():
            upgrade()
    return app


class Gunicorn:
    """The production web server (``trainer_app.gunicorn_conf``) on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 3) -> None:
        self.env = {**os.environ, **env}
        self.log_path = Path(log_path)
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:  # noqa: S310
                return answer.status == 200
        except OSError:
            return False

    def start(self, timeout: float = 60) -> Gunicorn:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:trainer_app.gunicorn_conf",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "trainer_app.wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=self._log, start_new_session=True,
        )  # fmt: skip
        wait_until(self.healthy, timeout=timeout, what="gunicorn to answer /healthz")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _stop_process_group(self.proc, signal.SIGTERM, timeout=20)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Gunicorn:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


# -- an SMTP server that takes every message ----------------------------------------------------

_MESSAGE_ID_RE = re.compile(rb"(?im)^Message-ID:[ \t]*(<[^>\r\n]+>)")


@dataclass
class Received:
    phase: str
    message_id: str | None
    size: int
    at: float  # time.perf_counter() in this process


class CountingHandler:
    """aiosmtpd handler: accepts every message, records its phase, Message-ID and size."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.received: list[Received] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or b""
        headers = data.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID_RE.search(headers)
        record = Received(
            phase=self.phase,
            message_id=found.group(1).decode("ascii", "replace") if found else None,
            size=len(data),
            at=time.perf_counter(),
        )
        with self._lock:
            self.received.append(record)
        return "250 2.0.0 OK: queued"

    def of(self, phase: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.phase == phase]

    def count(self, phase: str) -> int:
        with self._lock:
            return sum(1 for r in self.received if r.phase == phase)


class SmtpSink:
    """An aiosmtpd ``Controller`` on a free loopback port, stopped on exit."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.handler = CountingHandler()
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10
        )

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()


def wait_for_rows(
    fetch_statuses: Callable[[Sequence[int]], dict[int, str]],
    ids: Sequence[int],
    *,
    done: Iterable[str],
    timeout: float,
    interval: float = 0.01,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[int, tuple[str, float]]:
    """Poll until every id has a status in ``done``; return id -> (status, clock when first seen).

    ``fetch_statuses(ids)`` returns the current status of each id (for example one
    ``SELECT id, status FROM ... WHERE id IN (...)``). Raises ``BenchError`` after ``timeout``.
    """
    done = set(done)
    pending = set(ids)
    seen: dict[int, tuple[str, float]] = {}
    deadline = time.monotonic() + timeout
    while pending:
        statuses = fetch_statuses(sorted(pending))
        now = clock()
        for row_id, status in statuses.items():
            if row_id in pending and status in done:
                seen[row_id] = (status, now)
                pending.discard(row_id)
        if not pending:
            break
        if time.monotonic() >= deadline:
            raise BenchError(
                f"timed out after {timeout:g} s: rows {sorted(pending)} not in {sorted(done)} "
                f"(last statuses {statuses})"
            )
        time.sleep(interval)
    return seen


@contextlib.contextmanager
def terminate_as_interrupt():
    """Turn SIGTERM and SIGINT into KeyboardInterrupt so ``finally`` blocks clean up on both.

    SIGINT is set explicitly because a process started in the background of a script inherits
    it as ignored, and then Python never raises KeyboardInterrupt.
    """

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous_term = signal.signal(signal.SIGTERM, handler)
    previous_int = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


@contextlib.contextmanager
def uninterruptible_cleanup():
    """Ignore Ctrl-C while cleaning up, so a second Ctrl-C does not leave processes behind."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# -- numbers ------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


def fmt_seconds(value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.3f} s"


def verdict(value: float, target: float, *, at_most: bool) -> str:
    if value != value:
        return "n/a"
    ok = value <= target if at_most else value >= target
    return "PASS" if ok else "MISS"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with columns padded to their widest cell."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


# -- headline figures, collected by benchmarks/run_all.py ---------------------------------------


@dataclass(frozen=True)
class Figure:
    """One headline ratio of a benchmark and the target it is held to."""

    name: str
    value: float
    target: float
    at_most: bool  # the value passes at or below the target; otherwise at or above it
    unit: str = ""  # printed after the value and the target, e.g. "x" for a speed-up

    @property
    def verdict(self) -> str:
        return verdict(self.value, self.target, at_most=self.at_most)


def add_figures_option(parser: argparse.ArgumentParser) -> None:
    """The ``--figures FILE`` option every benchmark offers to benchmarks/run_all.py."""
    parser.add_argument(
        "--figures",
        metavar="FILE",
        help="also write the headline ratios to FILE as JSON (benchmarks/run_all.py reads it)",
    )


def write_figures(path: str | None, figures: Iterable[Figure]) -> None:
    if path:
        Path(path).write_text(json.dumps([asdict(f) for f in figures], indent=2) + "\n")


def read_figures(path: Path) -> list[Figure]:
    return [Figure(**item) for item in json.loads(path.read_text())]
