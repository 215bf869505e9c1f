"""The trainer copies a client's progress link with one button; without JavaScript the link is
still there to select."""

from __future__ import annotations

import pytest

from tests.progress.conftest import make_world
from tests.support.factories import Factories

pytestmark = pytest.mark.browser


def _client_page(context, live_server: str, world):
    page = context.new_page()
    page.goto(live_server + "/account/sign-in")
    page.get_by_label("Email", exact=True).fill(world.user.email)
    page.get_by_label("Password").fill(Factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")
    page.goto(f"{live_server}/clients/{world.client_id}")
    return page


def test_copy_button_puts_the_progress_link_on_the_clipboard(
    app, live_app, live_server, browser, factories
):
    world = make_world(app, factories)
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = _client_page(context, live_server, world)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    button = page.get_by_role("button", name="Copy link")
    assert button.is_visible()
    button.click()
    page.get_by_role("status").filter(has_text="Link copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == world.url
    assert errors == []
    context.close()


def test_without_javascript_the_link_shows_selectable_and_no_dead_button(
    app, live_app, live_server, browser, factories
):
    world = make_world(app, factories)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = _client_page(context, live_server, world)
    link = page.get_by_label("Link", exact=True)
    assert link.is_visible() and link.input_value() == world.url
    assert link.get_attribute("readonly") is not None
    assert page.get_by_role("button", name="Copy link").count() == 0
    context.close()
