"""The questionnaire data file, its Pydantic schema and the answer parser used by the form."""

import copy

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from trainer_app.assessments.questionnaire import (
    DEFAULT_PATH,
    NOT_TESTED,
    NUMBER_TYPES,
    STATUS_SUFFIX,
    UNABLE_PAIN,
    QuestionnaireError,
    answer_keys,
    default_questionnaire,
    load_questionnaire,
    parse_questionnaire,
    validate_answers,
)
from trainer_app.library.catalog import default_catalog

ARTICLE_QUESTIONS = (
    "Do you feel stiffness in your lower back in the morning?",
    "Do you experience pain after long periods of standing or sitting?",
    "Do you notice that one side of your body is stronger than the other?",
    "Do you frequently feel tightness in the same area?",
)


@pytest.fixture(scope="module")
def q():
    return default_questionnaire()


@pytest.fixture(scope="module")
def doc():
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def complete_raw(q, **overrides):
    """A complete, valid form submission: all no, every test measured at a healthy value."""
    raw = {}
    for question in (*q.screening.questions, *q.red_flags.questions, *q.health.questions):
        raw[question.id] = "no"
    for group in q.indicators.values():
        for ind in group:
            for key in ind.answer_keys():
                if ind.type == "yes_no":
                    raw[key] = "no" if ind.positive else "yes"
                elif ind.type == "choice":
                    raw[key] = ind.choices[0].value
                else:
                    raw[key] = str(ind.below + 5)
    raw.update(overrides)
    return raw


# --------------------------------------------------------------------------- content


def test_default_questionnaire_is_versioned_and_cached(q):
    assert q.version == "2026.12.5"
    assert default_questionnaire() is q


def test_screening_asks_the_articles_four_questions_with_the_two_yes_rule(q):
    assert tuple(s.text for s in q.screening.questions) == ARTICLE_QUESTIONS
    assert q.screening.min_yes == 2
    assert q.screening.source.kind == "article"
    assert "likely" in q.screening.likely_message


def test_red_flags_are_graded_with_their_own_wording(q):
    by_id = {f.id: f for f in q.red_flags.questions}
    for emergency in ("bladder_bowel_control", "saddle_numbness", "progressive_leg_weakness"):
        assert by_id[emergency].urgency == "emergency"
    for urgent in (
        "unexplained_weight_loss",
        "constant_night_pain",
        "cancer_history",
        "fever_with_back_pain",
        "significant_trauma",
    ):
        assert by_id[urgent].urgency == "urgent"
    assert by_id["onset_age"].urgency == "routine"
    assert "before the age of 20 or after the age of 50" in by_id["onset_age"].text
    levels = q.red_flags.levels
    assert "emergency" in levels["emergency"].action.lower()
    assert "today" in levels["emergency"].client_text
    assert "within the next few days" in levels["urgent"].action
    assert all(f.client_text and len(f.help) > 20 for f in q.red_flags.questions)


def test_health_questions_name_catalog_cautions(q):
    catalog = default_catalog()
    cautions = {h.caution for h in q.health.questions}
    assert cautions == set(catalog.cautions)


def test_each_test_measures_what_its_claim_says(q):
    catalog = default_catalog()
    for slug, group in q.indicators.items():
        for ind in group:
            if ind.claim == "weak":
                assert ind.measures in ("strength", "endurance", "observation"), ind.id
                assert set(ind.muscles) <= set(catalog.imbalances[slug].weak_muscles)
            if ind.claim == "tight":
                assert ind.measures in ("length", "observation"), ind.id
            assert ind.source.citation, ind.id
    assert "active_straight_leg_raise" not in {i.id for g in q.indicators.values() for i in g}
    hinge = q.indicator("hinge_back_takes_over")
    assert hinge.claim == "supporting"


def test_every_article_imbalance_has_a_measured_test(q):
    for slug in ("weak_glutes", "weak_core", "weak_hamstrings", "upper_crossed"):
        group = q.indicators[slug]
        assert any(ind.required for ind in group), slug
        assert any(ind.type in NUMBER_TYPES for ind in group), slug
    assert "asymmetry" not in q.indicators
    assert q.asymmetry.screening_question == "one_side_stronger"
    assert q.asymmetry.min_ratio == 0.15


def test_thresholds_carry_sources_and_bilateral_tests_their_noise(q):
    for group in q.indicators.values():
        for ind in group:
            if ind.type in NUMBER_TYPES:
                assert ind.min == 0 and ind.max > ind.below > 0
                assert ind.source.text().startswith(("Published norm", "Field rule of thumb"))
                if ind.bilateral:
                    assert ind.noise and ind.noise >= 1
    side = q.indicator("side_plank_hold")
    assert "McGill" in side.source.citation
    assert q.indicator("hamstring_bridge_reps").source.kind == "published"


def test_answer_keys_are_unique_and_bilateral_keys_have_sides(q):
    keys = answer_keys(q)
    assert len(keys) == len(set(keys))
    assert "single_leg_bridge_hold_left" in keys
    assert "single_leg_bridge_hold" not in keys
    assert keys[:4] == tuple(s.id for s in q.screening.questions)


def test_indicator_lookup(q):
    assert q.indicator("front_plank_hold").below == 30
    assert q.group_of("front_plank_hold") == "weak_core"
    with pytest.raises(KeyError, match="nope"):
        q.indicator("nope")


# --------------------------------------------------------------------------- loading errors


def _broken(doc, tmp_path, change):
    bad = copy.deepcopy(doc)
    change(bad)
    path = tmp_path / "questionnaire.yaml"
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("version"), r"questionnaire.yaml: version: missing required field"),
        (lambda d: d.update(version=3), r"version: must be a quoted string"),
        (
            lambda d: d["indicators"]["weak_core"][0].update(max="lots"),
            r"indicators.weak_core.front_plank_hold.max: must be a whole number",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(type="text"),
            r"indicators.weak_core.front_plank_hold.type: must be one of",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(finding="Plank {secs}"),
            r"front_plank_hold: finding: unknown placeholder \{secs\}",
        ),
        (
            lambda d: d["indicators"]["weak_glutes"][0].update(finding="Bridge {value}"),
            r"single_leg_bridge_hold: finding: must contain \{side\}",
        ),
        (
            lambda d: d["indicators"]["weak_core"][2].update(sign=True),
            r"dead_bug_back_lifts.sign: must be one of yes, no",
        ),
        (
            lambda d: d["screening"]["questions"][0].pop("text"),
            r"screening.morning_stiffness.text: missing required field",
        ),
        (
            lambda d: d["red_flags"]["questions"][1].update(id="bladder_bowel_control"),
            r"answer key 'bladder_bowel_control' is used twice",
        ),
        (
            lambda d: d["red_flags"]["questions"][0].update(urgency="soon"),
            r"red_flags.bladder_bowel_control.urgency: must be one of emergency, urgent, rout",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(colour="red"),
            r"front_plank_hold.colour: unknown field",
        ),
        (
            lambda d: d["asymmetry"].update(screening_question="nope"),
            r"asymmetry.screening_question: no screening question 'nope'",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(measures="length"),
            r"measures: a length test cannot show 'weak'",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(muscles=["glutes"]),
            r"front_plank_hold.muscles: 'glutes' is not a weak muscle of weak_core",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(doses=["dead_bug"]),
            r"front_plank_hold.doses\[1\]: 'dead_bug' is dosed in reps, the test in seconds",
        ),
        (
            lambda d: d["health"]["questions"][0].update(caution="vertigo"),
            r"health.pregnant.caution: no caution 'vertigo'",
        ),
        (
            lambda d: d["red_flags"]["levels"].pop("routine"),
            r"red_flags: levels: missing the routine level",
        ),
        (
            lambda d: d["indicators"]["weak_glutes"][0].pop("noise"),
            r"single_leg_bridge_hold: noise: needed for a seconds test",
        ),
    ],
)
def test_load_errors_name_the_field(doc, tmp_path, change, message):
    with pytest.raises(QuestionnaireError, match=message):
        load_questionnaire(_broken(doc, tmp_path, change))


def test_load_reports_unreadable_and_invalid_yaml(tmp_path):
    with pytest.raises(QuestionnaireError, match="cannot read"):
        load_questionnaire(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: [unclosed\n", encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="bad.yaml: not valid YAML"):
        load_questionnaire(bad)


def test_parse_questionnaire_accepts_the_shipped_document(doc, q):
    assert parse_questionnaire(doc) == q


# --------------------------------------------------------------------------- answers


def test_a_complete_submission_parses_into_typed_values(q):
    answers, errors = validate_answers(q, complete_raw(q, front_plank_hold=" 45 "))
    assert errors == {}
    assert answers["front_plank_hold"] == 45
    assert answers["morning_stiffness"] is False
    assert answers["pregnant"] is False
    assert answers["wall_angel"] is True
    assert answers["forward_head_shoulders"] == "none"
    assert set(answers) == set(answer_keys(q))


@pytest.mark.parametrize("value", ["-5", "abc", "12.5", "1e3", "601", "12 s", "٣"])
def test_bad_seconds_get_a_user_facing_message(q, value):
    answers, errors = validate_answers(q, complete_raw(q, front_plank_hold=value))
    assert errors == {
        "front_plank_hold": "Enter a whole number of seconds between 0 and 600, or mark the "
        "test not tested or unable (pain)."
    }
    assert "front_plank_hold" not in answers


def test_not_tested_and_unable_pain_are_answers_of_their_own(q):
    raw = complete_raw(q, front_plank_hold="", hip_drop_left="unable_pain")
    raw["front_plank_hold" + STATUS_SUFFIX] = "not_tested"
    raw["single_leg_bridge_hold_left"] = ""
    raw["single_leg_bridge_hold_left" + STATUS_SUFFIX] = "unable_pain"
    answers, errors = validate_answers(q, raw)
    assert errors == {}
    assert answers["front_plank_hold"] == NOT_TESTED
    assert answers["single_leg_bridge_hold_left"] == UNABLE_PAIN
    assert answers["hip_drop_left"] == UNABLE_PAIN


def test_a_number_and_a_no_result_status_together_are_refused(q):
    raw = complete_raw(q, front_plank_hold="40")
    raw["front_plank_hold" + STATUS_SUFFIX] = "unable_pain"
    answers, errors = validate_answers(q, raw)
    assert "clear the number" in errors["front_plank_hold"]
    assert "front_plank_hold" not in answers


def test_missing_required_answers_are_reported_per_field(q):
    raw = complete_raw(q)
    for key in ("morning_stiffness", "fever_with_back_pain", "single_leg_bridge_hold_right"):
        raw[key] = ""
    del raw["forward_head_shoulders"]
    del raw["neck_pain"]
    _, errors = validate_answers(q, raw)
    assert errors["morning_stiffness"] == "This answer is required. Answer yes or no."
    assert errors["fever_with_back_pain"] == "This answer is required. Answer yes or no."
    assert errors["neck_pain"] == "This answer is required. Answer yes or no."
    assert errors["single_leg_bridge_hold_right"].startswith("This answer is required.")
    assert errors["forward_head_shoulders"] == (
        "This answer is required. Choose one of: None, Mild, Marked, or not tested or "
        "unable (pain)."
    )
    assert len(errors) == 5


def test_blank_optional_tests_are_recorded_as_not_tested_never_normal(q):
    answers, errors = validate_answers(q, complete_raw(q, side_plank_hold_left="", wall_angel=""))
    assert errors == {}
    assert answers["side_plank_hold_left"] == NOT_TESTED
    assert answers["wall_angel"] == NOT_TESTED


def test_yes_no_and_choice_parsing(q):
    answers, errors = validate_answers(
        q,
        complete_raw(
            q, morning_stiffness="Yes", cancer_history="maybe", forward_head_shoulders="Mild"
        ),
    )
    assert answers["morning_stiffness"] is True
    assert answers["forward_head_shoulders"] == "mild"
    assert errors == {"cancer_history": "Answer yes or no."}


def test_unknown_keys_are_ignored(q):
    answers, errors = validate_answers(q, complete_raw(q, csrf_token="abc", extra="1"))
    assert errors == {}
    assert "csrf_token" not in answers


@given(st.integers(min_value=0, max_value=600))
def test_any_whole_number_in_range_is_accepted(seconds):
    q = default_questionnaire()
    answers, errors = validate_answers(q, complete_raw(q, front_plank_hold=str(seconds)))
    assert errors == {}
    assert answers["front_plank_hold"] == seconds


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=601)))
def test_any_whole_number_out_of_range_is_rejected(seconds):
    q = default_questionnaire()
    answers, errors = validate_answers(q, complete_raw(q, front_plank_hold=str(seconds)))
    assert set(errors) == {"front_plank_hold"}
    assert "front_plank_hold" not in answers


@given(st.text(min_size=1).filter(lambda s: s.strip() and not s.strip().isascii()))
def test_non_ascii_text_is_never_a_number(text):
    q = default_questionnaire()
    answers, errors = validate_answers(q, complete_raw(q, side_plank_hold_left=text))
    assert set(errors) == {"side_plank_hold_left"}
    assert "side_plank_hold_left" not in answers
