"""A live server on loopback and a real headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import mailbox
from tests.support.live import serving
from tests.support.services import free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_app(app, make_app):
    """The app the live server runs: CSRF on, as in production, on the migrated test database."""
    del app  # requested for its migrations and the table clean-up after the test
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(live_app):
    """The live app on a free loopback port."""
    with serving(live_app, free_port()) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


def confirm_signup(page, live_server: str, live_app, email: str) -> None:
    """After "Create account": open the emailed link and confirm, as the new owner would."""
    assert page.get_by_role("heading", name="Check your email").is_visible()
    *_, message = mailbox.mail_to(live_app, email)
    page.goto(live_server + mailbox.link_in(message, "/account/confirm/"))
    page.get_by_label("Password you chose when signing up").fill("a long enough password")
    page.get_by_role("button", name="Confirm and sign in").click()


def sign_up(page, live_server: str, live_app, *, email: str = "ana@example.com") -> None:
    """Create the workspace Core Studio for Ana Trainer and sign in through the emailed link."""
    page.goto(live_server + "/account/sign-up")
    page.get_by_label("Your name").fill("Ana Trainer")
    page.get_by_label("Clinic or business name").fill("Core Studio")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    confirm_signup(page, live_server, live_app, email)


def pytest_collection_modifyitems(config, items):
    """The journey's layout and accessibility pass runs once, on SQLite: what a page looks like
    does not depend on the database, and each pass opens every page twice (phone, desktop)."""
    again = [
        item
        for item in items
        if "test_journey.py::test_every_page_fits_and_passes_axe[postgresql" in item.nodeid
    ]
    if again:
        config.hook.pytest_deselected(items=again)
        items[:] = [item for item in items if item not in again]
