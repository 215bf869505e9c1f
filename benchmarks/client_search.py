"""Client search on PostgreSQL with many clients: the trigram index against a sequential scan.

Run: ``.venv/bin/python benchmarks/client_search.py [--clients 10000 50000] [--rounds 15]``
(``--quick``: 10,000 clients, 5 rounds)

For each size, one clinic gets that many clients with varied names and emails (written through
the ORM in bulk, so the app fills the folded search column as it does for every client), then
``VACUUM ANALYZE`` (what autovacuum does on a live server). Each round times the client list's
own query (``clients.service.client_query`` with a search, first page of 20 and its count, as
the page runs them) twice, side by side and alternating order: as the planner chooses (the
trigram index) and with bitmap and index scans switched off for the transaction (a sequential
scan, i.e. what the search costs without the index). The report gives medians and the ratio.

Runs on a PostgreSQL database of its own, ``trainer_bench_search_<pid>`` (dropped at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import sys
import tempfile
import time
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

PAGE_QUERY_BUDGET = 0.05  # seconds: the searched page's count and first 20 rows, at most

FIRST = ["Maria", "Zoë", "Tomás", "Aiko", "Oliver", "Søren", "Émile", "Łucja", "Ana", "Bjørn"]
LAST = ["Jensen", "Łukasiewicz", "Álvarez", "Tanaka", "Smith", "Ørsted", "Zola", "Nowak"]
PAGE = 20


def _name(n: int) -> tuple[str, str]:
    token = hashlib.sha256(str(n).encode()).hexdigest()[:6]
    name = f"{FIRST[n % len(FIRST)]} {LAST[(n // 7) % len(LAST)]}-{token}"
    return name, f"client.{token}.{n}@example.com"


def _fill(app, clinic_id: int, start: int, stop: int) -> None:
    from trainer_app.clients.models import Client
    from trainer_app.extensions import db

    with app.app_context():
        for first in range(start, stop, 2000):
            db.session.add_all(
                Client(clinic_id=clinic_id, name=name, email=email, notes="")
                for name, email in (_name(n) for n in range(first, min(first + 2000, stop)))
            )
            db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE clients")


def _search_once(app, clinic_id: int, q: str, *, without_index: bool) -> tuple[float, int, str]:
    from sqlalchemy import func, select

    from trainer_app.clients.service import client_query
    from trainer_app.extensions import db

    with app.app_context():
        connection = db.session.connection()
        if without_index:
            connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
            connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
        stmt = client_query(clinic_id, q=q)
        compiled = stmt.compile(db.engine)
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        )
        started = time.perf_counter()
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
        db.session.scalars(stmt.limit(PAGE)).all()
        elapsed = time.perf_counter() - started
        db.session.rollback()
    return elapsed, total, plan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="10,000 clients, 5 rounds")
    add_figures_option(parser)
    args = parser.parse_args()
    args.clients = args.clients or ([10_000] if args.quick else [10_000, 50_000])
    args.rounds = args.rounds or (5 if args.quick else 15)
    slowest, with_index, searches = 0.0, 0, 0

    with contextlib.ExitStack() as stack:
        database = stack.enter_context(PostgresDatabase("trainer_bench_search"))
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        service_env(instance, database)

        from trainer_app.accounts.models import Clinic
        from trainer_app.extensions import db

        app = flask_app(stack, {"TESTING": True}, migrate=True)
        with app.app_context():
            clinic = Clinic(name="Bench clinic")
            db.session.add(clinic)
            db.session.commit()
            clinic_id = clinic.id
        rows, filled = [], 0
        for size in sorted(args.clients):
            _fill(app, clinic_id, filled, size)
            filled = size
            # a name part typed without its accents and in another case, found in ~1/80 rows
            queries = ["lukasiewicz", "ORSTED", _name(size // 2)[0].split("-")[1]]
            for q in queries:
                indexed, scanned = [], []
                for n in range(args.rounds):
                    order = (False, True) if n % 2 == 0 else (True, False)
                    for without in order:
                        elapsed, total, plan = _search_once(
                            app, clinic_id, q, without_index=without
                        )
                        (scanned if without else indexed).append(elapsed)
                        if not without:
                            uses_index = "ix_clients_search_text_trgm" in plan
                value = ratio(median(scanned), median(indexed))
                slowest = max(slowest, median(indexed))
                with_index += uses_index
                searches += 1
                rows.append(
                    [
                        f"{size:,}",
                        repr(q),
                        total,
                        "yes" if uses_index else "NO",
                        fmt_seconds(median(indexed)),
                        fmt_seconds(median(scanned)),
                        f"{value:.1f}x",
                        verdict(median(indexed), PAGE_QUERY_BUDGET, at_most=True),
                    ]
                )
        with app.app_context():
            db.engine.dispose()
    print(
        table(
            [
                "clients",
                "search",
                "matches",
                "trigram index used",
                "with index",
                "sequential scan",
                "speed-up",
                "page query <= 50 ms",
            ],
            rows,
        )
    )
    write_figures(
        args.figures,
        [
            Figure(
                f"slowest searched page query / its {PAGE_QUERY_BUDGET * 1000:.0f} ms budget",
                ratio(slowest, PAGE_QUERY_BUDGET),
                1.0,
                at_most=True,
            ),
            Figure(
                "searches the trigram index serves (served / searches)",
                ratio(with_index, searches),
                1.0,
                at_most=False,
            ),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
