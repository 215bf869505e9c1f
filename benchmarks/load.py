"""Twenty trainers at once on the production processes, with a small and a 10,000-client clinic.

Run: ``.venv/bin/python benchmarks/load.py [--users 20] [--seconds 60] [--quick]``
(``--quick``: 10 trainers, 20 s a phase)

What runs, all on loopback and of its own: PostgreSQL database ``trainer_bench_load_<pid>``, a
redis-server on a free port, an SMTP server (aiosmtpd, in this process), gunicorn with
``trainer_app/gunicorn_conf.py`` (3 workers, as compose runs it) and two ``celery worker``
processes on the production queues, with ``TRAINER_ENV=production`` (cookies made non-Secure:
the run is plain HTTP). Sign-in throttling stays on with limits above what 20 trainers need.

The data: ``trainer-app seed-clients`` makes two clinics, a small one (200 clients) and a large
one (10,000), each with one owner; the benchmark adds trainers to each so every simulated
trainer signs in with an account of its own. Each phase runs Locust headless
(``benchmarks/load_locustfile.py``) for a fixed time and stops by itself: sign in, browse and
search clients, open client, program and dashboard pages, save assessments, edit programs, make
PDFs and email ready ones. After each phase the workers are given up to two minutes to finish
what was asked.

Reported per phase: requests and errors, p50/p95/p99 per endpoint, PDFs and emails asked for
and completed, messages the SMTP server received, and the queue depth over time (messages
waiting in Redis and jobs queued or running in the database, sampled every second). Headline
figures: the client list's p95 over ``/healthz``'s p95 on the same server with 10,000 clients
(target at most 3), and errors over requests (target 0).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._support import (  # noqa: E402 - needs the repository root on sys.path
    BenchError,
    CeleryWorker,
    Figure,
    Gunicorn,
    PostgresDatabase,
    RedisServer,
    SmtpSink,
    add_figures_option,
    flask_app,
    ratio,
    service_env,
    start_workers,
    table,
    terminate_as_interrupt,
    wait_until,
    write_figures,
)

PASSWORD = "load-test-password-1"  # noqa: S105 - accounts of a throwaway database
LIST_RATIO_TARGET = 3.0
QUEUES = ("pdf", "email", "celery")  # as `trainer-app serve` and compose run the worker
SMALL, LARGE = 200, 10_000
SIGN_IN_ALLOWANCE = 15  # seconds added to each phase for the trainers to arrive and sign in
BIN = Path(sys.executable).parent


def _run(env: dict, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "trainer-app"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BenchError(f"trainer-app {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def _plan(app, owner_email: str, trainers: int, folder: Path) -> Path:
    """Add trainers to the owner's clinic; write the plan file the Locust users read."""
    from sqlalchemy import select

    from trainer_app.accounts.models import User
    from trainer_app.accounts.service import find_user_by_email
    from trainer_app.clients.models import Client
    from trainer_app.extensions import db
    from trainer_app.programs.models import Program
    from trainer_app.timeutil import utcnow

    with app.app_context():
        owner = find_user_by_email(owner_email)
        accounts = [owner]
        for n in range(1, trainers):
            user = User(
                clinic_id=owner.clinic_id,
                name=f"Trainer {n}",
                email=owner_email.replace("@", f"+{n}@"),
                password_hash=owner.password_hash,
                role="trainer",
                email_confirmed_at=utcnow(),
            )
            db.session.add(user)
            accounts.append(user)
        db.session.commit()
        clients = db.session.execute(
            select(Client.id, Client.email_consent, Client.email).where(
                Client.clinic_id == owner.clinic_id, Client.archived_at.is_(None)
            )
        ).all()
        emailable = {cid for cid, consent, email in clients if consent and email}
        programs = db.session.execute(
            select(Program.id, Program.client_id).where(Program.clinic_id == owner.clinic_id)
        ).all()
        plan = {"password": PASSWORD, "list_pages": max(1, len(clients) // 20), "trainers": []}
        plan["searches"] = ["lukasiewicz", "ORSTED", "garcia", "noemie", "van der", "example"]
        for i, user in enumerate(accounts):
            mine = [p for n, p in enumerate(programs) if n % trainers == i]
            plan["trainers"].append(
                {
                    "email": user.email,
                    "clients": [c[0] for n, c in enumerate(clients) if n % trainers == i],
                    "programs": [pid for pid, _cid in mine],
                    "emailable_programs": [pid for pid, cid in mine if cid in emailable]
                    or [pid for pid, _cid in mine],
                }
            )
    path = folder / f"plan-{owner.clinic_id}.json"
    path.write_text(json.dumps(plan))
    return path


class Sampler:
    """Every second: messages waiting in Redis, and jobs queued or running in the database."""

    def __init__(self, redis_url: str, app) -> None:
        import redis

        self.redis = redis.Redis.from_url(redis_url)
        self.app = app
        self.samples: list[tuple[float, int, int, int]] = []
        self._stop = threading.Event()
        self._started = 0.0
        self._thread: threading.Thread | None = None

    def _waiting(self) -> int:
        total = 0
        for key in self.redis.scan_iter(count=1000):
            if key.startswith(b"_kombu") or key.startswith(b"unacked"):
                continue
            if self.redis.type(key) == b"list":
                total += self.redis.llen(key)
        return total

    def _jobs(self) -> tuple[int, int]:
        from sqlalchemy import text

        from trainer_app.extensions import db

        with self.app.app_context():
            row = db.session.execute(
                text(
                    "SELECT"
                    " (SELECT count(*) FROM plan_documents WHERE status = 'queued')"
                    " + (SELECT count(*) FROM deliveries WHERE status IN ('queued', 'retrying')),"
                    " (SELECT count(*) FROM plan_documents WHERE status = 'rendering')"
                    " + (SELECT count(*) FROM deliveries WHERE status = 'sending')"
                )
            ).one()
            db.session.remove()
        return int(row[0]), int(row[1])

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            with contextlib.suppress(Exception):
                queued, running = self._jobs()
                self.samples.append(
                    (time.monotonic() - self._started, self._waiting(), queued, running)
                )

    def start(self) -> Sampler:
        self.samples, self._started = [], time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, int, int, int]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        return self.samples

    def idle(self) -> bool:
        queued, running = self._jobs()
        return queued == 0 and running == 0


def _job_counts(app, clinic_email: str) -> dict[str, int]:
    from sqlalchemy import text

    from trainer_app.accounts.service import find_user_by_email
    from trainer_app.extensions import db

    with app.app_context():
        clinic_id = find_user_by_email(clinic_email).clinic_id
        counts = {}
        for table_name, key in (("plan_documents", "pdf"), ("deliveries", "email")):
            for status, n in db.session.execute(
                text(f"SELECT status, count(*) FROM {table_name} WHERE clinic_id = :c GROUP BY 1"),  # noqa: S608
                {"c": clinic_id},
            ):
                counts[f"{key} {status}"] = n
        db.session.remove()
    return counts


def _locust(url: str, plan: Path, users: int, seconds: int, out: Path) -> list[dict]:
    """Run the Locust users headless for ``seconds``; the per-endpoint rows of its CSV."""
    prefix = out / plan.stem
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "benchmarks" / "load_locustfile.py"),
        # Trainers arrive over about 5 s; the figures start when the last one has signed in
        # (load_locustfile.py), which the run time allows for.
        "--headless", "--users", str(users), "--spawn-rate", str(max(1, users // 5)),
        "--run-time", f"{seconds + SIGN_IN_ALLOWANCE}s", "--stop-timeout", "20", "--host", url,
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    log = out / f"{plan.stem}.locust.log"
    with log.open("w") as handle:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "LOAD_PLAN": str(plan), "PYTHONPATH": str(ROOT)},
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=seconds + SIGN_IN_ALLOWANCE + 120,
        )
    if done.returncode != 0:
        raise BenchError(f"locust exited {done.returncode}:\n{log.read_text()[-3000:]}")
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for row in csv.DictReader(failures.open(newline="")):
            print(f"  failure: {row['Method']} {row['Name']}: {row['Error']} x{row['Occurrences']}")
    return rows


def _ms(value: str) -> str:
    return "n/a" if value in ("", "N/A") else f"{float(value):.0f}"


def _p95(by_name: dict, name: str) -> float:
    value = by_name.get(name, {}).get("95%", "")
    return float(value) if value not in ("", "N/A") else float("nan")


def _report_phase(title: str, rows: list[dict], counts: dict, received: int, samples) -> dict:
    print(f"\n== {title}")
    lines = [
        [r["Type"], r["Name"], r["Request Count"], r["Failure Count"], _ms(r["50%"]),
         _ms(r["95%"]), _ms(r["99%"])]
        for r in rows if r["Name"] != "Aggregated"
    ]  # fmt: skip
    total = next(r for r in rows if r["Name"] == "Aggregated")
    lines.append(
        ["", "all", total["Request Count"], total["Failure Count"], _ms(total["50%"]),
         _ms(total["95%"]), _ms(total["99%"])]
    )  # fmt: skip
    print(table(["method", "endpoint", "requests", "errors", "p50 ms", "p95 ms", "p99 ms"], lines))
    print("jobs of this clinic: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"messages the SMTP server received: {received}")
    print("queue depth (s: broker messages waiting / jobs queued in the database / running):")
    step = max(1, len(samples) // 16)
    print("  " + "  ".join(f"{t:.0f}s:{w}/{q}/{r}" for t, w, q, r in samples[::step]))
    by_name = {r["Name"]: r for r in rows}
    return {
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "list_p95": _p95(by_name, "/clients/ (list)"),
        "healthz_p95": _p95(by_name, "/healthz"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="10 trainers, 20 s a phase")
    add_figures_option(parser)
    args = parser.parse_args()
    users = args.users or (10 if args.quick else 20)
    seconds = args.seconds or (20 if args.quick else 60)
    results = {}
    with terminate_as_interrupt(), contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        database = stack.enter_context(PostgresDatabase("trainer_bench_load"))
        redis_server = stack.enter_context(RedisServer(folder / "redis"))
        sink = stack.enter_context(SmtpSink())
        web = Gunicorn({}, folder / "gunicorn.log", workers=3)
        # Production settings; sign-in throttling stays on, with limits above what the
        # trainers need. This process (set-up, seeding) gets them too, except production mode.
        env = service_env(
            folder / "instance",
            database,
            redis_server,
            RATELIMIT_ENABLED="1",
            SMTP_URL=f"smtp://127.0.0.1:{sink.port}",
            PUBLIC_URL=web.url,
            SESSION_COOKIE_SECURE="0",
            LOGIN_RATE_LIMIT="1000 per minute",
            LOGIN_ACCOUNT_RATE_LIMIT="100 per minute",
        )
        env = {**env, "TRAINER_ENV": "production"}
        web.env.update(env)
        url = web.url
        started = time.monotonic()
        from trainer_app.accounts.service import register_trainer
        from trainer_app.extensions import db
        from trainer_app.volume import seed_clients

        app = flask_app(stack, migrate=True)
        small_email, large_email = "small-owner@example.com", "large-owner@example.com"
        with app.app_context():
            owner = register_trainer(
                name="Owner", email=small_email, password=PASSWORD, clinic_name="Small Clinic"
            )
            seed_clients(owner, SMALL)
            db.session.commit()
        # the large clinic through the command line, as an operator would make one
        seed = {**os.environ, **env, "SEED_PASSWORD": PASSWORD}
        print(_run(seed, "seed-clients", "--email", large_email, "--clients", str(LARGE),
                   "--clinic", "Large Clinic"))  # fmt: skip
        with (
            app.app_context(),
            db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        ):
            conn.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum does on a live server
        plans = {
            "small": _plan(app, small_email, users, folder),
            "large": _plan(app, large_email, users, folder),
        }
        print(f"setup: {time.monotonic() - started:.0f} s")

        stack.enter_context(web)
        workers = [
            CeleryWorker(env, folder / f"worker{n}.log", name=f"load{n}", queues=QUEUES)
            for n in (1, 2)
        ]
        start_workers(workers, stack)
        sampler = Sampler(redis_server.url, app)
        for name, email, clients in (("small", small_email, SMALL), ("large", large_email, LARGE)):
            sink.handler.phase = name
            sampler.start()
            rows = _locust(url, plans[name], users, seconds, folder)
            with contextlib.suppress(BenchError):
                wait_until(sampler.idle, timeout=120, interval=1, what="the workers to finish")
            samples = sampler.stop()
            results[name] = _report_phase(
                f"{name} clinic ({clients:,} clients): {users} trainers for {seconds} s",
                rows,
                _job_counts(app, email),
                sink.handler.count(name),
                samples,
            )
    large = results["large"]
    list_ratio = ratio(large["list_p95"], large["healthz_p95"])
    requests = sum(r["requests"] for r in results.values())
    errors = sum(r["errors"] for r in results.values())
    print(
        f"\nclient list p95 / /healthz p95 with {LARGE:,} clients: "
        f"{large['list_p95']:.0f} / {large['healthz_p95']:.0f} ms = {list_ratio:.2f} "
        f"(target <= {LIST_RATIO_TARGET:g}); small clinic: "
        f"{ratio(results['small']['list_p95'], results['small']['healthz_p95']):.2f}"
    )
    print(f"errors: {errors} of {requests} requests")
    write_figures(
        args.figures,
        [
            Figure(
                f"client list p95 / /healthz p95, {LARGE:,} clients, {users} trainers",
                list_ratio,
                LIST_RATIO_TARGET,
                at_most=True,
            ),
            Figure("request errors / requests under load", ratio(errors, requests), 0.0, True),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
