"""The program builder: coverage, families, cautions, release cap, doses from capacity, wording."""

import json
import re
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import score
from trainer_app.library.catalog import EQUIPMENT as EQUIPMENT_LABELS
from trainer_app.library.catalog import default_catalog
from trainer_app.programs.builder import (
    LEVELS,
    MAX_HOLD,
    MAX_REPS,
    MAX_SETS,
    MIN_HOLD,
    MIN_REPS,
    MIN_SETS,
    BuildOptions,
    Capacity,
    Evidence,
    Measured,
    NotCovered,
    PainTest,
    ProgramDraft,
    Target,
    build_program,
    diff_items,
    draft_from_dict,
    draft_to_dict,
    held_for_pain,
    item_dose_text,
    measured_from_result,
    start_amount,
    targets_from_scores,
    weekly_doses,
)

CAT = default_catalog()
Q = default_questionnaire()
ARTICLE = {slug: set(im.exercises) for slug, im in CAT.imbalances.items() if im.from_article}


def slugs(draft):
    return [i.exercise_slug for i in draft.items]


def item(draft, slug):
    return next(i for i in draft.items if i.exercise_slug == slug)


def families(draft):
    return [CAT.exercise(s).family for s in slugs(draft)]


# --------------------------------------------------------------------------- refusals


def test_empty_targets_raise_a_clear_error():
    with pytest.raises(ValueError, match="Choose at least one imbalance"):
        build_program([], CAT)


def test_unknown_imbalance_raises():
    with pytest.raises(ValueError, match="Unknown imbalance 'weak_knees'"):
        build_program(["weak_knees"], CAT)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (BuildOptions(level="expert"), "level must be one of"),
        (BuildOptions(weeks=3), "weeks must be a whole number from 4 to 6"),
        (BuildOptions(max_exercises=11), "max_exercises must be"),
        (BuildOptions(release_limit=-1), "release_limit must be"),
    ],
)
def test_bad_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        build_program(["weak_core"], CAT, options)


INTERNAL = {
    *CAT.exercises,
    *CAT.imbalances,
    *EQUIPMENT_LABELS,
    "lower_body",
    "upper_body",
    "excluded",
}


def internal_names(message):
    """Identifiers a trainer should never read: slugs, equipment and region keys."""
    words = set(re.findall(r"[a-z]+(?:_[a-z]+)+|excluded", message))
    return words & INTERNAL


Y_RAISE = Evidence("Prone Y-raise held 12 s (marked; threshold under 30 s)", ("mid_back",))


def test_no_fitting_exercise_says_which_finding_and_which_equipment_in_plain_words():
    # the glutes are covered without the mat; the weak Y-raise needs a mat, dumbbells or a band
    targets = [Target("weak_glutes"), Target("upper_crossed", evidence=(Y_RAISE,))]
    with pytest.raises(NotCovered) as caught:
        build_program(targets, CAT, BuildOptions(equipment=frozenset({"bench", "wall"})))
    message = str(caught.value)
    assert message.startswith("Weak upper back and overactive chest is not covered")
    assert "“Prone Y-raise held 12 s (marked; threshold under 30 s)”" in message
    assert "Ticking “Dumbbells” (Reverse fly, Single-arm dumbbell row) or “Mat”" in message
    # only what the builder would choose for this finding is offered: a shrug trains the
    # upper trapezius, which the Y-raise does not measure
    assert "shrug" not in message
    assert caught.value.covered == ("Weak glutes and an overloaded lower back",)
    assert not internal_names(message)


def test_the_rest_is_built_when_the_trainer_asks_and_the_summary_says_what_is_left_out():
    targets = [Target("weak_glutes"), Target("upper_crossed", evidence=(Y_RAISE,))]
    options = BuildOptions(equipment=frozenset({"bench", "wall"}), skip_uncovered=True)
    draft = build_program(targets, CAT, options)
    assert draft.targets == ("weak_glutes",)
    assert any(
        line.startswith("Weak upper back and overactive chest is not covered")
        for line in draft.summary
    )


def test_a_finding_left_only_with_painful_movements_asks_for_assessment_not_equipment():
    side = Evidence("Left side plank held 12 s (marked; threshold under 30 s)", ("obliques",))
    painful = {
        "Front plank hold": ("plank", "knee_plank"),
        "Side plank hold": ("side_plank", "side_plank_knees"),
        "Lower back lifts off the floor in a dead bug": ("dead_bug", "bird_dog"),
    }
    with pytest.raises(NotCovered) as caught:
        build_program(
            [Target("weak_core", evidence=(side,))], CAT, BuildOptions(), Measured(painful=painful)
        )
    message = str(caught.value)
    assert "were stopped by pain" in message
    assert "refer the client to their doctor or a physiotherapist" in message
    assert "calls for that assessment rather than exercises" in message
    assert "Ticking" not in message and not internal_names(message)


# --------------------------------------------------------------------------- article reach


@pytest.mark.parametrize("slug", sorted(ARTICLE))
def test_each_article_imbalance_gets_an_article_exercise_at_the_default_level(slug):
    draft = build_program([slug], CAT)
    first = draft.items[0] if draft.items[0].kind == "strength" else draft.items[1]
    exercise = CAT.exercise(first.exercise_slug)
    family_of_article = {CAT.exercise(s).family for s in ARTICLE[slug]}
    assert first.exercise_slug in ARTICLE[slug] or exercise.family in family_of_article
    if first.exercise_slug not in ARTICLE[slug]:
        assert "the article's exercise" in first.goal


def test_an_easier_version_names_the_article_exercise_as_the_goal():
    draft = build_program(["weak_glutes"], CAT)
    bridge = item(draft, "glute_bridge")
    assert bridge.goal.startswith("Hip thrust (the article's exercise)")


def test_weak_hamstrings_get_hamstring_strengthening_not_only_a_drill():
    for options in (BuildOptions(), BuildOptions(max_exercises=4)):
        draft = build_program(["weak_hamstrings"], CAT, options)
        strength = [CAT.exercise(s) for s in slugs(draft)]
        assert not strength[0].drill
        assert "hamstrings" in strength[0].target_muscles
    no_dumbbells = BuildOptions(equipment=frozenset({"mat", "bench", "wall"}))
    draft = build_program(["weak_hamstrings"], CAT, no_dumbbells)
    assert slugs(draft)[0] == "single_leg_hamstring_bridge"


# --------------------------------------------------------------------------- families


def test_one_movement_family_per_session():
    targets = ["weak_core", "weak_glutes", "asymmetry", "weak_hamstrings", "upper_crossed"]
    for level in ("beginner", "intermediate", "advanced"):
        draft = build_program(targets, CAT, BuildOptions(level=level, max_exercises=10))
        assert len(families(draft)) == len(set(families(draft))), slugs(draft)
        assert not {"plank", "knee_plank"} <= set(slugs(draft))
        assert not {"split_squat", "bulgarian_split_squat"} <= set(slugs(draft))
        assert not {"hollow_body_hold", "tuck_hollow_hold"} <= set(slugs(draft))
        assert not {"dead_bug", "hollow_body_hold"} <= set(slugs(draft))
        assert not {"side_plank", "copenhagen_plank"} <= set(slugs(draft))


# One family per movement, easier to harder, as a physiotherapist groups them.
FAMILIES = [
    {"knee_plank", "plank", "plank_shoulder_taps"},
    {"side_plank_knees", "side_plank", "copenhagen_plank"},
    {"dead_bug", "tuck_hollow_hold", "hollow_body_hold"},
    {"glute_bridge", "hip_thrust", "single_leg_glute_bridge", "single_leg_hip_thrust"},
    {"split_squat", "bulgarian_split_squat"},
    {"hip_hinge_drill", "romanian_deadlift", "single_leg_romanian_deadlift"},
    {"band_assisted_nordic_curl", "glute_ham_raise", "nordic_curl"},
    {"band_pull_apart", "reverse_fly"},
    {"doorway_chest_stretch", "foam_roller_chest_opener"},
]


@pytest.mark.parametrize("members", FAMILIES, ids=lambda m: sorted(m)[0])
def test_easier_and_harder_versions_are_one_family_in_the_library(members):
    for member in members:
        assert {ex.slug for ex in CAT.family(member)} == members, member


@pytest.mark.parametrize("level", ["beginner", "intermediate", "advanced"])
def test_dead_bug_and_hollow_hold_are_never_in_one_session(level):
    draft = build_program(["weak_core"], CAT, BuildOptions(level=level, max_exercises=10))
    assert len({"dead_bug", "tuck_hollow_hold", "hollow_body_hold"} & set(slugs(draft))) == 1


# --------------------------------------------------------------------------- cautions


def test_an_exercise_with_a_client_caution_is_never_chosen():
    draft = build_program(
        ["weak_core"], CAT, BuildOptions(cautions=frozenset({"pregnancy"}), max_exercises=10)
    )
    for slug in slugs(draft):
        assert "pregnancy" not in CAT.exercise(slug).cautions
    # no trunk hold, from the knees either, and no lying on the back: the bird dog stands in
    assert slugs(draft) == ["bird_dog"]
    assert any("caution" in line for line in draft.summary)
    assert draft.cautions == ("pregnancy",)


def test_a_pregnant_client_with_weak_glutes_gets_glute_work_off_the_back():
    # physiotherapist review: no single-leg bridge held on the back, but glute work still
    # comes (standing and side-lying), and a short two-leg bridge is kept with a note
    pregnant = BuildOptions(cautions=frozenset({"pregnancy"}))
    draft = build_program(["weak_glutes"], CAT, pregnant)
    chosen = slugs(draft)
    assert "single_leg_glute_bridge" not in chosen
    assert {"split_squat", "clamshell"} <= set(chosen)
    for item in draft.items:
        exercise = CAT.exercise(item.exercise_slug)
        assert "pregnancy" not in exercise.cautions
        assert ("rest lying on your side" in item.notes) == exercise.supine, item.exercise_slug
    not_pregnant = build_program(["weak_glutes"], CAT)
    assert not any("rest lying on your side" in item.notes for item in not_pregnant.items)


def test_a_target_with_nothing_safe_left_is_skipped_with_a_reason():
    draft = build_program(
        ["weak_hamstrings", "weak_core"],
        CAT,
        BuildOptions(
            cautions=frozenset({"hamstring_strain"}),
            equipment=frozenset({"mat", "dumbbells", "partner", "glute_ham_machine", "wall"}),
        ),
    )
    assert draft.targets == ("weak_core",)
    assert any(
        "hamstring strain" in line and "treating clinician" in line for line in draft.summary
    )


# --------------------------------------------------------------------------- region matching


def test_asymmetry_work_matches_the_region_of_the_measured_difference():
    legs = build_program([Target("asymmetry", regions=("lower_body",))], CAT)
    trunk = build_program([Target("asymmetry", regions=("trunk",))], CAT)
    arms = build_program(
        [Target("asymmetry", regions=("upper_body",))], CAT, BuildOptions(level="intermediate")
    )
    for draft, region in ((legs, "lower_body"), (trunk, "trunk"), (arms, "upper_body")):
        for slug in slugs(draft):
            exercise = CAT.exercise(slug)
            assert exercise.unilateral and exercise.region == region, (region, slug)
    assert "single_arm_row" not in slugs(legs)


def test_asymmetry_with_no_matching_region_exercise_raises():
    with pytest.raises(NotCovered, match=r"\(measured in the upper body\) is not covered"):
        build_program(
            [Target("asymmetry", regions=("upper_body",))],
            CAT,
            BuildOptions(equipment=frozenset({"mat", "bench"})),  # a one-arm row needs weights
        )


# --------------------------------------------------------------------------- release


TIGHT = Measured(tight={"hip_flexors": "Left thigh stays above the table"})


def test_release_only_for_a_muscle_measured_tight():
    untested = build_program(["weak_glutes"], CAT)
    assert all(i.kind == "strength" for i in untested.items)
    assert any("No release work" in line for line in untested.summary)
    tight = build_program(["weak_glutes"], CAT, BuildOptions(), TIGHT)
    stretch = tight.items[0]
    assert stretch.exercise_slug == "half_kneeling_hip_flexor_stretch"
    assert "measured tight: left thigh stays above the table" in stretch.reason


def test_release_is_at_most_a_third_unless_the_trainer_raises_it():
    tight = Measured(tight={"hip_flexors": "tight", "chest": "tight", "quadriceps": "tight"})
    targets = ["weak_glutes", "upper_crossed", "weak_hamstrings"]
    capped = build_program(targets, CAT, BuildOptions(max_exercises=4), tight)
    release = [i for i in capped.items if i.kind == "release"]
    assert 3 * len(release) <= len(capped.items)
    assert any("left out to keep it to a third" in line for line in capped.summary)
    raised = build_program(targets, CAT, BuildOptions(max_exercises=6, release_limit=3), tight)
    assert len([i for i in raised.items if i.kind == "release"]) == 3


@settings(max_examples=60, deadline=None)
@given(st.integers(4, 10), st.lists(st.sampled_from(sorted(CAT.imbalances)), min_size=1))
def test_release_share_property(cap, wanted):
    wanted = list(dict.fromkeys(wanted))
    assume(len(wanted) <= cap)
    tight = Measured(tight=dict.fromkeys(("hip_flexors", "chest", "quadriceps"), "tight"))
    try:
        draft = build_program(wanted, CAT, BuildOptions(max_exercises=cap, level="advanced"), tight)
    except ValueError:
        assume(False)
    release = sum(i.kind == "release" for i in draft.items)
    assert 3 * release <= len(draft.items)


# --------------------------------------------------------------------------- dose from capacity


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 600))
def test_start_amount_is_about_two_thirds(measured):
    amount = start_amount(measured, 0.6, 0.7)
    assert amount >= 1
    assert 0.6 * measured - 0.5 <= amount <= 0.7 * measured + 0.5 or amount == 1


def test_hold_starts_from_the_measured_plank_and_says_so():
    measured = Measured(capacities={"plank": Capacity(25, "seconds", "Front plank hold: 25 s")})
    plank = item(build_program(["weak_core"], CAT, BuildOptions(), measured), "plank")
    assert plank.hold_seconds == 15
    assert "Front plank hold: 25 s" in plank.dose_reason
    assert plank.weekly[1].hold_seconds == 18  # a fifth more, not 5 s more


def test_a_capacity_under_the_exercise_bounds_steps_down_to_the_easier_version():
    measured = Measured(
        capacities={
            "plank": Capacity(12, "seconds", "Front plank hold: 12 s"),
            "knee_plank": Capacity(12, "seconds", "Front plank hold: 12 s"),
        }
    )
    draft = build_program(["weak_core"], CAT, BuildOptions(), measured)
    assert "plank" not in slugs(draft)
    knee = item(draft, "knee_plank")
    assert knee.hold_seconds == 8 and knee.goal.startswith("Plank")


PLANK_12 = Capacity(12, "seconds", "Front plank hold: 12 s")


def test_a_short_plank_keeps_its_harder_versions_out_at_intermediate():
    # the plank test stands for the plank family: 12 s rules out the full plank (8 s is
    # under its 10 s floor) and the shoulder taps, which need a mastered plank
    for level in ("intermediate", "advanced"):
        measured = Measured(capacities={"plank": PLANK_12})
        draft = build_program(["weak_core"], CAT, BuildOptions(level=level), measured)
        assert not {"plank", "plank_shoulder_taps"} & set(slugs(draft)), slugs(draft)
        knee = item(draft, "knee_plank")
        assert knee.hold_seconds == 8
        assert "Front plank hold: 12 s" in knee.dose_reason
        assert "plank" in knee.dose_reason.split("measured")[1]


def test_a_mastered_plank_allows_the_taps_and_their_reason_quotes_the_plank():
    measured = Measured(capacities={"plank": Capacity(75, "seconds", "Front plank hold: 75 s")})
    draft = build_program(["weak_core"], CAT, BuildOptions(level="intermediate"), measured)
    taps = item(draft, "plank_shoulder_taps")
    assert (taps.sets, taps.reps) == (3, 10)
    assert "Front plank hold: 75 s" in taps.dose_reason
    assert "highest starting dose" in taps.dose_reason


def test_an_easier_version_is_dosed_from_the_harder_one_measured():
    measured = Measured(capacities={"side_plank": Capacity(18, "seconds", "Side plank hold: 18 s")})
    draft = build_program(["weak_core"], CAT, BuildOptions(max_exercises=10), measured)
    knees = item(draft, "side_plank_knees")
    assert knees.hold_seconds == 12
    assert "Side plank hold: 18 s" in knees.dose_reason
    assert "a harder version" in knees.dose_reason


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 600),
    st.sampled_from(["beginner", "intermediate", "advanced"]),
    st.sampled_from(["plank", "knee_plank"]),
)
def test_plank_family_never_starts_above_the_measured_plank(seconds, level, tested):
    text = f"Front plank hold: {seconds} s"
    measured = Measured(capacities={tested: Capacity(seconds, "seconds", text)})
    options = BuildOptions(level=level, max_exercises=10)
    draft = build_program(["weak_core"], CAT, options, measured)
    (chosen,) = [i for i in draft.items if CAT.exercise(i.exercise_slug).family == "plank"]
    exercise = CAT.exercise(chosen.exercise_slug)
    assert text in chosen.dose_reason
    if chosen.exercise_slug == "plank_shoulder_taps":
        assert seconds >= CAT.exercise(tested).dose.bounds[1]  # the tested one is mastered
    else:
        low, high = exercise.dose.bounds
        assert low <= chosen.hold_seconds <= high
        assert chosen.hold_seconds <= max(low, round(0.7 * seconds + 0.5))


def test_a_dead_bug_the_client_cannot_control_keeps_the_hollow_holds_out():
    def core(dead_bug_back_lifts):
        result = score(Q, {"front_plank_hold": 40, "dead_bug_back_lifts": dead_bug_back_lifts})
        targets = targets_from_scores(result.imbalances, ["weak_core"])
        options = BuildOptions(level="intermediate", max_exercises=10)
        return slugs(build_program(targets, CAT, options, measured_from_result(result)))

    assert "dead_bug" in core(True)
    result = score(Q, {"front_plank_hold": 40, "dead_bug_back_lifts": True})
    targets = targets_from_scores(result.imbalances, ["weak_core"])
    draft = build_program(targets, CAT, BuildOptions(level="intermediate"))
    assert "Observed: lower back lifts off the floor" in item(draft, "dead_bug").dose_reason
    assert not {"tuck_hollow_hold", "hollow_body_hold"} & set(core(True))
    assert "hollow_body_hold" in core(False)


def test_every_observation_an_exercise_is_tested_by_is_in_the_questionnaire():
    known = {ind.id for group in Q.indicators.values() for ind in group}
    for exercise in CAT.exercises.values():
        assert set(exercise.tested_by) <= known, exercise.slug


@pytest.mark.parametrize("level", ["intermediate", "advanced"])
def test_a_weak_hamstring_bridge_count_keeps_the_harder_hamstring_exercises_out(level):
    # the bridge test's finding stands for the Romanian deadlift and the Nordic curl: 8 reps
    # (a marked shortfall) is no basis for Nordics or single-leg deadlifts at any level
    result = score(Q, {"hamstring_bridge_reps_left": 8, "hamstring_bridge_reps_right": 8})
    targets = targets_from_scores(result.imbalances, ["weak_hamstrings"])
    options = BuildOptions(level=level, max_exercises=10)
    draft = build_program(targets, CAT, options, measured_from_result(result))
    chosen = set(slugs(draft))
    assert not chosen & {
        "nordic_curl",
        "band_assisted_nordic_curl",
        "glute_ham_raise",
        "single_leg_romanian_deadlift",
    }
    assert {"romanian_deadlift", "single_leg_hamstring_bridge"} <= chosen
    assert "left 8 reps, right 8 reps" in item(draft, "romanian_deadlift").dose_reason


MEASURABLE = sorted(
    (ex.family, ex.slug)
    for ex in CAT.exercises.values()
    if ex.kind == "strength" and len(CAT.family(ex.slug)) > 1 and ex.imbalances
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(MEASURABLE),
    st.integers(1, 300),
    st.sampled_from(["beginner", "intermediate", "advanced"]),
)
def test_a_measured_exercise_doses_and_gates_its_whole_family(measured_pair, amount, level):
    family, tested = measured_pair
    tested_ex = CAT.exercise(tested)
    unit = "seconds" if tested_ex.dose.hold_seconds is not None else "reps"
    text = f"{tested_ex.name} test: {amount} {'s' if unit == 'seconds' else 'reps'}"
    measured = Measured(capacities={tested: Capacity(amount, unit, text)})
    options = BuildOptions(level=level, max_exercises=10)
    for slug in tested_ex.imbalances:
        target = Target(slug, regions=(tested_ex.region,)) if slug == "asymmetry" else slug
        draft = build_program([target], CAT, options, measured)
        for entry in draft.items:
            exercise = CAT.exercise(entry.exercise_slug)
            if exercise.family != family:
                continue
            assert text in entry.dose_reason  # "why this dose" quotes the measurement
            unbounded = MAX_HOLD if unit == "seconds" else MAX_REPS
            top = tested_ex.dose.bounds[1] if tested_ex.dose.bounds else unbounded
            harder = entry.exercise_slug in _harder_chain(tested) or (
                LEVELS.index(exercise.level) > LEVELS.index(tested_ex.level)
            )
            if harder and entry.exercise_slug != tested:
                assert amount >= top, (entry.exercise_slug, amount)
            start = entry.hold_seconds if unit == "seconds" else entry.reps
            if (exercise.dose.hold_seconds is not None) == (unit == "seconds"):
                default = (MIN_HOLD, MAX_HOLD) if unit == "seconds" else (MIN_REPS, MAX_REPS)
                low, high = exercise.dose.bounds or default
                assert low <= start <= high
                assert start <= max(low, 0.7 * amount + 0.5)


def _harder_chain(slug):
    out, current = [], CAT.exercise(slug)
    while current.harder and current.harder not in out:
        out.append(current.harder)
        current = CAT.exercise(current.harder)
    return out


def test_unmeasured_exercises_keep_the_library_dose_and_say_so():
    bug = item(build_program(["weak_core"], CAT), "dead_bug")
    assert (bug.sets, bug.reps) == (3, 8)
    assert "nothing in the assessment measured" in bug.dose_reason


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 600))
def test_dose_from_capacity_property(seconds):
    measured = Measured(
        capacities={
            name: Capacity(seconds, "seconds", f"Side plank hold: {seconds} s")
            for name in ("side_plank", "side_plank_knees")
        }
    )
    draft = build_program(
        [Target("asymmetry", regions=("trunk",))], CAT, BuildOptions(level="intermediate"), measured
    )
    chosen = draft.items[0]
    exercise = CAT.exercise(chosen.exercise_slug)
    low, high = exercise.dose.bounds
    assert low <= chosen.hold_seconds <= high
    wanted = start_amount(seconds, 0.6, 0.7)
    if low <= wanted <= high:
        assert chosen.hold_seconds == wanted
    assert f"{seconds} s" in chosen.dose_reason


# --------------------------------------------------------------------------- why


def test_each_item_quotes_the_finding_it_addresses():
    result = score(
        Q,
        {
            "front_plank_hold": 15,
            "dead_bug_back_lifts": True,
            "side_plank_hold_left": 12,
            "side_plank_hold_right": 13,
        },
    )
    draft = build_program(
        targets_from_scores(result.imbalances), CAT, BuildOptions(), measured_from_result(result)
    )
    assert "dead bug" in item(draft, "dead_bug").reason.split("addresses:")[1]
    assert "front plank held 15 s" in item(draft, "plank").reason
    assert "marked; threshold under 30 s" in item(draft, "plank").reason


def test_a_trainer_confirmed_imbalance_without_a_finding_says_so():
    reason = build_program(["weak_core"], CAT).items[0].reason
    assert "confirmed by the trainer without a test finding" in reason


def test_targets_from_scores_follow_the_confirmed_order():
    result = score(Q, {"front_plank_hold": 10, "single_leg_bridge_hold_left": 5})
    targets = targets_from_scores(result.imbalances, ["weak_glutes", "weak_core"])
    assert [t.slug for t in targets] == ["weak_glutes", "weak_core"]
    assert isinstance(targets[0].evidence[0], Evidence)
    assert [t.slug for t in targets_from_scores(result.imbalances)] == [
        i.slug for i in result.flagged
    ]


# --------------------------------------------------------------------------- progression, storage


def test_weekly_progression_adds_reps_weekly_and_a_set_mid_way():
    draft = build_program(["weak_core"], CAT, BuildOptions(weeks=6))
    plank = item(draft, "plank")
    assert [(w.week, w.sets, w.hold_seconds) for w in plank.weekly] == [
        (1, 3, 30), (2, 3, 35), (3, 3, 40), (4, 4, 40), (5, 4, 45), (6, 4, 50),
    ]  # fmt: skip


def test_a_five_second_hold_grows_by_a_second_not_by_double():
    measured = Measured(
        capacities={
            "single_leg_glute_bridge": Capacity(8, "seconds", "Single-leg glute bridge hold: 8 s")
        }
    )
    draft = build_program(["asymmetry"], CAT, BuildOptions(level="intermediate"), measured)
    bridge = item(draft, "single_leg_glute_bridge")
    assert [w.hold_seconds for w in bridge.weekly] == [5, 6, 6, 7]
    assert "about a fifth" in " ".join(draft.summary)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(s for s, ex in CAT.exercises.items() if ex.kind == "strength")),
    st.integers(MIN_SETS, MAX_SETS),
    st.integers(1, 120),
    st.integers(4, 6),
)
def test_weekly_progression_is_gradual_for_every_exercise(slug, sets, amount, weeks):
    exercise = CAT.exercise(slug)
    hold = exercise.dose.hold_seconds is not None
    weekly = weekly_doses(
        sets, None if hold else min(amount, MAX_REPS), amount if hold else None, weeks, True
    )
    assert len(weekly) == weeks
    for before, after in zip(weekly, weekly[1:], strict=False):
        per_set_before = before.hold_seconds if hold else before.reps
        per_set_after = after.hold_seconds if hold else after.reps
        grown = per_set_after - per_set_before
        assert 0 <= after.sets - before.sets <= 1
        assert 0 <= grown <= max(1, 0.2 * per_set_before)  # a rep, or a fifth of a hold
        if after.sets > before.sets:
            assert grown == 0 and before.sets >= 3  # one more set adds at most a third
        volume_before = before.sets * per_set_before
        assert after.sets * per_set_after <= max(volume_before + before.sets, volume_before * 4 / 3)


def test_summary_tips_and_minutes():
    draft = build_program(["weak_glutes"], CAT, BuildOptions(sessions_per_week=2, weeks=5))
    assert "track_progress" in draft.tips
    assert draft.summary[0].startswith("2 sessions a week for 5 weeks, about ")
    assert draft.session_minutes % 5 == 0


def test_item_dose_text():
    draft = build_program([Target("asymmetry", regions=("lower_body",))], CAT)
    assert item_dose_text(draft.items[0]).endswith("each side, rest 60 s")


def test_draft_round_trips_through_json():
    draft = build_program(
        ["weak_glutes", "weak_core"], CAT, BuildOptions(cautions=frozenset({"neck_pain"})), TIGHT
    )
    assert draft_from_dict(json.loads(json.dumps(draft_to_dict(draft)))) == draft


def test_a_schema_1_draft_still_reads():
    stored = draft_to_dict(build_program(["weak_core"], CAT))
    stored["schema"] = 1
    for entry in stored["items"]:
        for key in ("dose_reason", "goal", "cautions"):
            entry.pop(key)
    stored.pop("cautions")
    draft = draft_from_dict(stored)
    assert draft.items[0].dose_reason == "" and draft.cautions == ()


def test_draft_from_dict_rejects_garbage():
    with pytest.raises(ValueError, match="not a stored program draft"):
        draft_from_dict({"items": [{}]})


def test_diff_items_describes_changes():
    old = build_program(["weak_glutes", "weak_core"], CAT, BuildOptions(max_exercises=6))
    items = list(old.items)
    changed = [replace(items[0], sets=4), *items[2:]]
    changes = diff_items(items, changed)
    assert any(c.startswith(f"Removed {items[1].name}") for c in changes)
    assert any("→ 4 x" in c for c in changes)
    assert diff_items(items, items) == []


# --------------------------------------------------------------------------- properties

EQUIPMENT = sorted({e for ex in CAT.exercises.values() for e in ex.equipment} - {"none"})


@st.composite
def scenarios(draw):
    order = draw(st.permutations(list(CAT.imbalances)))
    count = draw(st.integers(min_value=1, max_value=len(order)))
    targets = [
        Target(
            slug,
            weak_side=draw(st.sampled_from([None, "left", "right"])),
            regions=tuple(draw(st.sets(st.sampled_from(["lower_body", "trunk", "upper_body"])))),
        )
        for slug in order[:count]
    ]
    options = BuildOptions(
        level=draw(st.sampled_from(["beginner", "intermediate", "advanced"])),
        weeks=draw(st.integers(4, 6)),
        equipment=draw(st.one_of(st.none(), st.frozensets(st.sampled_from(EQUIPMENT)))),
        max_exercises=draw(st.integers(4, 10)),
        cautions=draw(st.frozensets(st.sampled_from(sorted(CAT.cautions)), max_size=3)),
    )
    tight = draw(st.sets(st.sampled_from(["hip_flexors", "chest", "quadriceps"])))
    return targets, options, Measured(tight=dict.fromkeys(tight, "measured tight"))


def _build_or_skip(targets, options, measured):
    try:
        return build_program(targets, CAT, options, measured)
    except NotCovered as exc:
        message = str(exc)
        assert "is not covered" in message and not internal_names(message), message
        assume(False)
    except ValueError as exc:
        message = str(exc)
        assert len(targets) > options.max_exercises or "caution" in message, message
        assert not internal_names(message), message
        assume(False)


@settings(max_examples=250, deadline=None)
@given(scenarios())
def test_program_invariants(scenario):
    targets, options, measured = scenario
    draft = _build_or_skip(targets, options, measured)
    assert isinstance(draft, ProgramDraft)
    items = draft.items
    assert len(items) <= options.max_exercises
    assert len(set(families(draft))) == len(items)  # one movement family per session
    for slug in draft.targets:
        assert any(i.kind == "strength" and i.imbalance == slug for i in items)
    kinds = [i.kind for i in items]
    assert kinds == sorted(kinds, key=lambda k: k != "release")
    assert 3 * kinds.count("release") <= len(items)
    for entry in items:
        exercise = CAT.exercise(entry.exercise_slug)
        assert not set(exercise.cautions) & options.cautions
        if options.equipment is not None:
            assert set(exercise.equipment) - {"none"} <= options.equipment
        if entry.kind == "release":
            assert set(exercise.target_muscles) & set(measured.tight)
        if entry.imbalance == "asymmetry":
            target = next(t for t in targets if t.slug == "asymmetry")
            assert exercise.unilateral
            assert not target.regions or exercise.region in target.regions
        for w in entry.weekly:
            assert MIN_SETS <= w.sets <= MAX_SETS
            assert w.reps is None or MIN_REPS <= w.reps <= MAX_REPS
            assert w.hold_seconds is None or 1 <= w.hold_seconds <= MAX_HOLD
        assert entry.dose_reason


@settings(max_examples=80, deadline=None)
@given(scenarios())
def test_same_input_gives_the_same_program(scenario):
    targets, options, measured = scenario
    draft = _build_or_skip(targets, options, measured)
    assert build_program(list(targets), CAT, replace(options), measured) == draft
    assert draft_from_dict(json.loads(json.dumps(draft_to_dict(draft)))) == draft


def test_a_test_stopped_by_pain_keeps_its_movement_family_out():
    measured = Measured(painful={"Front plank hold": ("plank",)})
    draft = build_program(["weak_core"], CAT, BuildOptions(max_exercises=10), measured)
    assert not {"plank", "knee_plank", "plank_shoulder_taps"} & set(slugs(draft))
    assert "dead_bug" in slugs(draft)
    assert any("stopped by pain: Front plank hold" in line for line in draft.summary)


TRUNK_HOLDS = {
    "plank",
    "knee_plank",
    "side_plank",
    "side_plank_knees",
    "hollow_body_hold",
    "tuck_hollow_hold",
}


def test_a_hold_stopped_by_pain_holds_back_every_hold_loading_that_region():
    # physiotherapist review: a front plank stopped by pain holds back the other trunk holds
    # (side planks, hollow holds) even when the trainer confirms a weak core anyway, pending a
    # clinician's look; trunk work moved with control (dead bug, bird dog) stays
    measured = Measured(
        painful={"Front plank hold": ("plank", "knee_plank")},
        pain_tests={"Front plank hold": PainTest("trunk", "seconds", ("abdominals",))},
    )
    side = Evidence("Left side plank held 12 s (marked; threshold under 30 s)", ("obliques",))
    draft = build_program(
        [Target("weak_core", evidence=(side,))], CAT, BuildOptions(max_exercises=10), measured
    )
    chosen = set(slugs(draft))
    assert not chosen & TRUNK_HOLDS and "plank_shoulder_taps" not in chosen
    assert chosen & {"dead_bug", "bird_dog"}
    line = next(line for line in draft.summary if "Front plank hold" in line)
    assert "the other holds loading the trunk (" in line and "Side plank" in line
    assert "pending a clinician's look" in line


def test_repetitions_stopped_by_pain_hold_back_work_for_the_muscles_tested():
    measured = Measured(
        painful={"Single-leg hamstring bridge repetitions": ("single_leg_hamstring_bridge",)},
        pain_tests={
            "Single-leg hamstring bridge repetitions": PainTest(
                "lower_body", "reps", ("hamstrings",)
            )
        },
    )
    draft = build_program(["weak_glutes"], CAT, BuildOptions(max_exercises=10), measured)
    for slug in slugs(draft):
        assert "hamstrings" not in CAT.exercise(slug).target_muscles, slug
    assert {"clamshell", "split_squat"} <= set(slugs(draft))


def test_a_short_front_plank_caps_the_hollow_hold_and_goals_are_harder_exercises():
    # physiotherapist review: hollow body hold 3 x 20 s for a 12 s front plank, with
    # "Goal: Dead bug", an easier exercise
    result = score(Q, {"front_plank_hold": 12})
    targets = targets_from_scores(result.imbalances)
    options = BuildOptions(level="intermediate")
    draft = build_program(targets, CAT, options, measured_from_result(result))
    hollow = item(draft, "hollow_body_hold")
    assert hollow.hold_seconds <= 8 and "Front plank hold: 12 s" in hollow.dose_reason
    for entry in draft.items:
        if entry.hold_seconds is not None:
            assert entry.hold_seconds <= 12, entry.exercise_slug
    for level in LEVELS:
        for slug in ARTICLE:
            for entry in build_program([slug], CAT, BuildOptions(level=level)).items:
                if entry.goal:
                    goal = next(e for e in CAT.exercises.values() if entry.goal.startswith(e.name))
                    chosen = CAT.exercise(entry.exercise_slug)
                    harder = LEVELS.index(goal.level) > LEVELS.index(chosen.level) or (
                        goal.family == chosen.family and goal.slug != chosen.slug
                    )
                    assert harder and goal.slug != "dead_bug", (entry.exercise_slug, entry.goal)


# --------------------------------------------------------------------------- matching the finding


def build_from(answers, level="beginner"):
    result = score(Q, answers)
    targets = targets_from_scores(result.imbalances)
    return build_program(targets, CAT, BuildOptions(level=level), measured_from_result(result))


NORMAL = {
    "front_plank_hold": 60,
    "side_plank_hold_left": 30,
    "side_plank_hold_right": 30,
    "single_leg_bridge_hold_left": 30,
    "single_leg_bridge_hold_right": 30,
    "hamstring_bridge_reps_left": 25,
    "hamstring_bridge_reps_right": 25,
}


@pytest.mark.parametrize("level", ["beginner", "intermediate", "advanced"])
def test_a_glute_bridge_difference_gets_glute_work_never_a_test_measured_symmetric(level):
    # physiotherapist review: 10 s against 30 s on the single-leg glute bridge added
    # hamstring bridges (measured 25/25) and the Copenhagen plank (side plank 30/30)
    answers = {**NORMAL, "single_leg_bridge_hold_left": 10}
    draft = build_from(answers, level)
    chosen = set(slugs(draft))
    assert not chosen & {"single_leg_hamstring_bridge", "copenhagen_plank", "side_plank"}
    for entry in draft.items:
        if "glute bridge hold: left 10 s, right 30 s" in entry.reason:
            exercise = CAT.exercise(entry.exercise_slug)
            assert exercise.unilateral and "glutes" in exercise.target_muscles


def test_a_weak_side_plank_gets_lateral_trunk_work_not_plank_or_hollow_holds():
    draft = build_from({**NORMAL, "side_plank_hold_left": 25})
    chosen = set(slugs(draft))
    assert CAT.exercise(draft.items[0].exercise_slug).family in {"side_plank", "hollow"}
    assert "side_plank" in {CAT.exercise(s).family for s in chosen}
    assert not chosen & {"plank", "knee_plank", "plank_shoulder_taps", "hollow_body_hold"}
    assert not chosen & {"tuck_hollow_hold", "bird_dog"}


def test_a_weak_front_plank_never_gets_a_side_plank_measured_normal():
    # side plank 60/60 is normal: it is no work for the front plank, and its 60 s sets no dose
    answers = {**NORMAL, "front_plank_hold": 20, "side_plank_hold_left": 60}
    answers["side_plank_hold_right"] = 60
    chosen = slugs(build_from(answers))
    assert "plank" in chosen
    assert not {CAT.exercise(s).family for s in chosen} & {"side_plank"}


# --------------------------------------------------------------------------- physiotherapist review


def test_a_suggested_version_never_carries_the_clients_caution_nor_a_family_held_for_pain():
    from trainer_app.programs.builder import suggested_variant

    # the dead bug's harder versions (tucked hollow, hollow hold) bend and load the spine
    assert suggested_variant("dead_bug", "harder", CAT).slug == "tuck_hollow_hold"
    assert suggested_variant("dead_bug", "harder", CAT, {"osteoporosis"}) is None
    # the next allowed version along the chain, skipping one with the caution
    assert suggested_variant("hollow_body_hold", "easier", CAT).slug == "tuck_hollow_hold"
    assert suggested_variant("hollow_body_hold", "easier", CAT, {"neck_pain"}).slug == "dead_bug"
    # a family held back for pain is offered in neither direction
    held = held_for_pain(Measured(painful={"Front plank hold": ("plank",)}), CAT)
    assert {"knee_plank", "plank", "plank_shoulder_taps"} <= held
    assert suggested_variant("knee_plank", "harder", CAT).slug == "plank"
    assert suggested_variant("knee_plank", "harder", CAT, held=held) is None


@pytest.mark.parametrize("caution", sorted(CAT.cautions))
def test_no_goal_or_suggestion_names_an_exercise_with_the_clients_caution(caution):
    from trainer_app.programs.builder import suggested_variant

    for slug in CAT.imbalances:
        options = BuildOptions(cautions=frozenset({caution}), skip_uncovered=True)
        try:
            draft = build_program([slug], CAT, options)
        except ValueError:
            continue  # every option carries the caution: nothing to suggest
        names = {ex.name: ex for ex in CAT.exercises.values()}
        for item in draft.items:
            goal = item.goal.partition(" (the article's")[0]
            if goal:
                assert caution not in names[goal].cautions, (slug, item.exercise_slug, goal)
            for link in ("easier", "harder"):
                other = suggested_variant(item.exercise_slug, link, CAT, {caution})
                assert other is None or caution not in other.cautions


HANNA = {
    "osteoporosis": True,
    "front_plank_hold": 12,
    "dead_bug_back_lifts": True,
    "side_plank_hold_left": 40,
    "side_plank_hold_right": 25,
    "single_leg_bridge_hold_left": 20,
    "single_leg_bridge_hold_right": 30,
    "hip_drop_left": True,
    "hip_drop_right": False,
    "thomas_test_left": True,
    "thomas_test_right": False,
    "hamstring_bridge_reps_left": 22,
    "hamstring_bridge_reps_right": 22,
}


def _hanna_draft(answers=HANNA):
    result = score(Q, answers)
    targets = targets_from_scores(result.imbalances)
    options = BuildOptions(cautions=frozenset({"osteoporosis"}))
    return build_program(targets, CAT, options, measured_from_result(result))


def test_each_one_sided_finding_names_its_own_side_on_every_card_addressing_it():
    items = {i.exercise_slug: i for i in _hanna_draft().items}
    # side plank: the right measured weaker; the left hip drops and the left bridge is weaker
    side_plank = next(i for s, i in items.items() if s.startswith("side_plank"))
    assert "weaker (right) side" in side_plank.notes
    lower = [i for i in items.values() if i.notes and i is not side_plank]
    assert lower and all("weaker (left) side" in i.notes for i in lower)
    assert not any("Start with the weaker side" in i.notes for i in items.values())


def test_a_stretch_for_a_muscle_tight_on_one_side_is_dosed_for_that_side_only():
    from trainer_app.programs.builder import item_dose_text

    stretch = next(
        i for i in _hanna_draft().items if i.exercise_slug == "half_kneeling_hip_flexor_stretch"
    )
    assert (stretch.side, stretch.per_side) == ("left", False)
    assert item_dose_text(stretch).startswith("2 x 30 s hold on the left side")
    assert "each side" not in stretch.dose_reason
    # tight on both sides: each side
    both = _hanna_draft({**HANNA, "thomas_test_right": True})
    stretch = next(i for i in both.items if i.exercise_slug == "half_kneeling_hip_flexor_stretch")
    assert (stretch.side, stretch.per_side) == (None, True)
    # the side survives storage
    from trainer_app.programs.builder import item_from_dict, item_to_dict

    one = next(
        i for i in _hanna_draft().items if i.exercise_slug == "half_kneeling_hip_flexor_stretch"
    )
    assert item_from_dict(json.loads(json.dumps(item_to_dict(one)))) == one


def test_a_finding_not_coverable_for_pain_or_a_caution_never_asks_for_equipment():
    test = Q.indicator("hamstring_bridge_reps")
    painful = {test.label: (*test.doses, *test.exercises)}
    evidence = Evidence("Right single-leg hamstring bridge managed 12 reps", ("hamstrings",))
    with pytest.raises(NotCovered) as caught:
        build_program(
            [Target("weak_core"), Target("weak_hamstrings", evidence=(evidence,))],
            CAT,
            BuildOptions(),
            Measured(painful=painful),
        )
    message = str(caught.value)
    assert "stopped by pain" in message and "equipment" not in message
    assert caught.value.equipment is False
    assert not internal_names(message)
    # a caution is named as the cause of its exercises, beside the equipment that would help
    weak = Evidence(
        "Right single-leg hamstring bridge managed 12 reps",
        ("hamstrings",),
        ("single_leg_hamstring_bridge",),
    )
    with pytest.raises(NotCovered) as caught:
        build_program(
            [Target("weak_hamstrings", evidence=(weak,))],
            CAT,
            BuildOptions(equipment=frozenset({"none"}), cautions=frozenset({"hamstring_strain"})),
        )
    message = str(caught.value)
    assert "Ticking “Bench” (Single-leg hamstring bridge) would cover it" in message
    assert "Romanian deadlift and Single-leg Romanian deadlift carry a caution the client " in (
        message
    )
    assert "(hamstring strain in the last three months)" in message
    assert caught.value.equipment is True
