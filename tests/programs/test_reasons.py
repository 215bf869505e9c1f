"""Each item's "why" and notes quote the finding it addresses, asymmetry only in its region."""

from dataclasses import replace

from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import score
from trainer_app.library.catalog import default_catalog
from trainer_app.programs.builder import (
    BuildOptions,
    build_program,
    measured_from_result,
    targets_from_scores,
)

Q = default_questionnaire()
CATALOG = default_catalog()
REGION = {slug: ex.region for slug, ex in CATALOG.exercises.items()}
NORMAL = {
    "front_plank_hold": 60,
    "single_leg_bridge_hold_left": 30,
    "single_leg_bridge_hold_right": 30,
    "hamstring_bridge_reps_left": 24,
    "hamstring_bridge_reps_right": 24,
    "forward_head_shoulders": "none",
}


def build(answers: dict, *, stored_regions: bool = True):
    result = score(Q, {**NORMAL, **answers})
    targets = targets_from_scores(result.imbalances)
    if not stored_regions:  # a result stored before the regions were kept
        targets = [replace(t, regions=()) for t in targets]
    options = BuildOptions(max_exercises=10)
    return build_program(targets, CATALOG, options, measured_from_result(result))


def test_a_leg_difference_never_sets_the_side_of_trunk_or_arm_work():
    # left leg 38% weaker; a weak core gets a side plank, which is trunk work
    draft = build(
        {
            "front_plank_hold": 15,
            "single_leg_bridge_hold_left": 25,
            "single_leg_bridge_hold_right": 40,
        }
    )
    for item in draft.items:
        if REGION[item.exercise_slug] != "lower_body":
            assert "weaker" not in item.notes, (item.exercise_slug, item.notes)
            assert "single-leg glute bridge hold: left" not in item.reason, item.reason
    legs = [i for i in draft.items if i.imbalance == "asymmetry"]
    assert legs and all("Start with the weaker (left) side" in i.notes for i in legs)


def test_asymmetry_work_and_its_why_stay_in_the_measured_region_without_stored_regions():
    # a trunk difference only (side plank 15 s against 30 s)
    answers = {"side_plank_hold_left": 15, "side_plank_hold_right": 30}
    for stored in (True, False):
        draft = build(answers, stored_regions=stored)
        asymmetry = [i for i in draft.items if i.imbalance == "asymmetry"]
        assert asymmetry, stored
        for item in asymmetry:
            assert REGION[item.exercise_slug] == "trunk", (stored, item.exercise_slug)
            assert "side plank hold: left 15 s, right 30 s" in item.reason


def test_each_region_quotes_its_own_difference():
    draft = build(
        {
            "side_plank_hold_left": 15,
            "side_plank_hold_right": 30,
            "single_leg_bridge_hold_left": 12,
            "single_leg_bridge_hold_right": 30,
        },
        stored_regions=False,
    )
    for item in draft.items:
        if item.imbalance != "asymmetry":
            continue
        if REGION[item.exercise_slug] == "trunk":
            assert "side plank hold" in item.reason and "bridge hold" not in item.reason
        else:
            assert "single-leg glute bridge hold" in item.reason
            assert "side plank" not in item.reason
