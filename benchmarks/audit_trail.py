"""What the audit trail costs a page: the client page with its audit row against without it.

Run: ``.venv/bin/python benchmarks/audit_trail.py [--rounds 200]`` (``--quick``: 60 rounds)

One clinic on PostgreSQL, one client with an assessment and a program (the page's usual
content), the owner signed in through the real form. Each round requests ``/clients/<id>``
twice, side by side and alternating order: through the registered view (``@audited``: it finds
the client, writes one ``audit_events`` row and commits) and through the same view unwrapped
(``__wrapped__``: no audit row). The report gives the medians and their ratio; the figure is
the ratio (target: the audit row adds at most 15% to the page).

Runs on a PostgreSQL database of its own, ``trainer_bench_audit_<pid>`` (dropped at the end).
"""

from __future__ import annotations

import argparse
import contextlib
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

TARGET = 1.15


def _timed(browser, url: str) -> float:
    started = time.perf_counter()
    response = browser.get(url)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="60 rounds")
    add_figures_option(parser)
    args = parser.parse_args()
    args.rounds = args.rounds or (60 if args.quick else 200)

    with contextlib.ExitStack() as stack:
        database = stack.enter_context(PostgresDatabase("trainer_bench_audit"))
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        service_env(instance, database)
        from sqlalchemy import func, select

        from tests.support.factories import Factories
        from trainer_app.audit.models import AuditEvent
        from trainer_app.extensions import db

        app = flask_app(
            stack,
            {
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
            },
            migrate=True,
        )
        factories = Factories(app)
        owner = factories.user()
        client = factories.client_record(owner, name="Bench Client")
        factories.program_version(owner, client)
        browser = app.test_client()
        browser.post(
            "/account/sign-in", data={"email": owner.email, "password": Factories.PASSWORD}
        )
        url = f"/clients/{client.id}"
        audited_view = app.view_functions["clients.detail"]
        bare_view = audited_view.__wrapped__
        for _ in range(5):  # warm the template cache and the connection pool
            _timed(browser, url)
        with_audit, without = [], []
        for n in range(args.rounds):
            for audit in (True, False) if n % 2 == 0 else (False, True):
                app.view_functions["clients.detail"] = audited_view if audit else bare_view
                (with_audit if audit else without).append(_timed(browser, url))
        app.view_functions["clients.detail"] = audited_view
        with app.app_context():
            rows = db.session.scalar(select(func.count()).select_from(AuditEvent))
            db.engine.dispose()
    value = ratio(median(with_audit), median(without))
    print(
        table(
            ["rounds", "audit rows written", "with audit row", "without", "ratio", "<= 1.15"],
            [
                [
                    args.rounds,
                    rows,
                    fmt_seconds(median(with_audit)),
                    fmt_seconds(median(without)),
                    f"{value:.2f}",
                    verdict(value, TARGET, at_most=True),
                ]
            ],
        )
    )
    write_figures(
        args.figures,
        [Figure("client page with its audit row / without", value, TARGET, at_most=True)],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
