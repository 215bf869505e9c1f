"""Pins every fact the builtin catalog takes from the seed article, and its content standard."""

from __future__ import annotations

import pytest

from trainer_app.library.catalog import EQUIPMENT, LEVELS, REGIONS, default_catalog

CATALOG = default_catalog()

# The article's four imbalances, each with its three exercises in the article's order.
ARTICLE_IMBALANCES = {
    "weak_glutes": [
        ("hip_thrust", "Hip thrust"),
        ("glute_bridge", "Glute bridge"),
        ("bulgarian_split_squat", "Bulgarian split squat"),
    ],
    "weak_core": [
        ("plank", "Plank"),
        ("dead_bug", "Dead bug"),
        ("hollow_body_hold", "Hollow body hold"),
    ],
    "weak_hamstrings": [
        ("romanian_deadlift", "Romanian deadlift"),
        ("nordic_curl", "Nordic curl"),
        ("glute_ham_raise", "Glute-ham raise"),
    ],
    "upper_crossed": [
        ("face_pull", "Face pull"),
        ("reverse_fly", "Reverse fly"),
        ("shrug", "Shrug"),
    ],
}

# The article's step-by-step instructions, verbatim, to prove we kept facts but not words.
ARTICLE_STEPS = {
    "hip_thrust": [
        "Sit on the ground with your upper back resting on a bench.",
        "Keep your feet flat and knees bent.",
        "Drive your hips upward, squeezing your glutes.",
        "Lower back down slowly.",
    ],
    "plank": [
        "Support your body on your forearms and toes.",
        "Keep your body straight and core engaged.",
        "Hold for a set duration.",
    ],
    "romanian_deadlift": [
        "Hold a barbell or dumbbells.",
        "Slightly bend your knees and hinge at the hips.",
        "Lower until you feel a stretch in your hamstrings.",
        "Return to standing by engaging the glutes.",
    ],
    "face_pull": [
        "Use a resistance band or cable machine.",
        "Pull the rope toward your face with high elbows.",
        "Control the movement back to the starting position.",
    ],
}

# Facts from the article's instructions, as words that must appear in our own steps.
ARTICLE_STEP_FACTS = {
    "hip_thrust": ["bench", "shoulder", "feet flat", "knees bent", "hips", "glutes", "slowly"],
    "plank": ["forearms", "toes", "straight", "hold"],
    "romanian_deadlift": [
        "barbell",
        "dumbbells",
        "bend",
        "hinge",
        "stretch",
        "hamstrings",
        "standing",
        "glutes",
    ],
    "face_pull": ["band", "cable", "face", "elbows", "high", "slowly"],
}

ARTICLE_TIPS = {
    "train_weak_muscles": "weak muscles",
    "desk_posture": "posture",
    "myofascial_release": "foam rolling",
    "functional_movement": "functional",
    "track_progress": "progress",
}


def test_imbalances_in_order():
    assert list(CATALOG.imbalances) == [
        "weak_glutes",
        "weak_core",
        "weak_hamstrings",
        "upper_crossed",
        "asymmetry",
    ]
    assert [im.from_article for im in CATALOG.imbalances.values()] == [True] * 4 + [False]


@pytest.mark.parametrize("slug", list(ARTICLE_IMBALANCES))
def test_article_exercise_triples(slug):
    imbalance = CATALOG.imbalance(slug)
    expected = ARTICLE_IMBALANCES[slug]
    assert list(imbalance.exercises) == [s for s, _ in expected]
    for ex_slug, name in expected:
        exercise = CATALOG.exercise(ex_slug)
        assert exercise.name == name
        assert exercise.kind == "strength"
        assert slug in exercise.imbalances


def test_article_imbalance_names_and_muscles():
    im = CATALOG.imbalances
    assert im["upper_crossed"].name == "Weak upper back and overactive chest"
    assert im["asymmetry"].name == "Left/right strength difference"
    assert im["weak_glutes"].weak_muscles == ("glutes",)
    assert set(im["weak_glutes"].overactive_muscles) == {"lower_back", "hip_flexors"}
    assert set(im["weak_core"].weak_muscles) == {"abdominals", "obliques"}
    assert set(im["weak_core"].overactive_muscles) == {"lower_back", "hip_flexors"}
    assert im["weak_hamstrings"].weak_muscles == ("hamstrings",)
    # The lower back is overloaded, not tight, in the article's hamstring pattern.
    assert "lower_back" not in im["weak_hamstrings"].overactive_muscles
    # The article's upper-back pattern: weak upper trapezius (shrugs) with an overactive
    # chest; no muscle is both strengthened and released in the same imbalance.
    assert {"upper_trapezius", "mid_back", "rear_deltoids"} <= set(im["upper_crossed"].weak_muscles)
    assert im["upper_crossed"].overactive_muscles == ("chest",)
    assert "upper_trapezius_stretch" not in im["upper_crossed"].release
    assert "upper-crossed" in im["upper_crossed"].trainer_note
    for imbalance in im.values():
        assert not set(imbalance.weak_muscles) & set(imbalance.overactive_muscles)


def test_article_problem_statements():
    im = CATALOG.imbalances
    assert "gluteus maximus, medius and minimus" in im["weak_glutes"].problem
    assert "lower back" in im["weak_glutes"].problem
    assert "spine" in im["weak_core"].problem
    assert "pelvis" in im["weak_hamstrings"].problem
    assert "rounded-shoulder posture" in im["upper_crossed"].problem
    assert "chest" in im["upper_crossed"].problem


@pytest.mark.parametrize("slug", list(ARTICLE_STEPS))
def test_article_steps_keep_facts_in_own_words(slug):
    steps = CATALOG.exercise(slug).steps
    joined = " ".join(steps).lower()
    for fact in ARTICLE_STEP_FACTS[slug]:
        assert fact in joined, f"{slug} steps lost the article's fact {fact!r}"
    for sentence in ARTICLE_STEPS[slug]:
        assert sentence.lower().rstrip(".") not in joined, f"{slug} copies {sentence!r}"


def test_article_tips_present():
    tips = {tip.slug: tip for tip in CATALOG.tips}
    for slug, phrase in ARTICLE_TIPS.items():
        assert tips[slug].from_article, slug
        assert phrase in f"{tips[slug].title} {tips[slug].text}".lower(), slug
    assert [t.slug for t in CATALOG.tips if t.from_article] == list(ARTICLE_TIPS)


def test_no_advertising_in_content():
    for obj in [*CATALOG.exercises.values(), *CATALOG.imbalances.values(), *CATALOG.tips]:
        text = repr(obj.model_dump()).lower()
        assert "http" not in text and "poster" not in text and "shop" not in text, obj


@pytest.mark.parametrize("exercise", list(CATALOG.exercises.values()), ids=lambda e: e.slug)
def test_builtin_exercise_standard(exercise):
    assert exercise.source == "builtin"
    assert 3 <= len(exercise.steps) <= 7
    assert 2 <= len(exercise.cues) <= 4
    assert 2 <= len(exercise.mistakes) <= 4
    assert exercise.summary and exercise.name
    assert exercise.target_muscles and set(exercise.target_muscles) <= set(REGIONS)
    assert exercise.equipment and set(exercise.equipment) <= set(EQUIPMENT)
    assert exercise.level in LEVELS
    # general mobility (thoracic extension, neck stretch) is only ever added by hand
    assert exercise.imbalances or exercise.kind == "release", "strength work serves an imbalance"
    assert all(s[0].isupper() and s.endswith(".") for s in exercise.steps)
    dose = exercise.dose
    assert (dose.reps is None) != (dose.hold_seconds is None)
    assert dose.per_side == (dose.text().find("each side") >= 0)
    if exercise.unilateral:
        assert dose.per_side


def test_catalog_size():
    assert 25 <= len(CATALOG.exercises) <= 40


@pytest.mark.parametrize(
    "exercise",
    [e for e in CATALOG.exercises.values() if e.easier or e.harder],
    ids=lambda e: e.slug,
)
def test_variants_resolve(exercise):
    rank = LEVELS.index
    if exercise.easier:
        easier = CATALOG.exercise(exercise.easier)
        assert easier.kind == exercise.kind
        assert rank(easier.level) <= rank(exercise.level)
        assert set(easier.imbalances) & set(exercise.imbalances)
    if exercise.harder:
        harder = CATALOG.exercise(exercise.harder)
        assert harder.kind == exercise.kind
        assert rank(harder.level) >= rank(exercise.level)
        assert set(harder.imbalances) & set(exercise.imbalances)


def test_named_variant_chains():
    ex = CATALOG.exercise
    assert ex("glute_bridge").harder == "hip_thrust"
    assert ex("hip_thrust").easier == "glute_bridge"
    assert ex("hip_thrust").harder == "single_leg_hip_thrust"
    assert ex("plank").easier == "knee_plank"
    assert ex("plank").harder == "plank_shoulder_taps"
    assert ex("nordic_curl").easier == "band_assisted_nordic_curl"


def test_variants_found_by_imbalance():
    glute_pool = {e.slug for e in CATALOG.for_imbalance("weak_glutes", kind="strength")}
    assert {"hip_thrust", "glute_bridge", "single_leg_hip_thrust"} <= glute_pool
    core_pool = {e.slug for e in CATALOG.for_imbalance("weak_core", kind="strength")}
    assert {"knee_plank", "plank_shoulder_taps"} <= core_pool


@pytest.mark.parametrize("imbalance", list(CATALOG.imbalances.values()), ids=lambda i: i.slug)
def test_release_covers_overactive_side(imbalance):
    released = set()
    for slug in imbalance.release:
        exercise = CATALOG.exercise(slug)
        assert exercise.kind == "release"
        assert imbalance.slug in exercise.imbalances
        released |= set(exercise.target_muscles)
    assert set(imbalance.overactive_muscles) <= released
    if imbalance.slug != "asymmetry":
        assert 1 <= len(imbalance.release) <= 3
        assert imbalance.overactive_muscles


def test_no_foam_rolling_of_the_lower_back():
    for exercise in CATALOG.exercises.values():
        if "foam_roller" in exercise.equipment:
            assert "lower_back" not in exercise.target_muscles, exercise.slug


def test_asymmetry_favours_single_side_work():
    asymmetry = CATALOG.imbalance("asymmetry")
    assert not asymmetry.from_article
    assert len(asymmetry.exercises) >= 4
    for slug in asymmetry.exercises:
        assert CATALOG.exercise(slug).unilateral, slug
    assert "bulgarian_split_squat" in asymmetry.exercises
    assert "single_leg_glute_bridge" in asymmetry.exercises


def test_causal_claims_are_hedged_as_the_article_hedges_them():
    for imbalance in CATALOG.imbalances.values():
        assert "leads to" not in imbalance.problem.lower(), imbalance.slug
        assert "can " in imbalance.problem or "may " in imbalance.problem, imbalance.slug
    for tip in CATALOG.tips:
        assert "leads to" not in tip.text.lower(), tip.slug


def test_statements_say_whether_they_come_from_the_article():
    im = CATALOG.imbalances
    for slug in ("weak_glutes", "weak_core", "weak_hamstrings", "upper_crossed"):
        assert im[slug].from_article and im[slug].problem_source == "article", slug
    assert im["upper_crossed"].overactive_source == "article"
    assert im["weak_glutes"].overactive_source == "product"
    assert im["upper_crossed"].trainer_note_source == "product"
    assert im["asymmetry"].problem_source == "product"


def test_hip_thrust_needs_only_a_bench_and_has_a_floor_version():
    thrust = CATALOG.exercise("hip_thrust")
    assert thrust.equipment == ("bench",)
    floor = CATALOG.exercise(thrust.easier)
    assert set(floor.equipment) <= {"mat", "none"}
    assert floor.family == thrust.family


def test_cat_cow_and_childs_pose_are_not_hamstring_exercises():
    for slug in ("cat_cow", "childs_pose"):
        assert "weak_hamstrings" not in CATALOG.exercise(slug).imbalances
    assert CATALOG.exercise("romanian_deadlift").level == "beginner"


def test_families_group_easier_and_harder_versions():
    ex = CATALOG.exercise
    assert ex("plank").family == ex("knee_plank").family
    assert ex("hollow_body_hold").family == ex("tuck_hollow_hold").family
    assert ex("split_squat").family == ex("bulgarian_split_squat").family
    # a physiotherapist's review: the dead bug is the first step of the hollow progression
    assert ex("dead_bug").family == ex("hollow_body_hold").family
    assert ex("side_plank").family == ex("copenhagen_plank").family
    assert ex("face_pull").family != ex("reverse_fly").family
    for exercise in CATALOG.exercises.values():
        for link in (exercise.easier, exercise.harder):
            if link:
                assert ex(link).family == exercise.family, exercise.slug


def test_cautions_cover_the_issue_examples():
    assert set(CATALOG.cautions) >= {
        "pregnancy",
        "osteoporosis",
        "hamstring_strain",
        "flexion_pain",
        "neck_pain",
        "anticoagulants",
    }
    assert "hamstring_strain" in CATALOG.exercise("nordic_curl").cautions
    assert "anticoagulants" in CATALOG.exercise("foam_roll_quadriceps").cautions
    assert "neck_pain" in CATALOG.exercise("shrug").cautions
    assert "pregnancy" in CATALOG.exercise("hollow_body_hold").cautions


def test_an_exercise_held_lying_on_the_back_carries_the_pregnancy_caution():
    # ACOG 2020 / RCOG: no lying flat on the back for long after about 16-20 weeks. A supine
    # hold (the time is spent on the back) carries the caution; short sets of supine reps with
    # the hips lifted (the glute bridge) are kept with a note on the pregnant client's plan.
    supine = {slug for slug, ex in CATALOG.exercises.items() if ex.supine}
    assert {"glute_bridge", "single_leg_glute_bridge", "dead_bug", "hollow_body_hold"} <= supine
    assert "hip_thrust" not in supine  # upper back on a bench: not lying flat
    for slug in supine:
        exercise = CATALOG.exercise(slug)
        if exercise.dose.hold_seconds is not None:
            assert "pregnancy" in exercise.cautions, slug
    assert "pregnancy" in CATALOG.exercise("single_leg_glute_bridge").cautions
    assert "pregnancy" not in CATALOG.exercise("glute_bridge").cautions
