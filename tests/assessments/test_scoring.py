"""Scoring: the screening rule, red flags, imbalance scores with quoted reasons, comparison."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer_app.assessments.questionnaire import NUMBER_TYPES, default_questionnaire
from trainer_app.assessments.scoring import (
    AssessmentResult,
    compare,
    format_value,
    result_from_dict,
    result_to_dict,
    score,
    suggested_imbalances,
)
from trainer_app.library.catalog import Catalog, Imbalance, default_catalog

Q = default_questionnaire()
SCREENING_IDS = [s.id for s in Q.screening]


def healthy(**overrides):
    """Typed answers with no findings at all; overrides change single answers."""
    answers = {question.id: False for question in (*Q.screening, *Q.red_flags)}
    for group in Q.indicators.values():
        for ind in group:
            for key in ind.answer_keys():
                if ind.type == "yes_no":
                    answers[key] = not ind.sign
                elif ind.type == "choice":
                    answers[key] = "none"
                else:
                    answers[key] = max(ind.good or 0, ind.below) + 10
    answers.update(overrides)
    return answers


def by_slug(result):
    return {item.slug: item for item in result.imbalances}


# --------------------------------------------------------------------------- screening


@pytest.mark.parametrize("yes", [0, 1, 2, 3, 4])
def test_screening_needs_two_or_more_yes(yes):
    answers = healthy(**dict.fromkeys(SCREENING_IDS[:yes], True))
    result = score(Q, answers)
    assert result.screening.yes_count == yes
    assert result.screening.likely is (yes >= 2)
    if yes >= 2:
        assert result.screening.message == (
            "A muscle imbalance is likely and may contribute to back pain."
        )
    else:
        assert "not likely" in result.screening.message


def test_screening_lists_the_answers_with_the_question_text():
    result = score(Q, healthy(morning_stiffness=True))
    assert result.screening.answered[0] == (
        "Do you feel stiffness in your lower back in the morning?",
        "yes",
    )
    assert [a for _, a in result.screening.answered] == ["yes", "no", "no", "no"]


# --------------------------------------------------------------------------- red flags


def test_no_red_flags_does_not_block():
    result = score(Q, healthy())
    assert result.red_flags == ()
    assert result.blocked is False
    assert result.message == ""


@pytest.mark.parametrize("flag", [f.id for f in Q.red_flags])
def test_any_red_flag_blocks_with_a_referral_message(flag):
    result = score(Q, healthy(**{flag: True}))
    assert result.blocked is True
    assert [f.id for f in result.red_flags] == [flag]
    assert "Refer the client" in result.message


# --------------------------------------------------------------------------- imbalances


def test_healthy_answers_score_zero_everywhere_in_catalog_order():
    result = score(Q, healthy())
    assert [i.slug for i in result.imbalances] == list(default_catalog().imbalances)
    for item in result.imbalances:
        assert (item.score, item.level, item.reasons, item.weak_side) == (0, "none", (), None)
    assert suggested_imbalances(result) == ()


def test_reasons_quote_the_answers():
    result = score(
        Q,
        healthy(
            single_leg_bridge_hold_left=12,
            single_leg_bridge_hold_right=25,
            front_plank_hold=15,
            hamstring_bridge_reps_right=11,
            active_straight_leg_raise_left=60,
            forward_head_shoulders="marked",
            wall_angel=False,
        ),
    )
    items = by_slug(result)
    assert items["weak_glutes"].reasons == ("Left single-leg bridge held 12 s, below 20 s",)
    assert items["weak_glutes"].weak_side == "left"
    assert items["weak_core"].reasons == ("Front plank held 15 s, below 30 s",)
    assert items["weak_hamstrings"].reasons == (
        "Right single-leg hamstring bridge managed 11 reps, below 20 reps",
        "Left active straight leg raise reached 60°, below 70°",
    )
    assert items["upper_crossed"].reasons == (
        "Forward head and rounded shoulders observed: marked",
        "Cannot keep forearms and wrists on the wall in a wall angel",
    )
    assert items["asymmetry"].reasons[0] == (
        "Single-leg glute bridge hold: left 12 s vs right 25 s, 52% weaker on the left"
    )


def test_score_is_the_share_of_answered_indicator_weight():
    items = by_slug(score(Q, healthy(single_leg_bridge_hold_left=12)))
    assert items["weak_glutes"].score == 33  # one of three indicators
    assert items["weak_glutes"].level == "possible"
    items = by_slug(score(Q, healthy(single_leg_bridge_hold_left=12, bridge_compensation=True)))
    assert items["weak_glutes"].score == 67
    assert items["weak_glutes"].level == "likely"


def test_plank_between_threshold_and_goal_counts_half():
    items = by_slug(score(Q, healthy(front_plank_hold=45)))
    assert items["weak_core"].reasons == ("Front plank held 45 s, short of the 60 s goal",)
    assert items["weak_core"].score == 17  # half of one of three
    assert items["weak_core"].level == "possible"


def test_unanswered_optional_indicators_do_not_dilute_the_score():
    answers = {"front_plank_hold": 10}
    items = by_slug(score(Q, answers))
    assert items["weak_core"].score == 100
    assert items["weak_core"].level == "likely"


def test_string_answers_are_accepted_and_junk_is_unanswered():
    items = by_slug(score(Q, {"front_plank_hold": "10", "dead_bug_back_lifts": "yes"}))
    assert items["weak_core"].score == 100
    items = by_slug(score(Q, {"front_plank_hold": "ten", "dead_bug_back_lifts": -1}))
    assert items["weak_core"].score == 0


@pytest.mark.parametrize(
    ("left", "right", "asymmetric"),
    [
        (25, 21, False),  # 4 s and 16%: within normal variation
        (25, 20, True),  # 5 s apart
        (10, 8, True),  # 20% of the stronger side
        (40, 40, False),
        (0, 0, False),
    ],
)
def test_asymmetry_rule_for_seconds(left, right, asymmetric):
    answers = healthy(side_plank_hold_left=left, side_plank_hold_right=right)
    item = by_slug(score(Q, answers))["asymmetry"]
    assert (item.score > 0) is asymmetric
    if asymmetric:
        assert item.level == "likely"
        assert item.weak_side == ("left" if left < right else "right")


def test_asymmetry_rule_for_reps_uses_its_own_minimum_difference():
    item = by_slug(
        score(Q, healthy(hamstring_bridge_reps_left=22, hamstring_bridge_reps_right=25))
    )["asymmetry"]
    assert item.reasons == (
        "Single-leg hamstring bridge repetitions: left 22 reps vs right 25 reps, "
        "12% weaker on the left",
    )


def test_asymmetry_from_the_screening_answer_alone_is_possible():
    item = by_slug(score(Q, healthy(one_side_stronger=True)))["asymmetry"]
    assert item.score == 25
    assert item.level == "possible"
    assert item.weak_side is None
    assert "one side of your body is stronger" in item.reasons[0]


def test_one_sided_hip_drop_names_the_weak_side():
    item = by_slug(score(Q, healthy(hip_drop_right=True)))["weak_glutes"]
    assert item.reasons == ("Hip drops when standing on the right leg",)
    assert item.weak_side == "right"


def test_suggested_imbalances_sorts_by_score_then_catalog_order():
    result = score(
        Q,
        healthy(
            front_plank_hold=10,
            dead_bug_back_lifts=True,  # weak_core 67
            single_leg_bridge_hold_left=10,  # weak_glutes 33, asymmetry 50
            forward_head_shoulders="marked",  # upper_crossed 25
        ),
    )
    scores = {i.slug: i.score for i in result.imbalances}
    assert scores == {
        "weak_glutes": 33,
        "weak_core": 67,
        "weak_hamstrings": 0,
        "upper_crossed": 25,
        "asymmetry": 50,
    }
    assert suggested_imbalances(result) == (
        "weak_core",
        "asymmetry",
        "weak_glutes",
        "upper_crossed",
    )


def test_catalog_gives_order_and_names():
    base = default_catalog()
    flipped = Catalog(
        version="t",
        exercises=base.exercises,
        imbalances={
            "upper_crossed": Imbalance(
                "upper_crossed", "Rounded shoulders", "p", (), (), ("face_pull",), (), True
            ),
            "weak_core": base.imbalances["weak_core"],
        },
        tips=(),
    )
    result = score(Q, healthy(), flipped)
    assert [(i.slug, i.name) for i in result.imbalances][:2] == [
        ("upper_crossed", "Rounded shoulders"),
        ("weak_core", base.imbalances["weak_core"].name),
    ]
    # questionnaire groups the catalog does not know still get scored, after the rest
    assert [i.slug for i in result.imbalances][2:] == ["weak_glutes", "weak_hamstrings"]


def test_format_value():
    assert format_value(Q.indicator("front_plank_hold"), 15) == "15 s"
    assert format_value(Q.indicator("hamstring_bridge_reps"), 1) == "1 rep"
    assert format_value(Q.indicator("active_straight_leg_raise"), 65) == "65°"
    assert format_value(Q.indicator("wall_angel"), False) == "no"
    assert format_value(Q.indicator("forward_head_shoulders"), "mild") == "Mild"


# --------------------------------------------------------------------------- compare, storage


def test_compare_reports_scores_and_changed_answers():
    before = score(Q, healthy(front_plank_hold=15, wall_angel=False))
    after = score(Q, healthy(front_plank_hold=40, wall_angel=False, hip_drop_left=True))
    changes = {c.slug: c for c in compare(before, after)}
    core = changes["weak_core"]
    assert (core.before, core.after, core.direction) == (33, 17, "improved")
    assert [(i.key, i.before, i.after, i.direction) for i in core.indicators] == [
        ("front_plank_hold", "15 s", "40 s", "improved")
    ]
    glutes = changes["weak_glutes"]
    assert glutes.direction == "worse"
    assert [(i.key, i.before, i.after, i.direction) for i in glutes.indicators] == [
        ("hip_drop_left", "no", "yes", "worse")
    ]
    assert changes["upper_crossed"].direction == "same"
    assert changes["upper_crossed"].indicators == ()


def test_compare_marks_answers_missing_on_one_side_as_unknown():
    before = score(Q, {"front_plank_hold": 20})
    after = score(Q, {"front_plank_hold": 20, "dead_bug_back_lifts": True})
    core = {c.slug: c for c in compare(before, after)}["weak_core"]
    assert [(i.key, i.before, i.after, i.direction) for i in core.indicators] == [
        ("dead_bug_back_lifts", None, "yes", "unknown")
    ]


def test_result_round_trips_through_json():
    result = score(
        Q,
        healthy(
            morning_stiffness=True,
            cancer_history=True,
            single_leg_bridge_hold_left=12,
            forward_head_shoulders="mild",
        ),
    )
    data = json.loads(json.dumps(result_to_dict(result)))
    assert result_from_dict(data) == result


def test_result_from_dict_rejects_garbage():
    with pytest.raises(ValueError, match="not a stored assessment result"):
        result_from_dict({"screening": {}})
    with pytest.raises(ValueError, match="unsupported result schema"):
        result_from_dict({"schema": 99})


def test_imbalance_lookup():
    result = score(Q, healthy())
    assert result.imbalance("weak_core").slug == "weak_core"
    with pytest.raises(KeyError):
        result.imbalance("nope")


# --------------------------------------------------------------------------- properties


def _answer_strategy(ind):
    if ind.type == "yes_no":
        return st.booleans()
    if ind.type == "choice":
        return st.sampled_from([c.value for c in ind.choices])
    return st.integers(min_value=ind.min, max_value=ind.max)


def _all_answers():
    fields = {q.id: st.booleans() for q in (*Q.screening, *Q.red_flags)}
    for group in Q.indicators.values():
        for ind in group:
            for key in ind.answer_keys():
                fields[key] = _answer_strategy(ind)
    # any subset of the answers: the scorer must cope with partial input
    return st.fixed_dictionaries({}, optional=fields)


@settings(max_examples=200, deadline=None)
@given(_all_answers())
def test_scores_are_consistent_for_any_answers(answers):
    result = score(Q, answers)
    assert isinstance(result, AssessmentResult)
    assert result.blocked == any(answers.get(f.id) for f in Q.red_flags)
    yes = sum(bool(answers.get(s)) for s in SCREENING_IDS)
    assert result.screening.likely == (yes >= 2)
    for item in result.imbalances:
        assert 0 <= item.score <= 100
        assert (item.score == 0) == (item.reasons == ())
        expected = "likely" if item.score >= 50 else "possible" if item.score >= 1 else "none"
        assert item.level == expected
        assert item.weak_side in (None, "left", "right")
    assert score(Q, dict(answers)) == result
    assert result_from_dict(json.loads(json.dumps(result_to_dict(result)))) == result
    suggested = suggested_imbalances(result)
    assert set(suggested) == {i.slug for i in result.imbalances if i.score > 0}


@settings(max_examples=100, deadline=None)
@given(_all_answers())
def test_every_number_finding_quotes_its_value(answers):
    reasons = " | ".join(r for item in score(Q, answers).imbalances for r in item.reasons)
    for group in Q.indicators.values():
        for ind in group:
            if ind.type not in NUMBER_TYPES:
                continue
            for key in ind.answer_keys():
                value = answers.get(key)
                if value is not None and value < ind.below:
                    assert f"{format_value(ind, value)}, below {format_value(ind, ind.below)}" in (
                        reasons
                    )


@settings(max_examples=100, deadline=None)
@given(_all_answers(), _all_answers())
def test_compare_covers_every_imbalance(a, b):
    changes = compare(score(Q, a), score(Q, b))
    assert [c.slug for c in changes] == list(default_catalog().imbalances)
    for change in changes:
        assert change.direction == (
            "same"
            if change.before == change.after
            else "improved"
            if change.after < change.before
            else "worse"
        )
