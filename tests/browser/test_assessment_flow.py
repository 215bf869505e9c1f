"""A trainer assesses a client in a real browser: questionnaire, results with reasons, confirm."""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import sign_up

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def answer(page, section: str, question: str, choice: str) -> None:
    """Tick a radio inside the fieldset whose legend is the question."""
    group = page.locator(f"#sec-{section} fieldset").filter(has_text=question).first
    group.get_by_label(choice, exact=True).check()


def test_assess_client_and_confirm(live_server, live_app, page):
    sign_up(page, live_server, live_app)

    page.get_by_role("link", name="Clients").first.click()
    page.get_by_role("link", name="Add your first client").click()
    page.get_by_label("Full name").fill("Maria Jensen")
    page.get_by_role("button", name="Add client").click()
    assert page.get_by_text("No assessment yet").is_visible()
    shot(page, "client-empty")

    page.get_by_role("link", name="New assessment").click()
    assert page.get_by_role("heading", name="New assessment for Maria Jensen").is_visible()
    shot(page, "form-empty")

    # Submit with required answers missing: errors next to the fields, nothing saved.
    page.get_by_role("button", name="Save and see results").click()
    assert page.get_by_text("Nothing was saved").is_visible()
    assert page.locator("#err-morning_stiffness").is_visible()
    shot(page, "form-errors")

    for question, choice in [
        ("stiffness in your lower back", "Yes"),
        ("long periods of standing or sitting", "Yes"),
        ("one side of your body is stronger", "No"),
        ("tightness in the same area", "No"),
    ]:
        answer(page, "screening", question, choice)
    for section in ("red_flags", "health"):
        for fieldset in page.locator(f"#sec-{section} fieldset").all():
            fieldset.get_by_label("No", exact=True).check()
    page.get_by_label("Single-leg glute bridge hold, Left", exact=True).fill("15")
    page.get_by_label("Single-leg glute bridge hold, Right", exact=True).fill("40")
    page.locator("#q-front_plank_hold").fill("70")
    page.get_by_label("Single-leg hamstring bridge repetitions, Left", exact=True).fill("25")
    page.get_by_label("Single-leg hamstring bridge repetitions, Right", exact=True).fill("24")
    answer(page, "upper_crossed", "Forward head and rounded shoulders", "Mild")
    page.get_by_label("Notes").fill("Desk job.")
    page.get_by_role("button", name="Save and see results").click()

    assert page.get_by_text("Assessment saved.").is_visible()
    assert page.get_by_text("Left single-leg bridge held 15 s").first.is_visible()
    assert page.get_by_text("a muscle imbalance is likely").first.is_visible()
    body_map = page.locator("svg.body-map")
    assert body_map.is_visible()
    assert body_map.locator(".region--weak").count() > 0
    # nothing was tested tight, so no muscle is marked overactive
    assert body_map.locator(".region--overactive").count() == 0
    shot(page, "results")

    assert page.get_by_label("Weak glutes and an overloaded lower back").is_checked()
    page.get_by_label("Weak hamstrings and an overloaded lower back").check()
    page.get_by_role("button", name="Confirm imbalances to treat").click()
    assert page.get_by_text("Imbalances to treat confirmed.").is_visible()
    build = page.get_by_role("link", name="Build program")
    assert build.is_visible()
    assert build.get_attribute("href").startswith("/programs/new/")
    shot(page, "confirmed")

    page.get_by_role("link", name="Maria Jensen").first.click()
    assert page.get_by_role("link", name="New assessment").is_visible()
    shot(page, "client-history")
    assert page.console_errors == [], page.console_errors
