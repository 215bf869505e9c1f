"""A clinician's first choices (physiotherapist review): chin tucks and the prone Y raise for
a forward head, the prone back extension for a client with osteoporosis; the article's
exercise still covers each pattern."""

from __future__ import annotations

import copy
import re
from dataclasses import replace

import pytest
import yaml

from tests.library.test_catalog import (
    broken,
    data_dir,  # noqa: F401 - the fixture
    on,
)
from trainer_app.assessments.questionnaire import (
    DEFAULT_PATH,
    QuestionnaireError,
    default_questionnaire,
    parse_questionnaire,
)
from trainer_app.assessments.scoring import score
from trainer_app.library.catalog import default_catalog
from trainer_app.programs.builder import (
    BuildOptions,
    build_program,
    measured_from_result,
    targets_from_scores,
)

Q = default_questionnaire()
CAT = default_catalog()
NORMAL = {
    "front_plank_hold": 60,
    "side_plank_hold_left": 30,
    "side_plank_hold_right": 30,
    "single_leg_bridge_hold_left": 30,
    "single_leg_bridge_hold_right": 30,
    "hamstring_bridge_reps_left": 25,
    "hamstring_bridge_reps_right": 25,
    "forward_head_shoulders": "none",
}
OWN = ("chin_tuck", "prone_y_raise", "prone_back_extension")
# exercises that bend or hold the spine forward (the dead bug keeps it neutral)
FLEXION = {"hollow_body_hold", "tuck_hollow_hold", "cat_cow", "childs_pose"}


def build(answers, **options):
    result = score(Q, {**NORMAL, **answers})
    cautions = frozenset(c.caution for c in result.cautions)
    return build_program(
        targets_from_scores(result.imbalances),
        CAT,
        BuildOptions(cautions=cautions, **options),
        measured_from_result(result),
    )


def slugs(draft):
    return [i.exercise_slug for i in draft.items]


def test_a_forward_head_gets_chin_tucks_and_prone_y_first_and_keeps_the_article_work():
    draft = build({"forward_head_shoulders": "marked", "prone_y_raise_hold": 20})
    chosen = slugs(draft)
    assert chosen[:2] == ["chin_tuck", "prone_y_raise"]
    assert "face_pull" in chosen and "shrug" in chosen  # the article's pattern stays
    tuck = next(i for i in draft.items if i.exercise_slug == "chin_tuck")
    assert "forward head and rounded shoulders observed: marked" in tuck.reason
    # the Y raise starts at 60-70% of the 20 s measured
    assert next(i for i in draft.items if i.exercise_slug == "prone_y_raise").hold_seconds == 13


def test_with_every_pattern_flagged_the_forward_head_still_gets_a_chin_tuck_and_the_article():
    answers = {
        "forward_head_shoulders": "marked",
        "front_plank_hold": 12,
        "single_leg_bridge_hold_left": 8,
        "single_leg_bridge_hold_right": 9,
        "hamstring_bridge_reps_left": 8,
        "hamstring_bridge_reps_right": 8,
    }
    draft = build(answers)
    upper = [i.exercise_slug for i in draft.items if i.imbalance == "upper_crossed"]
    assert upper[0] == "chin_tuck"
    assert set(upper) & set(CAT.imbalances["upper_crossed"].exercises)


def test_without_a_forward_head_a_weak_y_raise_gets_no_chin_tuck():
    chosen = slugs(build({"prone_y_raise_hold": 12}))
    assert "prone_y_raise" in chosen and "chin_tuck" not in chosen


def test_osteoporosis_and_a_weak_core_get_the_back_extension_and_no_flexion_work():
    draft = build({"osteoporosis": True, "front_plank_hold": 12})
    chosen = slugs(draft)
    assert chosen[0] == "prone_back_extension"
    assert not set(chosen) & FLEXION
    assert not any("osteoporosis" in CAT.exercise(s).cautions for s in chosen)
    reason = draft.items[0].reason
    assert "safe choice for osteoporosis or low bone density" in reason


def test_osteoporosis_and_a_weak_upper_back_get_the_back_extension():
    draft = build({"osteoporosis": True, "prone_y_raise_hold": 12})
    assert "prone_back_extension" in slugs(draft)


def test_a_weak_front_plank_without_osteoporosis_gets_no_back_extension():
    # it trains the back extensors, which the front plank does not measure
    assert "prone_back_extension" not in slugs(build({"front_plank_hold": 12}))


def test_the_products_own_exercises_are_marked_and_not_the_articles():
    article = {s for im in CAT.imbalances.values() if im.from_article for s in im.exercises}
    for slug in OWN:
        exercise = CAT.exercise(slug)
        assert exercise.origin == "product" and slug not in article
        assert len(exercise.steps) >= 3 and exercise.cues and exercise.mistakes
    assert CAT.exercise("prone_back_extension").safe_for == ("osteoporosis",)
    assert CAT.exercise("chin_tuck").first_for == ("forward_head_shoulders",)


def test_an_article_exercise_cannot_be_marked_as_the_products_own(data_dir):  # noqa: F811
    broken(
        data_dir,
        "exercises.yaml: plank.origin: the article names this exercise",
        exercise=on("plank", lambda e: e.update(origin="product")),
    )


def test_a_safe_choice_cannot_carry_the_same_caution(data_dir):  # noqa: F811
    broken(
        data_dir,
        "'osteoporosis' is also one of its cautions",
        exercise=on("prone_back_extension", lambda e: e.update(cautions=["osteoporosis"])),
    )


def test_first_for_must_name_a_test_that_lists_the_exercise():
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    tuck = CAT.exercise("chin_tuck").model_copy(update={"first_for": ("front_plank_hold",)})
    catalog = replace(CAT, exercises={**CAT.exercises, "chin_tuck": tuck})
    message = "chin_tuck.first_for[1]: 'front_plank_hold' does not list 'chin_tuck'"
    with pytest.raises(QuestionnaireError, match=re.escape(message)):
        parse_questionnaire(copy.deepcopy(doc), catalog=catalog)
