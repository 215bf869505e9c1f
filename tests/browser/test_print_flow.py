"""The day's print in the browser: the progress counts up by itself while the workers render.

A client left out (no program) is counted apart, never as printed: the front desk must not read
"3 of 4 done" while the one client being printed is still rendering.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from tests.support.factories import Factories
from trainer_app.appointments.models import Appointment
from trainer_app.extensions import db
from trainer_app.plans import service as plans
from trainer_app.prints import service as prints
from trainer_app.prints.models import PrintBatch

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_print_progress_updates_by_itself_then_downloads(
    app, live_server, page, factories, monkeypatch
):
    # The test plays the workers, step by step, so the page has to notice each step by itself.
    monkeypatch.setattr("trainer_app.prints.views.enqueue", lambda *a, **k: True)
    trainer = factories.user(name="Ana Trainer")
    with app.app_context():
        from trainer_app.accounts.models import Clinic

        clinic = db.session.get(Clinic, trainer.clinic_id)
        db.session.expunge(clinic)
    desk = factories.user(clinic=clinic, role="front_desk", name="Dee Desk")
    names = ["Maria Jensen", "Bo Holm", "Ida Lund", "Nora Noplan"]
    for hour, name in zip((9, 10, 11, 12), names, strict=True):
        person = factories.client_record(trainer, name=name)
        if name != "Nora Noplan":  # no program yet: left out of the print
            factories.program_version(trainer, person)
        with app.app_context():
            db.session.add(
                Appointment(
                    clinic_id=trainer.clinic_id,
                    client_id=person.id,
                    trainer_id=trainer.id,
                    starts_at=datetime(2026, 12, 1, hour),
                    ends_at=datetime(2026, 12, 1, hour, 45),
                )
            )
            db.session.commit()

    page.goto(live_server + "/account/sign-in")
    page.get_by_label("Email", exact=True).fill(desk.email)
    page.get_by_label("Password").fill(Factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/appointments/?day=2026-12-01")
    page.get_by_label("Print for Bo Holm").uncheck()
    page.get_by_label("Print", exact=True).select_option("sessions")
    page.get_by_role("button", name="Print the ticked appointments").click()
    count = page.locator("#print-count")
    assert count.inner_text().startswith("0 of 3 clients printed")
    assert page.get_by_text("waiting for a worker").is_visible()

    with app.app_context():
        batch_id = db.session.scalar(db.select(PrintBatch.id))
        to_render = []
        prints.prepare(batch_id, claim_id="test-prepare", publish=to_render.append)
    assert len(to_render) == 2
    page.get_by_text("0 of 2 clients printed, 1 left out (why is listed below)").wait_for(
        timeout=15_000
    )
    assert page.locator("#left-out").inner_text().startswith("Nora Noplan")
    assert page.get_by_label("Clients printed").get_attribute("max") == "2"
    for done, document_id in enumerate(to_render, start=1):
        with app.app_context():
            assert plans.render_document(document_id, claim_id="test-render") == "ready"
        page.get_by_text(f"{done} of 2 clients printed, 1 left out").wait_for(timeout=15_000)
    with app.app_context():
        assert prints.advance(batch_id)
        assert prints.merge(batch_id, claim_id="test-merge") == "ready"
    page.get_by_role("link", name="Download the PDF").wait_for(timeout=15_000)
    assert count.inner_text() == "2 clients printed, 1 left out (why is listed below)"
    assert "done" not in page.locator("#print-progress").inner_text()
    order = page.locator("#print-order li").all_inner_texts()
    assert [line.split(" · ")[0] for line in order] == ["Maria Jensen", "Ida Lund"]
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "day-print-ready.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").click()
    assert download.value.suggested_filename.startswith("print-2026-12-01-")
    assert page.console_errors == [], page.console_errors
