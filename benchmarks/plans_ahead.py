"""Plans rendered ahead on save, and a fresh click as the browser sees it, against a bare render.

Run: ``.venv/bin/python benchmarks/plans_ahead.py [--rounds N] [--quick]``

Two ratios, each measured side by side in one run (round by round, the order of the three
measurements alternates), against the bare WeasyPrint render of the same plan's HTML in this
warm process (``plans_pipeline.bare_render``):

a. saved ahead: a trainer saves a program version through the web (the edit form) and the
   browser shows the program page the save redirects to; the worker pre-renders the version
   (not timed: the benchmark waits until the row is ready), then "Make PDF" as that page's
   script sends it (its form has ``data-make-in-place``): the POST with
   ``X-Requested-With: fetch``, whose JSON answer is the document's row, the download link taken
   from that row, GET the PDF. Timed from the POST to the last byte. Target: at most 0.05.
b. fresh click: "Make PDF" on a version nobody rendered ahead (its page's form posts as without
   JavaScript): the POST, the redirect to the program page, then what ``static/js/app.js`` does:
   read the row's ``data-poll-in``, wait that long, ask the status URL, until the row has the
   download link; GET the PDF. Timed from the POST to the last byte. Target: at most 1.2.

Before each click the benchmark reads the program page the trainer is on (not timed) and does
what that page's script would: send the form in place or let it post.

The web side is the Flask app in this process (its WSGI test client: no network, no
gunicorn), on PostgreSQL and a private Redis; one ``celery worker --concurrency=1`` (the
single-worker install) with pre-rendering on and a 0.5 s quiet period. The versions for (b) are
made by a second app object with pre-rendering off, so nothing renders them ahead.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import tempfile
import time
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
    write_figures,
)
from benchmarks.plans_pipeline import Web, bare_render  # noqa: E402

TARGET_AHEAD = 0.05  # saved ahead: click -> PDF in hand / bare render, at most
TARGET_FRESH = 1.2  # fresh click -> PDF in hand (with the page's polling) / bare render, at most
QUIET_SECONDS = "0.5"

ROW = re.compile(r'<tr id="document-(\d+)"([^>]*)>')
POLL_URL = re.compile(r'data-poll-url="([^"]+)"')
POLL_IN = re.compile(r'data-poll-in="(\d+)"')
MAKE_IN_PLACE = re.compile(r"<form [^>]*data-make-in-place")


class Browser:
    """What a signed-in browser does on the program page, through the app's test client."""

    def __init__(self, app, email: str, password: str) -> None:
        self.client = app.test_client()
        answer = self.client.post("/account/sign-in", data={"email": email, "password": password})
        if answer.status_code != 302:
            raise BenchError("could not sign in")
        self.polls: list[int] = []
        self.page_seconds: list[float] = []  # POST "Make PDF" -> the program page shown
        self.status_seconds: list[float] = []
        self.in_place: list[bool] = []  # per click: answered with its row (no page load)

    def save_version(self, program_id: int, items, base: int, reps: int) -> None:
        from tests.programs.test_views import edit_data

        target = next(i for i in items if i.kind == "strength" and i.reps is not None)
        data = edit_data(items, base=base, note="bench", **{target.exercise_slug: {"reps": reps}})
        if self.client.post(f"/programs/{program_id}/edit", data=data).status_code != 302:
            raise BenchError("the edit was not saved")

    def program_page(self, program_id: int) -> str:
        """The program page the trainer is on before the click (not timed)."""
        page = self.client.get(f"/programs/{program_id}")
        if page.status_code != 200:
            raise BenchError(f"program {program_id} did not show")
        return page.get_data(as_text=True)

    def make_pdf(self, version_id: int, key: str, page: str) -> bytes:
        """Press "Make PDF" on ``page`` as the browser does, poll as app.js does, download.

        A form with ``data-make-in-place`` (the version was rendered ahead) is sent by app.js with
        ``X-Requested-With: fetch``; it puts the row it gets back into the page (or loads the
        page the answer names). Any other form posts and the browser follows the redirect to the
        program page.
        """
        started = time.perf_counter()
        data = {"paper": "A4", "request_key": key}
        url = f"/plans/versions/{version_id}/make"
        html = None
        if MAKE_IN_PLACE.search(page) is not None:
            answer = self.client.post(url, data=data, headers={"X-Requested-With": "fetch"})
            if answer.status_code != 200:
                raise BenchError(f"Make PDF answered {answer.status_code}")
            body = answer.get_json()
            self.in_place.append("row" in body)
            if "row" in body:
                html = body["row"]
            else:  # app.js loads the page the answer names
                html = self.client.get(body["location"]).get_data(as_text=True)
        else:
            self.in_place.append(False)
            html = self.client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
        self.page_seconds.append(time.perf_counter() - started)
        row = ROW.search(html)  # the newest document is the first row
        if row is None:
            raise BenchError("neither the answer nor the program page has the document's row")
        document_id, attributes = row.group(1), row.group(2)
        polls = 0
        while (url := POLL_URL.search(attributes)) is not None:
            wait = POLL_IN.search(attributes)
            time.sleep(int(wait.group(1)) / 1000 if wait else 0.5)
            started = time.perf_counter()
            fragment = self.client.get(url.group(1)).get_data(as_text=True)
            self.status_seconds.append(time.perf_counter() - started)
            polls += 1
            found = ROW.search(fragment)
            if found is None or "Failed" in fragment:
                raise BenchError(f"document {document_id} failed or vanished")
            attributes = found.group(2)
        self.polls.append(polls)
        pdf = self.client.get(f"/plans/{document_id}/download")
        if pdf.status_code != 200 or not pdf.data.startswith(b"%PDF"):
            raise BenchError(f"document {document_id} did not download")
        return pdf.data


def _versions(app, program_id: int):
    from trainer_app.extensions import db
    from trainer_app.programs import builder
    from trainer_app.programs.models import Program

    with app.app_context():
        program = db.session.get(Program, program_id)
        latest = program.latest
        found = latest.id, latest.number, builder.draft_from_dict(latest.content).items
        db.session.remove()
        return found


def _ahead_ready(app, version_id: int) -> bool:
    from sqlalchemy import select

    from trainer_app.extensions import db
    from trainer_app.plans.models import FAILED, PRERENDER, READY, PlanDocument

    with app.app_context():
        status = db.session.scalar(
            select(PlanDocument.status).where(
                PlanDocument.program_version_id == version_id,
                PlanDocument.origin == PRERENDER,
            )
        )
        db.session.remove()
    if status == FAILED:
        raise BenchError(f"the pre-render of version {version_id} failed")
    return status == READY


def run(args, stack: contextlib.ExitStack) -> dict:
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trainer-bench-ahead-")))
    say = print
    load_start = os.getloadavg()
    database = stack.enter_context(PostgresDatabase("trainer_bench_ahead"))
    redis_server = stack.enter_context(RedisServer(tmp / "redis"))
    env = service_env(
        tmp / "instance",
        database,
        redis_server,
        PRERENDER_PLANS="1",
        PRERENDER_QUIET_SECONDS=QUIET_SECONDS,
    )
    say(f"load average at start: {', '.join(f'{x:.2f}' for x in load_start)}")
    worker = CeleryWorker(env, tmp / "worker.log", name="bench-ahead", concurrency=1)
    worker.launch()
    stack.callback(worker.stop)

    from tests.support.factories import Factories
    from trainer_app.extensions import db

    # No CSRF tokens to scrape from forms (checking one costs microseconds).
    web_app = flask_app(stack, {"WTF_CSRF_ENABLED": False}, migrate=True)
    setup_app = flask_app(stack, {"PRERENDER_PLANS": False})  # versions nobody renders ahead
    setup = Factories(setup_app)
    user = setup.user(clinic_name="Benchmark Movement Clinic")
    rounds = args.rounds
    # One program per measurement (every plan distinct): (a) saves a new version of its own.
    fresh_versions = [setup.program_version(user) for _ in range(rounds + 1)]
    ahead_versions = [setup.program_version(user) for _ in range(rounds + 1)]
    with setup_app.app_context():
        from trainer_app.programs.models import ProgramVersion

        ahead_programs = [db.session.get(ProgramVersion, v).program_id for v in ahead_versions]
        program_of = {v: db.session.get(ProgramVersion, v).program_id for v in fresh_versions}
        db.session.remove()
    worker.wait_ready(timeout=120)
    browser = Browser(web_app, user.email, Factories.PASSWORD)
    html_web = Web(web_app, user.id)
    keys = iter(f"bench-ahead-{os.getpid()}-{n:06d}" for n in range(1_000_000))

    bare: list[float] = []
    ahead: list[float] = []
    fresh: list[float] = []
    prerender_wait: list[float] = []
    fresh_polls: list[int] = []  # status checks after a fresh click's page
    fresh_page: list[float] = []  # a fresh click's POST -> its program page

    def save_and_wait(program_id: int) -> tuple[int, str]:
        """Save a version with the edit form, show the program page the save redirects to,
        wait until the worker has rendered the version ahead; the version and that page."""
        version_id, number, items = _versions(web_app, program_id)
        started = time.perf_counter()
        browser.save_version(program_id, items, number, reps=5 + number)
        page = browser.program_page(program_id)
        version_id, _, _ = _versions(web_app, program_id)
        deadline = time.monotonic() + args.timeout
        while not _ahead_ready(web_app, version_id):
            if time.monotonic() > deadline:
                raise BenchError(f"version {version_id} was not rendered ahead")
            time.sleep(0.02)
        prerender_wait.append(time.perf_counter() - started)
        return version_id, page

    def timed_click(version_id: int, page: str) -> float:
        started = time.perf_counter()
        browser.make_pdf(version_id, next(keys), page)
        return time.perf_counter() - started

    def fresh_page_of(version_id: int) -> str:
        return browser.program_page(program_of[version_id])

    say("warming up ...")
    html, *_ = html_web.plan_html(fresh_versions[-1])
    bare_render(html)
    warm_fresh = fresh_versions.pop()
    timed_click(warm_fresh, fresh_page_of(warm_fresh))
    timed_click(*save_and_wait(ahead_programs.pop()))
    browser.polls.clear()
    browser.status_seconds.clear()

    say(f"{rounds} rounds: bare render, saved ahead then click, fresh click (order alternates)")
    for round_no in range(rounds):
        fresh_id = fresh_versions.pop()
        ahead_program = ahead_programs.pop()
        html, *_ = html_web.plan_html(fresh_id)

        def do_bare(html=html):
            bare.append(bare_render(html))

        def do_ahead(program_id=ahead_program):
            ahead.append(timed_click(*save_and_wait(program_id)))
            if not browser.in_place[-1]:
                raise BenchError("a click on a version saved ahead was not answered in place")

        def do_fresh(version_id=fresh_id):
            fresh.append(timed_click(version_id, fresh_page_of(version_id)))
            fresh_polls.append(browser.polls[-1])
            fresh_page.append(browser.page_seconds[-1])

        steps = [do_bare, do_ahead, do_fresh]
        for step in steps if round_no % 2 == 0 else reversed(steps):
            step()
        say(
            f"  round {round_no + 1}: bare {fmt_seconds(bare[-1])}, saved ahead -> PDF "
            f"{fmt_seconds(ahead[-1])}, fresh click -> PDF {fmt_seconds(fresh[-1])} "
            f"(its page shown {fmt_seconds(fresh_page[-1])} after the POST, then "
            f"{fresh_polls[-1]} status checks)"
        )
    return {
        "bare": bare,
        "ahead": ahead,
        "fresh": fresh,
        "prerender_wait": prerender_wait,
        "polls": fresh_polls,
        "status_seconds": browser.status_seconds,
        "load_start": load_start,
        "load_end": os.getloadavg(),
    }


def report(results: dict) -> dict:
    bare, ahead, fresh = results["bare"], results["ahead"], results["fresh"]
    summary = {
        "bare_s": median(bare),
        "ahead_ratio": ratio(median(ahead), median(bare)),
        "fresh_ratio": ratio(median(fresh), median(bare)),
        "ahead_ratio_min": ratio(min(ahead), min(bare)),
        "fresh_ratio_min": ratio(min(fresh), min(bare)),
    }
    load = " -> ".join(
        ", ".join(f"{x:.2f}" for x in results[key]) for key in ("load_start", "load_end")
    )
    print()
    print(f"machine: {os.cpu_count()} cores, load average {load} (other work skews all ratios)")
    print(f"Plans rendered ahead ({len(bare)} rounds; one worker, concurrency 1)")
    print(
        table(
            ["measurement", "median", "minimum", "target", "result"],
            [
                [
                    "bare WeasyPrint render (warm process)",
                    fmt_seconds(median(bare)),
                    fmt_seconds(min(bare)),
                    "",
                    "",
                ],
                [
                    "save -> pre-render ready (not in a ratio)",
                    fmt_seconds(median(results["prerender_wait"])),
                    fmt_seconds(min(results["prerender_wait"])),
                    "",
                    "",
                ],
                [
                    "saved ahead: Make PDF -> PDF in hand",
                    fmt_seconds(median(ahead)),
                    fmt_seconds(min(ahead)),
                    "",
                    "",
                ],
                [
                    "a. saved ahead / bare render",
                    f"{summary['ahead_ratio']:.3f}",
                    f"{summary['ahead_ratio_min']:.3f}",
                    f"<= {TARGET_AHEAD}",
                    verdict(summary["ahead_ratio"], TARGET_AHEAD, at_most=True),
                ],
                [
                    "fresh click -> PDF in hand (page polling)",
                    fmt_seconds(median(fresh)),
                    fmt_seconds(min(fresh)),
                    "",
                    "",
                ],
                [
                    "b. fresh click / bare render",
                    f"{summary['fresh_ratio']:.2f}",
                    f"{summary['fresh_ratio_min']:.2f}",
                    f"<= {TARGET_FRESH}",
                    verdict(summary["fresh_ratio"], TARGET_FRESH, at_most=True),
                ],
                [
                    "status checks per fresh click",
                    f"{median(results['polls']):.0f}",
                    f"{min(results['polls'])}",
                    "",
                    "",
                ],
                [
                    "one status check (web time)",
                    fmt_seconds(median(results["status_seconds"])),
                    fmt_seconds(min(results["status_seconds"])),
                    "",
                    "",
                ],
            ],
        )  # fmt: skip
    )
    print("  minimum column of the ratios: fastest of that side / fastest bare render")
    return summary


def figures(summary: dict) -> list[Figure]:
    """The two headline ratios, for benchmarks/run_all.py."""
    return [
        Figure("saved ahead: Make PDF -> PDF / bare render", summary["ahead_ratio"], TARGET_AHEAD,
               at_most=True),
        Figure("fresh click -> PDF with page polling / bare render", summary["fresh_ratio"],
               TARGET_FRESH, at_most=True),
    ]  # fmt: skip


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 8, quick 4)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, about a minute")
    parser.add_argument("--timeout", type=float, default=120, help="per render wait bound, s")
    add_figures_option(parser)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (4 if args.quick else 8)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    stack = contextlib.ExitStack()
    started = time.perf_counter()
    try:
        with terminate_as_interrupt():
            results = run(args, stack)
            write_figures(args.figures, figures(report(results)))
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the worker, dropping the database", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        with uninterruptible_cleanup():
            stack.close()
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
