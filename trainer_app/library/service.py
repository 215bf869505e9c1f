"""The exercise library a clinic sees: the built-in catalog plus the clinic's own exercises."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from trainer_app.extensions import db
from trainer_app.library import media
from trainer_app.library.catalog import (
    Catalog,
    CatalogError,
    Exercise,
    Imbalance,
    default_catalog,
    validate_exercise,
)
from trainer_app.library.models import ClinicExercise

# validate_exercise / with_extra name the source first; we strip it to find the field.
CLINIC_WHERE = "clinic exercise"
_SLUG_MAX = 60  # catalog slugs: a letter, then up to 59 of [a-z0-9_]


def clinic_exercises(clinic_id: int) -> list[ClinicExercise]:
    """The clinic's own exercises, by name."""
    rows = db.session.scalars(select(ClinicExercise).where(ClinicExercise.clinic_id == clinic_id))
    return sorted(rows, key=lambda row: row.data.get("name", "").lower())


def clinic_catalog(clinic_id: int) -> Catalog:
    """Built-in catalog with this clinic's exercises added (validated, read-only objects)."""
    extra = [
        validate_exercise(dict(row.data, source="clinic"), where=f"clinic exercise {row.slug}")
        for row in clinic_exercises(clinic_id)
    ]
    base = default_catalog()
    return base.with_extra(extra) if extra else base


# "No equipment" means bodyweight only: a mat and a wall are what any room has, so exercises
# that need nothing else count as no-equipment work.
BODYWEIGHT = frozenset({"none", "mat", "wall"})


def needs_no_equipment(exercise: Exercise) -> bool:
    """True for bodyweight work: nothing beyond the floor (or a mat) and a wall."""
    return all(item in BODYWEIGHT for item in exercise.equipment)


def filter_exercises(
    catalog: Catalog,
    *,
    q: str = "",
    imbalance: str = "",
    muscle: str = "",
    equipment: str = "",
    kind: str = "",
    source: str = "",
) -> list:
    """Exercises matching a text search and filters (empty filter = any), in catalog order.

    ``equipment="none"`` finds bodyweight exercises (see BODYWEIGHT); any other equipment
    finds the exercises that use it.
    """
    needle = q.strip().lower()
    found = []
    for exercise in catalog.exercises.values():
        text = f"{exercise.name} {exercise.summary}".lower()
        if needle and needle not in text:
            continue
        if imbalance and imbalance not in exercise.imbalances:
            continue
        if muscle and muscle not in exercise.target_muscles:
            continue
        if equipment == "none" and not needs_no_equipment(exercise):
            continue
        if equipment and equipment != "none" and equipment not in exercise.equipment:
            continue
        if kind and exercise.kind != kind:
            continue
        if source and exercise.source != source:
            continue
        found.append(exercise)
    return found


# --------------------------------------------------------------------------- browsing


def article_slugs(catalog: Catalog) -> set[str]:
    """The article's twelve exercises: those an article imbalance lists as its exercises."""
    return {
        slug
        for imbalance in catalog.imbalances.values()
        if imbalance.from_article
        for slug in imbalance.exercises
    }


def short_name(imbalance: Imbalance) -> str:
    """A badge-sized name ("Weak glutes" for "Weak glutes and an overloaded lower back")."""
    return imbalance.name.split(" and ")[0]


@dataclass
class Group:
    """Exercises shown under one heading of the library page."""

    title: str
    imbalance: Imbalance | None
    exercises: list[Exercise] = field(default_factory=list)
    # Exercises for this imbalance too, shown under another heading (each card appears once).
    also: list[tuple[Exercise, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Every shown exercise that treats this imbalance, wherever its card is."""
        return len(self.exercises) + len(self.also)


def group_by_imbalance(
    catalog: Catalog, exercises: list[Exercise], *, imbalance: str = ""
) -> list[Group]:
    """Groups in imbalance order: each exercise under its first imbalance (or the filtered one).

    An exercise for several imbalances has its card under the first; the other groups list it
    in ``also``, so a group's count is every exercise for its imbalance, as the filter finds.
    Within a group the imbalance's own exercises come first, in the article's order, then
    its release work, then the rest in catalog order.
    """
    groups = {slug: Group(im.name, im) for slug, im in catalog.imbalances.items()}
    other = Group("Other exercises", None)
    for exercise in exercises:
        key = imbalance if imbalance in exercise.imbalances else next(iter(exercise.imbalances), "")
        home = groups.get(key, other)
        home.exercises.append(exercise)
        if imbalance:
            continue
        for slug in exercise.imbalances:
            if slug != key and slug in groups:
                groups[slug].also.append((exercise, home.title))
    for group in groups.values():
        featured = [*group.imbalance.exercises, *group.imbalance.release]
        group.exercises.sort(
            key=lambda ex, featured=featured: (
                featured.index(ex.slug) if ex.slug in featured else len(featured)
            )
        )
    return [g for g in [*groups.values(), other] if g.exercises]


def imbalance_counts(catalog: Catalog) -> dict[str, int]:
    """How many exercises (variants and release work included) each imbalance has.

    The same number the imbalance filter finds and its group on the library page counts.
    """
    return {slug: len(filter_exercises(catalog, imbalance=slug)) for slug in catalog.imbalances}


def body_map_marks(exercise: Exercise) -> dict[str, tuple[str, ...]]:
    """Body-map marking: strength work targets weak muscles, release work overactive ones."""
    if exercise.kind == "release":
        return {"weak": (), "overactive": exercise.target_muscles}
    return {"weak": exercise.target_muscles, "overactive": ()}


def clinic_exercise_by_slug(clinic_id: int, slug: str) -> ClinicExercise | None:
    """The clinic's own exercise with this slug, or None."""
    return db.session.scalar(
        select(ClinicExercise).where(
            ClinicExercise.clinic_id == clinic_id, ClinicExercise.slug == slug
        )
    )


# --------------------------------------------------------------------------- clinic exercises


class ExerciseInvalid(ValueError):
    """Clinic exercise data broke catalog rules; `errors` maps form field (or None) to messages."""

    def __init__(self, errors: dict[str | None, list[str]]) -> None:
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = errors


def slugify(name: str) -> str:
    """ASCII letters, digits and underscores: "Wall angel (banded)" -> "wall_angel_banded"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_") or "exercise"


def new_slug(clinic_id: int, name: str, taken: set[str]) -> str:
    """``clinic_<id>_<name>``: the prefix keeps it clear of built-ins; numbered on a clash."""
    prefix = f"clinic_{clinic_id}_"
    base = (prefix + slugify(name))[:_SLUG_MAX].rstrip("_")
    slug, n = base, 2
    while slug in taken:
        suffix = f"_{n}"
        slug = base[: _SLUG_MAX - len(suffix)].rstrip("_") + suffix
        n += 1
    return slug


def check_exercise(clinic_id: int, data: dict[str, Any], *, slug: str) -> Exercise:
    """Validate form data as a clinic exercise with the built-in rules, links included.

    The same Pydantic model as the reviewed files checks every field at once; each
    problem comes back with its field, so the form shows them all next to their fields.

    :param data: the exercise fields without slug and source (as the form gives them).
    :raise ExerciseInvalid: with the problems by form field.
    """
    others = [
        validate_exercise(dict(row.data, source="clinic"), where=f"{CLINIC_WHERE} {row.slug}")
        for row in clinic_exercises(clinic_id)
        if row.slug != slug
    ]
    raw = _stored(dict(data, slug=slug))
    raw["dose"] = dict(raw.get("dose") or {})
    try:
        # links are checked against the built-ins and the clinic's other exercises at once
        builtin = default_catalog()
        try:
            known = builtin.with_extra(others)  # with the families their links give them
        except CatalogError:
            # another row links to the one being edited: check against the rows as they are
            known = replace(builtin, exercises={**builtin.exercises, **{o.slug: o for o in others}})
        exercise = validate_exercise(dict(raw, source="clinic"), where=CLINIC_WHERE, catalog=known)
        builtin.with_extra([*others, exercise])
    except CatalogError as exc:
        errors: dict[str | None, list[str]] = {}
        for path, problem in exc.problems or [("", str(exc))]:
            field_path, message = _plain(path, problem, data)
            errors.setdefault(_FORM_FIELDS.get(field_path or ""), []).append(message)
        raise ExerciseInvalid(errors) from None
    return exercise


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON kept in ClinicExercise.data: exercise fields minus source (set on load)."""
    return {k: v for k, v in data.items() if k != "source"}


def create_clinic_exercise(clinic_id: int, data: dict[str, Any]) -> ClinicExercise:
    """Validate and add a clinic exercise with a fresh slug; flushes, never commits.

    :raise ExerciseInvalid: nothing is added.
    """
    taken = set(default_catalog().exercises) | {row.slug for row in clinic_exercises(clinic_id)}
    slug = new_slug(clinic_id, str(data.get("name") or ""), taken)
    check_exercise(clinic_id, data, slug=slug)
    row = ClinicExercise(clinic_id=clinic_id, slug=slug, data=_stored(dict(data, slug=slug)))
    db.session.add(row)
    db.session.flush()
    return row


def update_clinic_exercise(row: ClinicExercise, data: dict[str, Any]) -> ClinicExercise:
    """Validate and save new fields; the slug stays, so links and programs keep working.

    :raise ExerciseInvalid: the row is unchanged.
    """
    check_exercise(row.clinic_id, data, slug=row.slug)
    row.data = _stored(dict(data, slug=row.slug))
    db.session.flush()
    return row


def delete_clinic_exercise(row: ClinicExercise) -> None:
    """Delete a clinic exercise and unlink it from the clinic's other exercises.

    Program versions keep their own copies of items, so they are unaffected; the clinic's
    photo and video link for it go with it.
    """
    media.delete_for_exercise(row.clinic_id, row.slug)
    for other in clinic_exercises(row.clinic_id):
        if other.id == row.id:
            continue
        data = dict(other.data)
        changed = False
        for link in ("easier", "harder"):
            if data.get(link) == row.slug:
                data[link] = None
                changed = True
        if changed:
            other.data = data
    db.session.delete(row)
    db.session.flush()


def form_values(exercise: Exercise) -> dict[str, Any]:
    """An exercise's fields in the shape `check_exercise` takes (and the edit form shows)."""
    return {
        "name": exercise.name,
        "kind": exercise.kind,
        "imbalances": list(exercise.imbalances),
        "summary": exercise.summary,
        "steps": list(exercise.steps),
        "cues": list(exercise.cues),
        "mistakes": list(exercise.mistakes),
        "target_muscles": list(exercise.target_muscles),
        "equipment": list(exercise.equipment),
        "cautions": list(exercise.cautions),
        "dose": {
            "sets": exercise.dose.sets,
            "reps": exercise.dose.reps,
            "hold_seconds": exercise.dose.hold_seconds,
            "rest_seconds": exercise.dose.rest_seconds,
            "per_side": exercise.dose.per_side,
        },
        "easier": exercise.easier,
        "harder": exercise.harder,
        "unilateral": exercise.unilateral,
        "level": exercise.level,
    }


# --------------------------------------------------------------------------- error messages

_FIELD_RE = re.compile(r"^(?P<field>[a-z_]+(?:\.[a-z_]+)?)(?:\[(?P<index>\d+)\])?$")

# Catalog messages are written for someone editing YAML; the form speaks plainer words.
_PLAIN = [
    (re.compile(r"^must be a non-empty string"), "This field is required."),
    (re.compile(r"^must be at most (\d+) characters"), r"Use at most \1 characters."),
    (re.compile(r"^must be a whole number, got nothing"), "This field is required."),
    (re.compile(r"^must be a (positive )?whole number"), "Enter a whole number of at least 1."),
    (re.compile(r"^must be at most (\d+), got \d+"), r"Enter at most \1."),
    (re.compile(r"^must have at least 1 items, got 0"), "Give at least one."),
    (re.compile(r"^must have (\d+) to (\d+) items, got (\d+)"), r"Give \1 to \2 (you gave \3)."),
    (re.compile(r"^must have at most (\d+) items, got (\d+)"), r"Give at most \1 (you gave \2)."),
    (re.compile(r"^must be one of"), "Choose one of the options."),
    (re.compile(r"^unknown (region|equipment|imbalance|caution)"), "Choose from the list."),
    (re.compile(r"^no exercise .* in the catalog"), "Choose an exercise from your library."),
    (re.compile(r"^must not point at the exercise itself"), "It cannot be its own variant."),
    (re.compile(r"^must differ from easier"), "Choose a different exercise from the easier one."),
    (
        re.compile(r"is in family"),
        "Easier and harder variants must be versions of the same movement.",
    ),
    (re.compile(r"^lists .* twice"), "Each item may appear only once."),
]

_FORM_FIELDS = {
    "name": "name",
    "kind": "kind",
    "imbalances": "imbalances",
    "summary": "summary",
    "steps": "steps",
    "cues": "cues",
    "mistakes": "mistakes",
    "target_muscles": "target_muscles",
    "equipment": "equipment",
    "dose.sets": "sets",
    "dose.reps": "reps",
    "dose.hold_seconds": "hold_seconds",
    "dose.rest_seconds": "rest_seconds",
    "dose.per_side": "per_side",
    "easier": "easier",
    "harder": "harder",
    "unilateral": "unilateral",
    "level": "level",
    "cautions": "cautions",
}

_LINE_FIELDS = ("steps", "cues", "mistakes")


def _plain(path: str, problem: str, data: dict[str, Any]) -> tuple[str | None, str]:
    """A problem's form field path and its message in the form's words."""
    if path == "dose.hold_seconds" and problem.startswith("give exactly"):
        both = (data.get("dose") or {}).get("hold_seconds") is not None
        return "dose.reps", (
            "Give reps or a hold time, not both." if both else "Give reps or a hold time."
        )
    match = _FIELD_RE.match(path or "")
    if match is None or match.group("field") not in _FORM_FIELDS:
        return None, problem
    field_path = match.group("field")
    plain = problem
    for pattern, replacement in _PLAIN:
        found = pattern.search(problem)
        if found:
            plain = found.expand(replacement)
            break
    if match.group("index") and field_path in _LINE_FIELDS:
        plain = f"Line {match.group('index')}: {plain}"
    return field_path, plain
