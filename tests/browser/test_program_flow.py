"""A trainer builds a program from a confirmed assessment, changes a dose and sees version 2."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from tests.browser.conftest import sign_up
from trainer_app.extensions import db

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def confirmed_assessment(app, email: str) -> tuple[int, int]:
    """A client with weak glutes and a weak core, assessed and confirmed; returns both ids."""
    from trainer_app.accounts.models import User
    from trainer_app.assessments.models import Assessment
    from trainer_app.assessments.questionnaire import default_questionnaire
    from trainer_app.assessments.scoring import result_to_dict, score
    from trainer_app.clients.models import Client
    from trainer_app.timeutil import utcnow

    q = default_questionnaire()
    answers = {
        "morning_stiffness": True,
        "pain_standing_sitting": True,
        "recurring_tightness": True,
        "one_side_stronger": False,
        "single_leg_bridge_hold_left": 8,
        "single_leg_bridge_hold_right": 15,
        "front_plank_hold": 15,
    }
    answers.update({flag.id: False for flag in (*q.red_flags.questions, *q.health.questions)})
    result = score(q, answers)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        client = Client(
            clinic_id=user.clinic_id,
            primary_trainer_id=user.id,
            name="Maria Jensen",
            email="maria@example.com",
            email_consent=True,
            email_consent_at=utcnow(),
            notes="",
        )
        db.session.add(client)
        db.session.flush()
        assessment = Assessment(
            clinic_id=user.clinic_id,
            client_id=client.id,
            trainer_id=user.id,
            questionnaire_version=result.questionnaire_version,
            answers=answers,
            result=result_to_dict(result),
            confirmed_imbalances=["weak_glutes", "weak_core"],
            confirmed_at=utcnow(),
        )
        db.session.add(assessment)
        db.session.commit()
        return client.id, assessment.id


def test_build_edit_and_see_version_two(app, live_server, live_app, page):
    sign_up(page, live_server, live_app)
    assert page.get_by_role("heading", name="Core Studio").is_visible()

    client_id, _ = confirmed_assessment(app, "ana@example.com")
    page.goto(f"{live_server}/clients/{client_id}")
    shot(page, "client-programs-empty")
    page.get_by_role("link", name="Build a program").click()
    assert page.get_by_role("heading", name="Build a program for Maria Jensen").is_visible()
    assert page.get_by_label("Barbell").is_checked()
    shot(page, "program-new")
    page.get_by_label("Weeks").fill("5")
    page.get_by_label("Title (optional)").fill("Back care block 1")
    page.get_by_role("button", name="Build program").click()

    assert page.get_by_role("heading", name="Back care block 1").is_visible()
    assert page.get_by_text("Program built.").is_visible()
    assert page.get_by_role("heading", name="Practical tips").is_visible()
    assert page.get_by_text("Why this exercise").first.is_visible()
    shot(page, "program-detail-v1")

    page.get_by_role("link", name="Edit program").click()
    first_sets = page.locator('input[name="items-0-sets"]')
    # the first strengthening item dosed in reps (release work and holds have no reps field)
    index = next(
        i
        for i in range(page.locator("fieldset.program-edit-item").count())
        if page.locator(f'input[name="items-{i}-reps"]').count()
    )
    item = page.locator("fieldset.program-edit-item").nth(index)
    name = item.locator("legend span:nth-child(2)").inner_text()
    slug = page.locator(f'input[name="items-{index}-exercise_slug"]').input_value()
    before = (
        page.locator(f'input[name="items-{index}-sets"]').input_value(),
        page.locator(f'input[name="items-{index}-reps"]').input_value(),
    )
    side = " each side" if item.locator("legend").get_by_text("each side").count() else ""
    page.locator(f'input[name="items-{index}-sets"]').fill("4")
    page.get_by_role("button", name="Save as new version").click()
    assert page.get_by_text("Say briefly what changed and why.").is_visible()
    page.locator(f'input[name="items-{index}-reps"]').fill("0")
    page.get_by_label("What changed and why").fill("Two sets while the back settles")
    page.get_by_role("button", name="Save as new version").click()
    assert page.get_by_text("Reps: enter a whole number from 1 to 30.").is_visible()
    shot(page, "program-edit-errors")
    page.locator(f'input[name="items-{index}-reps"]').fill("10")
    assert first_sets.is_visible()
    page.get_by_role("button", name="Save as new version").click()

    assert page.get_by_text("Saved as version 2.").is_visible()
    assert page.get_by_text("version 2, saved").is_visible()
    shot(page, "program-detail-v2")
    page.get_by_role("link", name="Version 2", exact=True).click()
    assert page.get_by_role("heading", name="What changed since version 1").is_visible()
    changes = page.locator("#changes-heading + p + ul").inner_text()
    assert f"{name}: {before[0]} x {before[1]} reps{side} → 4 x 10 reps{side}" in changes
    shot(page, "program-version-2")

    # typed edits survive a library search and two additions; one save makes one version
    page.goto(f"{live_server}/programs/1/edit")
    page.locator(f'input[name="items-{index}-reps"]').fill("12")
    page.get_by_label("Imbalance").select_option("upper_crossed")
    page.get_by_label("Kind").select_option("strength")
    page.get_by_role("button", name="Find exercises").click()
    assert page.locator(f'input[name="items-{index}-reps"]').input_value() == "12"
    page.get_by_role("button", name="Add Face pull").click()
    assert page.get_by_text("Face pull added to the program below. Save to keep it.").is_visible()
    assert page.get_by_text("In this program").first.is_visible()
    page.get_by_label("Why (optional) add Reverse fly").fill("Upper back endurance")
    page.get_by_role("button", name="Add Reverse fly").click()
    assert page.get_by_text("Reverse fly added to the program below.").is_visible()
    assert page.locator(f'input[name="items-{index}-reps"]').input_value() == "12"
    assert page.get_by_text("Added, not saved yet").count() == 2
    shot(page, "program-edit-added")
    # leaving now asks first (the dialog is dismissed: the trainer stays)
    dialogs = []
    page.once("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.get_by_role("link", name="Cancel").click()
    assert dialogs == ["beforeunload"]
    page.get_by_label("What changed and why").fill("Upper back work, more reps")
    page.get_by_role("button", name="Save as new version").click()
    assert page.get_by_text("Saved as version 3.").is_visible()
    from trainer_app.programs.builder import draft_from_dict
    from trainer_app.programs.models import ProgramVersion

    with app.app_context():
        stored = db.session.scalars(select(ProgramVersion).order_by(ProgramVersion.number)).all()
        assert [v.number for v in stored] == [1, 2, 3]
        items = {i.exercise_slug: i for i in draft_from_dict(stored[-1].content).items}
    assert items[slug].reps == 12 and {"face_pull", "reverse_fly"} <= set(items)
    assert items["reverse_fly"].reason == "Reverse fly: Upper back endurance"
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server}/programs/1")
    shot(page, "program-detail-mobile")
    page.goto(f"{live_server}/clients/{client_id}")
    assert page.get_by_text("Version 3 ·").is_visible()  # the timeline names it too
    shot(page, "client-programs")
    assert page.console_errors == [], page.console_errors
