"""A trainer signs up, adds a client, finds them, edits and archives them, in a real browser."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import confirm_signup

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_signup_add_client_search_archive(live_server, live_app, page):
    page.goto(live_server + "/")
    page.get_by_role("link", name="Create your workspace").click()
    page.get_by_label("Your name").fill("Ana Trainer")
    page.get_by_label("Clinic or business name").fill("Core Studio")
    page.get_by_label("Email", exact=True).fill("ana@example.com")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat password").fill("short")
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_text("Use between 10 and 128 characters.").is_visible()
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Repeat password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    confirm_signup(page, live_server, live_app, "ana@example.com")
    assert page.get_by_role("heading", name="Core Studio").is_visible()

    page.get_by_role("link", name="Clients").first.click()
    assert page.get_by_text("No clients yet").is_visible()
    shot(page, "clients-empty")
    page.get_by_role("link", name="Add your first client").click()
    page.get_by_label("Full name").fill("Maria Jensen")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_role("button", name="Add client").click()
    assert page.get_by_text("it must contain exactly one @").is_visible()
    page.get_by_label("Email", exact=True).fill("maria@example.com")
    page.get_by_label("The client agrees to receive plans by email").check()
    page.get_by_label("Date of birth").fill("1986-04-12")
    page.get_by_role("button", name="Add client").click()
    assert page.get_by_role("heading", name="Maria Jensen").is_visible()
    assert page.get_by_text("Maria Jensen added.").is_visible()
    shot(page, "client-detail")

    page.get_by_role("link", name="Clients").first.click()
    page.get_by_label("Search by name or email").fill("maria@")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("link", name="Maria Jensen").is_visible()
    shot(page, "clients-list")
    page.get_by_role("link", name="Maria Jensen").click()
    page.get_by_role("button", name="Archive").click()
    assert page.get_by_text("Archived", exact=True).is_visible()
    page.get_by_role("button", name="Restore").click()
    assert page.get_by_text("Maria Jensen restored.").is_visible()

    page.get_by_role("button", name="Ana Trainer · Core Studio").click()
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_text("You are signed out.").is_visible()
    assert page.console_errors == [], page.console_errors
