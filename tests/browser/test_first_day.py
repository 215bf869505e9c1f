"""A new clinic's first day in one real browser, end to end, with every email through real SMTP.

Sign up (the confirmation link arrives by SMTP), set the branding, invite a trainer who accepts,
who then adds a client, assesses, confirms, builds and edits a program, makes the PDF (read
back), emails it (parsed: one recipient, the attachment is the downloaded PDF), books the client
for today and prints the day's session sheets (read back), and the client logs a session from
the link in that email, which the trainer then sees.

Each step's screenshot is saved in the test's folder (``SCREENSHOT_DIR`` if set, else
``tmp_path/journey``); when a step fails, its screenshot is taken as it failed and the failure
names the step and the folder.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.delivery.conftest import ScriptedHandler
from tests.support import services
from tests.support.live import serving

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.smtp]
PASSWORD = "a long enough password"


class Journey:
    """Numbered steps; a screenshot after each, and one at the moment a step fails."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    @contextlib.contextmanager
    def step(self, name: str, page):
        self.count += 1
        stem = f"{self.count:02d}-{name}"
        try:
            yield
        except BaseException as exc:
            with contextlib.suppress(Exception):
                page.screenshot(path=self.folder / f"{stem}-FAILED.png", full_page=True)
            exc.add_note(f"journey step {self.count} ({name}) failed; screenshots in {self.folder}")
            raise
        page.screenshot(path=self.folder / f"{stem}.png", full_page=True)


@pytest.fixture
def smtp():
    handler = ScriptedHandler()
    port = services.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def day_server(smtp, tmp_path, monkeypatch):
    """The app on a fresh PostgreSQL database, CSRF on, every email sent to ``smtp``."""
    from flask_migrate import upgrade

    from trainer_app import create_app
    from trainer_app.extensions import db

    monkeypatch.setenv("TRAINER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "first-day-secret",
            "SQLALCHEMY_DATABASE_URI": services.fresh_postgres_database("trainer_test_first_day"),
            "RATELIMIT_ENABLED": False,
            "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}?timeout=10",
            # Jobs run inside the request that asks for them (the worker's code, no process).
            "CELERY_TASK_ALWAYS_EAGER": True,
            "PDF_RENDER_TIMEOUT": 120,
        }
    )
    with app.app_context():
        upgrade()
    port = services.free_port()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    with serving(app, port) as url:
        yield app, url
    with app.app_context():
        db.engine.dispose()


def _mail_to(smtp, address: str):
    """Messages the SMTP server accepted for ``address``, parsed."""
    return [
        BytesParser(policy=policy.default).parsebytes(r.data)
        for r in smtp.received
        if address in r.rcpt_tos
    ]


def _link(message, path: str) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S*)", body)
    assert match, f"no {path} link in:\n{body}"
    return match.group(1)


def _answer(page, section: str, question: str, choice: str) -> None:
    group = page.locator(f"#sec-{section} fieldset").filter(has_text=question).first
    group.get_by_label(choice, exact=True).check()


def _logo_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (31, 111, 143)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_new_clinics_first_day(day_server, smtp, browser, tmp_path):
    from pypdf import PdfReader

    app, base = day_server
    journey = Journey(Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "journey"))
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    owner = desk.new_page()
    errors: list[str] = []
    owner.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    with journey.step("sign-up", owner):
        owner.goto(base + "/")
        owner.get_by_role("link", name="Create your workspace").click()
        owner.get_by_label("Your name").fill("Ana Trainer")
        owner.get_by_label("Clinic or business name").fill("Harbour Physio")
        owner.get_by_label("Email", exact=True).fill("ana@example.com")
        owner.get_by_label("Password", exact=True).fill(PASSWORD)
        owner.get_by_label("Repeat password").fill(PASSWORD)
        owner.get_by_role("button", name="Create account").click()
        assert owner.get_by_role("heading", name="Check your email").is_visible()
        [confirmation] = _mail_to(smtp, "ana@example.com")
        owner.goto(base + _link(confirmation, "/account/confirm/"))
        owner.get_by_label("Password you chose when signing up").fill(PASSWORD)
        owner.get_by_role("button", name="Confirm and sign in").click()
        assert owner.get_by_role("heading", name="Harbour Physio").is_visible()

    with journey.step("branding", owner):
        owner.goto(base + "/clinic/settings")
        owner.get_by_label("Contact details printed on plans").fill(
            "4 Quay Road, Aarhus · +45 11 22 33 44"
        )
        owner.get_by_label("Accent colour").fill("#8f2f5a")
        owner.get_by_label("Logo").set_input_files(
            {"name": "logo.png", "mimeType": "image/png", "buffer": _logo_png()}
        )
        owner.get_by_role("button", name="Save settings").click()
        assert owner.get_by_label("Accent colour").input_value() == "#8f2f5a"
        assert owner.get_by_label("Remove the current logo").is_visible()

    with journey.step("invite", owner):
        owner.goto(base + "/clinic/team")
        owner.get_by_label("Name").fill("Ben Coach")
        owner.get_by_label("Email", exact=True).fill("ben@example.com")
        owner.get_by_role("button", name="Invite").click()
        assert owner.get_by_text("ben@example.com").first.is_visible()
        [invitation] = _mail_to(smtp, "ben@example.com")

    team = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    # "Make PDF" renders inside its request here (eager jobs): allow a slow, shared machine.
    team.set_default_timeout(150_000)
    ben = team.new_page()
    ben.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    with journey.step("accept-invitation", ben):
        ben.goto(base + _link(invitation, "/account/welcome/"))
        assert ben.get_by_role("heading", name="Join Harbour Physio").is_visible()
        ben.get_by_label("New password", exact=True).fill("bens own password 1")
        ben.get_by_label("Repeat new password").fill("bens own password 1")
        ben.get_by_role("button", name="Set new password").click()
        assert ben.get_by_text("Ben Coach · Harbour Physio").is_visible()

    with journey.step("add-client", ben):
        ben.get_by_role("link", name="Clients").first.click()
        ben.get_by_role("link", name="Add your first client").click()
        ben.get_by_label("Full name").fill("Maria Jensen")
        ben.get_by_label("Email", exact=True).fill("maria@example.com")
        ben.get_by_label("The client agrees to receive plans by email").check()
        ben.get_by_role("button", name="Add client").click()
        assert ben.get_by_text("Maria Jensen added.").is_visible()

    with journey.step("assess", ben):
        ben.get_by_role("link", name="New assessment").click()
        for question, choice in [
            ("stiffness in your lower back", "Yes"),
            ("long periods of standing or sitting", "Yes"),
            ("one side of your body is stronger", "No"),
            ("tightness in the same area", "No"),
        ]:
            _answer(ben, "screening", question, choice)
        for section in ("red_flags", "health"):
            for fieldset in ben.locator(f"#sec-{section} fieldset").all():
                fieldset.get_by_label("No", exact=True).check()
        ben.get_by_label("Single-leg glute bridge hold, Left", exact=True).fill("15")
        ben.get_by_label("Single-leg glute bridge hold, Right", exact=True).fill("40")
        ben.locator("#q-front_plank_hold").fill("70")
        ben.get_by_label("Single-leg hamstring bridge repetitions, Left", exact=True).fill("25")
        ben.get_by_label("Single-leg hamstring bridge repetitions, Right", exact=True).fill("24")
        _answer(ben, "upper_crossed", "Forward head and rounded shoulders", "Mild")
        ben.get_by_role("button", name="Save and see results").click()
        assert ben.get_by_text("Assessment saved.").is_visible()

    with journey.step("confirm", ben):
        assert ben.get_by_label("Weak glutes and an overloaded lower back").is_checked()
        ben.get_by_role("button", name="Confirm imbalances to treat").click()
        assert ben.get_by_text("Imbalances to treat confirmed.").is_visible()

    with journey.step("build", ben):
        ben.get_by_role("link", name="Build program").click()
        ben.get_by_label("Title (optional)").fill("Back care block 1")
        ben.get_by_role("button", name="Build program").click()
        assert ben.get_by_text("Program built.").is_visible()
        program_url = ben.url.split("#")[0]

    with journey.step("edit", ben):
        ben.get_by_role("link", name="Edit program").click()
        sets = ben.locator('input[name="items-0-sets"]')
        sets.fill("4" if sets.input_value() != "4" else "3")
        ben.get_by_label("What changed and why").fill("One more set, she coped well")
        ben.get_by_role("button", name="Save as new version").click()
        assert ben.get_by_text("Saved as version 2.").is_visible()

    with journey.step("make-pdf", ben):
        ben.goto(program_url)
        ben.get_by_role("button", name="Make PDF").click()
        download_link = ben.get_by_role("link", name="Download PDF").first
        download_link.wait_for(timeout=120_000)
        with ben.expect_download() as download:
            download_link.click()
        pdf = Path(download.value.path()).read_bytes()
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert pdf.startswith(b"%PDF")
        for expected in ("Maria Jensen", "Harbour Physio", "4 Quay Road"):
            assert expected in text, f"{expected!r} not in the PDF"

    with journey.step("email", ben):
        ben.get_by_role("link", name="Email plan to client").first.click()
        ben.get_by_label("Personal note (optional)").fill("Start gently, Maria.")
        ben.get_by_role("button", name="Send to maria@example.com").click()
        assert ben.get_by_text("The plan is on its way to maria@example.com.").is_visible()
        [received] = [r for r in smtp.received if "maria@example.com" in r.rcpt_tos]
        assert received.rcpt_tos == ["maria@example.com"], "one recipient, nobody else"
        message = BytesParser(policy=policy.default).parsebytes(received.data)
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content() == pdf, "the emailed PDF is the downloaded one"
        assert "Start gently, Maria." in message.get_body(("plain",)).get_content()

    with journey.step("day-print", ben):
        ben.get_by_role("link", name="Appointments").first.click()
        ben.get_by_role("link", name="Add appointment").first.click()
        ben.get_by_label("Client").select_option(label="Maria Jensen")
        ben.get_by_label("Starts at").fill("09:00")
        ben.get_by_role("button", name="Add appointment").click()
        assert ben.get_by_text("Appointment added.").is_visible()
        ben.get_by_label("Print for Maria Jensen").check()
        ben.get_by_label("Print", exact=True).select_option("sessions")
        ben.get_by_role("button", name="Print the ticked appointments").click()
        printed = ben.get_by_role("link", name="Download the PDF")
        printed.wait_for(timeout=150_000)
        assert ben.get_by_text("1 client printed", exact=True).is_visible()
        with ben.expect_download() as download:
            printed.click()
        sheets = Path(download.value.path()).read_bytes()
        pages = PdfReader(io.BytesIO(sheets)).pages
        sheet = "\n".join(p.extract_text() for p in pages)
        assert sheets.startswith(b"%PDF")
        for expected in ("Session sheet", "Maria Jensen", "Harbour Physio"):
            assert expected in sheet, f"{expected!r} not on the day's print"

    phone_context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = phone_context.new_page()
    with journey.step("client-logs-progress", phone):
        phone.goto(base + _link(message, "/p/"))
        phone.get_by_role("checkbox").nth(0).check()
        phone.locator("fieldset.pain label").filter(has_text="3").click()
        phone.get_by_role("button", name="Save").click()
        assert phone.get_by_role("status").filter(has_text="Saved").is_visible()

    with journey.step("trainer-sees-progress", ben):
        ben.get_by_role("link", name="Clients").first.click()
        ben.get_by_role("link", name="Maria Jensen").first.click()
        assert "pain 3/10" in ben.locator("#progress").inner_text()

    for context in (phone_context, team, desk):
        context.close()
    assert errors == [], errors
