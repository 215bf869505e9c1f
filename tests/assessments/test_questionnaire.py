"""The questionnaire data file, its loader and the answer parser used by the web form."""

import copy

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from trainer_app.assessments.questionnaire import (
    DEFAULT_PATH,
    NUMBER_TYPES,
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
    """A complete, valid form submission: all no, every number at a healthy value."""
    raw = {}
    for question in (*q.screening, *q.red_flags):
        raw[question.id] = "no"
    for group in q.indicators.values():
        for ind in group:
            for key in ind.answer_keys():
                if ind.type == "yes_no":
                    raw[key] = "no" if ind.sign else "yes"
                elif ind.type == "choice":
                    raw[key] = ind.choices[0].value
                else:
                    raw[key] = str(ind.good or ind.below)
    raw.update(overrides)
    return raw


# --------------------------------------------------------------------------- content


def test_default_questionnaire_is_versioned_and_cached(q):
    assert q.version == "2026.11.1"
    assert default_questionnaire() is q


def test_screening_asks_the_articles_four_questions_with_the_two_yes_rule(q):
    assert tuple(s.text for s in q.screening) == ARTICLE_QUESTIONS
    assert q.screening_rule.min_yes == 2
    assert q.screening_rule.likely_message == (
        "A muscle imbalance is likely and may contribute to back pain."
    )


def test_red_flags_cover_the_serious_signs_with_explanations(q):
    ids = {f.id for f in q.red_flags}
    assert {
        "leg_numbness_weakness",
        "bladder_bowel_saddle",
        "unexplained_weight_loss",
        "pain_after_fall_injury",
        "constant_night_pain",
        "fever_with_back_pain",
    } <= ids
    assert all(len(f.help) > 20 for f in q.red_flags)
    assert "refer" in q.red_flag_message.lower()


def test_every_article_imbalance_has_two_or_more_measurable_indicators(q):
    catalog = default_catalog()
    for slug in ("weak_glutes", "weak_core", "weak_hamstrings", "upper_crossed"):
        group = q.indicators[slug]
        assert len(group) >= 2, slug
        assert any(ind.required for ind in group), slug
        assert any(ind.type in NUMBER_TYPES for ind in group), slug
    assert set(q.indicators) <= set(catalog.imbalances)
    # asymmetry is derived from the left/right pairs, not asked directly
    assert "asymmetry" not in q.indicators
    assert q.asymmetry.screening_question == "one_side_stronger"


def test_indicators_have_bounds_help_and_thresholds(q):
    for group in q.indicators.values():
        for ind in group:
            assert ind.help and ind.label
            if ind.type in NUMBER_TYPES:
                assert ind.min == 0 and ind.max > ind.below > 0
                assert ind.unit
            elif ind.type == "yes_no":
                assert ind.sign in (True, False)
            else:
                assert [c.value for c in ind.choices] == ["none", "mild", "marked"]


def test_answer_keys_are_unique_and_bilateral_keys_have_sides(q):
    keys = answer_keys(q)
    assert len(keys) == len(set(keys))
    assert "single_leg_bridge_hold_left" in keys
    assert "single_leg_bridge_hold_right" in keys
    assert "single_leg_bridge_hold" not in keys
    assert "front_plank_hold" in keys
    assert keys[:4] == tuple(s.id for s in q.screening)


def test_indicator_lookup(q):
    assert q.indicator("front_plank_hold").below == 30
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
        (lambda d: d.pop("version"), r"questionnaire.yaml.version: missing required field"),
        (lambda d: d.update(version=3), r"version: must be a quoted string"),
        (
            lambda d: d["indicators"]["weak_core"][0].update(max="lots"),
            r"indicators.weak_core\[0\].max: must be a whole number",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(type="text"),
            r"indicators.weak_core\[0\].type: must be one of",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(finding="Plank {secs}"),
            r"weak_core\[0\].finding: unknown placeholder \{secs\}",
        ),
        (
            lambda d: d["indicators"]["weak_glutes"][0].update(finding="Bridge {value}"),
            r"weak_glutes\[0\].finding: must contain \{side\}",
        ),
        (
            lambda d: d["indicators"]["weak_core"][2].update(sign=True),
            r"weak_core\[2\].sign: must be \"yes\" or \"no\"",
        ),
        (
            lambda d: d["screening"]["questions"][0].pop("text"),
            r"screening.questions\[0\].text: missing required field",
        ),
        (
            lambda d: d["red_flags"]["questions"][1].update(id="leg_numbness_weakness"),
            r"answer key 'leg_numbness_weakness' is used twice",
        ),
        (
            lambda d: d["indicators"]["weak_core"][0].update(colour="red"),
            r"weak_core\[0\].colour: unknown field",
        ),
        (
            lambda d: d["asymmetry"].update(screening_question="nope"),
            r"asymmetry.screening_question: no screening question 'nope'",
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
    assert answers["wall_angel"] is True
    assert answers["forward_head_shoulders"] == "none"
    assert set(answers) == set(answer_keys(q))


@pytest.mark.parametrize("value", ["-5", "abc", "12.5", "1e3", "601", "12 s", "٣"])
def test_bad_seconds_get_a_user_facing_message(q, value):
    answers, errors = validate_answers(q, complete_raw(q, front_plank_hold=value))
    assert errors == {"front_plank_hold": "Enter a whole number of seconds between 0 and 600."}
    assert "front_plank_hold" not in answers


def test_bad_reps_and_degrees_messages(q):
    _, errors = validate_answers(
        q,
        complete_raw(q, hamstring_bridge_reps_left="-1", active_straight_leg_raise_right="200"),
    )
    assert errors == {
        "hamstring_bridge_reps_left": "Enter a whole number of repetitions between 0 and 100.",
        "active_straight_leg_raise_right": "Enter a whole number of degrees between 0 and 180.",
    }


def test_missing_required_answers_are_reported_per_field(q):
    raw = complete_raw(q)
    for key in ("morning_stiffness", "fever_with_back_pain", "single_leg_bridge_hold_right"):
        raw[key] = ""
    del raw["forward_head_shoulders"]
    _, errors = validate_answers(q, raw)
    assert errors == {
        "morning_stiffness": "This answer is required. Answer yes or no.",
        "fever_with_back_pain": "This answer is required. Answer yes or no.",
        "single_leg_bridge_hold_right": (
            "This answer is required. Enter a whole number of seconds between 0 and 600."
        ),
        "forward_head_shoulders": "This answer is required. Choose one of: None, Mild, Marked.",
    }


def test_blank_optional_answers_are_left_out(q):
    answers, errors = validate_answers(q, complete_raw(q, side_plank_hold_left="", wall_angel=""))
    assert errors == {}
    assert "side_plank_hold_left" not in answers
    assert "wall_angel" not in answers


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
    _, errors = validate_answers(q, complete_raw(q, forward_head_shoulders="severe"))
    assert errors == {"forward_head_shoulders": "Choose one of: None, Mild, Marked."}


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
