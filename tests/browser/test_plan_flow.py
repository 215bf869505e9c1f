"""Make a PDF in the browser: the page follows the render by itself, then the plan is emailed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

import worker.tasks  # noqa: F401  (email is sent inline by the test app)
from tests.support.factories import Factories
from trainer_app.extensions import db
from trainer_app.jobs import PRERENDER
from trainer_app.plans import prerender
from trainer_app.plans import service as plans
from trainer_app.plans.models import CLICK, READY, PlanDocument
from trainer_app.programs.models import ProgramVersion

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_pdf_status_updates_without_reload_then_email(
    app, live_server, page, factories, monkeypatch
):
    # Leave the render to the test, so the page has to notice it by polling.
    monkeypatch.setattr("trainer_app.plans.views.enqueue", lambda *a, **k: True)
    trainer = factories.user(name="Ana Trainer")
    client = factories.client_record(
        trainer, name="Maria Jensen", email="maria@example.com", email_consent=True
    )
    version_id = factories.program_version(trainer, client, title="Back-care program")
    with app.app_context():
        program_id = db.session.get(ProgramVersion, version_id).program_id

    page.goto(live_server + "/account/sign-in")
    page.get_by_label("Email", exact=True).fill(trainer.email)
    page.get_by_label("Password").fill(Factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/programs/{program_id}")
    page.get_by_label("Paper size").select_option("Letter")
    page.get_by_role("button", name="Make PDF").click()
    assert page.get_by_text("Queued").is_visible()

    with app.app_context():
        document_id = db.session.scalar(select(PlanDocument.id))
        assert plans.render_document(document_id, claim_id="test") == "ready"
    page.get_by_role("link", name="Download PDF").wait_for(timeout=15_000)
    assert page.get_by_text("Queued").count() == 0
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    # the file is named as the emailed plan's attachment (the preview below shows the same)
    assert download.value.suggested_filename == "Maria Jensen - Back-care program.pdf"

    page.get_by_role("link", name="Email plan to client").click()
    # the preview: the exact subject, the attachment's name, the HTML part in a sandboxed frame
    assert page.locator("#preview-subject").inner_text().startswith("Your exercise plan from")
    assert (
        page.locator("#preview-attachment")
        .inner_text()
        .startswith("Maria Jensen - Back-care program.pdf")
    )
    page.get_by_label("Personal note (optional)").fill("Start gently, Maria.")
    page.get_by_role("button", name="Update preview").click()
    frame = page.frame_locator("iframe.email-preview")
    frame.get_by_text("Start gently, Maria.").wait_for(timeout=15_000)
    assert frame.get_by_text("Hello Maria Jensen,").is_visible()
    # the page's policy lets the email's inline styles apply inside the frame (no CSP error)
    preview = next(f for f in page.frames if f != page.main_frame)
    assert preview.evaluate("getComputedStyle(document.body).backgroundColor") == (
        "rgb(246, 247, 249)"
    )
    page.get_by_role("button", name="Send to maria@example.com").click()
    assert page.get_by_text("The plan is on its way to maria@example.com.").is_visible()
    assert page.locator("#deliveries").get_by_text("Sent", exact=True).is_visible()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "program-pdf-emailed.png"), full_page=True)
    page.goto(live_server + "/deliveries/outbox")
    page.get_by_role("link", name="Your exercise plan from").click()
    assert page.get_by_text("Maria Jensen - Back-care program.pdf").is_visible()
    assert page.get_by_text("Start gently, Maria.").first.is_visible()
    assert page.console_errors == [], page.console_errors


def test_make_pdf_of_a_version_rendered_ahead_shows_its_link_without_reload(
    app, live_server, page, factories
):
    trainer = factories.user(name="Ana Trainer")
    client = factories.client_record(trainer, name="Maria Jensen")
    version_id = factories.program_version(trainer, client, title="Back-care program")
    with app.app_context():
        # What the worker leaves after a save: the default print, rendered ahead, not listed.
        version = db.session.get(ProgramVersion, version_id)
        program_id = version.program_id
        ahead_id = prerender.record_version(version, PRERENDER)
        document = db.session.get(PlanDocument, ahead_id)
        document.status, document.pdf = READY, b"%PDF-1.7\n% rendered ahead\n%%EOF\n"
        document.size_bytes, document.page_count = len(document.pdf), 1
        db.session.commit()

    page.goto(live_server + "/account/sign-in")
    page.get_by_label("Email", exact=True).fill(trainer.email)
    page.get_by_label("Password").fill(Factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/programs/{program_id}")
    assert page.get_by_text("No PDF yet").is_visible()
    page.evaluate("window.notReloaded = true")  # gone if the page loads again
    page.get_by_role("button", name="Make PDF").click()
    link = page.get_by_role("link", name="Download PDF")
    link.wait_for(timeout=15_000)
    assert page.evaluate("window.notReloaded === true")
    assert page.get_by_role("status").inner_text() == "The PDF is ready."
    assert page.get_by_text("No PDF yet").count() == 0
    assert page.locator(f"#document-{ahead_id}").get_by_text("Ready").is_visible()
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "Maria Jensen - Back-care program.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    with app.app_context():
        document = db.session.get(PlanDocument, ahead_id)
        assert (document.origin, document.status) == (CLICK, READY)  # adopted, not re-rendered
        assert db.session.scalar(select(func.count()).select_from(PlanDocument)) == 1

    # Pressed again with nothing changed (the form got a fresh request key): the page loads with
    # the message and the repeat counted on the row, as without JavaScript.
    page.get_by_role("button", name="Make PDF").click()
    page.get_by_text("Nothing changed since the PDF of version 1").wait_for(timeout=15_000)
    assert page.evaluate("window.notReloaded === undefined")
    assert page.locator(f"#document-{ahead_id}").get_by_text("Asked for again 1 time").is_visible()
    assert page.console_errors == [], page.console_errors
