"""Plans rendered ahead on save, and clicks taken before them, on a real worker over Redis."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.programs.test_views import edit_data
from tests.support.factories import Factories
from tests.support.worker import wait_for
from trainer_app.extensions import db
from trainer_app.plans.models import CLICK, PRERENDER, READY, RENDERING, PlanDocument
from trainer_app.programs import builder
from trainer_app.programs.models import ProgramVersion

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def worker_env(worker_env):
    """Pre-rendering on, with a quiet period longer than a burst of saves in a test, even on a
    busy machine (at load 18 three saves took longer than 2 s)."""
    return {**worker_env, "PRERENDER_PLANS": "1", "PRERENDER_QUIET_SECONDS": "8"}


def _documents(app) -> list[SimpleNamespace]:
    """Every plan document row, with its version's number."""
    columns = ("id", "origin", "status", "attempts", "created_by_id", "started_at")
    with app.app_context():
        rows = db.session.scalars(select(PlanDocument).order_by(PlanDocument.id)).all()
        found = [
            SimpleNamespace(
                version=row.program_version.number,
                version_id=row.program_version_id,
                **{name: getattr(row, name) for name in columns},
            )
            for row in rows
        ]
        db.session.remove()
        return found


def _signed_in(app):
    factories = Factories(app)
    user = factories.user()
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": user.email, "password": Factories.PASSWORD})
    return factories, user, browser


def _program(app, version_id: int) -> tuple[int, list]:
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        program_id, content = version.program_id, version.content
        db.session.remove()
    return program_id, builder.draft_from_dict(content).items


def _edit(browser, program_id: int, items, base: int, reps: int) -> None:
    target = next(i for i in items if i.kind == "strength" and i.reps is not None)
    data = edit_data(
        items, base=base, note=f"Reps {reps}", **{target.exercise_slug: {"reps": reps}}
    )
    assert browser.post(f"/programs/{program_id}/edit", data=data).status_code == 302


def _renders(worker) -> list[str]:
    """The outcome of every render task the worker ran, in order."""
    return re.findall(r"Task plans\.render\[[^\]]+\] succeeded in [^:]+: '(\w+)'", worker.output())


def test_a_burst_of_saves_renders_once_and_make_pdf_is_served_by_that_render(
    worker_app, start_worker
):
    worker = start_worker()
    factories, user, browser = _signed_in(worker_app)
    program_id, items = _program(worker_app, factories.program_version(user))
    # Three quick edits (versions 2, 3 and 4) within the quiet period.
    for base, reps in [(1, 6), (2, 7), (3, 8)]:
        _edit(browser, program_id, items, base, reps)

    def rendered_ahead():
        rows = _documents(worker_app)
        return rows if rows and all(r.status == READY for r in rows) else None

    [ahead] = wait_for(rendered_ahead, timeout=120, what="the pre-render of version 4")
    assert ahead.origin == PRERENDER and ahead.version == 4
    assert _renders(worker) == ["ready"]  # versions 2 and 3 were replaced before they rendered
    page = browser.get(f"/programs/{program_id}").get_data(as_text=True)
    assert "Download PDF" not in page  # rendered ahead, not listed until asked for

    response = browser.post(
        f"/plans/versions/{ahead.version_id}/make",
        data={"paper": "A4", "request_key": "after-the-burst-01"},
        follow_redirects=True,
    )
    assert "The PDF is ready." in response.get_data(as_text=True)
    [document] = _documents(worker_app)
    assert (document.id, document.origin, document.attempts) == (ahead.id, CLICK, 1)
    assert document.created_by_id == user.id
    download = browser.get(f"/plans/{document.id}/download")
    assert download.data.startswith(b"%PDF") and download.headers["Cache-Control"] == "no-store"
    assert _renders(worker) == ["ready"]  # no second render


def test_a_click_is_taken_before_waiting_pre_renders(worker_app, start_worker):
    factories, user, browser = _signed_in(worker_app)
    versions = [factories.program_version(user) for _ in range(3)]
    for version_id in versions:  # a save each: three pre-renders waiting for the worker
        program_id, items = _program(worker_app, version_id)
        _edit(browser, program_id, items, 1, 6)
    start_worker(concurrency=1)
    running = wait_for(
        lambda: [d for d in _documents(worker_app) if d.status == RENDERING],
        timeout=60,
        what="the first pre-render to start",
    )[0]
    # Large print: a PDF nobody rendered ahead, so the click needs a render of its own.
    browser.post(
        f"/plans/versions/{versions[0]}/make",
        data={"paper": "A4", "large_print": "y", "request_key": "urgent-click-0001"},
    )
    wait_for(
        lambda: len(rows := _documents(worker_app)) == 4 and all(r.status == READY for r in rows),
        timeout=180,
        what="the click and the pre-renders",
    )
    rows = _documents(worker_app)
    [click] = [r for r in rows if r.origin == CLICK]
    waiting = [r for r in rows if r.origin == PRERENDER and r.id != running.id]
    # The click waited for the render in progress only, not for the two pre-renders queued.
    assert running.started_at <= click.started_at
    assert all(click.started_at < r.started_at for r in waiting)


def test_with_pre_rendering_off_a_save_renders_nothing_until_asked(
    worker_app, start_worker, monkeypatch
):
    monkeypatch.setitem(worker_app.config, "PRERENDER_PLANS", False)
    worker = start_worker(PRERENDER_PLANS="0")
    factories, user, browser = _signed_in(worker_app)
    version_id = factories.program_version(user)
    program_id, items = _program(worker_app, version_id)
    _edit(browser, program_id, items, 1, 6)
    assert _documents(worker_app) == []
    browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "pre-rendering-off-click-01"},
    )
    wait_for(
        lambda: [d.status for d in _documents(worker_app)] == [READY], timeout=90, what="the PDF"
    )
    assert _renders(worker) == ["ready"]
