"""The day's print against the same documents rendered one by one, on the same workers.

Run: ``.venv/bin/python benchmarks/print_batch.py [--clients N] [--rounds R] [--quick]``

One ratio, measured side by side in one run (the two sides alternate round by round, first one
then the other first; the report gives medians and the ratio of the medians):

    batch / singles: a print batch of N clients' session sheets (recorded, prepared by a worker,
    N renders published as BULK jobs, merged into one PDF with pypdf) from the request until
    the web side sees it ready; against N single "make this document" requests published at
    once (the same documents, rendered by the same two workers) until all are ready.
    Target: at most 1.2 (the batch's own work, preparing and merging, costs at most a fifth).

Each round prints a different day on each side, so every document is rendered afresh (a day
already printed would be served from its fingerprint). Services of its own: a redis-server on
a free port, a PostgreSQL database ``trainer_bench_<pid>``, two ``celery worker`` processes
(``--concurrency=1`` each).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
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
    start_workers,
    table,
    terminate_as_interrupt,
    verdict,
    wait_for_rows,
    write_figures,
)

TARGET = 1.2
FIRST_DAY = date(2026, 12, 1)


def _seed(app, clients: int):
    """One clinic, ``clients`` clients with a program each, booked on the first day."""
    from tests.support.factories import Factories
    from trainer_app.appointments.models import Appointment
    from trainer_app.extensions import db

    factories = Factories(app)
    owner = factories.user(name="Bench Owner")
    people = []
    for n in range(clients):
        person = factories.client_record(owner, name=f"Bench Client {n:03d}")
        factories.program_version(owner, person)
        people.append(person)
    with app.app_context():
        for n, person in enumerate(people):
            db.session.add(
                Appointment(
                    clinic_id=owner.clinic_id,
                    client_id=person.id,
                    trainer_id=owner.id,
                    starts_at=datetime(2026, 12, 1, 7) + timedelta(minutes=10 * n),
                    ends_at=datetime(2026, 12, 1, 7, 9) + timedelta(minutes=10 * n),
                )
            )
        db.session.commit()
    return owner, people


def _statuses(app, model, ids):
    from sqlalchemy import select

    from trainer_app.extensions import db

    with app.app_context():
        rows = db.session.execute(select(model.id, model.status).where(model.id.in_(ids))).all()
        db.session.remove()
        return dict(rows)


def run_batch(app, owner, people, day: date, key: str) -> float:
    """Request the print as the page does; seconds until the batch is seen ready."""
    from trainer_app.accounts.models import User
    from trainer_app.extensions import db
    from trainer_app.jobs import enqueue
    from trainer_app.prints import service
    from trainer_app.prints.models import PrintBatch

    started = time.perf_counter()
    with app.app_context(), app.test_request_context():
        user = db.session.get(User, owner.id)
        batch, _ = service.create_batch(
            user.clinic,
            user,
            client_ids=[p.id for p in people],
            what="sessions",
            duplex=True,
            day=day,
            request_key=key,
        )
        db.session.commit()
        batch_id = batch.id
        enqueue(service.PREPARE_TASK, batch_id, queue="pdf")
        db.session.remove()
    seen = wait_for_rows(
        lambda ids: _statuses(app, PrintBatch, ids),
        [batch_id],
        done={"ready", "failed"},
        timeout=900,
        interval=0.05,
    )
    status, at = seen[batch_id]
    if status != "ready":
        raise BenchError(f"batch {batch_id} ended {status}")
    _phases(app, batch_id)
    return at - started


def _phases(app, batch_id: int) -> None:
    """Where a batch's time went, from its rows' timestamps (a diagnostic line)."""
    from sqlalchemy import func, select

    from trainer_app.extensions import db
    from trainer_app.plans.models import PlanDocument
    from trainer_app.prints.models import PrintBatch, PrintItem

    with app.app_context():
        batch = db.session.get(PrintBatch, batch_id)
        docs = select(PrintItem.session_document_id).where(PrintItem.batch_id == batch_id)
        first, last_made, last_done = db.session.execute(
            select(
                func.min(PlanDocument.created_at),
                func.max(PlanDocument.created_at),
                func.max(PlanDocument.finished_at),
            ).where(PlanDocument.id.in_(docs))
        ).one()
        start = batch.created_at
        print(
            f"  batch {batch_id}: first document +{(first - start).total_seconds():.2f} s, "
            f"last recorded +{(last_made - start).total_seconds():.2f} s, "
            f"last rendered +{(last_done - start).total_seconds():.2f} s, "
            f"merged +{(batch.finished_at - start).total_seconds():.2f} s",
            flush=True,
        )
        db.session.remove()


def run_singles(app, owner, people, day: date, key: str) -> float:
    """The same documents requested one by one, all at once; seconds until all are ready."""
    from sqlalchemy import select

    from trainer_app.accounts.models import User
    from trainer_app.extensions import db
    from trainer_app.jobs import BULK, enqueue
    from trainer_app.plans import service as plans
    from trainer_app.plans.models import SESSION, PlanDocument
    from trainer_app.programs.models import Program

    started = time.perf_counter()
    ids = []
    with app.app_context(), app.test_request_context():
        user = db.session.get(User, owner.id)
        for person in people:
            program = db.session.scalar(select(Program).where(Program.client_id == person.id))
            document, needs_render = plans.request_document(
                program.latest,
                user=user,
                paper="A4",
                large_print=False,
                request_key=f"{key}-{person.id}",
                kind=SESSION,
                session_day=day,
            )
            db.session.commit()
            if not needs_render:
                raise BenchError("a single render was served from its fingerprint")
            ids.append(document.id)
            enqueue(plans.RENDER_TASK, document.id, queue="pdf", priority=BULK)
        db.session.remove()
    seen = wait_for_rows(
        lambda pending: _statuses(app, PlanDocument, pending),
        ids,
        done={"ready", "failed"},
        timeout=900,
        interval=0.05,
    )
    if any(status != "ready" for status, _ in seen.values()):
        raise BenchError("a single render failed")
    return max(at for _, at in seen.values()) - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=None, help="default 50, or 16 with --quick")
    parser.add_argument("--rounds", type=int, default=None, help="default 3, or 1 with --quick")
    parser.add_argument("--quick", action="store_true", help="16 clients, one round")
    add_figures_option(parser)
    args = parser.parse_args()
    clients = args.clients or (16 if args.quick else 50)
    rounds = args.rounds or (1 if args.quick else 3)

    with terminate_as_interrupt(), contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="print-bench-")))
        redis = stack.enter_context(RedisServer(workdir / "redis"))
        database = stack.enter_context(PostgresDatabase("trainer_bench_print"))
        env = service_env(workdir / "instance", database, redis)
        app = flask_app(stack, {"TESTING": True}, migrate=True)
        owner, people = _seed(app, clients)
        workers = [
            CeleryWorker(env, workdir / f"worker-{name}.log", name=f"print-bench-{name}")
            for name in ("a", "b")
        ]
        start_workers(workers, stack)
        # Warm both workers (imports, fonts, the first fork) outside the measured rounds.
        run_singles(app, owner, people[:4], FIRST_DAY - timedelta(days=1), "warm")

        batch_times, single_times = [], []
        for r in range(rounds):
            batch_day = FIRST_DAY + timedelta(days=2 * r)
            single_day = batch_day + timedelta(days=1)
            order = ("batch", "singles") if r % 2 == 0 else ("singles", "batch")
            for side in order:
                if side == "batch":
                    batch_times.append(run_batch(app, owner, people, batch_day, f"batch-{r}"))
                else:
                    single_times.append(run_singles(app, owner, people, single_day, f"single-{r}"))
            print(
                f"round {r + 1}: batch {fmt_seconds(batch_times[-1])}, "
                f"singles {fmt_seconds(single_times[-1])}",
                flush=True,
            )
        value = ratio(median(batch_times), median(single_times))
        print()
        print(
            table(
                ["clients", "rounds", "batch (median)", "singles (median)", "ratio", "target"],
                [
                    [
                        clients,
                        rounds,
                        fmt_seconds(median(batch_times)),
                        fmt_seconds(median(single_times)),
                        f"{value:.2f}",
                        f"<= {TARGET} {verdict(value, TARGET, at_most=True)}",
                    ]
                ],
            )
        )
        write_figures(
            args.figures,
            [Figure(f"print batch / single renders ({clients} clients)", value, TARGET, True)],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
