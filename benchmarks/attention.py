"""Who needs attention on the dashboard, with many clients and their logged progress.

Run: ``.venv/bin/python benchmarks/attention.py [--clients 10000 50000] [--rounds 9]``
(``--quick``: 10,000 clients, 5 rounds)

For each size, one clinic gets that many clients (``trainer_app.volume.seed_clients``: a share
assessed and programmed) and every programmed client six weeks of logged progress (three
entries a week, written in bulk), then ``VACUUM ANALYZE``. Each round times, side by side and
alternating order, ``progress.service.needs_attention`` (every programmed client's entries
and latest assessment, the attention rules in Python) and the dashboard's existing re-test
query (``dashboard.retests_due``) on the same data. The report gives medians, the ratio and
the attention list against a 150 ms budget.

Runs on a PostgreSQL database of its own, ``trainer_bench_attention_<pid>`` (dropped at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._support import (  # noqa: E402 - needs the repository root on sys.path
    Figure,
    PostgresDatabase,
    add_figures_option,
    flask_app,
    fmt_seconds,
    median,
    ratio,
    service_env,
    table,
    verdict,
    write_figures,
)

BUDGET = 0.15  # seconds for the attention list of one dashboard view, at most
WEEKS, PER_WEEK = 6, 3
# Every programmed client is looked at (the re-test list asks the database for ten): at most
# this many times the re-test list's cost, measured side by side.
RATIO_TARGET = 15.0


def _log_progress(app, clinic_id: int) -> int:
    """Six weeks of entries for every programmed client that has none yet; returns the count."""
    from sqlalchemy import insert, select

    from trainer_app.extensions import db
    from trainer_app.programs.models import Program
    from trainer_app.progress.models import ProgressEntry
    from trainer_app.timeutil import local_today

    with app.app_context():
        logged = set(db.session.scalars(select(ProgressEntry.program_id).distinct()))
        programs = db.session.execute(
            select(Program.id, Program.client_id).where(Program.clinic_id == clinic_id)
        ).all()
        today = local_today("UTC")
        rows = []
        for program_id, client_id in programs:
            if program_id in logged:
                continue
            for n in range(WEEKS * PER_WEEK):
                rows.append(
                    {
                        "clinic_id": clinic_id,
                        "client_id": client_id,
                        "program_id": program_id,
                        "day": today - timedelta(days=2 * n + client_id % 5),
                        "exercises": ["glute_bridge"],
                        "session": n % 4 != 3,
                        "pain": (client_id + n) % 11 if n % 2 == 0 else None,
                        "note": "",
                        "warning_sign": False,
                        "source": "client",
                        "request_key": f"bench-{program_id}-{n}",
                    }
                )
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(ProgressEntry), rows[start : start + 5000])
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        return len(rows)


def _timed(app, clinic_id: int, which: str) -> tuple[float, int]:
    from trainer_app import dashboard
    from trainer_app.extensions import db
    from trainer_app.progress import service
    from trainer_app.timeutil import local_today

    with app.app_context():
        started = time.perf_counter()
        if which == "attention":
            found = len(service.needs_attention(clinic_id))
        else:
            found = len(dashboard.retests_due(clinic_id, local_today("UTC")))
        elapsed = time.perf_counter() - started
        db.session.rollback()
    return elapsed, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="10,000 clients, 5 rounds")
    add_figures_option(parser)
    args = parser.parse_args()
    args.clients = args.clients or ([10_000] if args.quick else [10_000, 50_000])
    args.rounds = args.rounds or (5 if args.quick else 9)
    rows, slowest, worst_ratio = [], 0.0, 0.0

    with contextlib.ExitStack() as stack:
        database = stack.enter_context(PostgresDatabase("trainer_bench_attention"))
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        service_env(instance, database)

        from trainer_app.accounts.service import register_trainer
        from trainer_app.extensions import db
        from trainer_app.volume import seed_clients

        app = flask_app(stack, {"TESTING": True}, migrate=True)
        with app.app_context():
            owner = register_trainer(
                name="Bench Trainer",
                email="bench@example.com",
                password="bench password 123",
                clinic_name="Bench clinic",
                time_zone="UTC",
            )
            db.session.commit()
            owner_id, clinic_id = owner.id, owner.clinic_id
        filled, entries = 0, 0
        for size in sorted(args.clients):
            with app.app_context():
                from trainer_app.accounts.models import User

                seed_clients(db.session.get(User, owner_id), size - filled)
                db.session.commit()
            filled = size
            entries += _log_progress(app, clinic_id)
            times: dict[str, list[float]] = {"attention": [], "retests": []}
            found = {}
            for n in range(args.rounds):
                order = ("attention", "retests") if n % 2 == 0 else ("retests", "attention")
                for which in order:
                    elapsed, found[which] = _timed(app, clinic_id, which)
                    times[which].append(elapsed)
            attention, retests = median(times["attention"]), median(times["retests"])
            slowest = max(slowest, attention)
            worst_ratio = max(worst_ratio, ratio(attention, retests))
            rows.append(
                [
                    f"{size:,}",
                    f"{entries:,}",
                    found["attention"],
                    fmt_seconds(attention),
                    fmt_seconds(retests),
                    f"{ratio(attention, retests):.1f}x",
                    verdict(attention, BUDGET, at_most=True),
                ]
            )
        with app.app_context():
            db.engine.dispose()
    print(
        table(
            [
                "clients",
                "entries",
                "listed",
                "needs_attention",
                "retests_due",
                "attention / retests",
                f"attention <= {BUDGET * 1000:.0f} ms",
            ],
            rows,
        )
    )
    write_figures(
        args.figures,
        [
            Figure(
                f"slowest attention list / its {BUDGET * 1000:.0f} ms budget",
                ratio(slowest, BUDGET),
                1.0,
                at_most=True,
            ),
            Figure(
                "attention list / the dashboard's re-test list, same data",
                worst_ratio,
                RATIO_TARGET,
                at_most=True,
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
