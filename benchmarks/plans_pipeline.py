"""Printable PDF plans rendered by Celery workers: the pipeline measured against a bare render.

Run: ``.venv/bin/python benchmarks/plans_pipeline.py [--plans N] [--quick]``

Three ratios, each measured side by side in one run (the machines are noisy, so the two sides
of every ratio alternate round by round, first one then the other first, and the report gives
medians and the ratio of the medians):

1. pipeline / bare render: ``request_document`` + commit + ``enqueue`` over a private Redis, a
   real ``celery worker`` process claims, builds the context, renders through
   ``trainer_app.plans.render`` and stores the PDF in PostgreSQL, until the web side sees
   ``ready``; against ``weasyprint.HTML(string=html, base_url=...).write_pdf(font_config=...)``
   of the very same HTML in this (warm) process. Target: at most 1.15.
2. an unchanged re-request (same version and options, new request key: served from the
   fingerprint, no render) against the bare render. Target: at least 50 times faster.
3. throughput of two worker processes (``--concurrency=1`` each) against one, on batches of
   distinct plans. Target: at least 1.7 times.
4. the paper plan's cost: the bare render of the 12-exercise sample plan of the PDF tests
   (``tests/plans/sample_context.py``: overview, cards with drawings, progress log) against the
   bare render of a one-page plain table of the same 12 exercises (one row each: name, dose,
   cue), both with the product's PDF/UA output, in this process. Target: at most 10. The page
   counts of plans as the builder makes them (``tests/plans/realistic.py``: progress link and
   charts, clearance line) with 8 and 12 exercises (A4 and Letter, normal print) are printed
   with it (targets: at most 4 and 6 pages).

It also measures where the pipeline's time goes (request, publish, publish -> claim, claim ->
finished, finished -> seen ready, all from the row's timestamps) and two diagnostic renders:
``render_pdf`` (the product's forked, memory-limited render) called from this warm process
and from a helper process that, like a worker's pool process, never renders in-process.

Everything runs on services of its own: a redis-server on a free loopback port and a
PostgreSQL database ``trainer_bench_<pid>`` on 127.0.0.1:5432 (dropped at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._support import (  # noqa: E402 - needs the repository root on sys.path
    BenchError,
    CeleryWorker,
    Figure,
    PostgresDatabase,
    RedisServer,
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
    wait_for_rows,
    write_figures,
)

TARGET_PIPELINE_RATIO = 1.15  # pipeline / bare render, at most
TARGET_REREQUEST_SPEEDUP = 50.0  # render / re-request, at least
TARGET_THROUGHPUT_RATIO = 1.7  # two worker processes / one, at least
TARGET_PAPER_RATIO = 10.0  # 12-exercise plan with drawings / one-page 12-row table, at most
TARGET_PAGES = {8: 4, 12: 6}  # pages of the 8- and 12-exercise plans, at most (issue 12)

# Queues of our own next to the product's "pdf" queue, so one batch goes to one worker only and
# the next to both, without restarting workers between rounds.
Q_ONE = "bench-one"  # consumed by worker A only
Q_TWO = "bench-two"  # consumed by workers A and B
Q_WARM_B = "bench-warm-b"  # worker B only (its warm-up)
Q_C2 = "bench-c2"  # the optional one-worker-with-concurrency-2 configuration

log = logging.getLogger("bench")


# -- the cold fork helper: a process that renders only in forked children, like a worker -------


def cold_fork_helper() -> int:
    """Read HTML file paths on stdin, render each with ``render_pdf``, print the seconds taken.

    Like a Celery pool process, this process never renders in-process: every render runs in a
    child forked from a parent whose WeasyPrint caches are cold.
    """
    from trainer_app.plans import render

    render._font_config()  # as render_pdf does in the pool process before its first fork
    print("ready", flush=True)
    for line in sys.stdin:
        path = line.strip()
        if not path:
            continue
        html = Path(path).read_text(encoding="utf-8")
        started = time.perf_counter()
        try:
            pdf = render.render_pdf(html)
        except Exception as error:  # report, keep serving
            print(f"ERR {type(error).__name__}: {error}", flush=True)
            continue
        print(f"{time.perf_counter() - started:.6f} {len(pdf)}", flush=True)
    return 0


def instrumented_worker(timings_path: str, celery_argv: list[str]) -> int:
    """Run ``celery worker`` with timers around the steps of ``render_document`` (``--instrument``).

    The wrappers are installed in the worker's main process before the pool forks, so every
    pool process inherits them; each task appends one JSON line to ``timings_path``.
    """
    from celery import signals

    import worker.celery_app as entry
    from trainer_app.extensions import db
    from trainer_app.plans import render, service
    from trainer_app.timeutil import utcnow

    events: list[tuple[str, float]] = []

    def timed(name, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                events.append((name, time.perf_counter() - started))

        return wrapper

    for name in ("claim_for_render", "document_context", "fingerprint", "_original"):
        setattr(service, name, timed(name, getattr(service, name)))
    for name in ("plan_html", "render_pdf"):
        setattr(render, name, timed(name, getattr(render, name)))
    db.session.commit = timed("commit", db.session.commit)
    state: dict = {}

    @signals.task_prerun.connect
    def _prerun(task_id=None, task=None, args=None, **_):
        events.clear()
        state.update(started=time.perf_counter(), wall=utcnow().isoformat(), args=args)

    @signals.task_postrun.connect
    def _postrun(task_id=None, task=None, **_):
        if task is None or task.name != service.RENDER_TASK:
            return
        line = {
            "document_id": (state.get("args") or [None])[0],
            "prerun_wall": state.get("wall"),
            "total": time.perf_counter() - state.get("started", 0.0),
            "events": events[:],
            "pid": os.getpid(),
        }
        with open(timings_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")

    entry.celery.worker_main(argv=celery_argv)
    return 0


class ColdForkRenderer:
    """Talks to ``cold_fork_helper`` running as a child process."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--cold-fork-helper"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        if self._line(timeout=60) != "ready":
            raise BenchError("the cold fork helper did not start")

    def _line(self, timeout: float) -> str:
        import select

        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise BenchError(f"the cold fork helper did not answer within {timeout:g} s")
        line = self.proc.stdout.readline()
        if not line:
            raise BenchError("the cold fork helper exited")
        return line.strip()

    def render(self, html_path: Path) -> float:
        self.proc.stdin.write(f"{html_path}\n")
        self.proc.stdin.flush()
        answer = self._line(timeout=180)
        if answer.startswith("ERR"):
            raise BenchError(f"cold fork render failed: {answer}")
        return float(answer.split()[0])

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


# -- the web side ------------------------------------------------------------------------------


@dataclass
class Made:
    """One "Make PDF" request as the web side saw it (perf_counter times)."""

    document_id: int
    needs_render: bool
    status: str
    started: float
    committed: float
    published: float
    published_wall: datetime


@dataclass
class Row:
    status: str
    fingerprint: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    size_bytes: int | None
    attempts: int


class Web:
    """Does what the "Make PDF" view does, and polls the row's status as the status page does."""

    def __init__(self, app, user_id: int) -> None:
        self.app = app
        self.user_id = user_id

    def make_pdf(
        self,
        version_id: int,
        key: str,
        *,
        queue: str = "pdf",
        paper: str = "A4",
        large_print: bool = False,
    ) -> Made:
        from trainer_app.accounts.models import User
        from trainer_app.extensions import db
        from trainer_app.jobs import enqueue
        from trainer_app.plans import service
        from trainer_app.programs.models import ProgramVersion
        from trainer_app.timeutil import utcnow

        started = time.perf_counter()
        with self.app.app_context():
            version = db.session.get(ProgramVersion, version_id)
            user = db.session.get(User, self.user_id)
            document, needs_render = service.request_document(
                version, user=user, paper=paper, large_print=large_print, request_key=key
            )
            db.session.commit()
            document_id, status = document.id, document.status
            committed = time.perf_counter()
            # The product's enqueue; the queue differs only to steer benchmark batches.
            if needs_render and not enqueue(service.RENDER_TASK, document_id, queue=queue):
                raise BenchError("publishing to the private Redis failed")
            published = time.perf_counter()
            published_wall = utcnow()
        return Made(
            document_id, needs_render, status, started, committed, published, published_wall
        )

    def statuses(self, ids) -> dict[int, str]:
        from sqlalchemy import select

        from trainer_app.extensions import db
        from trainer_app.plans.models import PlanDocument

        with self.app.app_context():
            rows = db.session.execute(
                select(PlanDocument.id, PlanDocument.status).where(PlanDocument.id.in_(ids))
            ).all()
            return dict(rows)

    def wait(self, ids, *, timeout: float, interval: float) -> dict[int, tuple[str, float]]:
        seen = wait_for_rows(
            self.statuses, ids, done=("ready", "failed"), timeout=timeout, interval=interval
        )
        failed = [row_id for row_id, (status, _) in seen.items() if status != "ready"]
        if failed:
            raise BenchError(f"documents {failed} failed: {self.row(failed[0])}")
        return seen

    def row(self, document_id: int) -> Row:
        from trainer_app.extensions import db
        from trainer_app.plans.models import PlanDocument

        with self.app.app_context():
            d = db.session.get(PlanDocument, document_id)
            return Row(
                d.status,
                d.fingerprint,
                d.created_at,
                d.started_at,
                d.finished_at,
                d.size_bytes,
                d.attempts,
            )

    def plan_html(self, version_id: int, paper: str = "A4", large_print: bool = False):
        """(html, fingerprint, context seconds, html seconds) as the worker would build them."""
        from trainer_app.extensions import db
        from trainer_app.plans import render, service
        from trainer_app.plans.models import PlanDocument
        from trainer_app.programs.models import ProgramVersion
        from trainer_app.progress.service import ensure_link

        with self.app.app_context():
            version = db.session.get(ProgramVersion, version_id)
            # "Make PDF" gives the client a progress link before the worker renders (the plan
            # prints it): give it now, as that request would, so both sides render the same.
            ensure_link(version.program.client, version.program)
            db.session.commit()
            version = db.session.get(ProgramVersion, version_id)
            # A transient row (never added to the session) to reuse the product's context code.
            document = PlanDocument(
                clinic_id=version.clinic_id,
                program_version=version,
                paper_size=paper,
                large_print=large_print,
            )
            started = time.perf_counter()
            context = service.document_context(document)
            built = time.perf_counter()
            html = render.plan_html(context)
            done = time.perf_counter()
            db.session.rollback()
            return html, render.fingerprint(context), built - started, done - built


# -- measurements ------------------------------------------------------------------------------


@dataclass
class Results:
    bare: list[float] = field(default_factory=list)
    fork_warm: list[float] = field(default_factory=list)
    fork_cold: list[float] = field(default_factory=list)
    pipeline: list[float] = field(default_factory=list)
    rerequest: list[float] = field(default_factory=list)
    context_build: list[float] = field(default_factory=list)
    html_build: list[float] = field(default_factory=list)
    # pipeline steps
    step_request: list[float] = field(default_factory=list)
    step_publish: list[float] = field(default_factory=list)
    step_to_claim: list[float] = field(default_factory=list)
    step_work: list[float] = field(default_factory=list)
    step_to_seen: list[float] = field(default_factory=list)
    pdf_bytes: list[int] = field(default_factory=list)
    measured_docs: dict[int, datetime] = field(default_factory=dict)
    worker_steps: dict[str, list[float]] = field(default_factory=dict)
    throughput: dict[str, list[float]] = field(default_factory=dict)
    tasks_per_worker: dict[str, list[dict[str, int]]] = field(default_factory=dict)
    paper_plan: list[float] = field(default_factory=list)
    paper_table: list[float] = field(default_factory=list)
    paper_pages: dict[str, int] = field(default_factory=dict)  # "8 A4" -> pages


def bare_pdf(html: str) -> tuple[float, bytes]:
    """``weasyprint.HTML(string=html, base_url=...).write_pdf(...)``: (seconds, PDF)."""
    import weasyprint

    from trainer_app.plans import render
    from trainer_app.plans.fetcher import STATIC_DIR

    # As the product: the shared FontConfiguration, the tagged PDF/UA output, the drawings
    # parsed once a process and the plan's stylesheet parsed once (no fork, no URL fetcher).
    html, options = render.pdf_arguments(html)
    started = time.perf_counter()
    pdf = weasyprint.HTML(string=html, base_url=str(STATIC_DIR) + os.sep).write_pdf(**options)
    elapsed = time.perf_counter() - started
    assert pdf.startswith(b"%PDF")
    return elapsed, pdf


def bare_render(html: str) -> float:
    """``weasyprint.HTML(string=html, base_url=...).write_pdf(...)``, timed."""
    return bare_pdf(html)[0]


def plain_table_html(context: dict) -> str:
    """A one-page plain table of a plan's exercises (name, dose, first cue), as peers print."""
    from markupsafe import escape

    rows = "".join(
        f"<tr><td>{number}</td><td>{escape(item['name'])}</td>"
        f"<td>{escape(item['dose_text'])}</td><td>{escape((item['cues'] or [''])[0])}</td></tr>"
        for number, item in enumerate(context["items"], start=1)
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(context['title'])}</title><style>"
        "@page { size: A4; margin: 15mm }"
        ' html { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt }'
        " table { width: 100%; border-collapse: collapse }"
        " th, td { border: 0.5pt solid #999; padding: 2mm; text-align: left }"
        f"</style></head><body><h1>{escape(context['client']['name'])}</h1><table>"
        "<thead><tr><th>#</th><th>Exercise</th><th>Dose</th><th>Remember</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></body></html>"
    )


def paper(results: Results, rounds: int, say) -> None:
    """Ratio 4 and the page counts: the sample plan against a plain table, alternating."""
    import io

    from pypdf import PdfReader

    from tests.plans.realistic import realistic_context
    from tests.plans.sample_context import sample_context
    from trainer_app.plans import render

    context = sample_context()
    plan_html = render.plan_html(context)
    table_html = plain_table_html(context)
    # Page counts of plans as the product builds them (the builder's weekly progressions, the
    # progress link's QR code and charts, a clearance line): what the page limits are about.
    for count in sorted(TARGET_PAGES):
        for paper in ("A4", "Letter"):
            _, pdf = bare_pdf(render.plan_html(realistic_context(count, paper=paper)))
            results.paper_pages[f"{count} {paper}"] = len(PdfReader(io.BytesIO(pdf)).pages)
    _, table_pdf = bare_pdf(table_html)  # warm-up, and the table must fit one page
    if len(PdfReader(io.BytesIO(table_pdf)).pages) != 1:
        raise BenchError("the plain table does not fit one page")
    say(f"paper plan vs one-page table: {rounds} rounds")
    for round_no in range(rounds):
        steps = [
            lambda: results.paper_plan.append(bare_render(plan_html)),
            lambda: results.paper_table.append(bare_render(table_html)),
        ]
        for step in steps if round_no % 2 == 0 else reversed(steps):
            step()
        say(
            f"  round {round_no + 1}: plan {fmt_seconds(results.paper_plan[-1])}, "
            f"table {fmt_seconds(results.paper_table[-1])}"
        )


def fork_render(html: str) -> float:
    """The product's ``render_pdf`` (forked child, memory limit) from this warm process."""
    from trainer_app.plans import render

    started = time.perf_counter()
    pdf = render.render_pdf(html)
    elapsed = time.perf_counter() - started
    assert pdf.startswith(b"%PDF")
    return elapsed


def succeeded_count(worker: CeleryWorker) -> int:
    """Render tasks the worker has logged as succeeded so far."""
    text = worker.tail(50_000_000)
    return sum(1 for line in text.splitlines() if "plans.render[" in line and "succeeded" in line)


WORKER_STEPS = {
    "claim_for_render": "claim (UPDATE + commit)",
    "document_context": "context build",
    "fingerprint": "fingerprint",
    "_original": "look for an identical render",
    "plan_html": "HTML (Jinja + body-map SVGs)",
    "render_pdf": "render_pdf (fork + WeasyPrint)",
    "store_commit": "commit of the PDF",
}


def worker_step_timings(path: Path, published: dict[int, datetime]) -> dict[str, list[float]]:
    """Per-step durations of the measured documents from the instrumented worker's lines."""
    steps: dict[str, list[float]] = {}
    if not path.exists():
        return steps
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        document_id = record["document_id"]
        if document_id not in published:
            continue
        durations: dict[str, float] = {}
        commits = [seconds for name, seconds in record["events"] if name == "commit"]
        for name, seconds in record["events"]:
            if name in WORKER_STEPS:
                durations[name] = durations.get(name, 0.0) + seconds
        durations["store_commit"] = commits[-1] if commits else 0.0
        accounted = sum(durations.values())
        durations["task_total"] = record["total"]
        durations["task overhead (app context, load row, session)"] = record["total"] - accounted
        prerun = datetime.fromisoformat(record["prerun_wall"])
        durations["publish -> task starts"] = (prerun - published[document_id]).total_seconds()
        for name, seconds in durations.items():
            steps.setdefault(WORKER_STEPS.get(name, name), []).append(seconds)
    return steps


def run(args, stack: contextlib.ExitStack) -> Results:
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trainer-bench-")))
    say = print if not args.json_only else (lambda *a, **k: None)

    database = stack.enter_context(PostgresDatabase("trainer_bench"))
    redis_server = stack.enter_context(RedisServer(tmp / "redis"))
    # only what the benchmark asks for is rendered
    env = service_env(tmp / "instance", database, redis_server, PRERENDER_PLANS="0")
    say(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    say(f"database {database.name}, redis {redis_server.url}, work dir {tmp}")

    # Workers start while this process migrates and builds the data (their start-up overlaps).
    timings_path = tmp / "worker-a-timings.jsonl"
    worker_a = CeleryWorker(
        env,
        tmp / "worker-a.log",
        name="bench-a",
        queues=("pdf", "email", "celery", Q_ONE, Q_TWO),
        entry=[
            sys.executable,
            str(Path(__file__).resolve()),
            "--instrumented-worker",
            str(timings_path),
            "--",
        ]
        if args.instrument
        else None,
    )
    worker_b = CeleryWorker(env, tmp / "worker-b.log", name="bench-b", queues=(Q_TWO, Q_WARM_B))
    workers = [worker_a, worker_b]
    worker_c2 = None
    if args.concurrency2:
        worker_c2 = CeleryWorker(
            env, tmp / "worker-c2.log", name="bench-c2", queues=(Q_C2,), concurrency=2
        )
        workers.append(worker_c2)

    app = flask_app(stack, migrate=True)
    started = time.perf_counter()
    cold = ColdForkRenderer(env)
    stack.callback(cold.stop)
    for worker in workers:
        worker.launch()
        stack.callback(worker.stop)

    from tests.support.factories import Factories

    factories = Factories(app)
    user = factories.user(clinic_name="Benchmark Movement Clinic")
    web = Web(app, user.id)
    needed = 3 + args.rounds + 2 * args.tp_rounds * args.batch
    if worker_c2 is not None:
        needed += 2 + args.tp_rounds * args.batch
    versions = [factories.program_version(user) for _ in range(needed)]
    say(f"{needed} program versions (one client each, so every plan is distinct)")
    for worker in workers:
        worker.wait_ready(timeout=120)
    say(f"workers ready after {time.perf_counter() - started:.1f} s")

    results = Results()
    keys = iter(f"bench-{os.getpid()}-{n:06d}" for n in range(1_000_000))
    html_dir = tmp / "html"
    html_dir.mkdir()

    def html_of(version_id: int) -> tuple[str, Path, str]:
        html, print_fingerprint, context_s, html_s = web.plan_html(version_id)
        results.context_build.append(context_s)
        results.html_build.append(html_s)
        path = html_dir / f"{version_id}.html"
        path.write_text(html, encoding="utf-8")
        return html, path, print_fingerprint

    def pipeline(version_id: int, queue: str = "pdf") -> tuple[Made, float, Row]:
        made = web.make_pdf(version_id, next(keys), queue=queue)
        if not made.needs_render:
            raise BenchError(f"version {version_id} was not rendered (status {made.status})")
        seen = web.wait([made.document_id], timeout=args.timeout, interval=args.poll)
        seen_at = seen[made.document_id][1]
        return made, seen_at, web.row(made.document_id)

    # -- warm-up: this process (bare and forked), the cold helper, worker A and worker B ------
    say("warming up ...")
    warm_html, warm_path, _ = html_of(versions.pop())
    if args.save_html:
        Path(args.save_html).mkdir(parents=True, exist_ok=True)
        (Path(args.save_html) / "plan.html").write_text(warm_html, encoding="utf-8")
    bare_render(warm_html)
    fork_render(warm_html)
    cold.render(warm_path)
    pipeline(versions.pop())
    made = web.make_pdf(versions.pop(), next(keys), queue=Q_WARM_B)
    web.wait([made.document_id], timeout=args.timeout, interval=args.poll)
    if worker_c2 is not None:
        made_c2 = [web.make_pdf(versions.pop(), next(keys), queue=Q_C2) for _ in range(2)]
        web.wait([m.document_id for m in made_c2], timeout=args.timeout, interval=args.poll)
    results.context_build.clear()
    results.html_build.clear()

    # -- 1 and 2: pipeline vs bare render, re-request vs render, interleaved per round --------
    say(f"pipeline vs bare render: {args.rounds} rounds")
    for round_no in range(args.rounds):
        version_id = versions.pop()
        html, html_path, print_fingerprint = html_of(version_id)
        row: Row | None = None

        def do_bare(html=html):
            results.bare.append(bare_render(html))

        def do_fork_warm(html=html):
            results.fork_warm.append(fork_render(html))

        def do_fork_cold(html_path=html_path):
            results.fork_cold.append(cold.render(html_path))

        def do_pipeline(version_id=version_id):
            nonlocal row
            made, seen_at, row = pipeline(version_id)
            results.pipeline.append(seen_at - made.started)
            results.step_request.append(made.committed - made.started)
            results.step_publish.append(made.published - made.committed)
            results.step_to_claim.append((row.started_at - made.published_wall).total_seconds())
            results.step_work.append((row.finished_at - row.started_at).total_seconds())
            results.step_to_seen.append(
                seen_at - made.published - (row.finished_at - made.published_wall).total_seconds()
            )
            results.pdf_bytes.append(row.size_bytes or 0)
            results.measured_docs[made.document_id] = made.published_wall

        steps = [do_bare, do_fork_warm, do_fork_cold, do_pipeline]
        for step in steps if round_no % 2 == 0 else reversed(steps):
            step()
        if row.fingerprint != print_fingerprint:
            raise BenchError("the worker rendered a different context than the bare render")
        for _ in range(args.rerequests):
            made = web.make_pdf(version_id, next(keys))
            if made.needs_render or made.status != "ready":
                raise BenchError(f"re-request was not served from the fingerprint: {made}")
            results.rerequest.append(made.committed - made.started)
        say(
            f"  round {round_no + 1}: bare {fmt_seconds(results.bare[-1])}, "
            f"pipeline {fmt_seconds(results.pipeline[-1])}, "
            f"forked (warm parent) {fmt_seconds(results.fork_warm[-1])}, "
            f"forked (cold parent) {fmt_seconds(results.fork_cold[-1])}, "
            f"re-request {fmt_seconds(median(results.rerequest[-args.rerequests :]))}"
        )

    if args.instrument:
        results.worker_steps = worker_step_timings(timings_path, results.measured_docs)

    # -- 3: throughput of two worker processes against one, configurations alternating --------
    configs = [("1 worker process", Q_ONE), ("2 worker processes", Q_TWO)]
    if worker_c2 is not None:
        configs.append(("1 worker, concurrency 2", Q_C2))
    say(f"throughput: {args.tp_rounds} round(s) of {args.batch} distinct plans per configuration")
    for round_no in range(args.tp_rounds):
        order = configs if round_no % 2 == 0 else list(reversed(configs))
        for label, queue in order:
            batch = [versions.pop() for _ in range(args.batch)]
            before = {w.name: succeeded_count(w) for w in workers}
            started = time.perf_counter()
            made = [web.make_pdf(v, next(keys), queue=queue) for v in batch]
            seen = web.wait(
                [m.document_id for m in made],
                timeout=args.timeout * args.batch,
                interval=args.tp_poll,
            )
            elapsed = max(at for _, at in seen.values()) - started
            results.throughput.setdefault(label, []).append(args.batch / elapsed)
            after = {w.name: succeeded_count(w) for w in workers}
            done_by = {
                name: after[name] - before[name] for name in after if after[name] > before[name]
            }
            results.tasks_per_worker.setdefault(label, []).append(done_by)
            say(
                f"  {label}: {args.batch} plans in {elapsed:.2f} s "
                f"({args.batch / elapsed * 60:.1f} plans/min; tasks per worker {done_by})"
            )

    # -- 4: the paper plan against a one-page table, workers idle -------------------------------
    paper(results, args.rounds, say)
    return results


# -- report ------------------------------------------------------------------------------------


def report(results: Results, args) -> dict:
    bare = median(results.bare)
    pipe = median(results.pipeline)
    rereq = median(results.rerequest)
    pipe_ratio = ratio(pipe, bare)
    speedup = ratio(bare, rereq)
    one = median(results.throughput.get("1 worker process", []))
    two = median(results.throughput.get("2 worker processes", []))
    tp_ratio = ratio(two, one)
    paper_ratio = ratio(median(results.paper_plan), median(results.paper_table))
    summary = {
        "mode": "quick" if args.quick else "full",
        "rounds": args.rounds,
        "batch": args.batch,
        "throughput_rounds": args.tp_rounds,
        "bare_render_s": bare,
        "pipeline_s": pipe,
        "pipeline_ratio": pipe_ratio,
        "rerequest_s": rereq,
        "rerequest_speedup": speedup,
        "throughput_plans_per_min": {k: median(v) * 60 for k, v in results.throughput.items()},
        "throughput_ratio": tp_ratio,
        "paper_plan_s": median(results.paper_plan),
        "paper_table_s": median(results.paper_table),
        "paper_ratio": paper_ratio,
        "paper_pages": results.paper_pages,
        "steps_s": {
            "request+commit": median(results.step_request),
            "publish": median(results.step_publish),
            "publish->claim": median(results.step_to_claim),
            "claim->finished": median(results.step_work),
            "finished->seen ready": median(results.step_to_seen),
            "context build": median(results.context_build),
            "html build": median(results.html_build),
            "render_pdf, warm parent": median(results.fork_warm),
            "render_pdf, cold parent": median(results.fork_cold),
        },
        "tasks_per_worker": results.tasks_per_worker,
        "raw": {
            "bare": results.bare,
            "pipeline": results.pipeline,
            "fork_warm": results.fork_warm,
            "fork_cold": results.fork_cold,
            "rerequest": results.rerequest,
            "throughput": results.throughput,
        },
    }
    if args.json_only:
        print(json.dumps(summary, indent=2, default=str))
        return summary

    n = len(results.bare)
    print()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average now {load} (other work skews all ratios)")
    print(
        f"Plans pipeline benchmark ({summary['mode']}: {n} rounds, "
        f"{args.rerequests} re-requests per round, throughput {args.tp_rounds} x "
        f"{args.batch} plans per configuration; medians)"
    )
    print(
        table(
            ["measurement", "median", "target", "result"],
            [
                ["bare WeasyPrint render (warm process)", fmt_seconds(bare), "", ""],
                ["full pipeline per plan (web -> ready)", fmt_seconds(pipe), "", ""],
                [
                    "1. pipeline / bare render",
                    f"{pipe_ratio:.2f}",
                    f"<= {TARGET_PIPELINE_RATIO}",
                    verdict(pipe_ratio, TARGET_PIPELINE_RATIO, at_most=True),
                ],
                ["unchanged re-request (fingerprint)", fmt_seconds(rereq), "", ""],
                [
                    "2. re-request speed-up (render / re-request)",
                    f"{speedup:.0f}x",
                    f">= {TARGET_REREQUEST_SPEEDUP:.0f}x",
                    verdict(speedup, TARGET_REREQUEST_SPEEDUP, at_most=False),
                ],
                *[
                    [f"throughput, {label}", f"{median(v) * 60:.1f} plans/min", "", ""]
                    for label, v in results.throughput.items()
                ],
                [
                    "3. throughput 2 worker processes / 1",
                    f"{tp_ratio:.2f}",
                    f">= {TARGET_THROUGHPUT_RATIO}",
                    verdict(tp_ratio, TARGET_THROUGHPUT_RATIO, at_most=False),
                ],
                [
                    "12-exercise plan with drawings, bare render",
                    fmt_seconds(summary["paper_plan_s"]),
                    "",
                    "",
                ],
                [
                    "one-page 12-row table, bare render",
                    fmt_seconds(summary["paper_table_s"]),
                    "",
                    "",
                ],
                [
                    "4. plan / one-page table",
                    f"{paper_ratio:.2f}",
                    f"<= {TARGET_PAPER_RATIO:g}",
                    verdict(paper_ratio, TARGET_PAPER_RATIO, at_most=True),
                ],
                *[
                    [
                        f"pages, {key.split()[0]}-exercise plan ({key.split()[1]})",
                        str(pages),
                        f"<= {TARGET_PAGES[int(key.split()[0])]}",
                        verdict(pages, TARGET_PAGES[int(key.split()[0])], at_most=True),
                    ]
                    for key, pages in sorted(results.paper_pages.items())
                ],
            ],
        )
    )
    print()
    print("Where the pipeline's time goes (medians; share of the pipeline median)")
    print(
        table(
            ["step", "median", "share"],
            [
                [name, fmt_seconds(value), f"{ratio(value, pipe) * 100:.0f}%"]
                for name, value in summary["steps_s"].items()
            ],
        )
    )
    if results.worker_steps:
        print()
        print("Inside the worker (instrumented worker A, same rounds; medians)")
        print(
            table(
                ["step", "median", "share"],
                [
                    [name, fmt_seconds(median(v)), f"{ratio(median(v), pipe) * 100:.0f}%"]
                    for name, v in results.worker_steps.items()
                ],
            )
        )
        summary["worker_steps_s"] = {k: median(v) for k, v in results.worker_steps.items()}
    print(
        "  claim->finished = claim commit + load + context + fingerprint + render_pdf (fork) in"
        " the worker;\n  finished->seen ready = PDF commit + web polling"
        f" (every {args.poll * 1000:.0f} ms here; the browser polls every 1.5 s)."
    )
    return summary


def figures(summary: dict) -> list[Figure]:
    """The three headline ratios of a report, for benchmarks/run_all.py."""
    return [
        Figure(
            "PDF pipeline / bare WeasyPrint render",
            summary["pipeline_ratio"],
            TARGET_PIPELINE_RATIO,
            at_most=True,
        ),
        Figure(
            "bare render / unchanged re-request",
            summary["rerequest_speedup"],
            TARGET_REREQUEST_SPEEDUP,
            at_most=False,
            unit="x",
        ),
        Figure(
            "PDF throughput, 2 worker processes / 1",
            summary["throughput_ratio"],
            TARGET_THROUGHPUT_RATIO,
            at_most=False,
        ),
        Figure(
            "12-exercise plan render / one-page 12-row table",
            summary["paper_ratio"],
            TARGET_PAPER_RATIO,
            at_most=True,
        ),
        *[
            Figure(
                f"pages of the {key.split()[0]}-exercise plan ({key.split()[1]})",
                pages,
                TARGET_PAGES[int(key.split()[0])],
                at_most=True,
                unit=" pages",
            )
            for key, pages in sorted(summary["paper_pages"].items())
        ],
    ]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--plans", type=int, default=None, help="rounds of ratio 1 and plans per throughput batch"
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, under ~2 minutes")
    parser.add_argument("--rounds", type=int, default=None, help="override rounds of ratio 1")
    parser.add_argument("--batch", type=int, default=None, help="override plans per batch")
    parser.add_argument("--tp-rounds", type=int, default=None, help="throughput rounds")
    parser.add_argument("--rerequests", type=int, default=5, help="re-requests per round")
    parser.add_argument(
        "--concurrency2",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also measure one worker with --concurrency=2 (default: on in full mode)",
    )
    parser.add_argument(
        "--instrument",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the steps of render_document inside worker A (wrappers, no product change)",
    )
    parser.add_argument("--poll", type=float, default=0.01, help="web polling interval, s")
    parser.add_argument("--tp-poll", type=float, default=0.05, help="polling during batches, s")
    parser.add_argument("--timeout", type=float, default=120, help="per plan wait bound, s")
    parser.add_argument("--save-html", metavar="DIR", help="keep one plan's HTML for profiling")
    parser.add_argument("--json", dest="json_only", action="store_true", help="print JSON only")
    parser.add_argument(
        "--paper-only",
        action="store_true",
        help="only ratio 4 and the page counts (no services, no workers)",
    )
    add_figures_option(parser)
    parser.add_argument("--cold-fork-helper", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    plans = args.plans or (6 if args.quick else 8)
    args.rounds = args.rounds or (5 if args.quick else plans)
    args.batch = args.batch or plans
    args.tp_rounds = args.tp_rounds or (1 if args.quick else 3)
    if args.concurrency2 is None:
        args.concurrency2 = not args.quick
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--instrumented-worker"]:
        return instrumented_worker(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
    args = parse_args(argv)
    if args.cold_fork_helper:
        return cold_fork_helper()
    if args.paper_only:
        results = Results()
        paper(results, args.rounds, print)
        plan, table_s = median(results.paper_plan), median(results.paper_table)
        print(f"12-exercise plan {fmt_seconds(plan)}, one-page table {fmt_seconds(table_s)}")
        print(f"4. plan / one-page table: {ratio(plan, table_s):.2f} (<= {TARGET_PAPER_RATIO:g})")
        for key, pages in sorted(results.paper_pages.items()):
            count, size = key.split()
            target = TARGET_PAGES[int(count)]
            print(f"pages, {count}-exercise plan ({size}): {pages} (<= {target})")
        return 0
    stack = contextlib.ExitStack()
    started = time.perf_counter()
    try:
        with terminate_as_interrupt():
            results = run(args, stack)
            write_figures(args.figures, figures(report(results, args)))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping workers and redis, dropping the database", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        with uninterruptible_cleanup():
            stack.close()
    if not args.json_only:
        print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
