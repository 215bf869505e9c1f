"""The program builder: confirmed imbalances in, a corrective-exercise program draft out.

Pure module: no Flask, no database, no randomness. The same targets, catalog and options
always give the same draft. Rules, in priority order:

1. every target gets at least one strengthening exercise (round-robin, most important first);
2. one release exercise per target with overactive muscles, placed first as the warm-up,
   while the exercise cap allows;
3. further strengthening exercises, round-robin across the targets, up to the cap.

Level picks the easier or harder variant of each exercise; the equipment filter and the
exclusions swap to another variant or the next exercise of the pool. Asymmetry prefers
single-side exercises, dosed per side, starting with the weaker side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trainer_app.library.catalog import REGIONS, Catalog, Dose, Exercise, Imbalance

LEVELS = ("beginner", "intermediate", "advanced")
ASYMMETRY = "asymmetry"

MIN_SETS, MAX_SETS = 1, 6
MIN_REPS, MAX_REPS = 1, 30
MIN_HOLD, MAX_HOLD = 5, 120
MIN_REST, MAX_REST = 10, 300
HOLD_STEP = 5
SECONDS_PER_REP = 4
SETUP_SECONDS = 30
TRACK_PROGRESS_TIP = "track_progress"
DRAFT_SCHEMA = 1


@dataclass(frozen=True)
class Target:
    slug: str
    reasons: tuple[str, ...] = ()
    weak_side: str | None = None


@dataclass(frozen=True)
class BuildOptions:
    level: str = "beginner"
    sessions_per_week: int = 3
    weeks: int = 4
    equipment: frozenset[str] | None = None
    max_exercises: int = 8
    exclude: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WeekDose:
    week: int
    sets: int
    reps: int | None
    hold_seconds: int | None


@dataclass(frozen=True)
class ProgramItem:
    exercise_slug: str
    name: str
    kind: str
    imbalance: str
    sets: int
    reps: int | None
    hold_seconds: int | None
    rest_seconds: int
    per_side: bool
    reason: str
    notes: str = ""
    weekly: tuple[WeekDose, ...] = ()


@dataclass(frozen=True)
class ProgramDraft:
    items: tuple[ProgramItem, ...]
    sessions_per_week: int
    weeks: int
    tips: tuple[str, ...]
    summary: tuple[str, ...]
    session_minutes: int
    level: str = "beginner"
    targets: tuple[str, ...] = ()
    catalog_version: str = ""


@dataclass
class _Pick:
    exercise: Exercise
    target: Target
    over_level: bool = False


@dataclass
class _State:
    chosen: dict[str, _Pick] = field(default_factory=dict)
    strength: dict[str, list[_Pick]] = field(default_factory=dict)
    release: dict[str, _Pick] = field(default_factory=dict)


def targets_from_scores(scores: Iterable[Any], slugs: Iterable[str] | None = None) -> list[Target]:
    """Targets from scored imbalances (anything with slug, score, reasons, weak_side).

    Highest score first, ties in the given order. `slugs` keeps only the imbalances the
    trainer confirmed (default: every score above 0).
    """
    keep = set(slugs) if slugs is not None else None
    chosen = [
        (-int(s.score), index, s)
        for index, s in enumerate(scores)
        if (s.slug in keep if keep is not None else s.score > 0)
    ]
    return [
        Target(s.slug, tuple(s.reasons), s.weak_side)
        for _, _, s in sorted(chosen, key=lambda t: t[:2])
    ]


# --------------------------------------------------------------------------- choosing


def _unilateral_mode(target: Target) -> str:
    if target.slug == ASYMMETRY:
        return "require"
    return "prefer" if target.weak_side else ""


def _check_options(options: BuildOptions) -> None:
    if options.level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {options.level!r}")
    for name, low, high in (("sessions_per_week", 2, 5), ("weeks", 4, 6), ("max_exercises", 4, 10)):
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _targets(targets: Sequence[Target | str], catalog: Catalog) -> list[Target]:
    if not targets:
        raise ValueError("Choose at least one imbalance to build a program for.")
    out: list[Target] = []
    seen: set[str] = set()
    for target in targets:
        target = Target(target) if isinstance(target, str) else target
        if target.slug not in catalog.imbalances:
            known = ", ".join(catalog.imbalances)
            raise ValueError(f"Unknown imbalance {target.slug!r} (known: {known}).")
        if target.weak_side not in (None, "left", "right"):
            raise ValueError(f"weak_side must be left, right or None, got {target.weak_side!r}")
        if target.slug not in seen:
            seen.add(target.slug)
            out.append(target)
    return out


def _fits(ex: Exercise, kind: str, options: BuildOptions) -> bool:
    if ex.kind != kind or ex.slug in options.exclude:
        return False
    if options.equipment is None:
        return True
    return set(ex.equipment) - {"none"} <= set(options.equipment)


def _family(ex: Exercise, catalog: Catalog) -> list[Exercise]:
    """The exercise, then its easier chain, then its harder chain (no repeats)."""
    members = [ex]
    seen = {ex.slug}
    for link in ("easier", "harder"):
        current = ex
        while (slug := getattr(current, link)) and slug not in seen and slug in catalog.exercises:
            current = catalog.exercises[slug]
            seen.add(slug)
            members.append(current)
    return members


def _variants(
    ex: Exercise, kind: str, catalog: Catalog, options: BuildOptions
) -> list[tuple[bool, Exercise]]:
    """Fitting variants in preference order: (over_level, exercise).

    At or below the level, the hardest variant first (the default on a tie); above it,
    the easiest first, as a last resort.
    """
    rank = LEVELS.index(options.level)
    fitting = [(i, m) for i, m in enumerate(_family(ex, catalog)) if _fits(m, kind, options)]
    within = sorted(
        ((-LEVELS.index(m.level), i, m) for i, m in fitting if LEVELS.index(m.level) <= rank),
        key=lambda t: (t[0], t[1]),
    )
    above = sorted(
        ((LEVELS.index(m.level), i, m) for i, m in fitting if LEVELS.index(m.level) > rank),
        key=lambda t: (t[0], t[1]),
    )
    return [(False, m) for _, _, m in within] + [(True, m) for _, _, m in above]


def _pool(im: Imbalance, kind: str, catalog: Catalog) -> list[Exercise]:
    """The imbalance's listed exercises (most important first), then others tagged with it."""
    listed = im.exercises if kind == "strength" else im.release
    slugs = [s for s in listed if s in catalog.exercises]
    slugs += [ex.slug for ex in catalog.exercises.values() if im.slug in ex.imbalances]
    out: list[Exercise] = []
    for slug in dict.fromkeys(slugs):
        ex = catalog.exercises[slug]
        if ex.kind == kind:
            out.append(ex)
    return out


def _candidates(
    im: Imbalance, kind: str, catalog: Catalog, options: BuildOptions, unilateral: str = ""
) -> list[tuple[bool, Exercise]]:
    """Every usable exercise for this imbalance, best first, as (over_level, exercise).

    :param unilateral: "" (no preference), "prefer" (single-side first within the level),
        or "require" (single-side first even above the level: the asymmetry target).
    """
    ranked: list[tuple[tuple[int, int, int, int], bool, Exercise]] = []
    for pool_index, ex in enumerate(_pool(im, kind, catalog)):
        for pref, (over, variant) in enumerate(_variants(ex, kind, catalog, options)):
            bilateral = int(bool(unilateral) and not variant.unilateral)
            first, second = (
                (bilateral, int(over)) if unilateral == "require" else (int(over), bilateral)
            )
            ranked.append(((first, second, pref, pool_index), over, variant))
    ranked.sort(key=lambda t: t[0])
    out: list[tuple[bool, Exercise]] = []
    seen: set[str] = set()
    for _, over, ex in ranked:
        if ex.slug not in seen:
            seen.add(ex.slug)
            out.append((over, ex))
    return out


# --------------------------------------------------------------------------- dosing


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _base_dose(dose: Dose) -> tuple[int, int | None, int | None, int]:
    sets = _clamp(dose.sets, MIN_SETS, MAX_SETS)
    reps = _clamp(dose.reps, MIN_REPS, MAX_REPS) if dose.reps is not None else None
    hold = _clamp(dose.hold_seconds, MIN_HOLD, MAX_HOLD) if dose.hold_seconds is not None else None
    if reps is None and hold is None:
        reps = MIN_REPS
    return sets, reps, hold, _clamp(dose.rest_seconds, MIN_REST, MAX_REST)


def progression_week(weeks: int) -> int:
    """The week in which a set is added: just past the middle of the program."""
    return weeks // 2 + 1


def weekly_doses(
    sets: int, reps: int | None, hold: int | None, weeks: int, progress: bool
) -> tuple[WeekDose, ...]:
    """Week-by-week doses: +1 rep or +5 s each week, +1 set (and no other change) mid-way."""
    out = [WeekDose(1, sets, reps, hold)]
    set_week = progression_week(weeks)
    for week in range(2, weeks + 1):
        if progress and week == set_week and sets < MAX_SETS:
            sets += 1
        elif progress:
            if reps is not None:
                reps = min(MAX_REPS, reps + 1)
            if hold is not None:
                hold = min(MAX_HOLD, hold + HOLD_STEP)
        out.append(WeekDose(week, sets, reps, hold))
    return tuple(out)


def _work_seconds(item: ProgramItem) -> int:
    work = (
        item.hold_seconds if item.hold_seconds is not None else (item.reps or 0) * SECONDS_PER_REP
    )
    sides = 2 if item.per_side else 1
    return SETUP_SECONDS + item.sets * (work * sides + item.rest_seconds)


def estimate_minutes(items: Iterable[ProgramItem]) -> int:
    """Session length in minutes (week 1 doses), rounded up to 5."""
    seconds = sum(_work_seconds(item) for item in items)
    return max(5, 5 * math.ceil(seconds / 300))


# --------------------------------------------------------------------------- wording


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _regions(slugs: Iterable[str]) -> str:
    names = [REGIONS.get(s, s.replace("_", " ")).lower() for s in slugs]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _strength_reason(ex: Exercise, target: Target, im: Imbalance) -> str:
    if target.reasons:
        return f"{ex.name}: {_lower_first(target.reasons[0])}"
    if im.weak_muscles:
        return f"{ex.name}: strengthens the {_regions(im.weak_muscles)} ({_lower_first(im.name)})"
    return f"{ex.name}: trains each side on its own ({_lower_first(im.name)})"


def _release_reason(ex: Exercise, im: Imbalance) -> str:
    muscles = [m for m in im.overactive_muscles if m in ex.target_muscles] or list(
        im.overactive_muscles
    )
    return f"{ex.name}: releases the overactive {_regions(muscles)}, for {_lower_first(im.name)}"


def _notes(pick: _Pick, weak_side: str | None, asymmetric: bool, options: BuildOptions) -> str:
    notes = []
    ex = pick.exercise
    if ex.unilateral and ex.kind == "strength" and (asymmetric or weak_side):
        what = "hold time" if ex.dose.hold_seconds is not None else "reps"
        if weak_side:
            other = "right" if weak_side == "left" else "left"
            notes.append(
                f"Start with the weaker ({weak_side}) side and match its {what} "
                f"on the {other} side."
            )
        else:
            notes.append(f"Start with the weaker side and match its {what} on the other side.")
    if pick.over_level:
        notes.append(
            f"Rated {ex.level}, above the {options.level} level: no easier variant fits the "
            "equipment, so coach it closely."
        )
    return " ".join(notes)


# --------------------------------------------------------------------------- building


def build_program(
    targets: Sequence[Target | str],
    catalog: Catalog,
    options: BuildOptions = BuildOptions(),  # noqa: B008 - frozen, immutable default
) -> ProgramDraft:
    """Turn confirmed imbalances (most important first) into a program draft.

    :raise ValueError: no targets, an unknown imbalance or option, more targets than the
        exercise cap, or a target with no exercise that fits the equipment.
    """
    _check_options(options)
    wanted = _targets(targets, catalog)
    if len(wanted) > options.max_exercises:
        raise ValueError(
            f"{len(wanted)} imbalances need at least {len(wanted)} exercises; "
            f"raise the exercise limit (now {options.max_exercises}) or choose fewer imbalances."
        )
    asymmetric = any(t.slug == ASYMMETRY for t in wanted)
    asym_side = next((t.weak_side for t in wanted if t.slug == ASYMMETRY), None)
    state = _State()
    strength_pools = {
        t.slug: _candidates(
            catalog.imbalances[t.slug],
            "strength",
            catalog,
            options,
            unilateral=_unilateral_mode(t),
        )
        for t in wanted
    }

    def take(target: Target, allow_over: bool) -> bool:
        require = _unilateral_mode(target) == "require"
        for over, ex in strength_pools[target.slug]:
            # above the level, or two-sided work for an asymmetry: only to cover the target
            fallback = over or (require and not ex.unilateral)
            if ex.slug in state.chosen or (fallback and not allow_over):
                continue
            pick = _Pick(ex, target, over)
            state.chosen[ex.slug] = pick
            state.strength.setdefault(target.slug, []).append(pick)
            return True
        return False

    # 1. coverage: one strengthening exercise per target, most important first
    for target in wanted:
        if not take(target, allow_over=True):
            im = catalog.imbalances[target.slug]
            kit = ", ".join(sorted(options.equipment or ())) or "none"
            excluded = f" with {len(options.exclude)} excluded" if options.exclude else ""
            raise ValueError(
                f"No strengthening exercise for {_lower_first(im.name)} fits the equipment "
                f"available ({kit}){excluded}. Add equipment or remove this imbalance."
            )

    # 2. release work, one per target with overactive muscles, while the cap allows
    release_dropped = False
    for target in wanted:
        im = catalog.imbalances[target.slug]
        if not im.overactive_muscles:
            continue
        if len(state.chosen) >= options.max_exercises:
            release_dropped = True
            break
        for _over, ex in _candidates(im, "release", catalog, options):
            if ex.slug not in state.chosen:
                pick = _Pick(ex, target)
                state.chosen[ex.slug] = pick
                state.release[target.slug] = pick
                break

    # 3. more strengthening work, round-robin, only at or below the level
    progress = True
    while progress and len(state.chosen) < options.max_exercises:
        progress = False
        for target in wanted:
            if len(state.chosen) >= options.max_exercises:
                break
            progress = take(target, allow_over=False) or progress

    items: list[ProgramItem] = []
    for target in wanted:
        pick = state.release.get(target.slug)
        if pick:
            items.append(_item(pick, catalog, options, asymmetric=False, weak_side=None))
    for target in wanted:
        side = target.weak_side or asym_side
        for pick in state.strength.get(target.slug, []):
            items.append(_item(pick, catalog, options, asymmetric=asymmetric, weak_side=side))

    return ProgramDraft(
        items=tuple(items),
        sessions_per_week=options.sessions_per_week,
        weeks=options.weeks,
        tips=tuple(
            tip.slug for tip in catalog.tips if tip.from_article or tip.slug == TRACK_PROGRESS_TIP
        ),
        summary=_summary(wanted, items, catalog, options, asymmetric, release_dropped),
        session_minutes=estimate_minutes(items),
        level=options.level,
        targets=tuple(t.slug for t in wanted),
        catalog_version=catalog.version,
    )


def _item(
    pick: _Pick, catalog: Catalog, options: BuildOptions, *, asymmetric: bool, weak_side: str | None
) -> ProgramItem:
    ex = pick.exercise
    im = catalog.imbalances[pick.target.slug]
    sets, reps, hold, rest = _base_dose(ex.dose)
    strength = ex.kind == "strength"
    reason = _strength_reason(ex, pick.target, im) if strength else _release_reason(ex, im)
    return ProgramItem(
        exercise_slug=ex.slug,
        name=ex.name,
        kind=ex.kind,
        imbalance=im.slug,
        sets=sets,
        reps=reps,
        hold_seconds=hold,
        rest_seconds=rest,
        per_side=ex.dose.per_side or ex.unilateral,
        reason=reason,
        notes=_notes(pick, weak_side, asymmetric, options),
        weekly=weekly_doses(sets, reps, hold, options.weeks, progress=strength),
    )


def _summary(
    wanted: list[Target],
    items: list[ProgramItem],
    catalog: Catalog,
    options: BuildOptions,
    asymmetric: bool,
    release_dropped: bool,
) -> tuple[str, ...]:
    lines = [
        f"{options.sessions_per_week} sessions a week for {options.weeks} weeks, "
        f"about {estimate_minutes(items)} minutes a session ({options.level} level)."
    ]
    for target in wanted:
        names = [i.name for i in items if i.imbalance == target.slug and i.kind == "strength"]
        lines.append(f"{catalog.imbalances[target.slug].name}: {', '.join(names)}.")
    if any(i.kind == "release" for i in items):
        lines.append("Start each session with the release work as a warm-up.")
    if release_dropped:
        lines.append(
            f"Some release work was left out to keep to {options.max_exercises} exercises."
        )
    lines.append(
        f"Each week add a rep or {HOLD_STEP} s of hold; in week "
        f"{progression_week(options.weeks)} add a set instead."
    )
    if asymmetric:
        lines.append("Single-side exercises: start with the weaker side and match its reps.")
    return tuple(lines)


# --------------------------------------------------------------------------- text and diff


def item_dose_text(item: ProgramItem) -> str:
    """The week-1 dose as text, e.g. "3 x 10 reps each side, rest 60 s"."""
    return Dose(item.sets, item.reps, item.hold_seconds, item.rest_seconds, item.per_side).text()


def _short_dose(item: ProgramItem) -> str:
    return item_dose_text(item).rsplit(", rest ", 1)[0]


def diff_items(old_items: Sequence[ProgramItem], new_items: Sequence[ProgramItem]) -> list[str]:
    """Human-readable changes from one item list to the next (removed, added, changed, moved)."""
    old = {item.exercise_slug: item for item in old_items}
    new = {item.exercise_slug: item for item in new_items}
    lines = [f"Removed {item.name}" for slug, item in old.items() if slug not in new]
    for slug, item in new.items():
        before = old.get(slug)
        if before is None:
            lines.append(f"Added {item.name} ({_short_dose(item)})")
            continue
        if _short_dose(before) != _short_dose(item):
            lines.append(f"{item.name}: {_short_dose(before)} → {_short_dose(item)}")
        elif before.weekly != item.weekly:
            lines.append(f"{item.name}: weekly progression changed")
        if before.rest_seconds != item.rest_seconds:
            lines.append(f"{item.name}: rest {before.rest_seconds} s → {item.rest_seconds} s")
        if before.notes != item.notes:
            lines.append(
                f'{item.name}: notes changed to "{item.notes}"'
                if item.notes
                else f"{item.name}: notes removed"
            )
    common_old = [slug for slug in old if slug in new]
    common_new = [slug for slug in new if slug in old]
    positions_old = {item.exercise_slug: i for i, item in enumerate(old_items, 1)}
    positions_new = {item.exercise_slug: i for i, item in enumerate(new_items, 1)}
    for index, slug in enumerate(common_new):
        if common_old[index] != slug:
            lines.append(
                f"Moved {new[slug].name} from position {positions_old[slug]} "
                f"to {positions_new[slug]}"
            )
    return lines


# --------------------------------------------------------------------------- storage


def draft_to_dict(draft: ProgramDraft) -> dict[str, Any]:
    """A JSON-ready dict of the draft (lists, strings, numbers, bools, None)."""
    return {
        "schema": DRAFT_SCHEMA,
        "sessions_per_week": draft.sessions_per_week,
        "weeks": draft.weeks,
        "level": draft.level,
        "targets": list(draft.targets),
        "catalog_version": draft.catalog_version,
        "session_minutes": draft.session_minutes,
        "tips": list(draft.tips),
        "summary": list(draft.summary),
        "items": [item_to_dict(item) for item in draft.items],
    }


def item_to_dict(item: ProgramItem) -> dict[str, Any]:
    """A JSON-ready dict of one program item."""
    return {
        "exercise_slug": item.exercise_slug,
        "name": item.name,
        "kind": item.kind,
        "imbalance": item.imbalance,
        "sets": item.sets,
        "reps": item.reps,
        "hold_seconds": item.hold_seconds,
        "rest_seconds": item.rest_seconds,
        "per_side": item.per_side,
        "reason": item.reason,
        "notes": item.notes,
        "weekly": [
            {"week": w.week, "sets": w.sets, "reps": w.reps, "hold_seconds": w.hold_seconds}
            for w in item.weekly
        ],
    }


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def item_from_dict(data: Mapping[str, Any]) -> ProgramItem:
    """Rebuild one item stored with `item_to_dict`."""
    return ProgramItem(
        exercise_slug=str(data["exercise_slug"]),
        name=str(data["name"]),
        kind=str(data["kind"]),
        imbalance=str(data["imbalance"]),
        sets=int(data["sets"]),
        reps=_opt_int(data.get("reps")),
        hold_seconds=_opt_int(data.get("hold_seconds")),
        rest_seconds=int(data["rest_seconds"]),
        per_side=bool(data.get("per_side", False)),
        reason=str(data.get("reason", "")),
        notes=str(data.get("notes", "")),
        weekly=tuple(
            WeekDose(
                week=int(w["week"]),
                sets=int(w["sets"]),
                reps=_opt_int(w.get("reps")),
                hold_seconds=_opt_int(w.get("hold_seconds")),
            )
            for w in data.get("weekly", ())
        ),
    )


def draft_from_dict(data: Mapping[str, Any]) -> ProgramDraft:
    """Rebuild a draft stored with `draft_to_dict`; ValueError if the shape is wrong."""
    try:
        if data.get("schema", DRAFT_SCHEMA) != DRAFT_SCHEMA:
            raise ValueError(f"unsupported draft schema {data.get('schema')!r}")
        return ProgramDraft(
            items=tuple(item_from_dict(i) for i in data["items"]),
            sessions_per_week=int(data["sessions_per_week"]),
            weeks=int(data["weeks"]),
            tips=tuple(str(t) for t in data.get("tips", ())),
            summary=tuple(str(s) for s in data.get("summary", ())),
            session_minutes=int(data.get("session_minutes", 0)),
            level=str(data.get("level", "beginner")),
            targets=tuple(str(t) for t in data.get("targets", ())),
            catalog_version=str(data.get("catalog_version", "")),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored program draft: {exc!r}") from exc
