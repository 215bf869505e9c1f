"""A client opens their link on a phone, ticks exercises, records pain and sees the history;
then the trainer sees the chart and the reason the client needs attention."""

from __future__ import annotations

import pytest

from tests.progress.conftest import make_world
from tests.support.factories import Factories

pytestmark = pytest.mark.browser


def test_a_client_logs_on_a_phone_and_the_trainer_sees_it(
    app, live_app, live_server, browser, factories
):
    world = make_world(app, factories)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # The scan: the QR code opens the same URL.
    response = page.goto(live_server + world.path)
    assert response.status == 200
    assert len(response.body()) < 60_000 and b"<script" not in response.body()
    assert page.get_by_role("heading", name="Stop and seek help if…").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("checkbox").nth(0).check()
    page.get_by_role("checkbox").nth(1).check()
    page.locator("fieldset.pain label").filter(has_text="8").click()
    page.get_by_label("Anything your trainer should know").fill("Sore after the bridge")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").filter(has_text="Saved").is_visible()
    history = page.locator("#history")
    assert "2 exercises done, pain 8/10" in history.inner_text()
    assert "Sore after the bridge" in history.inner_text()
    assert errors == []
    phone.close()

    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    trainer = desk.new_page()
    trainer.goto(live_server + "/account/sign-in")
    trainer.get_by_label("Email", exact=True).fill(world.user.email)
    trainer.get_by_label("Password").fill(Factories.PASSWORD)
    trainer.get_by_role("button", name="Sign in").click()
    needs = trainer.locator("li", has_text="Ada Lovelace").filter(has_text="Pain 8/10")
    assert needs.first.is_visible()
    trainer.get_by_role("link", name="See progress of Ada Lovelace").click()
    chart = trainer.get_by_role("img", name="Pain over time")
    assert chart.is_visible()
    assert chart.locator("circle[data-pain='8']").count() == 1
    assert trainer.get_by_role("img", name="Sessions done per week").is_visible()
    assert trainer.locator("#progress .alert").filter(has_text="Pain 8/10").is_visible()
    assert (
        "Logged by the client: 2 exercises done, pain 8/10"
        in trainer.locator(".progress-timeline").inner_text()
    )
    desk.close()
