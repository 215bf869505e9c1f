"""The reviewed exercise content (data/*.yaml): loading, validation and lookup.

Pure module: imports only the standard library and PyYAML, so the scoring and program
builders can use it without an application. Every validation error names the file, the
entry and the field, so a clinician editing the YAML can fix it without reading code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from trainer_app.datafile import IDENT, Fields, describe

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

_SLUG = IDENT


class CatalogError(ValueError):
    """Invalid catalog content; the message names the file, the entry and the field."""


@dataclass(frozen=True)
class Dose:
    sets: int
    reps: int | None
    hold_seconds: int | None
    rest_seconds: int
    per_side: bool = False

    def text(self) -> str:
        """Human-readable dose, e.g. "3 x 30 s hold each side, rest 45 s"."""
        work = f"{self.reps} reps" if self.reps is not None else f"{self.hold_seconds} s hold"
        side = " each side" if self.per_side else ""
        return f"{self.sets} x {work}{side}, rest {self.rest_seconds} s"


@dataclass(frozen=True)
class Exercise:
    slug: str
    name: str
    kind: str
    imbalances: tuple[str, ...]
    summary: str
    steps: tuple[str, ...]
    cues: tuple[str, ...]
    mistakes: tuple[str, ...]
    target_muscles: tuple[str, ...]
    equipment: tuple[str, ...]
    dose: Dose
    easier: str | None
    harder: str | None
    unilateral: bool
    level: str
    source: str = "builtin"


@dataclass(frozen=True)
class Imbalance:
    slug: str
    name: str
    problem: str
    weak_muscles: tuple[str, ...]
    overactive_muscles: tuple[str, ...]
    exercises: tuple[str, ...]
    release: tuple[str, ...]
    from_article: bool


@dataclass(frozen=True)
class Tip:
    slug: str
    title: str
    text: str
    from_article: bool


@dataclass(frozen=True)
class Catalog:
    version: str
    exercises: dict[str, Exercise]
    imbalances: dict[str, Imbalance]
    tips: tuple[Tip, ...]

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
                    f"{ex.source} exercises: {ex.slug}.slug: already used by {owner}"
                )
            exercises[ex.slug] = ex
            added.append(ex)
        for ex in added:
            _check_links(ex, exercises, self.imbalances, where=f"{ex.source} exercises")
        return replace(self, exercises=exercises)


# --------------------------------------------------------------------------- validation


def _fail(where: str, entry: str, field: str, message: str) -> CatalogError:
    return CatalogError(f"{where}: {entry}.{field}: {message}")


class _Fields(Fields):
    """Typed access to one mapping, failing with the file / entry / field in the message."""

    max_text = MAX_TEXT

    def __init__(self, raw: Any, *, where: str, entry: str, prefix: str = "") -> None:
        self.where, self.entry, self.prefix = where, entry, prefix
        super().__init__(raw)

    def not_a_mapping(self, raw: Any) -> CatalogError:
        label = self.prefix.rstrip(".") or "entry"
        return CatalogError(
            f"{self.where}: {self.entry}: {label} must be a mapping, got {_kind(raw)}"
        )

    def error(self, field: str, message: str) -> CatalogError:
        return _fail(self.where, self.entry, self.prefix + field, message)

    def slug(self, name: str) -> str:
        return self.identifier(name, "a slug")

    def optional_slug(self, name: str) -> str | None:
        return None if self.raw.get(name) is None else self.slug(name)

    def choice(self, name: str, choices: Iterable[str], default: str | None = None) -> str:
        choices = tuple(choices)
        value = self.raw.get(name, default)
        if value not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def number(self, name: str, maximum: int) -> int:
        value = self.raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(name, f"must be a positive integer, got {value!r}")
        if value > maximum:
            raise self.error(name, f"must be at most {maximum}, got {value}")
        return value

    def texts(self, name: str, *, min_items: int, max_items: int) -> tuple[str, ...]:
        items = self._list(name, min_items, max_items)
        out = []
        for i, item in enumerate(items, 1):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{name}[{i}]", f"must be a non-empty string, got {_kind(item)}")
            text = " ".join(item.split())
            if len(text) > MAX_TEXT:
                raise self.error(f"{name}[{i}]", f"must be at most {MAX_TEXT} characters")
            out.append(text)
        return tuple(out)

    def vocab(
        self, name: str, vocabulary: Iterable[str], *, min_items: int, what: str
    ) -> tuple[str, ...]:
        vocabulary = tuple(vocabulary)
        items = self._list(name, min_items, max(len(vocabulary), min_items))
        for i, item in enumerate(items, 1):
            if item not in vocabulary:
                raise self.error(
                    f"{name}[{i}]", f"unknown {what} {item!r} (known: {', '.join(vocabulary)})"
                )
        return tuple(items)

    def slugs(self, name: str, *, min_items: int, max_items: int = 50) -> tuple[str, ...]:
        items = self._list(name, min_items, max_items)
        for i, item in enumerate(items, 1):
            if not isinstance(item, str) or not _SLUG.match(item):
                raise self.error(f"{name}[{i}]", f"must be a slug, got {item!r}")
        return tuple(items)

    def _list(self, name: str, min_items: int, max_items: int) -> list[Any]:
        value = self.raw.get(name)
        if not isinstance(value, list):
            raise self.error(name, f"must be a list, got {_kind(value)}")
        if not min_items <= len(value) <= max_items:
            raise self.error(name, f"must have {min_items} to {max_items} items, got {len(value)}")
        seen = set()
        for item in value:
            key = item if isinstance(item, str | int) else repr(item)
            if key in seen:
                raise self.error(name, f"lists {item!r} twice")
            seen.add(key)
        return value


_kind = describe


_EXERCISE_REQUIRED = (
    "slug",
    "name",
    "kind",
    "imbalances",
    "summary",
    "steps",
    "cues",
    "mistakes",
    "target_muscles",
    "equipment",
    "dose",
    "unilateral",
    "level",
)
_EXERCISE_OPTIONAL = ("easier", "harder", "source")


def _entry_name(raw: Any, fallback: str) -> str:
    slug = raw.get("slug") if isinstance(raw, Mapping) else None
    return slug if isinstance(slug, str) and _SLUG.match(slug) else fallback


def validate_exercise(raw: dict, *, where: str, entry: str | None = None) -> Exercise:
    """Validate one exercise mapping (file entry or clinic form data) and build it.

    Checks shape, types, vocabularies and limits. Links to other exercises and to
    imbalances are checked by `load_catalog` and `Catalog.with_extra`, which see the
    whole catalog.

    :param where: what the data came from, first in error messages ("exercises.yaml").
    :param entry: name for the entry when it has no valid slug (default "exercise").
    """
    f = _Fields(raw, where=where, entry=_entry_name(raw, entry or "exercise"))
    f.only(_EXERCISE_REQUIRED, _EXERCISE_OPTIONAL)
    slug = f.slug("slug")
    dose = _dose(raw["dose"], where=where, entry=f.entry)
    easier, harder = f.optional_slug("easier"), f.optional_slug("harder")
    for name, value in (("easier", easier), ("harder", harder)):
        if value == slug:
            raise f.error(name, "must not point at the exercise itself")
    if easier is not None and easier == harder:
        raise f.error("harder", "must differ from easier")
    return Exercise(
        slug=slug,
        name=f.text("name", max_len=80),
        kind=f.choice("kind", KINDS),
        imbalances=f.slugs("imbalances", min_items=0),
        summary=f.text("summary", max_len=200),
        steps=f.texts("steps", min_items=1, max_items=MAX_LIST_ITEMS),
        cues=f.texts("cues", min_items=1, max_items=MAX_LIST_ITEMS),
        mistakes=f.texts("mistakes", min_items=1, max_items=MAX_LIST_ITEMS),
        target_muscles=f.vocab("target_muscles", REGIONS, min_items=1, what="region"),
        equipment=f.vocab("equipment", EQUIPMENT, min_items=1, what="equipment"),
        dose=dose,
        easier=easier,
        harder=harder,
        unilateral=f.flag("unilateral"),
        level=f.choice("level", LEVELS),
        source=f.choice("source", SOURCES, default="builtin"),
    )


def _dose(raw: Any, *, where: str, entry: str) -> Dose:
    f = _Fields(raw, where=where, entry=entry, prefix="dose.")
    f.only(("sets", "rest_seconds"), ("reps", "hold_seconds", "per_side"))
    has_reps, has_hold = raw.get("reps") is not None, raw.get("hold_seconds") is not None
    if has_reps == has_hold:
        raise f.error("reps", "give exactly one of reps or hold_seconds")
    return Dose(
        sets=f.number("sets", MAX_SETS),
        reps=f.number("reps", MAX_REPS) if has_reps else None,
        hold_seconds=f.number("hold_seconds", MAX_HOLD_SECONDS) if has_hold else None,
        rest_seconds=f.number("rest_seconds", MAX_REST_SECONDS),
        per_side=f.flag("per_side", default=False),
    )


def _builtin_standard(ex: Exercise, where: str) -> None:
    """The reviewed files hold every exercise to the same editorial standard."""
    for field, (low, high) in (
        ("steps", BUILTIN_STEPS),
        ("cues", BUILTIN_CUES),
        ("mistakes", BUILTIN_MISTAKES),
    ):
        count = len(getattr(ex, field))
        if not low <= count <= high:
            raise _fail(where, ex.slug, field, f"must have {low} to {high} items, got {count}")
    if ex.source != "builtin":
        raise _fail(where, ex.slug, "source", "must be builtin in the reviewed files")


def _check_links(
    ex: Exercise,
    exercises: Mapping[str, Exercise],
    imbalances: Mapping[str, Imbalance],
    *,
    where: str,
) -> None:
    for field in ("easier", "harder"):
        target = getattr(ex, field)
        if target is not None and target not in exercises:
            raise _fail(where, ex.slug, field, f"no exercise {target!r} in the catalog")
    for i, slug in enumerate(ex.imbalances, 1):
        if slug not in imbalances:
            known = ", ".join(imbalances)
            raise _fail(where, ex.slug, f"imbalances[{i}]", f"unknown imbalance {slug!r} ({known})")


def _imbalance(raw: Any, *, where: str, index: int) -> Imbalance:
    f = _Fields(raw, where=where, entry=_entry_name(raw, f"imbalances[{index}]"))
    f.only(
        (
            "slug",
            "name",
            "problem",
            "weak_muscles",
            "overactive_muscles",
            "exercises",
            "release",
            "from_article",
        )
    )
    return Imbalance(
        slug=f.slug("slug"),
        name=f.text("name", max_len=80),
        problem=f.text("problem"),
        weak_muscles=f.vocab("weak_muscles", REGIONS, min_items=0, what="region"),
        overactive_muscles=f.vocab("overactive_muscles", REGIONS, min_items=0, what="region"),
        exercises=f.slugs("exercises", min_items=1, max_items=12),
        release=f.slugs("release", min_items=0, max_items=3),
        from_article=f.flag("from_article"),
    )


def _tip(raw: Any, *, where: str, index: int) -> Tip:
    f = _Fields(raw, where=where, entry=_entry_name(raw, f"tips[{index}]"))
    f.only(("slug", "title", "text", "from_article"))
    return Tip(
        slug=f.slug("slug"),
        title=f.text("title", max_len=80),
        text=f.text("text", max_len=600),
        from_article=f.flag("from_article"),
    )


# --------------------------------------------------------------------------- loading


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available
    """SafeLoader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise CatalogError(f"line {line}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read(data_dir: Path, filename: str, list_key: str) -> tuple[str, list[Any]]:
    path = data_dir / filename
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(f"{filename}: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        doc = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except CatalogError as exc:
        raise CatalogError(f"{filename}: {exc}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{filename}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise CatalogError(f"{filename}: must be a mapping with version and {list_key}")
    unknown = sorted(str(k) for k in doc if k not in ("version", list_key))
    if unknown:
        raise CatalogError(f"{filename}: {unknown[0]}: unknown top-level key")
    version = doc.get("version")
    if not isinstance(version, str) or not re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", version):
        raise CatalogError(
            f'{filename}: version: must be a quoted string like "2026.11.1", got {version!r}'
        )
    items = doc.get(list_key)
    if not isinstance(items, list) or not items:
        raise CatalogError(f"{filename}: {list_key}: must be a non-empty list")
    return version, items


def _unique(items: Iterable[Any], filename: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if item.slug in out:
            raise CatalogError(f"{filename}: {item.slug}.slug: duplicate slug")
        out[item.slug] = item
    return out


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """Read and validate exercises.yaml, imbalances.yaml and tips.yaml from `data_dir`.

    :raise CatalogError: on the first problem, naming the file, the entry and the field.
    """
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    ex_file, im_file, tip_file = "exercises.yaml", "imbalances.yaml", "tips.yaml"

    ex_version, raw_exercises = _read(data_dir, ex_file, "exercises")
    im_version, raw_imbalances = _read(data_dir, im_file, "imbalances")
    tip_version, raw_tips = _read(data_dir, tip_file, "tips")

    parsed = []
    for i, raw in enumerate(raw_exercises, 1):
        ex = validate_exercise(raw, where=ex_file, entry=f"exercises[{i}]")
        _builtin_standard(ex, ex_file)
        parsed.append(ex)
    exercises = _unique(parsed, ex_file)
    imbalances = _unique(
        (_imbalance(raw, where=im_file, index=i) for i, raw in enumerate(raw_imbalances, 1)),
        im_file,
    )
    tips = _unique(
        (_tip(raw, where=tip_file, index=i) for i, raw in enumerate(raw_tips, 1)), tip_file
    )

    for ex in exercises.values():
        _check_links(ex, exercises, imbalances, where=ex_file)
    for im in imbalances.values():
        if im.overactive_muscles and not im.release:
            raise _fail(
                im_file, im.slug, "release", "must list release work for the overactive side"
            )
        for field, kind in (("exercises", "strength"), ("release", "release")):
            for i, slug in enumerate(getattr(im, field), 1):
                ex = exercises.get(slug)
                label = f"{field}[{i}]"
                if ex is None:
                    raise _fail(im_file, im.slug, label, f"no exercise {slug!r} in {ex_file}")
                if ex.kind != kind:
                    raise _fail(im_file, im.slug, label, f"{slug!r} is not a {kind} exercise")
                if im.slug not in ex.imbalances:
                    raise _fail(
                        im_file, im.slug, label, f"{slug!r} does not list {im.slug} in {ex_file}"
                    )

    versions = {"exercises": ex_version, "imbalances": im_version, "tips": tip_version}
    if len(set(versions.values())) == 1:
        version = ex_version
    else:
        version = "+".join(f"{name}-{v}" for name, v in versions.items())
    return Catalog(
        version=version, exercises=exercises, imbalances=imbalances, tips=tuple(tips.values())
    )


@functools.cache
def default_catalog() -> Catalog:
    """The package's own catalog, loaded and validated once per process."""
    return load_catalog()
