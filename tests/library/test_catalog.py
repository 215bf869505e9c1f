"""The catalog loader: strict validation with messages naming file, entry and field."""

from __future__ import annotations

import ast
import copy
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from trainer_app.library import catalog as catalog_module
from trainer_app.library.catalog import (
    DATA_DIR,
    MAX_HOLD_SECONDS,
    MAX_REPS,
    MAX_REST_SECONDS,
    MAX_SETS,
    Catalog,
    CatalogError,
    Dose,
    Exercise,
    default_catalog,
    dose_text,
    load_catalog,
    validate_exercise,
)

FILES = ("exercises.yaml", "imbalances.yaml", "tips.yaml")


def read(name):
    return yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))


@pytest.fixture
def data_dir(tmp_path):
    """A writable copy of the package's data files."""
    for name in FILES:
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def file_versions() -> dict[str, str]:
    return {name: read(f"{name}.yaml")["version"] for name in ("exercises", "imbalances", "tips")}


def catalog_version() -> str:
    """The catalog's version as the files give it (one when they agree)."""
    versions = file_versions()
    if len(set(versions.values())) == 1:
        return versions["exercises"]
    return "+".join(f"{name}-{v}" for name, v in versions.items())


def write(data_dir, name, doc):
    (data_dir / name).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def entry(doc, key, slug):
    return next(item for item in doc[key] if item["slug"] == slug)


def broken(data_dir, message, *, exercise=None, imbalance=None, tip=None):
    """Apply each mutation to its file's entry, load, and assert the exact message prefix."""
    for name, key, mutation in (
        ("exercises.yaml", "exercises", exercise),
        ("imbalances.yaml", "imbalances", imbalance),
        ("tips.yaml", "tips", tip),
    ):
        if mutation is not None:
            doc = read(name)
            mutation(doc[key])
            write(data_dir, name, doc)
    with pytest.raises(CatalogError, match=re.escape(message)):
        load_catalog(data_dir)


def on(slug, change):
    """A mutation that applies `change` to the entry with this slug."""

    def mutate(items):
        change(next(item for item in items if item["slug"] == slug))

    return mutate


def set_field(path, value):
    def change(item):
        *parents, last = path.split(".")
        for part in parents:
            item = item[part]
        item[last] = value

    return change


def drop_field(path):
    def change(item):
        *parents, last = path.split(".")
        for part in parents:
            item = item[part]
        del item[last]

    return change


# --------------------------------------------------------------------------- the real data


def test_real_data_loads():
    catalog = load_catalog()
    assert catalog.version == catalog_version()
    assert list(catalog.exercises)[0] == "hip_thrust"
    assert catalog == load_catalog(DATA_DIR)


def test_default_catalog_is_cached():
    catalog_module.default_catalog.cache_clear()
    first = default_catalog()
    assert default_catalog() is first
    assert catalog_module.default_catalog.cache_info().hits >= 1


def test_copy_of_data_loads(data_dir):
    assert load_catalog(data_dir) == load_catalog()


# --------------------------------------------------------------------------- version


def test_version_differs_per_file(data_dir):
    doc = read("tips.yaml")
    doc["version"] = "2027.1.1"
    write(data_dir, "tips.yaml", doc)
    versions = {**file_versions(), "tips": "2027.1.1"}
    assert load_catalog(data_dir).version == "+".join(f"{n}-{v}" for n, v in versions.items())


@pytest.mark.parametrize("bad", [None, 2026.11, "latest", "2026-11-01"])
def test_version_must_be_a_dotted_string(data_dir, bad):
    doc = read("imbalances.yaml")
    doc["version"] = bad
    write(data_dir, "imbalances.yaml", doc)
    with pytest.raises(CatalogError, match=r"^imbalances\.yaml: version: must be a quoted string"):
        load_catalog(data_dir)


# --------------------------------------------------------------------------- file level


def test_missing_file(data_dir):
    (data_dir / "tips.yaml").unlink()
    with pytest.raises(CatalogError, match=r"^tips\.yaml: cannot read"):
        load_catalog(data_dir)


def test_invalid_yaml(data_dir):
    (data_dir / "exercises.yaml").write_text('version: "2026.11.1"\nexercises: [\n')
    with pytest.raises(CatalogError, match=r"^exercises\.yaml: not valid YAML"):
        load_catalog(data_dir)


def test_duplicate_yaml_key_is_refused(data_dir):
    path = data_dir / "exercises.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "    dose: {sets: 3, reps: 12, rest_seconds: 60}\n",
        "    dose: {sets: 3, reps: 12, rest_seconds: 60}\n    level: advanced\n",
        1,
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^exercises\.yaml: line \d+: duplicate key 'level'"):
        load_catalog(data_dir)


def test_unknown_top_level_key(data_dir):
    doc = read("tips.yaml")
    doc["extra"] = 1
    write(data_dir, "tips.yaml", doc)
    with pytest.raises(
        CatalogError, match=r"^tips\.yaml: extra: unknown field \(allowed: version, tips\)"
    ):
        load_catalog(data_dir)


def test_empty_list(data_dir):
    write(data_dir, "tips.yaml", {"version": "2026.11.1", "tips": []})
    with pytest.raises(CatalogError, match=r"^tips\.yaml: tips: must have at least 1 items, got 0"):
        load_catalog(data_dir)


def test_entry_not_a_mapping(data_dir):
    doc = read("exercises.yaml")
    doc["exercises"].insert(1, "plank")
    write(data_dir, "exercises.yaml", doc)
    with pytest.raises(CatalogError, match=r"^exercises\.yaml: exercises\[2\]: entry must be"):
        load_catalog(data_dir)


# --------------------------------------------------------------------------- exercises

E = "exercises.yaml: glute_bridge."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_field("dose.sets", 0), E + "dose.sets: must be a positive whole number, got 0"),
        (set_field("dose.sets", -2), E + "dose.sets: must be a positive whole number"),
        (set_field("dose.sets", True), E + "dose.sets: must be a whole number, got True"),
        (set_field("dose.sets", "3"), E + "dose.sets: must be a whole number, got the string '3'"),
        (set_field("dose.sets", MAX_SETS + 1), E + "dose.sets: must be at most 10, got 11"),
        (set_field("dose.reps", MAX_REPS + 1), E + "dose.reps: must be at most 50"),
        (set_field("dose.reps", 2.5), E + "dose.reps: must be a whole number, got 2.5"),
        (
            set_field("dose.rest_seconds", 0),
            E + "dose.rest_seconds: must be a positive whole number",
        ),
        (set_field("dose.rest_seconds", MAX_REST_SECONDS + 1), E + "dose.rest_seconds: must be"),
        (
            set_field("dose.hold_seconds", 30),
            E + "dose.hold_seconds: give exactly one of reps or hold",
        ),
        (
            drop_field("dose.reps"),
            E + "dose.hold_seconds: give exactly one of reps or hold_seconds",
        ),
        (drop_field("dose.sets"), E + "dose.sets: missing required field"),
        (set_field("dose.per_side", "yes please"), E + "dose.per_side: must be true or false"),
        (set_field("dose.tempo", "3-1-1"), E + "dose.tempo: unknown field"),
        (set_field("dose", "3 x 12"), "exercises.yaml: glute_bridge.dose: must be a mapping"),
        (set_field("colour", "red"), E + "colour: unknown field (allowed: slug, name"),
        (drop_field("steps"), E + "steps: missing required field"),
        (drop_field("level"), E + "level: missing required field"),
        (set_field("steps", "Lie down."), E + "steps: must be a list, got the string"),
        (set_field("steps", ["One.", "Two."]), E + "steps: must have 3 to 7 items, got 2"),
        (set_field("steps", [f"Step {i}." for i in range(8)]), E + "steps: must have 3 to 7"),
        (set_field("steps", ["A.", "", "C."]), E + "steps[2]: must be a non-empty string"),
        (set_field("steps", ["A.", "A.", "C."]), E + "steps: lists 'A.' twice"),
        (set_field("cues", ["Only one."]), E + "cues: must have 2 to 4 items, got 1"),
        (set_field("mistakes", ["a", "b", "c", "d", "e"]), E + "mistakes: must have 2 to 4"),
        (set_field("name", ""), E + "name: must be a non-empty string, got an empty string"),
        (set_field("name", 12), E + "name: must be a non-empty string, got 12"),
        (set_field("summary", None), E + "summary: must be a non-empty string, got nothing"),
        (set_field("kind", "cardio"), E + "kind: must be one of strength, release; got 'cardio'"),
        (set_field("level", "expert"), E + "level: must be one of beginner, intermediate, adv"),
        (set_field("unilateral", "no"), E + "unilateral: must be true or false"),
        (set_field("target_muscles", ["glutes", "bum"]), E + "target_muscles[2]: unknown region"),
        (set_field("target_muscles", []), E + "target_muscles: must have at least 1 items"),
        (set_field("equipment", ["kettlebell"]), E + "equipment[1]: unknown equipment 'kettl"),
        (set_field("harder", "nope"), E + "harder: no exercise 'nope' in the catalog"),
        (set_field("easier", "plank_2"), E + "easier: no exercise 'plank_2' in the catalog"),
        (set_field("easier", "glute_bridge"), E + "easier: must not point at the exercise"),
        (set_field("easier", "hip_thrust"), E + "harder: must differ from easier"),
        (set_field("harder", "Hip Thrust"), E + "harder: must be a slug"),
        (set_field("imbalances", ["weak_knees"]), E + "imbalances[1]: unknown imbalance 'weak_"),
        (set_field("source", "clinic"), E + "source: must be builtin in the reviewed files"),
    ],
)
def test_exercise_errors(data_dir, change, message):
    broken(data_dir, message, exercise=on("glute_bridge", change))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_field("cautions", ["vertigo"]), E + "cautions[1]: unknown caution 'vertigo'"),
        (
            set_field("family", "plank"),
            E + "harder: 'hip_thrust' is in family 'bridge', not 'plank'",
        ),
        (set_field("region", "legs"), E + "region: unknown body region 'legs'"),
        (set_field("drill", "maybe"), E + "drill: must be true or false"),
        (set_field("dose.bounds", [20, 40]), E + "dose: bounds must be two whole numbers around"),
    ],
)
def test_new_exercise_fields_are_checked(data_dir, change, message):
    broken(data_dir, message, exercise=on("glute_bridge", change))


def test_every_broken_entry_is_listed_at_once(data_dir):
    def two(items):
        next(i for i in items if i["slug"] == "plank")["level"] = "expert"
        next(i for i in items if i["slug"] == "shrug")["kind"] = "cardio"

    with pytest.raises(CatalogError) as caught:
        write_mutated(data_dir, two)
    lines = str(caught.value).splitlines()
    assert any(line.startswith("exercises.yaml: plank.level:") for line in lines)
    assert any(line.startswith("exercises.yaml: shrug.kind:") for line in lines)


def write_mutated(data_dir, mutation):
    doc = read("exercises.yaml")
    mutation(doc["exercises"])
    write(data_dir, "exercises.yaml", doc)
    load_catalog(data_dir)


def test_exercise_without_slug_is_named_by_position(data_dir):
    broken(
        data_dir,
        "exercises.yaml: exercises[2].slug: missing required field",
        exercise=on("glute_bridge", drop_field("slug")),
    )


def test_duplicate_exercise_slug(data_dir):
    def duplicate(items):
        items.append(copy.deepcopy(items[0]))

    broken(data_dir, "exercises.yaml: hip_thrust.slug: duplicate slug", exercise=duplicate)


def test_removed_exercise_still_listed_by_an_imbalance(data_dir):
    def remove(items):
        items[:] = [item for item in items if item["slug"] != "shrug"]

    broken(
        data_dir,
        "imbalances.yaml: upper_crossed.exercises[3]: no exercise 'shrug' in exercises.yaml",
        exercise=remove,
    )


# --------------------------------------------------------------------------- imbalances

IM = "imbalances.yaml: weak_glutes."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_field("exercises", ["hip_thrust", "squat"]), IM + "exercises[2]: no exercise 'squat'"),
        (set_field("exercises", []), IM + "exercises: must have at least 1 items, got 0"),
        (set_field("exercises", ["childs_pose"]), IM + "exercises[1]: 'childs_pose' is not a str"),
        (set_field("release", ["hip_thrust"]), IM + "release[1]: 'hip_thrust' is not a release"),
        (set_field("exercises", ["plank"]), IM + "exercises[1]: 'plank' does not list weak_glutes"),
        (set_field("release", ["cat_cow"]), IM + "release[1]: 'cat_cow' does not list weak_glutes"),
        (set_field("weak_muscles", ["gluteus"]), IM + "weak_muscles[1]: unknown region 'gluteus'"),
        (set_field("overactive_muscles", "lower_back"), IM + "overactive_muscles: must be a list"),
        (set_field("from_article", None), IM + "from_article: must be true or false, got nothing"),
        (drop_field("problem"), IM + "problem: missing required field"),
        (set_field("release", []), IM + "release: must list release work for the overactive side"),
        (set_field("score", 3), IM + "score: unknown field"),
    ],
)
def test_imbalance_errors(data_dir, change, message):
    broken(data_dir, message, imbalance=on("weak_glutes", change))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (set_field("overactive_muscles", ["glutes"]), IM + "overactive_muscles: 'glutes' is also"),
        (set_field("priority", 2), IM + "priority: 2 is used by another imbalance"),
        (set_field("problem_source", "blog"), IM + "problem_source: must be one of article, prod"),
        (
            set_field("trainer_note", "Watch it."),
            "weak_glutes: trainer_note and trainer_note_source",
        ),
    ],
)
def test_imbalance_statements_and_priorities_are_checked(data_dir, change, message):
    broken(data_dir, message, imbalance=on("weak_glutes", change))


def test_release_work_never_targets_a_muscle_the_imbalance_strengthens(data_dir):
    def tag(items):
        stretch = next(i for i in items if i["slug"] == "upper_trapezius_stretch")
        stretch["imbalances"] = ["upper_crossed"]

    def list_it(items):
        im = next(i for i in items if i["slug"] == "upper_crossed")
        im["release"] = ["doorway_chest_stretch", "upper_trapezius_stretch"]

    broken(
        data_dir,
        "imbalances.yaml: upper_crossed.release[2]: 'upper_trapezius_stretch' releases "
        "upper_trapezius, which this imbalance strengthens",
        exercise=tag,
        imbalance=list_it,
    )


def test_duplicate_imbalance_slug(data_dir):
    def duplicate(items):
        items.append(copy.deepcopy(items[1]))

    broken(data_dir, "imbalances.yaml: weak_core.slug: duplicate slug", imbalance=duplicate)


# --------------------------------------------------------------------------- tips


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (drop_field("from_article"), "tips.yaml: desk_posture.from_article: missing required"),
        (set_field("text", "  "), "tips.yaml: desk_posture.text: must be a non-empty string"),
        (set_field("link", "http://"), "tips.yaml: desk_posture.link: unknown field"),
    ],
)
def test_tip_errors(data_dir, change, message):
    broken(data_dir, message, tip=on("desk_posture", change))


# --------------------------------------------------------------------------- clinic exercises


GLUTE_BRIDGE = entry(read("exercises.yaml"), "exercises", "glute_bridge")


def clinic_raw(**changes):
    raw = copy.deepcopy(GLUTE_BRIDGE)
    raw.update({"slug": "wall_sit", "name": "Wall sit", "source": "clinic", "harder": None})
    raw.update(changes)
    return raw


def test_validate_exercise_for_clinic_content():
    exercise = validate_exercise(clinic_raw(steps=["Sit against the wall."]), where="clinic form")
    assert exercise.source == "clinic"
    assert exercise.slug == "wall_sit"
    assert exercise.steps == ("Sit against the wall.",)
    assert exercise.dose == Dose(sets=3, reps=12, hold_seconds=None, rest_seconds=60)
    assert exercise.family == "bridge"  # copied with the glute bridge entry's family


def test_validate_exercise_normalises_whitespace():
    exercise = validate_exercise(clinic_raw(name="  Wall \n sit "), where="clinic form")
    assert exercise.name == "Wall sit"


def test_validate_exercise_error_names_the_source():
    with pytest.raises(CatalogError, match=r"^clinic form: wall_sit\.dose\.hold_seconds: must be"):
        validate_exercise(
            clinic_raw(dose={"sets": 2, "hold_seconds": MAX_HOLD_SECONDS + 1, "rest_seconds": 30}),
            where="clinic form",
        )
    raw = clinic_raw()
    del raw["slug"]
    with pytest.raises(CatalogError, match=r"^clinic form: exercise\.slug: missing required"):
        validate_exercise(raw, where="clinic form")
    with pytest.raises(CatalogError, match=r"^clinic form: exercise: entry must be a mapping"):
        validate_exercise(["not", "a", "mapping"], where="clinic form")


def test_catalog_error_is_a_value_error():
    assert issubclass(CatalogError, ValueError)


# --------------------------------------------------------------------------- with_extra


@pytest.fixture
def wall_sit():
    return validate_exercise(clinic_raw(easier="glute_bridge"), where="clinic")


def test_with_extra_adds_without_touching_the_original(wall_sit):
    base = load_catalog()
    extended = base.with_extra([wall_sit])
    assert isinstance(extended, Catalog)
    assert extended.exercise("wall_sit") is wall_sit
    assert list(extended.exercises)[-1] == "wall_sit"
    assert "wall_sit" not in base.exercises
    assert extended.version == base.version
    assert extended.imbalances == base.imbalances
    assert [e.slug for e in extended.for_imbalance("weak_glutes")].count("wall_sit") == 1


def test_with_extra_nothing_is_an_equal_copy():
    base = load_catalog()
    assert base.with_extra([]) == base


def test_with_extra_slug_clash_with_builtin(wall_sit):
    clash = wall_sit.model_copy(update={"slug": "plank"})
    with pytest.raises(CatalogError, match=r"^clinic exercises: plank\.slug: already used by the"):
        load_catalog().with_extra([clash])


def test_with_extra_slug_clash_between_extras(wall_sit):
    with pytest.raises(CatalogError, match="already used by another extra exercise"):
        load_catalog().with_extra([wall_sit, wall_sit])


def test_with_extra_checks_links(wall_sit):
    dangling = wall_sit.model_copy(update={"harder": "wall_sit_2"})
    with pytest.raises(CatalogError, match=r"wall_sit\.harder: no exercise 'wall_sit_2'"):
        load_catalog().with_extra([dangling])
    unknown = wall_sit.model_copy(update={"imbalances": ("weak_knees",)})
    with pytest.raises(CatalogError, match=r"wall_sit\.imbalances\[1\]: unknown imbalance"):
        load_catalog().with_extra([unknown])
    # Extras may link to each other.
    harder = wall_sit.model_copy(update={"slug": "wall_sit_2", "easier": "wall_sit"})
    linked = wall_sit.model_copy(update={"harder": "wall_sit_2"})
    assert load_catalog().with_extra([linked, harder]).exercise("wall_sit").harder == "wall_sit_2"


def test_with_extra_gives_linked_clinic_exercises_one_family(wall_sit):
    alone = wall_sit.model_copy(update={"family": "wall_sit", "easier": None})
    harder = alone.model_copy(update={"slug": "wall_sit_2", "family": "wall_sit_2"})
    linked = alone.model_copy(update={"harder": "wall_sit_2"})
    extended = load_catalog().with_extra([linked, harder.model_copy(update={"easier": "wall_sit"})])
    assert extended.exercise("wall_sit").family == extended.exercise("wall_sit_2").family
    to_builtin = load_catalog().with_extra([alone.model_copy(update={"easier": "glute_bridge"})])
    assert to_builtin.exercise("wall_sit").family == "bridge"


def test_with_extra_refuses_other_objects():
    with pytest.raises(CatalogError, match="not an Exercise"):
        load_catalog().with_extra([{"slug": "x"}])


# --------------------------------------------------------------------------- lookups, dose


def test_unknown_exercise_raises_key_error_naming_it():
    with pytest.raises(
        KeyError, match=re.escape(f"no exercise 'moonwalk' in catalog {catalog_version()}")
    ):
        default_catalog().exercise("moonwalk")
    with pytest.raises(KeyError, match="no imbalance 'weak_knees'"):
        default_catalog().imbalance("weak_knees")


def test_dose_text():
    assert Dose(sets=3, reps=10, rest_seconds=60).text() == "3 x 10 reps, rest 60 s"
    held = Dose(sets=3, hold_seconds=30, rest_seconds=45, per_side=True)
    assert held.text() == "3 x 30 s hold each side, rest 45 s"
    assert dose_text(2, 8, None, 30, True) == "2 x 8 reps each side, rest 30 s"


def test_models_are_frozen():
    exercise = default_catalog().exercise("plank")
    with pytest.raises(ValidationError, match="frozen"):
        exercise.name = "Planche"  # type: ignore[misc]
    assert isinstance(exercise, Exercise)


@given(
    sets=st.integers(-5, MAX_SETS + 5),
    amount=st.integers(-5, MAX_HOLD_SECONDS + 5),
    rest=st.integers(-5, MAX_REST_SECONDS + 5),
    hold=st.booleans(),
    per_side=st.booleans(),
)
def test_dose_limits(sets, amount, rest, hold, per_side):
    dose = {"sets": sets, "rest_seconds": rest, "per_side": per_side}
    dose["hold_seconds" if hold else "reps"] = amount
    limit = MAX_HOLD_SECONDS if hold else MAX_REPS
    valid = 0 < sets <= MAX_SETS and 0 < amount <= limit and 0 < rest <= MAX_REST_SECONDS
    raw = clinic_raw(dose=dose)
    if valid:
        text = validate_exercise(raw, where="clinic").dose.text()
        assert text.startswith(f"{sets} x {amount} ")
        assert ("each side" in text) == per_side
    else:
        with pytest.raises(CatalogError, match=r"^clinic: wall_sit\.dose\."):
            validate_exercise(raw, where="clinic")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    return {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}


def test_catalog_module_is_pure():
    """catalog.py imports only the standard library, Pydantic and the pure content helpers."""
    catalog_path = Path(catalog_module.__file__)
    assert _imports(catalog_path) == {"pydantic", "trainer_app.content"}
    assert _imports(catalog_path.parents[1] / "content.py") == {"yaml", "pydantic"}
