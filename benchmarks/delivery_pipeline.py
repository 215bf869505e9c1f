"""Emailed plans through the whole delivery pipeline, measured against a plain smtplib loop.

Run: ``.venv/bin/python benchmarks/delivery_pipeline.py [--emails 500] [--quick]``

The pipeline: for each email, ``request_delivery`` + commit + ``enqueue`` (exactly what the
"Email plan to client" view does, without the HTTP layer) publishes to a private redis-server;
a real ``celery -A worker.celery_app worker -Q pdf,email,celery`` process claims the row,
composes the message (Jinja templates, the PDF loaded from PostgreSQL and attached), sends it
over SMTP (one connection per message) to a sink on loopback and records it as sent. The clock
stops when the web side sees every row ``sent``.

The reference: the same messages sent by a plain ``smtplib`` loop from this process, one
connection per message, each message composed in the loop with the same functions
(``_message`` -> ``build_message`` -> ``message_bytes``, the same PDF attached) as any sender
must: that is the ratio's denominator, the pipeline's work without the pipeline. Two stricter
reference lines send bytes built beforehand (not timed), one connection per message and one
reused connection; they leave out the composing that a real sender cannot skip.

The SMTP sink (aiosmtpd on loopback, in this process) accepts everything and counts. Runs
alternate on a noisy machine: plain, pipeline (concurrency 2), plain, pipeline (concurrency 1),
plain; the ratio uses the median of the plain runs. Target: pipeline / plain at most 2.

At the end of every pipeline run it checks that nothing was lost or sent twice: the sink got
exactly N messages with N distinct Message-IDs, those of the N rows, all ``sent`` after one
attempt. With ``--instrument`` (the default) the worker runs the product's task under timers
(wrappers installed before the pool forks; no product change) and the report says where the
time of one message goes: claim, commits, PDF load, Jinja, MIME, SMTP, Celery between tasks.
It also reports the CPU seconds each process spent during each pipeline run (this process, the
worker, redis-server, the database's backends) and what the rest of the machine used (noise).

Everything runs on services of its own: a redis-server on a free loopback port and a
PostgreSQL database ``trainer_bench_mail_<pid>`` on 127.0.0.1:5432 (dropped at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import smtplib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._support import (  # noqa: E402 - needs the repository root on sys.path
    BenchError,
    CeleryWorker,
    Figure,
    PostgresDatabase,
    RedisServer,
    SmtpSink,
    add_figures_option,
    flask_app,
    fmt_seconds,
    median,
    ratio,
    service_env,
    table,
    terminate_as_interrupt,
    uninterruptible_cleanup,
    verdict,
    wait_until,
    write_figures,
)

TARGET_RATIO = 2.0  # pipeline / plain smtplib loop (composes and sends each message), at most
QUEUES = ("pdf", "email", "celery")  # the production worker's command line
_MESSAGE_ID_RE = re.compile(rb"(?im)^Message-ID:[ \t]*(<[^>\r\n]+>)")

log = logging.getLogger("bench")


# -- the instrumented worker (a wrapper process around `celery worker`) -------------------------

# Timers installed in the worker: (module attribute path, label). Nested timers are reported
# as parts of their parent in the profile.
_TIMED = (
    ("trainer_app.delivery.service", "claim_for_send"),
    ("trainer_app.delivery.service", "_message"),
    ("trainer_app.delivery.service", "pdf_bytes"),
    ("trainer_app.delivery.service", "draft_from_dict"),
    ("trainer_app.delivery.service", "build_message"),
    ("trainer_app.delivery.service", "current_transport"),
    ("trainer_app.mail", "render_email"),
    ("trainer_app.delivery.mailer", "message_bytes"),
)
_TIMED_SMTP = ("send", "_deliver", "_connect", "_transaction")


def instrumented_worker(timings_path: str, celery_argv: list[str]) -> int:
    """Run ``celery worker`` with timers around the steps of ``send_delivery``.

    The wrappers go in before the pool forks, so every pool process inherits them; each task
    appends one JSON line (its step timings, start and end) to ``timings_path``.
    """
    import importlib

    from celery import signals

    import worker.celery_app as entry
    from trainer_app.delivery import mailer, service
    from trainer_app.extensions import db

    events: list[tuple[str, float]] = []

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                events.append((name, time.perf_counter() - started))

        return wrapper

    for module_name, attr in _TIMED:
        module = importlib.import_module(module_name)
        setattr(module, attr, timed(attr, getattr(module, attr)))
    for attr in _TIMED_SMTP:
        method = getattr(mailer.SmtpTransport, attr)
        setattr(mailer.SmtpTransport, attr, timed(f"smtp.{attr}", method))
    db.session.commit = timed("commit", db.session.commit)
    state: dict = {}
    sql: list[tuple[str, float]] = []  # (statement, seconds) of the current task
    checkouts = [0]

    from sqlalchemy import event

    with entry.flask_app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info.pop("bench_started", None)
        if started is not None:
            sql.append((" ".join(statement.split())[:90], time.perf_counter() - started))

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        checkouts[0] += 1

    @signals.task_prerun.connect
    def _prerun(task_id=None, task=None, args=None, **_):
        events.clear()
        sql.clear()
        checkouts[0] = 0
        state.update(started=time.perf_counter(), wall=time.time(), args=args)

    @signals.task_postrun.connect
    def _postrun(task_id=None, task=None, retval=None, **_):
        if task is None or task.name != service.SEND_TASK:
            return
        line = {
            "delivery_id": (state.get("args") or [None])[0],
            "start": state.get("wall"),
            "end": time.time(),
            "total": time.perf_counter() - state.get("started", 0.0),
            "status": retval,
            "events": events[:],
            "sql": sql[:],
            "checkouts": checkouts[0],
            "pid": os.getpid(),
        }
        with open(timings_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    entry.celery.worker_main(argv=celery_argv)
    return 0


# Rows of the profile: label, how to get the seconds of one task from its events.
def _sum(events, name: str) -> float:
    return sum(seconds for event, seconds in events if event == name)


def _commit(events, index: int) -> float:
    commits = [seconds for event, seconds in events if event == "commit"]
    return commits[index] if index < len(commits) else 0.0


PROFILE_ROWS = (
    ("claim: UPDATE + attempt row, one commit", lambda e: _sum(e, "claim_for_send")),
    ("compose (_message) total", lambda e: _sum(e, "_message")),
    ("  load PDF bytes from PostgreSQL", lambda e: _sum(e, "pdf_bytes")),
    ("  Jinja (subject, text, html)", lambda e: _sum(e, "render_email")),
    (
        "  other (rows: document, version, clinic, trainer)",
        lambda e: _sum(e, "_message") - _sum(e, "pdf_bytes") - _sum(e, "render_email"),
    ),
    ("build_message (MIME, base64 PDF)", lambda e: _sum(e, "build_message")),
    ("SMTP send total", lambda e: _sum(e, "smtp.send")),
    ("  message_bytes (serialise, CRLF)", lambda e: _sum(e, "message_bytes")),
    ("  connect + greeting", lambda e: _sum(e, "smtp._connect")),
    ("  MAIL / RCPT / DATA", lambda e: _sum(e, "smtp._transaction")),
    (
        "  EHLO + QUIT + checks",
        lambda e: (
            _sum(e, "smtp._deliver") - _sum(e, "smtp._connect") - _sum(e, "smtp._transaction")
        ),
    ),
    ("commit: sent + attempt outcome", lambda e: _commit(e, 1)),
)


def _profile_other(task: dict) -> float:
    e = task["events"]
    top = (
        _sum(e, "claim_for_send")
        + _sum(e, "_message")
        + _sum(e, "build_message")
        + _sum(e, "current_transport")
        + _sum(e, "smtp.send")
        + _commit(e, 1)
    )
    return task["total"] - top


def load_timings(path: Path, ids: set[int]) -> list[dict]:
    if not path.exists():
        return []
    tasks = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            task = json.loads(line)
            if task.get("delivery_id") in ids:
                tasks.append(task)
    return tasks


def between_tasks(tasks: list[dict]) -> list[float]:
    """Gaps between one task's end and the next task's start in the same pool process."""
    by_pid: dict[int, list[dict]] = {}
    for task in tasks:
        by_pid.setdefault(task["pid"], []).append(task)
    gaps = []
    for runs in by_pid.values():
        runs.sort(key=lambda t: t["start"])
        gaps.extend(b["start"] - a["end"] for a, b in zip(runs, runs[1:], strict=False))
    return gaps


# -- the web side -------------------------------------------------------------------------------


class Web:
    """What the web process does, on this process's app (same database and broker as workers)."""

    def __init__(self, app, user_id: int, document_id: int) -> None:
        self.app = app
        self.user_id = user_id
        self.document_id = document_id

    def email_plan(self, key: str) -> int:
        """One "Email plan to client" click: request_delivery, commit, enqueue (as the view)."""
        from trainer_app.accounts.models import User
        from trainer_app.delivery import service
        from trainer_app.extensions import db
        from trainer_app.jobs import enqueue
        from trainer_app.plans.models import PlanDocument

        with self.app.app_context():
            document = db.session.get(PlanDocument, self.document_id)
            user = db.session.get(User, self.user_id)
            delivery, created = service.request_delivery(document, user=user, idempotency_key=key)
            db.session.commit()
            if not created:
                raise BenchError(f"idempotency key {key} was used before")
            if not enqueue(service.SEND_TASK, delivery.id, queue="email"):
                raise BenchError("publishing to Redis failed")
            return delivery.id

    def sent_count(self, lo: int, hi: int) -> int:
        from sqlalchemy import func, select

        from trainer_app.delivery.models import SENT, Delivery
        from trainer_app.extensions import db

        with self.app.app_context():
            return db.session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.id.between(lo, hi), Delivery.status == SENT)
            )

    def backend_pids(self) -> list[int]:
        from sqlalchemy import text

        from trainer_app.extensions import db

        with self.app.app_context():
            return list(
                db.session.scalars(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
                )
            )

    def rows(self, ids: list[int]) -> list[dict]:
        from sqlalchemy import func, select

        from trainer_app.delivery.models import Delivery, DeliveryAttempt
        from trainer_app.extensions import db

        with self.app.app_context():
            attempt_rows = db.session.execute(
                select(DeliveryAttempt.delivery_id, func.count(), func.min(DeliveryAttempt.outcome))
                .where(DeliveryAttempt.delivery_id.in_(ids))
                .group_by(DeliveryAttempt.delivery_id)
            ).all()
            attempts = {row[0]: (row[1], row[2]) for row in attempt_rows}
            rows = db.session.execute(
                select(
                    Delivery.id,
                    Delivery.status,
                    Delivery.attempts,
                    Delivery.message_id,
                    Delivery.created_at,
                    Delivery.claimed_at,
                    Delivery.sent_at,
                ).where(Delivery.id.in_(ids))
            ).all()
            return [
                {
                    "id": r.id,
                    "status": r.status,
                    "attempts": r.attempts,
                    "message_id": r.message_id,
                    "created_at": r.created_at,
                    "claimed_at": r.claimed_at,
                    "sent_at": r.sent_at,
                    "attempt_rows": attempts.get(r.id, (0, None)),
                }
                for r in rows
            ]

    def plain_messages(self, count: int) -> tuple[str, str, list[bytes], float]:
        """The pipeline's message, ``count`` times, built as the worker builds it.

        Returns (envelope sender, recipient, wire bytes of each message, seconds per build).
        """
        from trainer_app.clients.models import Client
        from trainer_app.delivery import service
        from trainer_app.delivery.mailer import (
            build_message,
            make_message_id,
            message_bytes,
            validate_address,
        )
        from trainer_app.extensions import db
        from trainer_app.plans.models import PlanDocument

        with self.app.app_context():
            document = db.session.get(PlanDocument, self.document_id)
            client = db.session.get(Client, document.program_version.program.client_id)
            sender = validate_address(self.app.config["MAIL_FROM"])
            recipient = validate_address(client.email)
            messages = []
            started = time.perf_counter()
            for n in range(count):
                # Duck-typed delivery: _message reads these attributes only.
                delivery = SimpleNamespace(
                    id=f"plain-{n + 1}",
                    message_id=make_message_id(f"plain-{n + 1}", "bench.example"),
                    document=document,
                    letter=None,  # a plan, not a referral letter
                    clinic_id=document.clinic_id,
                    client=client,
                    to_name=client.name,
                    to_email=client.email,
                    personal_note=None,  # the pipeline's deliveries carry no note either
                )
                messages.append(message_bytes(build_message(service._message(delivery))))
            per_message = (time.perf_counter() - started) / max(count, 1)
            return sender, recipient, messages, per_message


# -- plain smtplib ------------------------------------------------------------------------------


def plain_per_connection(port: int, sender: str, recipient: str, messages: list[bytes]) -> float:
    """One connection per message, like the pipeline: connect, EHLO, MAIL/RCPT/DATA, QUIT."""
    started = time.perf_counter()
    for data in messages:
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
        try:
            smtp.sendmail(sender, [recipient], data)
        finally:
            smtp.quit()
    return time.perf_counter() - started


def plain_compose_and_send(web: Web, port: int, sender: str, recipient: str, count: int) -> float:
    """Compose each message in the loop (as the worker does), then send it on its own connection."""
    from trainer_app.clients.models import Client
    from trainer_app.delivery import service
    from trainer_app.delivery.mailer import build_message, make_message_id, message_bytes
    from trainer_app.extensions import db
    from trainer_app.plans.models import PlanDocument

    with web.app.app_context():
        document = db.session.get(PlanDocument, web.document_id)
        client = db.session.get(Client, document.program_version.program.client_id)
        started = time.perf_counter()
        for n in range(count):
            delivery = SimpleNamespace(
                id=f"compose-{n + 1}",
                message_id=make_message_id(f"compose-{n + 1}", "bench.example"),
                document=document,
                letter=None,
                clinic_id=document.clinic_id,
                client=client,
                to_name=client.name,
                to_email=client.email,
                personal_note=None,
            )
            data = message_bytes(build_message(service._message(delivery)))
            smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
            try:
                smtp.sendmail(sender, [recipient], data)
            finally:
                smtp.quit()
        return time.perf_counter() - started


def plain_reused(port: int, sender: str, recipient: str, messages: list[bytes]) -> float:
    """Every message over one connection (the second reference line)."""
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        for data in messages:
            smtp.sendmail(sender, [recipient], data)
    finally:
        smtp.quit()
    return time.perf_counter() - started


# -- CPU accounting (Linux /proc) --------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of one process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


class CpuMeter:
    """CPU seconds spent by each side of the pipeline between ``start()`` and ``stop()``."""

    def __init__(self, web, worker: CeleryWorker, redis_pid: int) -> None:
        self.web, self.worker, self.redis_pid = web, worker, redis_pid

    def _snapshot(self) -> dict:
        worker_pids = [self.worker.proc.pid, *_children(self.worker.proc.pid)]
        return {
            "this process (web side + SMTP sink)": {0: time.process_time()},
            "celery worker (main + pool)": {p: _proc_cpu(p) for p in worker_pids},
            "redis-server": {self.redis_pid: _proc_cpu(self.redis_pid)},
            "PostgreSQL backends of the benchmark database": {
                p: _proc_cpu(p) for p in self.web.backend_pids()
            },
            "machine": {0: _machine_busy()[0]},
        }

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self) -> dict[str, float]:
        after = self._snapshot()
        spent = {}
        for side, pids in after.items():
            total = 0.0
            for pid, seconds in pids.items():
                if seconds is not None:
                    total += seconds - (self.before[side].get(pid) or 0.0)
            spent[side] = total
        return spent


# -- the run ------------------------------------------------------------------------------------


@dataclass
class PipelineRun:
    concurrency: int
    emails: int
    total: float  # first request -> every row seen sent
    publish: float  # first request -> last enqueue returned
    sink_last: float  # first request -> the sink's last message
    latencies: list[float]  # created_at -> sent_at of each row
    mean_size: float
    checks: list[tuple[str, bool]]
    tasks: list[dict] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass
class PlainRun:
    label: str
    per_connection: float
    reused: float
    composed: float
    checks: list[tuple[str, bool]]


@dataclass
class Results:
    emails: int
    pdf_size: int
    message_size: int
    build_per_message: float
    plain: list[PlainRun] = field(default_factory=list)
    pipelines: list[PipelineRun] = field(default_factory=list)


def run(args, stack: contextlib.ExitStack) -> Results:
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trainer-bench-mail-")))
    database = stack.enter_context(PostgresDatabase("trainer_bench_mail"))
    redis_server = stack.enter_context(RedisServer(tmp / "redis"))
    sink = stack.enter_context(SmtpSink())
    env = service_env(
        tmp / "instance",
        database,
        redis_server,
        PRERENDER_PLANS="0",  # only what the benchmark asks for is rendered
        SMTP_URL=f"smtp://127.0.0.1:{sink.port}?timeout=10",
    )
    print(f"database {database.name}, redis {redis_server.url}, smtp sink 127.0.0.1:{sink.port}")
    print(f"work dir {tmp}")

    from trainer_app.extensions import db

    app = flask_app(stack, migrate=True)

    def make_worker(concurrency: int) -> tuple[CeleryWorker, Path]:
        timings = tmp / f"worker-c{concurrency}-timings.jsonl"
        entry = None
        if args.instrument:
            entry = [sys.executable, str(Path(__file__).resolve()), "--instrumented-worker"]
            entry += [str(timings), "--"]
        worker = CeleryWorker(
            env,
            tmp / f"worker-c{concurrency}.log",
            name=f"bench-mail-c{concurrency}",
            queues=QUEUES,
            concurrency=concurrency,
            entry=entry,
        )
        return worker, timings

    # The first worker starts while this process builds the data and renders the PDF.
    concurrencies = args.concurrency
    first_worker, first_timings = make_worker(concurrencies[0])
    first_worker.launch()
    stack.callback(first_worker.stop)

    from tests.support.factories import Factories
    from trainer_app.accounts.models import User
    from trainer_app.plans import service as plans
    from trainer_app.programs.models import ProgramVersion

    factories = Factories(app)
    user = factories.user(clinic_name="Benchmark Movement Clinic")
    client = factories.client_record(
        user, name="Maria Example", email="maria@example.com", email_consent=True
    )
    version_id = factories.program_version(user, client)
    started = time.perf_counter()
    with app.app_context():
        document, _ = plans.request_document(
            db.session.get(ProgramVersion, version_id),
            user=db.session.get(User, user.id),
            paper="A4",
            large_print=False,
            request_key="bench-mail-document",
        )
        db.session.commit()
        outcome = plans.render_document(document.id, claim_id="bench-mail-render")
        if outcome != "ready":
            raise BenchError(f"rendering the plan PDF failed: {outcome}")
        document = db.session.get(type(document), document.id)
        document_id, pdf_size = document.id, document.size_bytes
    print(
        f"plan PDF rendered once: {pdf_size / 1024:.0f} KiB "
        f"({time.perf_counter() - started:.1f} s); every delivery attaches it"
    )
    web = Web(app, user.id, document_id)

    sender, recipient, messages, build_s = web.plain_messages(args.emails)
    results = Results(
        emails=args.emails,
        pdf_size=pdf_size,
        message_size=round(sum(map(len, messages)) / len(messages)),
        build_per_message=build_s,
    )
    print(
        f"{len(messages)} messages of {results.message_size / 1024:.0f} KiB built for the plain "
        f"loop ({fmt_seconds(build_s)} each, not timed)"
    )

    def phase(name: str) -> None:
        sink.handler.phase = name

    # Warm the sink and this process's smtplib path (not timed).
    phase("warm-plain")
    plain_per_connection(sink.port, sender, recipient, messages[:5])

    plain_index = 0

    def plain_round() -> None:
        nonlocal plain_index
        plain_index += 1
        label = f"plain {plain_index}"
        phase(f"{label} per-connection")
        per_connection = plain_per_connection(sink.port, sender, recipient, messages)
        phase(f"{label} reused")
        reused = plain_reused(sink.port, sender, recipient, messages)
        n = len(messages)
        phase(f"{label} composed")
        composed = plain_compose_and_send(web, sink.port, sender, recipient, n)
        checks = [
            (
                f"{label}: sink got {n} messages per loop",
                all(
                    sink.handler.count(f"{label} {loop}") == n
                    for loop in ("per-connection", "reused", "composed")
                ),
            )
        ]
        results.plain.append(PlainRun(label, per_connection, reused, composed, checks))
        print(
            f"  {label}: one connection per message {fmt_seconds(per_connection)}, "
            f"reused connection {fmt_seconds(reused)}, composed in the loop {fmt_seconds(composed)}"
        )

    keys = (f"bench-{os.getpid()}-{n:06d}" for n in range(1_000_000))

    def pipeline_round(worker: CeleryWorker, timings: Path, concurrency: int) -> None:
        worker.wait_ready(timeout=120)
        # Warm-up (not timed): every pool process imports, connects and sends once or twice.
        phase(f"warm-c{concurrency}")
        warm_ids = [web.email_plan(next(keys)) for _ in range(3 * concurrency)]
        wait_until(
            lambda: web.sent_count(warm_ids[0], warm_ids[-1]) == len(warm_ids),
            timeout=60,
            what=f"warm-up deliveries through the worker (log: {worker.log_path})",
        )
        label = f"pipeline c{concurrency}"
        phase(label)
        n = args.emails
        meter = CpuMeter(web, worker, redis_server.proc.pid)
        meter.start()
        started = time.perf_counter()
        ids = [web.email_plan(next(keys)) for _ in range(n)]
        published = time.perf_counter()
        lo, hi = ids[0], ids[-1]
        if hi - lo + 1 != n:
            raise BenchError("delivery ids are not contiguous; another writer in the database?")
        deadline = published + args.timeout
        while web.sent_count(lo, hi) < n:
            if time.perf_counter() > deadline:
                raise BenchError(
                    f"{label}: only {web.sent_count(lo, hi)} of {n} sent after "
                    f"{args.timeout:g} s; worker log {worker.log_path}:\n{worker.tail()}"
                )
            time.sleep(args.poll)
        done = time.perf_counter()
        cpu = meter.stop()
        time.sleep(args.settle)  # a duplicate send would arrive now
        received = sink.handler.of(label)
        rows = web.rows(ids)
        row_ids = {r["message_id"] for r in rows}
        sink_ids = [r.message_id for r in received]
        checks = [
            (f"{label}: sink got exactly {n} messages", len(received) == n),
            (
                f"{label}: {n} distinct Message-IDs",
                len(set(sink_ids)) == n and None not in sink_ids,
            ),
            (
                f"{label}: sink Message-IDs == the rows' message_id",
                set(sink_ids) == row_ids and len(row_ids) == n,
            ),
            (f"{label}: all {n} rows sent", sum(r["status"] == "sent" for r in rows) == n),
            (
                f"{label}: one attempt each, recorded 'sent'",
                all(r["attempts"] == 1 and r["attempt_rows"] == (1, "sent") for r in rows),
            ),
        ]
        latencies = [(r["sent_at"] - r["created_at"]).total_seconds() for r in rows if r["sent_at"]]
        result = PipelineRun(
            concurrency=concurrency,
            emails=n,
            total=done - started,
            publish=published - started,
            sink_last=(max(r.at for r in received) - started) if received else float("nan"),
            latencies=latencies,
            mean_size=sum(r.size for r in received) / max(len(received), 1),
            checks=checks,
            tasks=load_timings(timings, set(ids)),
            cpu=cpu,
        )
        results.pipelines.append(result)
        print(
            f"  {label}: {fmt_seconds(result.total)} (publishing {fmt_seconds(result.publish)}, "
            f"sink's last message at {fmt_seconds(result.sink_last)})"
        )

    first_worker.wait_ready(timeout=120)
    print(f"worker ready (concurrency {concurrencies[0]}); measuring, {args.emails} emails a run")
    plain_round()
    for index, concurrency in enumerate(concurrencies):
        if index == 0:
            worker, timings = first_worker, first_timings
        else:
            worker, timings = make_worker(concurrency)
            worker.launch()
            stack.callback(worker.stop)
        pipeline_round(worker, timings, concurrency)
        worker.stop()  # one worker configuration at a time on the product's queues
        plain_round()
    return results


# -- the report ---------------------------------------------------------------------------------


def report(results: Results, args) -> bool:
    """Print the runs, ratios, profiles and checks; return whether every check passed."""
    n = results.emails
    plain = median([p.per_connection for p in results.plain])
    plain_reused = median([p.reused for p in results.plain])
    plain_composed = median([p.composed for p in results.plain])
    print(f"\n== {n} plan emails, PDF {results.pdf_size / 1024:.0f} KiB, message "
          f"{results.message_size / 1024:.0f} KiB on the wire ==")  # fmt: skip
    rows = [
        [p.label, fmt_seconds(p.per_connection), fmt_seconds(p.per_connection / n),
         fmt_seconds(p.reused), fmt_seconds(p.reused / n),
         fmt_seconds(p.composed), fmt_seconds(p.composed / n)]
        for p in results.plain
    ]  # fmt: skip
    rows.append(
        ["median", fmt_seconds(plain), fmt_seconds(plain / n),
         fmt_seconds(plain_reused), fmt_seconds(plain_reused / n),
         fmt_seconds(plain_composed), fmt_seconds(plain_composed / n)]
    )  # fmt: skip
    print(
        "\nplain smtplib loop in this process: each message composed in the loop with the "
        "product's functions and sent on its own connection (the ratio's denominator);\n"
        "prebuilt messages on one connection each and on one reused connection as stricter "
        f"references (building one took {fmt_seconds(results.build_per_message)})"
    )
    print(table(["run", "one conn/msg", "per msg", "reused conn", "per msg", "composed + "
                 "one conn/msg", "per msg"], rows))  # fmt: skip

    print("\npipeline (request_delivery + commit + enqueue -> Redis -> celery worker -> SMTP -> "
          "row sent)")  # fmt: skip
    rows = []
    for p in results.pipelines:
        lat = sorted(p.latencies)
        p95 = fmt_seconds(lat[int(0.95 * (len(lat) - 1))]) if lat else "n/a"
        rows.append([
            f"concurrency {p.concurrency}", fmt_seconds(p.total), fmt_seconds(p.total / n),
            f"{n / p.total:.0f}/s", fmt_seconds(p.publish), fmt_seconds(median(lat)), p95,
            f"{p.mean_size / 1024:.0f} KiB",
        ])  # fmt: skip
    print(table(["worker", "total", "per msg", "rate", "publishing", "latency p50", "p95",
                 "msg size"], rows))  # fmt: skip

    print("\nratios (pipeline / median plain)")
    rows = []
    for index, p in enumerate(results.pipelines):
        r = ratio(p.total, plain_composed)
        rows.append([
            f"concurrency {p.concurrency}" + (" (headline)" if index == 0 else ""),
            f"{r:.2f}", f"at most {TARGET_RATIO:g}", verdict(r, TARGET_RATIO, at_most=True),
            f"{ratio(p.total, plain):.2f}", f"{ratio(p.total, plain_reused):.2f}",
        ])  # fmt: skip
    print(table(["pipeline", "vs plain loop", "target", "", "vs prebuilt, conn/msg",
                 "vs prebuilt, reused conn"], rows))  # fmt: skip

    for p in results.pipelines:
        if not p.cpu:
            continue
        wall = p.total
        print(f"\nCPU during the pipeline run, concurrency {p.concurrency} "
              f"({fmt_seconds(wall)} wall, {os.cpu_count()} cores)")  # fmt: skip
        spent = dict(p.cpu)
        machine = spent.pop("machine", float("nan"))
        spent["other processes on the machine (noise)"] = machine - sum(spent.values())
        spent["whole machine"] = machine
        rows = [
            [side, f"{seconds:.2f} s", f"{seconds * 1000 / n:.1f} ms",
             f"{100 * seconds / wall:.0f}%"]
            for side, seconds in spent.items()
        ]  # fmt: skip
        print(table(["process", "CPU", "per message", "of one core"], rows))
        noise = spent["other processes on the machine (noise)"] / wall
        if noise > 0.25:
            print(f"  note: other processes used {100 * noise:.0f}% of a core during this run; "
                  "its time is inflated (run again on a quiet machine)")  # fmt: skip

    for index, p in enumerate(results.pipelines):
        if p.tasks:
            profile(p, n, show_sql=index == 0)

    print("\ncorrectness")
    all_ok = True
    for item in [c for p in results.plain for c in p.checks] + [
        c for p in results.pipelines for c in p.checks
    ]:
        name, passed = item
        all_ok &= passed
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    return all_ok


def figures(results: Results) -> list[Figure]:
    """The headline ratio and the correctness checks of a run, for benchmarks/run_all.py."""
    headline = results.pipelines[0]
    plain_composed = median([p.composed for p in results.plain])
    checks = [passed for run in (*results.plain, *results.pipelines) for _, passed in run.checks]
    return [
        Figure(
            f"email pipeline / plain smtplib loop (worker concurrency {headline.concurrency})",
            ratio(headline.total, plain_composed),
            TARGET_RATIO,
            at_most=True,
        ),
        Figure(
            "emails neither lost nor sent twice (checks passed / checks)",
            ratio(sum(checks), len(checks)),
            1.0,
            at_most=False,
        ),
    ]


def profile(p: PipelineRun, n: int, *, show_sql: bool) -> None:
    tasks = p.tasks
    count = len(tasks)
    total = sum(t["total"] for t in tasks) / count
    gaps = between_tasks(tasks)
    wall_per_message = p.total * p.concurrency / n
    print(f"\nwhere one message's time goes in the worker, concurrency {p.concurrency} "
          f"({count} tasks timed; means per task)")  # fmt: skip
    rows = []
    for label, get in PROFILE_ROWS:
        seconds = sum(get(t["events"]) for t in tasks) / count
        rows.append([label, f"{seconds * 1000:.2f}", f"{100 * seconds / total:.0f}%"])
    other = sum(_profile_other(t) for t in tasks) / count
    rows.append(["other (get row, app context, session remove)", f"{other * 1000:.2f}",
                 f"{100 * other / total:.0f}%"])  # fmt: skip
    rows.append(["task total (prerun -> postrun)", f"{total * 1000:.2f}", "100%"])
    statements = sum(len(t.get("sql", ())) for t in tasks) / count
    sql_seconds = sum(s for t in tasks for _, s in t.get("sql", ())) / count
    checkouts = sum(t.get("checkouts", 0) for t in tasks) / count
    rows.append([f"  of which in {statements:.1f} SQL statements (cursor execute)",
                 f"{sql_seconds * 1000:.2f}", f"{100 * sql_seconds / total:.0f}%"])  # fmt: skip
    rows.append([f"  pool checkouts per task (each one pre-pings): {checkouts:.1f}", "", ""])
    if gaps:
        gap = median(gaps)
        rows.append(["between tasks, median (ack, Redis fetch, Celery)", f"{gap * 1000:.2f}", ""])
    rows.append([f"pipeline wall per message x {p.concurrency} processes",
                 f"{wall_per_message * 1000:.2f}", ""])  # fmt: skip
    print(table(["step", "ms", "share of task"], rows))
    if not show_sql:
        return
    sample = tasks[len(tasks) // 2]
    print(f"  SQL of one task (delivery {sample['delivery_id']}), ms each:")
    for statement, seconds in sample.get("sql", ()):
        print(f"    {seconds * 1000:6.2f}  {statement}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=None, help="emails per run (default 500)")
    parser.add_argument("--quick", action="store_true", help="100 emails, under ~2 minutes")
    parser.add_argument(
        "--concurrency",
        default="2,1",
        help="worker --concurrency values, one pipeline run each; the first is the headline",
    )
    parser.add_argument(
        "--instrument",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the steps of send_delivery inside the worker (wrappers, no product change)",
    )
    parser.add_argument("--poll", type=float, default=0.02, help="web polling interval, s")
    parser.add_argument("--settle", type=float, default=0.5, help="wait for duplicates, s")
    parser.add_argument("--timeout", type=float, default=None, help="bound per pipeline run, s")
    add_figures_option(parser)
    args = parser.parse_args(argv)
    args.emails = args.emails or (100 if args.quick else 500)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not args.concurrency or min(args.concurrency) < 1:
        parser.error("--concurrency needs positive integers, e.g. 2,1")
    args.timeout = args.timeout or max(60.0, 0.5 * args.emails)
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--instrumented-worker"]:
        return instrumented_worker(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
    args = parse_args(argv)
    stack = contextlib.ExitStack()
    started = time.perf_counter()
    try:
        with terminate_as_interrupt():
            results = run(args, stack)
            passed = report(results, args)
            write_figures(args.figures, figures(results))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping workers, redis and the sink, dropping the database",
              file=sys.stderr)  # fmt: skip
        return 130
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        with uninterruptible_cleanup():
            stack.close()
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
