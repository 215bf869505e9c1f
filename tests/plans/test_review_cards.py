"""The plan's cards follow the client (physiotherapist review): a "too easy? / too hard?"
suggestion never names an exercise with the client's caution, and one-sided findings name
their side on every card; read back from the PDF."""

from __future__ import annotations

import re

from tests.plans.test_render import pdftotext
from tests.programs.test_program_map import build, plan_context
from trainer_app.plans.options import CLIENT_COPY, CLINICIAN_COPY
from trainer_app.plans.render import render_plan

# A 68-year-old woman with osteoporosis: a 12 s front plank and the dead bug's lower back
# lifting; the right side plank weaker; the left bridge weaker and the left hip dropping; the
# left hip flexor short, the right not.
OSTEOPOROSIS_ONE_SIDED = {
    "osteoporosis": True,
    "front_plank_hold": 12,
    "dead_bug_back_lifts": True,
    "side_plank_hold_left": 40,
    "side_plank_hold_right": 25,
    "single_leg_bridge_hold_left": 20,
    "single_leg_bridge_hold_right": 30,
    "hip_drop_left": True,
    "thomas_test_left": True,
}


def _plan_text(app, client, auth, factories, answers, confirmed) -> str:
    auth.login(name="Ana Trainer")
    client_id = factories.client_record(auth.user, name="Hanna Berg").id
    program_id, _ = build(app, client, auth.user, client_id, confirmed=confirmed, **answers)
    context = plan_context(app, program_id, auth.user.id, CLIENT_COPY, "r")
    return re.sub(r"\s+", " ", pdftotext(render_plan(context)))


def test_cards_suggest_no_exercise_with_the_clients_caution_and_name_each_side(
    app, client, auth, factories
):
    text = _plan_text(
        app,
        client,
        auth,
        factories,
        OSTEOPOROSIS_ONE_SIDED,
        ("weak_core", "weak_glutes", "asymmetry"),
    )
    assert "Dead bug" in text
    # the tucked hollow and hollow body holds carry the osteoporosis caution
    assert "Tucked hollow hold" not in text and "Hollow body hold" not in text
    # the side plank's right side, the lower body's left side, the stretch for the left only
    assert "weaker (right) side" in text
    assert "weaker (left) side" in text
    assert "Start with the weaker side" not in text
    assert "30 s hold on the left side" in text
    stretch = text[text.index("Half-kneeling hip flexor stretch") :][:200]
    assert "each side" not in stretch, stretch


def test_without_the_caution_the_dead_bug_suggests_its_harder_version(app, client, auth, factories):
    answers = {**OSTEOPOROSIS_ONE_SIDED, "osteoporosis": False, "dead_bug_back_lifts": False}
    text = _plan_text(app, client, auth, factories, answers, ("weak_core",))
    # suggested on the dead bug card (the program holds one of the family only)
    assert "Tucked hollow hold" in text and re.search(r"too easy\?", text, re.I)


def test_clinician_copy_shows_the_upper_trapezius_neither_weak_nor_overactive(
    app, client, auth, factories
):
    # the article pairs rounded shoulders with a weak upper trapezius, the clinical view holds
    # it often overactive; no test measured it, so the clinician copy marks it neither way,
    # as the results and program pages give it only as the article's claim
    auth.login(name="Ana Trainer")
    client_id = factories.client_record(auth.user, name="Hanna Berg").id
    answers = {"forward_head_shoulders": "marked", "prone_y_raise_hold": 10}
    program_id, _ = build(
        app, client, auth.user, client_id, confirmed=("upper_crossed",), **answers
    )
    context = plan_context(app, program_id, auth.user.id, CLINICIAN_COPY, "t")
    regions = [r.partition(":")[0] for r in context["body_map"]["weak"]]
    assert "upper_trapezius" not in regions
    assert "upper_trapezius" not in context["body_map"]["overactive"]
    page = client.get(f"/programs/{program_id}").text
    assert "the article pairs this pattern with a weak upper trapezius" in page
