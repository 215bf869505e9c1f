"""Library service: slugs, the article's twelve, grouping, and clinic exercise rules."""

from __future__ import annotations

import pytest

from trainer_app.extensions import db
from trainer_app.library import service
from trainer_app.library.catalog import default_catalog


def exercise_data(**overrides) -> dict:
    data = {
        "name": "Wall angel",
        "kind": "strength",
        "imbalances": ["upper_crossed"],
        "summary": "Slide the arms up a wall.",
        "steps": ["Stand against a wall.", "Slide the arms up."],
        "cues": ["Ribs down."],
        "mistakes": ["Arching the back."],
        "target_muscles": ["mid_back"],
        "equipment": ["wall"],
        "dose": {
            "sets": 2,
            "reps": 10,
            "hold_seconds": None,
            "rest_seconds": 45,
            "per_side": False,
        },
        "easier": None,
        "harder": None,
        "unilateral": False,
        "level": "beginner",
    }
    data.update(overrides)
    return data


def test_article_slugs_are_the_twelve():
    slugs = service.article_slugs(default_catalog())
    assert len(slugs) == 12
    assert {"hip_thrust", "plank", "nordic_curl", "face_pull"} <= slugs
    assert "single_arm_row" not in slugs  # asymmetry is not from the article


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Wall angel (banded)", "wall_angel_banded"),
        ("Ødegaard's   hip hinge!", "degaard_s_hip_hinge"),
        ("Übung", "ubung"),
        ("日本", "exercise"),
    ],
)
def test_slugify(name, slug):
    assert service.slugify(name) == slug


def test_new_slug_is_prefixed_numbered_and_short():
    assert service.new_slug(7, "Wall angel", set()) == "clinic_7_wall_angel"
    taken = {"clinic_7_wall_angel", "clinic_7_wall_angel_2"}
    assert service.new_slug(7, "Wall angel", taken) == "clinic_7_wall_angel_3"
    long = service.new_slug(7, "x" * 80, {"clinic_7_" + "x" * 51})
    assert len(long) <= 60 and long.endswith("_2")


def test_filter_by_source_keeps_the_old_signature():
    catalog = default_catalog()
    assert len(service.filter_exercises(catalog, source="builtin")) == len(catalog.exercises)
    assert service.filter_exercises(catalog, source="clinic") == []
    assert service.filter_exercises(catalog, q="plank", kind="strength")


def test_group_by_imbalance_puts_article_exercises_first():
    catalog = default_catalog()
    groups = service.group_by_imbalance(catalog, list(catalog.exercises.values()))
    assert [g.imbalance.slug for g in groups if g.imbalance] == list(catalog.imbalances)
    first = groups[0]
    assert [ex.slug for ex in first.exercises[:3]] == [
        "hip_thrust",
        "glute_bridge",
        "bulgarian_split_squat",
    ]
    assert sum(len(g.exercises) for g in groups) == len(catalog.exercises)
    only = service.group_by_imbalance(
        catalog, catalog.for_imbalance("asymmetry"), imbalance="asymmetry"
    )
    assert len(only) == 1 and only[0].imbalance.slug == "asymmetry"


def test_body_map_marks_follow_the_kind():
    catalog = default_catalog()
    assert service.body_map_marks(catalog.exercise("hip_thrust"))["weak"] == (
        "glutes",
        "hamstrings",
    )
    marks = service.body_map_marks(catalog.exercise("doorway_chest_stretch"))
    assert marks["weak"] == () and "chest" in marks["overactive"]


def test_short_name():
    catalog = default_catalog()
    assert service.short_name(catalog.imbalance("weak_glutes")) == "Weak glutes"
    assert service.short_name(catalog.imbalance("asymmetry")) == "Left/right strength difference"


def test_create_update_delete(app, factories):
    user = factories.user()
    with app.app_context():
        row = service.create_clinic_exercise(user.clinic_id, exercise_data())
        assert row.id is not None and row.data["slug"] == row.slug
        assert "source" not in row.data
        harder = service.create_clinic_exercise(
            user.clinic_id, exercise_data(name="Banded wall angel", easier=row.slug)
        )
        db.session.commit()
        catalog = service.clinic_catalog(user.clinic_id)
        assert catalog.exercise(harder.slug).easier == row.slug
        values = service.form_values(catalog.exercise(row.slug))
        service.update_clinic_exercise(row, dict(values, name="Wall slide"))
        db.session.commit()
        assert service.clinic_catalog(user.clinic_id).exercise(row.slug).name == "Wall slide"
        service.delete_clinic_exercise(row)
        db.session.commit()
        catalog = service.clinic_catalog(user.clinic_id)
        assert row.slug not in catalog.exercises
        assert catalog.exercise(harder.slug).easier is None


def test_check_exercise_maps_errors_to_fields(app, factories):
    user = factories.user()
    with app.app_context():
        bad = exercise_data(
            name="",
            steps=[f"s{i}" for i in range(11)],
            dose={"sets": 0, "reps": 5, "hold_seconds": 5, "rest_seconds": 30},
            harder="no_such_exercise",
            imbalances=["made_up"],
        )
        with pytest.raises(service.ExerciseInvalid) as caught:
            service.check_exercise(user.clinic_id, bad, slug="clinic_1_x")
    errors = caught.value.errors
    assert errors["reps"] == ["Give reps or a hold time, not both."]
    assert errors["sets"] == ["Enter a whole number of at least 1."]
    assert errors["name"] == ["This field is required."]
    assert errors["steps"] == ["Give at most 10 (you gave 11)."]
    assert errors["harder"] == ["Choose an exercise from your library."]
    assert errors["imbalances"] == ["Choose from the list."]


def test_check_exercise_refuses_a_builtin_slug(app, factories):
    user = factories.user()
    with app.app_context(), pytest.raises(service.ExerciseInvalid) as caught:
        service.check_exercise(user.clinic_id, exercise_data(), slug="hip_thrust")
    assert None in caught.value.errors
    assert "already used" in caught.value.errors[None][0]
