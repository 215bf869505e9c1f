"""The reviewed exercise content (data/*.yaml): models, loading, validation and lookup.

Pure module: the standard library, PyYAML and Pydantic, so the scoring and program builders
can use it without an application. Each field is declared once on its model; references
between entries (variants, imbalances, cautions, families) are checked by validators that
see the whole catalog through the validation context. Every error names the file, the
entry and the field, so a clinician editing the YAML can fix it without reading code.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from trainer_app.content import (
    IDENT,
    ContentError,
    Flag,
    Slug,
    Strict,
    Version,
    Whole,
    entry_namer,
    explain,
    read_yaml,
    text,
    unique,
    vocabulary,
)

DATA_DIR = Path(__file__).resolve().parent / "data"

REGIONS: dict[str, str] = {
    "glutes": "Glutes",
    "abdominals": "Abdominals",
    "obliques": "Obliques",
    "lower_back": "Lower back",
    "hamstrings": "Hamstrings",
    "quadriceps": "Quadriceps",
    "hip_flexors": "Hip flexors",
    "adductors": "Adductors",
    "calves": "Calves",
    "chest": "Chest",
    "upper_trapezius": "Upper trapezius",
    "mid_back": "Mid back (rhomboids, middle trapezius)",
    "rear_deltoids": "Rear deltoids",
    "front_deltoids": "Front deltoids",
    "lats": "Lats",
    "neck_flexors": "Deep neck flexors",
}

# Where on the body an exercise works: asymmetry work must match the region of the test
# that measured the difference (a leg test gets single-leg work, not a one-arm row).
BODY_REGIONS: dict[str, str] = {
    "lower_body": "Legs and hips",
    "trunk": "Trunk",
    "upper_body": "Shoulders and upper back",
}
MUSCLE_BODY_REGION: dict[str, str] = {
    "glutes": "lower_body",
    "hamstrings": "lower_body",
    "quadriceps": "lower_body",
    "hip_flexors": "lower_body",
    "adductors": "lower_body",
    "calves": "lower_body",
    "abdominals": "trunk",
    "obliques": "trunk",
    "lower_back": "trunk",
    "chest": "upper_body",
    "upper_trapezius": "upper_body",
    "mid_back": "upper_body",
    "neck_flexors": "upper_body",
    "rear_deltoids": "upper_body",
    "front_deltoids": "upper_body",
    "lats": "upper_body",
}

EQUIPMENT: dict[str, str] = {
    "none": "No equipment",
    "mat": "Mat",
    "bench": "Bench",
    "dumbbells": "Dumbbells",
    "barbell": "Barbell",
    "resistance_band": "Resistance band",
    "cable_machine": "Cable machine",
    "foam_roller": "Foam roller",
    "glute_ham_machine": "Glute-ham machine",
    "wall": "Wall",
    "partner": "Partner",
}

KINDS = ("strength", "release")
LEVELS = ("beginner", "intermediate", "advanced")
SOURCES = ("builtin", "clinic")

MAX_SETS = 10
MAX_REPS = 50
MAX_HOLD_SECONDS = 300
MAX_REST_SECONDS = 300

# Editorial standard for the reviewed files; clinic exercises only need the looser limits.
BUILTIN_STEPS = (3, 7)
BUILTIN_CUES = (2, 4)
BUILTIN_MISTAKES = (2, 4)
MAX_LIST_ITEMS = 10
MAX_TEXT = 500

Region = vocabulary(REGIONS, "region")
BodyRegion = vocabulary(BODY_REGIONS, "body region")
Equipment = vocabulary(EQUIPMENT, "equipment")
Kind = Literal["strength", "release"]
Level = Literal["beginner", "intermediate", "advanced"]
StatementSource = Literal["article", "product"]

Name = text(80)
Summary = text(200)
Line = text(MAX_TEXT)
Paragraph = text(600)


class CatalogError(ContentError):
    """Invalid catalog content; the message names the file, the entry and the field."""


# --------------------------------------------------------------------------- references


def _ctx(info: ValidationInfo, key: str) -> Mapping[str, Any] | None:
    return (info.context or {}).get(key)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _family_of(obj: Any, slug: str) -> str:
    family = _get(obj, "family")
    return family if isinstance(family, str) else slug


def _known_imbalance(value: str, info: ValidationInfo) -> str:
    known = _ctx(info, "imbalances")
    if known is not None and value not in known:
        raise ValueError(f"unknown imbalance {value!r} (known: {', '.join(known)})")
    return value


def _known_caution(value: str, info: ValidationInfo) -> str:
    known = _ctx(info, "cautions")
    if known is not None and value not in known:
        raise ValueError(f"unknown caution {value!r} (known: {', '.join(known)})")
    return value


def _variant(value: str | None, info: ValidationInfo) -> str | None:
    """easier / harder: an existing exercise, not this one, and of the same movement family."""
    if value is None:
        return value
    slug = info.data.get("slug")
    if value == slug:
        raise ValueError("must not point at the exercise itself")
    if info.field_name == "harder" and value == info.data.get("easier"):
        raise ValueError("must differ from easier")
    exercises = _ctx(info, "exercises")
    if exercises is None:
        return value
    other = exercises.get(value)
    if other is None:
        raise ValueError(f"no exercise {value!r} in the catalog")
    mine = info.data.get("family")
    theirs = _family_of(other, value)
    if mine is not None and theirs != mine:
        raise ValueError(
            f"{value!r} is in family {theirs!r}, not {mine!r}: variants share one family"
        )
    return value


def _listed_exercise(kind: str):
    """An imbalance's exercise or release item: exists, has this kind, lists the imbalance back."""

    def check(value: str, info: ValidationInfo) -> str:
        exercises = _ctx(info, "exercises")
        if exercises is None:
            return value
        ex = exercises.get(value)
        if ex is None:
            raise ValueError(f"no exercise {value!r} in exercises.yaml")
        if _get(ex, "kind") != kind:
            raise ValueError(f"{value!r} is not a {kind} exercise")
        slug = info.data.get("slug")
        if slug not in (_get(ex, "imbalances") or ()):
            raise ValueError(f"{value!r} does not list {slug} in exercises.yaml")
        if kind == "release":
            both = set(_get(ex, "target_muscles") or ()) & set(info.data.get("weak_muscles", ()))
            if both:
                raise ValueError(
                    f"{value!r} releases {', '.join(sorted(both))}, which this imbalance "
                    "strengthens"
                )
        return value

    return check


# --------------------------------------------------------------------------- models


class Dose(Strict):
    """A library dose; ``bounds`` is the lowest and highest starting reps or hold time."""

    sets: Annotated[Whole, Field(ge=1, le=MAX_SETS)]
    reps: Annotated[Whole, Field(ge=1, le=MAX_REPS)] | None = None
    # validated even when absent, so "neither" is reported too (and with other errors)
    hold_seconds: Annotated[Whole, Field(ge=1, le=MAX_HOLD_SECONDS)] | None = Field(
        default=None, validate_default=True
    )
    rest_seconds: Annotated[Whole, Field(ge=1, le=MAX_REST_SECONDS)]
    per_side: Flag = False
    bounds: tuple[Whole, Whole] | None = None

    @field_validator("hold_seconds")
    @classmethod
    def _one_measure(cls, value: int | None, info: ValidationInfo) -> int | None:
        reps = info.data.get("reps")
        if (reps is None) == (value is None) and "reps" in info.data:
            raise ValueError("give exactly one of reps or hold_seconds")
        return value

    @model_validator(mode="after")
    def _bounds_fit(self) -> Dose:
        if self.bounds is not None:
            low, high = self.bounds
            amount = self.amount
            if not 1 <= low <= amount <= high:
                raise ValueError(
                    f"bounds must be two whole numbers around the dose ({amount}), "
                    f"lowest first, got {list(self.bounds)}"
                )
        return self

    @property
    def amount(self) -> int:
        """The reps or the hold time, whichever this dose uses."""
        return self.reps if self.reps is not None else self.hold_seconds  # type: ignore[return-value]

    def text(self) -> str:
        """Human-readable dose, e.g. "3 x 30 s hold each side, rest 45 s"."""
        work = f"{self.reps} reps" if self.reps is not None else f"{self.hold_seconds} s hold"
        side = " each side" if self.per_side else ""
        return f"{self.sets} x {work}{side}, rest {self.rest_seconds} s"


def dose_text(
    sets: int,
    reps: int | None,
    hold_seconds: int | None,
    rest_seconds: int,
    per_side: bool,
    one_side: str | None = None,
) -> str:
    """The dose text for values that need no validation (program items, weekly steps).

    :param one_side: "left" or "right" for work meant for that side only.
    """
    work = f"{reps} reps" if reps is not None else f"{hold_seconds} s hold"
    side = " each side" if per_side else f" on the {one_side} side" if one_side else ""
    return f"{sets} x {work}{side}, rest {rest_seconds} s"


class Caution(Strict):
    """A health condition that makes some exercises unsuitable without a professional's OK."""

    slug: Slug
    label: Name
    help: Paragraph


class Exercise(Strict):
    slug: Slug
    name: Name
    kind: Kind
    imbalances: Annotated[
        tuple[Annotated[Slug, AfterValidator(_known_imbalance)], ...], AfterValidator(unique)
    ]
    summary: Summary
    steps: Annotated[tuple[Line, ...], Field(min_length=1, max_length=MAX_LIST_ITEMS)]
    cues: Annotated[tuple[Line, ...], Field(min_length=1, max_length=MAX_LIST_ITEMS)]
    mistakes: Annotated[tuple[Line, ...], Field(min_length=1, max_length=MAX_LIST_ITEMS)]
    target_muscles: Annotated[tuple[Region, ...], Field(min_length=1), AfterValidator(unique)]
    equipment: Annotated[tuple[Equipment, ...], Field(min_length=1), AfterValidator(unique)]
    dose: Dose
    # One movement family per session: easier and harder versions share a family
    # (declared before the variants, whose check reads it).
    family: Slug | None = None
    region: BodyRegion | None = None
    easier: Annotated[Slug | None, AfterValidator(_variant)] = None
    harder: Annotated[Slug | None, AfterValidator(_variant)] = None
    unilateral: Flag
    level: Level
    source: Literal["builtin", "clinic"] = "builtin"
    cautions: Annotated[
        tuple[Annotated[Slug, AfterValidator(_known_caution)], ...], AfterValidator(unique)
    ] = ()
    # A movement-learning drill never stands alone as an imbalance's strengthening work.
    drill: Flag = False
    # Done lying flat on the back: held there for long it carries the pregnancy caution;
    # short sets are kept for a pregnant client with a note (see the exercises file).
    supine: Flag = False
    # Questionnaire observations made while the client does this exercise: a positive one
    # (e.g. the lower back lifts in the dead bug) keeps its harder versions out.
    tested_by: Annotated[tuple[Slug, ...], AfterValidator(unique)] = ()
    # "product": an exercise the article does not name, the product's own clinical choice
    # (the article's are the ones its imbalances list in imbalances.yaml).
    origin: StatementSource | None = None
    # Questionnaire findings (indicator ids) this exercise is chosen first for, after the
    # article's exercise that covers the imbalance (chin tucks for a forward head).
    first_for: Annotated[tuple[Slug, ...], AfterValidator(unique)] = ()
    # Cautions this exercise is a safe choice for: a client who reported one gets it first
    # for its imbalances, in place of the work the caution keeps out (a back extension for
    # osteoporosis, where flexion work is cautioned).
    safe_for: Annotated[
        tuple[Annotated[Slug, AfterValidator(_known_caution)], ...], AfterValidator(unique)
    ] = ()

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if data.get("family") is None and isinstance(data.get("slug"), str):
            # a variant of another exercise joins its family (clinic exercises name none)
            exercises = _ctx(info, "exercises") or {}
            linked = [
                exercises[data[link]]
                for link in ("easier", "harder")
                if isinstance(data.get(link), str) and data[link] in exercises
            ]
            data["family"] = (
                _family_of(linked[0], data.get("easier") or data.get("harder"))
                if linked
                else data["slug"]
            )
        muscles = data.get("target_muscles")
        if data.get("region") is None and isinstance(muscles, list | tuple) and muscles:
            data["region"] = (
                MUSCLE_BODY_REGION.get(muscles[0]) if isinstance(muscles[0], str) else None
            )
        return data

    @field_validator("steps", "cues", "mistakes")
    @classmethod
    def _editorial(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        unique(value)
        if (info.context or {}).get("builtin"):
            low, high = {"steps": BUILTIN_STEPS, "cues": BUILTIN_CUES}.get(
                info.field_name, BUILTIN_MISTAKES
            )
            if not low <= len(value) <= high:
                raise ValueError(f"must have {low} to {high} items, got {len(value)}")
        return value

    @field_validator("source")
    @classmethod
    def _builtin_source(cls, value: str, info: ValidationInfo) -> str:
        if (info.context or {}).get("builtin") and value != "builtin":
            raise ValueError("must be builtin in the reviewed files")
        return value

    @field_validator("slug")
    @classmethod
    def _once(cls, value: str, info: ValidationInfo) -> str:
        if ((info.context or {}).get("slug_counts") or {}).get(value, 0) > 1:
            raise ValueError("duplicate slug")
        return value

    @field_validator("origin")
    @classmethod
    def _product_origin(cls, value: str | None, info: ValidationInfo) -> str | None:
        imbalances = _ctx(info, "imbalances") or {}
        named = any(
            info.data.get("slug") in (_get(im, "exercises") or ())
            for im in imbalances.values()
            if _get(im, "from_article")
        )
        if value == "product" and named:
            raise ValueError("the article names this exercise (its imbalance lists it)")
        return value

    @model_validator(mode="after")
    def _safe_choice(self) -> Exercise:
        both = set(self.safe_for) & set(self.cautions)
        if both:
            raise ValueError(f"safe_for: {sorted(both)[0]!r} is also one of its cautions")
        return self


class Imbalance(Strict):
    slug: Slug
    name: Name
    problem: Paragraph
    problem_source: StatementSource
    weak_muscles: Annotated[tuple[Region, ...], AfterValidator(unique)]
    overactive_muscles: Annotated[tuple[Region, ...], AfterValidator(unique)]
    # Whether the overactive muscles are the article's words or the product's usual pairing.
    overactive_source: StatementSource
    exercises: Annotated[
        tuple[Annotated[Slug, AfterValidator(_listed_exercise("strength"))], ...],
        Field(min_length=1, max_length=12),
        AfterValidator(unique),
    ]
    release: Annotated[
        tuple[Annotated[Slug, AfterValidator(_listed_exercise("release"))], ...],
        Field(max_length=3),
        AfterValidator(unique),
    ]
    from_article: Flag
    # Ties between equally severe findings go to the lower number.
    priority: Annotated[Whole, Field(ge=1, le=99)]
    trainer_note: Paragraph | None = None
    trainer_note_source: StatementSource | None = None
    # Weak muscles only the article pairs with the pattern, where the clinical view (the
    # trainer note) holds them often overactive: always shown as the article's claim, never
    # as a plain weak muscle (the upper trapezius of the rounded-shoulder pattern).
    article_only_weak: Annotated[tuple[Region, ...], AfterValidator(unique)] = ()
    # Why its strengthening exercises matter, in one plain sentence for the client's paper.
    client_why: Summary | None = None

    @field_validator("overactive_muscles")
    @classmethod
    def _not_both(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        both = [m for m in value if m in info.data.get("weak_muscles", ())]
        if both:
            raise ValueError(f"{both[0]!r} is also listed in weak_muscles")
        return value

    @field_validator("article_only_weak")
    @classmethod
    def _among_weak(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        stray = [m for m in value if m not in info.data.get("weak_muscles", ())]
        if stray:
            raise ValueError(f"{stray[0]!r} is not listed in weak_muscles")
        return value

    @field_validator("release")
    @classmethod
    def _release_needed(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if info.data.get("overactive_muscles") and not value:
            raise ValueError("must list release work for the overactive side")
        return value

    @field_validator("priority")
    @classmethod
    def _priority_once(cls, value: int, info: ValidationInfo) -> int:
        if ((info.context or {}).get("priority_counts") or {}).get(value, 0) > 1:
            raise ValueError(f"{value} is used by another imbalance")
        return value

    @field_validator("slug")
    @classmethod
    def _once(cls, value: str, info: ValidationInfo) -> str:
        if ((info.context or {}).get("slug_counts") or {}).get(value, 0) > 1:
            raise ValueError("duplicate slug")
        return value

    @model_validator(mode="after")
    def _note_source(self) -> Imbalance:
        if (self.trainer_note is None) != (self.trainer_note_source is None):
            raise ValueError("trainer_note and trainer_note_source go together")
        return self


class Tip(Strict):
    slug: Slug
    title: Name
    text: Paragraph
    from_article: Flag

    @field_validator("slug")
    @classmethod
    def _once(cls, value: str, info: ValidationInfo) -> str:
        if ((info.context or {}).get("slug_counts") or {}).get(value, 0) > 1:
            raise ValueError("duplicate slug")
        return value


class _ExercisesFile(Strict):
    version: Version
    cautions: Annotated[tuple[Caution, ...], Field(min_length=1)]
    # Each entry is validated on its own (below), so the family check knows which it is.
    exercises: Annotated[tuple[Any, ...], Field(min_length=1)]


class _ImbalancesFile(Strict):
    version: Version
    imbalances: Annotated[tuple[Imbalance, ...], Field(min_length=1)]


class _TipsFile(Strict):
    version: Version
    tips: Annotated[tuple[Tip, ...], Field(min_length=1)]


@dataclass(frozen=True)
class Catalog:
    version: str
    exercises: dict[str, Exercise]
    imbalances: dict[str, Imbalance]
    tips: tuple[Tip, ...]
    cautions: dict[str, Caution]

    def exercise(self, slug: str) -> Exercise:
        """The exercise with this slug; KeyError naming the slug if there is none."""
        try:
            return self.exercises[slug]
        except KeyError:
            raise KeyError(f"no exercise {slug!r} in catalog {self.version}") from None

    def imbalance(self, slug: str) -> Imbalance:
        """The imbalance with this slug; KeyError naming the slug if there is none."""
        try:
            return self.imbalances[slug]
        except KeyError:
            raise KeyError(f"no imbalance {slug!r} in catalog {self.version}") from None

    def for_imbalance(self, slug: str, kind: str | None = None) -> tuple[Exercise, ...]:
        """Every exercise (variants included) whose `imbalances` lists this slug."""
        self.imbalance(slug)
        return tuple(
            ex
            for ex in self.exercises.values()
            if slug in ex.imbalances and (kind is None or ex.kind == kind)
        )

    def family(self, slug: str) -> tuple[Exercise, ...]:
        """Every exercise of the same movement family, in catalog order."""
        family = self.exercise(slug).family
        return tuple(ex for ex in self.exercises.values() if ex.family == family)

    def with_extra(self, extra: Iterable[Exercise]) -> Catalog:
        """A copy with (clinic) exercises added; a slug clash or a dangling link raises."""
        exercises = dict(self.exercises)
        added: list[Exercise] = []
        for ex in extra:
            if not isinstance(ex, Exercise):
                raise CatalogError(f"extra exercises: {ex!r}: not an Exercise")
            if ex.slug in exercises:
                owner = "the catalog" if ex.slug in self.exercises else "another extra exercise"
                raise CatalogError(
                    f"{ex.source} exercises: {ex.slug}.slug: already used by {owner}",
                    [("slug", f"already used by {owner}")],
                )
            exercises[ex.slug] = ex
            added.append(ex)
        families = _link_families(added, self.exercises)
        for ex in added:
            if ex.source == "clinic" and ex.family != families[ex.slug]:
                exercises[ex.slug] = ex.model_copy(update={"family": families[ex.slug]})
        for ex in added:
            _validate_exercise(
                exercises[ex.slug].model_dump(),
                where=f"{ex.source} exercises",
                entry=ex.slug,
                context=self._context(exercises),
            )
        return replace(self, exercises=exercises)

    def _context(self, exercises: Mapping[str, Any]) -> dict[str, Any]:
        return {"exercises": exercises, "imbalances": self.imbalances, "cautions": self.cautions}


def _link_families(added: list[Exercise], builtin: Mapping[str, Exercise]) -> dict[str, str]:
    """Families of added exercises from their easier/harder links.

    Linked exercises form one family: a built-in one's when the chain reaches a built-in
    exercise, else the first slug of the chain in alphabetical order.
    """
    parent = {ex.slug: ex.slug for ex in added}

    def root(slug: str) -> str:
        while parent[slug] != slug:
            parent[slug] = parent[parent[slug]]
            slug = parent[slug]
        return slug

    anchor: dict[str, str] = {}
    for ex in added:
        for link in (ex.easier, ex.harder):
            if link in parent:
                a, b = sorted((root(ex.slug), root(link)))
                parent[b] = a
            elif link in builtin:
                anchor.setdefault(ex.slug, builtin[link].family or link)
    family_of_root: dict[str, str] = {}
    for ex in added:
        if ex.slug in anchor:
            family_of_root.setdefault(root(ex.slug), anchor[ex.slug])
    return {ex.slug: family_of_root.get(root(ex.slug), root(ex.slug)) for ex in added}


# --------------------------------------------------------------------------- validation


def _validate_exercise(
    raw: Any, *, where: str, entry: str, context: dict[str, Any] | None
) -> Exercise:
    try:
        return Exercise.model_validate(raw, context=context)
    except ValidationError as exc:
        raise explain(
            exc, Exercise, where=where, entry=lambda loc: (entry, loc), error=CatalogError
        ) from None


def validate_exercise(
    raw: Any, *, where: str, entry: str | None = None, catalog: Catalog | None = None
) -> Exercise:
    """Validate one exercise mapping (file entry or clinic form data) and build it.

    Links to other exercises, imbalances and cautions are checked when ``catalog`` is
    given (and always by `load_catalog` and `Catalog.with_extra`).

    :param where: what the data came from, first in error messages ("exercises.yaml").
    :param entry: name for the entry when it has no valid slug (default "exercise").
    :raise CatalogError: listing every problem; `problems` has (field, message) pairs.
    """
    slug = raw.get("slug") if isinstance(raw, Mapping) else None
    name = slug if isinstance(slug, str) and IDENT.match(slug) else (entry or "exercise")
    context = None
    if catalog is not None:
        exercises = dict(catalog.exercises)
        context = catalog._context(exercises)
        if isinstance(slug, str):
            exercises.setdefault(slug, raw)
    return _validate_exercise(raw, where=where, entry=name, context=context)


# --------------------------------------------------------------------------- loading


def _read(data_dir: Path, filename: str, list_key: str) -> dict[str, Any]:
    doc = read_yaml(data_dir / filename, CatalogError)
    if not isinstance(doc, dict):
        raise CatalogError(f"{filename}: must be a mapping with version and {list_key}")
    return doc


def _by_slug(doc: Mapping[str, Any], list_key: str) -> dict[str, Any]:
    items = doc.get(list_key)
    out: dict[str, Any] = {}
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and isinstance(item.get("slug"), str):
            out.setdefault(item["slug"], item)
    return out


def _counts(doc: Mapping[str, Any], list_key: str, field: str) -> dict[Any, int]:
    counts: dict[Any, int] = {}
    items = doc.get(list_key)
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and isinstance(item.get(field), str | int):
            counts[item[field]] = counts.get(item[field], 0) + 1
    return counts


def _parse(model: type[Strict], doc: Any, filename: str, list_key: str, context: dict) -> Any:
    try:
        return model.model_validate(doc, context=context)
    except ValidationError as exc:
        raise explain(
            exc,
            model,
            where=filename,
            entry=entry_namer(doc, list_key),
            error=CatalogError,
        ) from None


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """Read and validate exercises.yaml, imbalances.yaml and tips.yaml from `data_dir`.

    :raise CatalogError: naming the file, the entry and the field of each problem.
    """
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    ex_file, im_file, tip_file = "exercises.yaml", "imbalances.yaml", "tips.yaml"
    ex_doc = _read(data_dir, ex_file, "exercises")
    im_doc = _read(data_dir, im_file, "imbalances")
    tip_doc = _read(data_dir, tip_file, "tips")

    parsed_ex = _parse(_ExercisesFile, ex_doc, ex_file, "exercises", {})
    raw_exercises = _by_slug(ex_doc, "exercises")
    raw_imbalances = _by_slug(im_doc, "imbalances")
    cautions = {c.slug: c for c in parsed_ex.cautions}
    slug_counts = _counts(ex_doc, "exercises", "slug")
    exercises: dict[str, Exercise] = {}
    problems: list[CatalogError] = []
    for index, raw in enumerate(parsed_ex.exercises):
        context = {
            "builtin": True,
            "exercises": raw_exercises,
            "imbalances": raw_imbalances,
            "cautions": cautions,
            "slug_counts": slug_counts,
        }
        slug = raw.get("slug") if isinstance(raw, Mapping) else None
        name = slug if isinstance(slug, str) and IDENT.match(slug) else f"exercises[{index + 1}]"
        try:
            ex = _validate_exercise(raw, where=ex_file, entry=name, context=context)
        except CatalogError as exc:
            problems.append(exc)  # every entry is checked, so one start-up lists them all
            continue
        exercises.setdefault(ex.slug, ex)
    if problems:
        raise CatalogError(
            "\n".join(str(p) for p in problems), [x for p in problems for x in p.problems]
        )
    parsed_im = _parse(
        _ImbalancesFile,
        im_doc,
        im_file,
        "imbalances",
        {
            "exercises": exercises,
            "slug_counts": _counts(im_doc, "imbalances", "slug"),
            "priority_counts": _counts(im_doc, "imbalances", "priority"),
        },
    )
    parsed_tips = _parse(
        _TipsFile, tip_doc, tip_file, "tips", {"slug_counts": _counts(tip_doc, "tips", "slug")}
    )

    versions = {
        "exercises": parsed_ex.version,
        "imbalances": parsed_im.version,
        "tips": parsed_tips.version,
    }
    if len(set(versions.values())) == 1:
        version = parsed_ex.version
    else:
        version = "+".join(f"{name}-{v}" for name, v in versions.items())
    return Catalog(
        version=version,
        exercises=exercises,
        imbalances={im.slug: im for im in parsed_im.imbalances},
        tips=parsed_tips.tips,
        cautions=cautions,
    )


@functools.cache
def default_catalog() -> Catalog:
    """The package's own catalog, loaded and validated once per process."""
    return load_catalog()
