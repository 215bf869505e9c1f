"""The program builder: confirmed imbalances in, a corrective-exercise program draft out.

Pure module: no Flask, no database, no randomness. The same targets, catalog, options and
measurements always give the same draft. Rules, in priority order:

1. every target gets strengthening work first, most important target first: for the
   article's imbalances one of the article's exercises, or the closest easier version of
   its movement family with the article's exercise named as the goal; a movement drill
   never stands alone; asymmetry work is single-side and matches the body region of the
   measured difference;
2. one movement family per session: never an easier and a harder version together;
3. an exercise with a caution the client reported is never chosen automatically;
4. release work only for muscles a test found tight, at most a third of the session
   unless the trainer raises the limit, placed first as the warm-up;
5. further strengthening work, round-robin across the targets, up to the cap.

Each item's "why" quotes the finding it addresses; the starting dose comes from the
measured capacity where the assessment measured one (about 60-70% of the measured hold
or reps, within the exercise's bounds), else the library's dose stands and says so. A test
stands for its movement family and for the exercises its finding names: a harder version
than the one tested is not chosen until the tested one reached its highest starting dose.
Doses grow gradually: a rep or a fifth of a hold a week, one set mid-way from three sets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from trainer_app.library.catalog import (
    BODY_REGIONS,
    EQUIPMENT,
    REGIONS,
    Catalog,
    Exercise,
    Imbalance,
    dose_text,
)

LEVELS = ("beginner", "intermediate", "advanced")
ASYMMETRY = "asymmetry"

MIN_SETS, MAX_SETS = 1, 6
MIN_REPS, MAX_REPS = 1, 30
MIN_HOLD, MAX_HOLD = 5, 120
MIN_REST, MAX_REST = 10, 300
HOLD_STEP = 5  # the largest weekly hold increase, in seconds
MIN_SETS_TO_ADD = 3  # a set is added only from 3 sets up: +1 set is then at most a third
SECONDS_PER_REP = 4
SETUP_SECONDS = 30
TRACK_PROGRESS_TIP = "track_progress"
PREGNANCY = "pregnancy"
# A short exercise on the back kept for a pregnant client (ACOG Committee Opinion 804, 2020:
# avoid lying flat on the back for long after the first trimester): in the client's words.
SUPINE_PREGNANCY_NOTE = (
    "Keep each set short and rest lying on your side between sets; if lying on your back "
    "makes you feel dizzy, sick or short of breath, roll onto your side and tell your trainer."
)
DRAFT_SCHEMA = 2


@dataclass(frozen=True)
class Evidence:
    """A finding as the builder quotes it, with what it is about."""

    text: str
    muscles: tuple[str, ...] = ()
    exercises: tuple[str, ...] = ()
    region: str | None = None
    indicator: str = ""  # the questionnaire test or observation it comes from
    side: str | None = None  # the weaker side a left/right difference measured


@dataclass(frozen=True)
class Target:
    slug: str
    reasons: tuple[str, ...] = ()
    weak_side: str | None = None
    evidence: tuple[Evidence, ...] = ()
    regions: tuple[str, ...] = ()  # asymmetry: body regions of the measured difference


@dataclass(frozen=True)
class Capacity:
    """A measured maximum that sets an exercise's starting dose."""

    amount: int
    unit: str  # seconds | reps
    text: str
    indicator: str = ""  # the questionnaire test that measured it


@dataclass(frozen=True)
class PainTest:
    """How a test stopped by pain loaded the body: where, and with a hold or repetitions."""

    region: str | None = None  # lower_body | trunk | upper_body
    unit: str = ""  # seconds (a timed hold) | reps | "" (an observation)
    muscles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measured:
    """What the assessment measured beyond the findings: capacities and tight muscles."""

    capacities: Mapping[str, Capacity] = field(default_factory=dict)
    tight: Mapping[str, str] = field(default_factory=dict)  # muscle -> the finding
    # muscle -> the side it measured tight on, when only that side was (absent: both sides,
    # or a test without sides): its release work is for that side only
    tight_sides: Mapping[str, str] = field(default_factory=dict)
    low: float = 0.6
    high: float = 0.7
    # test label -> exercises it stands for: a test stopped by pain keeps their movement
    # families out of the automatic choice until the cause is known
    painful: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # test label -> how it loaded the body: work loading that region the same way waits too
    pain_tests: Mapping[str, PainTest] = field(default_factory=dict)
    # exercise -> a positive observation made while doing it (the lower back lifts in the
    # dead bug): its harder versions wait; filled by the builder from the targets' findings
    failed: Mapping[str, str] = field(default_factory=dict)
    # exercise -> the exercise a test measured, for the other exercises that test's finding
    # stands for (a hamstring bridge count for Nordic curls): filled by the builder
    related: Mapping[str, str] = field(default_factory=dict)
    # hold exercise -> a hold measured in another family for the same finding (a hollow
    # hold for a short front plank): it never starts above that hold's starting dose
    hold_caps: Mapping[str, Capacity] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildOptions:
    level: str = "beginner"
    sessions_per_week: int = 3
    weeks: int = 4
    equipment: frozenset[str] | None = None
    max_exercises: int = 8
    exclude: frozenset[str] = frozenset()
    cautions: frozenset[str] = frozenset()
    # Most release exercises; None keeps release work to a third of the session.
    release_limit: int | None = None
    # Build the rest when an imbalance has no exercise that fits (the trainer said so).
    skip_uncovered: bool = False


class NotCovered(ValueError):
    """Confirmed imbalances no exercise could be chosen for; the rest could be built.

    The message is for the trainer: the finding left uncovered, the equipment that would
    cover it or why it needs assessing instead, in plain words.
    """

    def __init__(self, gaps: Sequence[str], covered: Sequence[str], equipment: bool = True) -> None:
        self.gaps = tuple(gaps)
        self.covered = tuple(covered)  # names of the imbalances that could be built
        # some gap would be covered by ticking more equipment (else the causes are pain,
        # cautions or the options chosen, and "tick the equipment" would mislead)
        self.equipment = equipment
        rest = (
            f" The rest ({'; '.join(self.covered)}) can be built without it."
            if self.covered
            else ""
        )
        super().__init__(" ".join(self.gaps) + rest)


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
    dose_reason: str = ""
    goal: str = ""
    # Cautions of the client this exercise carries, acknowledged when added by hand.
    cautions: tuple[str, ...] = ()
    # The one side this work is for (per_side is then False): a stretch for a muscle
    # measured tight on that side only; None: both sides, or a two-sided exercise.
    side: str | None = None


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
    cautions: tuple[str, ...] = ()  # the client's reported cautions when it was built


@dataclass
class _Pick:
    exercise: Exercise
    target: Target
    over_level: bool = False
    origin: Exercise | None = None  # the article exercise this one leads to


@dataclass
class _State:
    chosen: dict[str, _Pick] = field(default_factory=dict)
    families: set[str] = field(default_factory=set)
    strength: dict[str, list[_Pick]] = field(default_factory=dict)
    release: dict[str, _Pick] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def add(self, pick: _Pick) -> None:
        self.chosen[pick.exercise.slug] = pick
        self.families.add(pick.exercise.family or pick.exercise.slug)


# --------------------------------------------------------------------------- inputs


def _summary_of(finding: Any) -> str:
    """A finding quoted with its severity and threshold when it has them."""
    text = str(getattr(finding, "text", finding))
    severity = getattr(finding, "severity", "")
    threshold = getattr(finding, "threshold", "")
    if severity and threshold:
        return f"{text} ({severity}; threshold {threshold})"
    return text


def targets_from_scores(results: Iterable[Any], slugs: Iterable[str] | None = None) -> list[Target]:
    """Targets from an assessment's imbalance results, in the given (ranked) order.

    `slugs` keeps only the imbalances the trainer confirmed, in that order (default:
    every flagged imbalance).
    """
    items = list(results)
    by_slug = {item.slug: item for item in items}
    order = list(slugs) if slugs is not None else [i.slug for i in items if i.flagged]
    targets = []
    for slug in order:
        item = by_slug.get(slug)
        if item is None:
            targets.append(Target(slug))
            continue
        findings = tuple(getattr(item, "findings", ()))
        targets.append(
            Target(
                slug,
                tuple(_summary_of(f) for f in findings),
                item.weak_side,
                tuple(
                    Evidence(
                        _summary_of(f),
                        tuple(getattr(f, "muscles", ())),
                        tuple(getattr(f, "exercises", ())),
                        getattr(f, "region", None),
                        str(getattr(f, "indicator", "") or ""),
                        # a finding on one side alone (the other not tested, or a
                        # difference within noise) names no weaker side
                        getattr(f, "side", None) if getattr(f, "claim", "") == ASYMMETRY else None,
                    )
                    for f in findings
                ),
                tuple(getattr(item, "regions", ())),
            )
        )
    return targets


def measured_from_result(
    result: Any,
    low: float = 0.6,
    high: float = 0.7,
    painful: Mapping[str, tuple[str, ...]] | None = None,
    pain_tests: Mapping[str, PainTest] | None = None,
) -> Measured:
    """Capacities and tight muscles from a scored assessment result.

    :param painful: test label -> the exercises it stands for, for tests stopped by pain.
    :param pain_tests: test label -> the region and kind of load of those tests.
    """
    capacities = {
        c.exercise: Capacity(c.amount, c.unit, c.text, str(getattr(c, "indicator", "") or ""))
        for c in getattr(result, "capacities", ())
    }
    tight: dict[str, str] = {}
    for status in getattr(result, "muscles", ()):
        if status.claim == "tight" and status.status == "found":
            # positive on both sides: the reason cites both, not the first side alone
            known = tight.get(status.muscle)
            evidence = status.evidence
            tight[status.muscle] = (
                f"{known}; {evidence[:1].lower()}{evidence[1:]}" if known else evidence
            )
    return Measured(
        capacities=capacities,
        tight=tight,
        tight_sides=_tight_sides(result),
        low=low,
        high=high,
        painful=dict(painful or {}),
        pain_tests=dict(pain_tests or {}),
    )


def held_by_pain(label: str, catalog: Catalog, measured: Measured) -> tuple[str, ...]:
    """Strengthening exercises a test stopped by pain keeps out of the automatic choice until
    a clinician has looked at that pain (library order).

    The movement families the test stands for, and work loading the test's body region the
    way the test did: after a painful timed hold every hold of that region (a plank stopped
    by pain holds back the knee plank, side planks and hollow holds; dead bugs and bird dogs,
    moved with control rather than held, stay), after painful repetitions every exercise of
    that region for the muscles tested. Physiotherapist review; field rule of thumb.
    """
    held = {
        member.slug
        for slug in measured.painful.get(label, ())
        if slug in catalog.exercises
        for member in catalog.family(slug)
    }
    test = measured.pain_tests.get(label)
    for ex in catalog.exercises.values():
        if test is None or ex.kind != "strength" or not test.region or ex.region != test.region:
            continue
        hold = test.unit == "seconds" and ex.dose.hold_seconds is not None
        reps = test.unit == "reps" and bool(set(test.muscles) & set(ex.target_muscles))
        if hold or reps:
            held.add(ex.slug)
    return tuple(slug for slug in catalog.exercises if slug in held)


def pain_labels(measured: Measured) -> tuple[str, ...]:
    """The tests stopped by pain, in the order the assessment recorded them."""
    return tuple(dict.fromkeys([*measured.painful, *measured.pain_tests]))


def _tight_sides(result: Any) -> dict[str, str]:
    """Muscle -> the one side a two-sided test found it tight on (both sides: absent)."""
    positive: dict[str, set[str]] = {}  # indicator -> sides with a positive result
    for m in getattr(result, "measurements", ()):
        side = m.key.rpartition("_")[2] if m.key.endswith(("_left", "_right")) else None
        if side and m.status in (None, "measured") and m.severity > 0:
            positive.setdefault(m.indicator, set()).add(side)
    sides: dict[str, set[str | None]] = {}
    for status in getattr(result, "muscles", ()):
        if status.claim == "tight" and status.status == "found":
            found = positive.get(status.test) or {None}
            sides.setdefault(status.muscle, set()).update(found)
    return {
        muscle: next(iter(found))
        for muscle, found in sides.items()
        if len(found) == 1 and None not in found
    }


# --------------------------------------------------------------------------- choosing


def _check_options(options: BuildOptions) -> None:
    if options.level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {options.level!r}")
    for name, low, high in (("sessions_per_week", 2, 5), ("weeks", 4, 6), ("max_exercises", 4, 10)):
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    limit = options.release_limit
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"release_limit must be a whole number of 0 or more, got {limit!r}")


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


def _equipment_fits(ex: Exercise, options: BuildOptions) -> bool:
    if options.equipment is None:
        return True
    return set(ex.equipment) - {"none"} <= set(options.equipment)


def _fits(ex: Exercise, kind: str, options: BuildOptions, *, cautions: bool = True) -> bool:
    if ex.kind != kind or ex.slug in options.exclude or not _equipment_fits(ex, options):
        return False
    return not (cautions and set(ex.cautions) & options.cautions)


def _family(ex: Exercise, catalog: Catalog) -> list[Exercise]:
    """The exercise, then its easier chain, then its harder chain, then other family members."""
    members = [ex]
    seen = {ex.slug}
    for link in ("easier", "harder"):
        current = ex
        while (slug := getattr(current, link)) and slug not in seen and slug in catalog.exercises:
            current = catalog.exercises[slug]
            seen.add(slug)
            members.append(current)
    members += [
        m for m in catalog.exercises.values() if m.family == ex.family and m.slug not in seen
    ]
    return members


def start_amount(measured: int, low: float, high: float) -> int:
    """About `low`..`high` of a measured maximum: a multiple of 5 inside that band when
    there is one, else the nearest whole number to its middle (never below 1)."""
    # rounded to 6 places so that 0.6 + 0.7 of 10 is exactly 6.5, not 6.4999…
    lo, hi = round(measured * low, 6), round(measured * high, 6)
    middle = round(measured * (low + high) / 2, 6)
    fives = [n for n in range(5 * math.ceil(lo / 5), int(hi) + 1, 5) if n >= lo]
    if fives:
        return max(1, min(fives, key=lambda n: (abs(n - middle), n)))
    return max(1, math.floor(middle + 0.5))


def _bounds(ex: Exercise) -> tuple[int, int]:
    if ex.dose.bounds is not None:
        return ex.dose.bounds
    return (MIN_HOLD, MAX_HOLD) if ex.dose.hold_seconds is not None else (MIN_REPS, MAX_REPS)


def _same_unit(ex: Exercise, capacity: Capacity) -> bool:
    return (capacity.unit == "seconds") == (ex.dose.hold_seconds is not None)


@dataclass(frozen=True)
class _Basis:
    """The measurement an exercise's starting dose and choice rest on."""

    capacity: Capacity
    tested: Exercise  # the exercise the test measured: this one or one of its family
    relation: str  # same | easier | peer | harder: this exercise against the tested one

    def mastered(self) -> bool:
        """The tested exercise reached its highest starting dose: a harder version is due."""
        return self.capacity.amount >= _bounds(self.tested)[1]


def _chain(ex: Exercise, link: str, catalog: Catalog) -> list[str]:
    """The slugs reached by following `easier` or `harder` links from an exercise."""
    out: list[str] = []
    current = ex
    while (slug := getattr(current, link)) and slug not in out and slug in catalog.exercises:
        out.append(slug)
        current = catalog.exercises[slug]
    return out


def _relation(ex: Exercise, tested: Exercise, catalog: Catalog) -> str:
    """How hard `ex` is against `tested`, its family member: by the links, else by level."""
    if ex.slug == tested.slug:
        return "same"
    if ex.slug in _chain(tested, "harder", catalog):
        return "harder"
    if ex.slug in _chain(tested, "easier", catalog):
        return "easier"
    gap = LEVELS.index(ex.level) - LEVELS.index(tested.level)
    return "harder" if gap > 0 else "easier" if gap < 0 else "peer"


def _basis(ex: Exercise, catalog: Catalog, measured: Measured) -> _Basis | None:
    """The measured capacity that stands for this exercise: its own, else its family's.

    A test measures one exercise, but it stands for the movement family: the easier and
    harder versions are judged and dosed from it too.
    """
    own = measured.capacities.get(ex.slug)
    if own is not None and _same_unit(ex, own):
        return _Basis(own, ex, "same")
    if ex.slug not in catalog.exercises:
        return None
    found: list[tuple[tuple[int, int, int], _Basis]] = []
    for member in catalog.family(ex.slug):
        capacity = measured.capacities.get(member.slug)
        if member.slug == ex.slug or capacity is None or not _same_unit(member, capacity):
            continue
        relation = _relation(ex, member, catalog)
        rank = (
            int(not _same_unit(ex, capacity)),
            ("easier", "peer", "harder").index(relation),
            -LEVELS.index(member.level),
        )
        found.append((rank, _Basis(capacity, member, relation)))
    return min(found, key=lambda pair: pair[0])[1] if found else None


def _related_basis(ex: Exercise, catalog: Catalog, measured: Measured) -> _Basis | None:
    """The measurement of another exercise that this one's finding stands for: it only
    decides whether a harder exercise (a higher level than the one tested) may be chosen."""
    tested = catalog.exercises.get(measured.related.get(ex.slug, ""))
    capacity = measured.capacities.get(tested.slug) if tested else None
    if tested is None or capacity is None:
        return None
    gap = LEVELS.index(ex.level) - LEVELS.index(tested.level)
    return _Basis(capacity, tested, "harder" if gap > 0 else "peer")


def _too_hard(ex: Exercise, catalog: Catalog, measured: Measured) -> bool:
    """True for a harder version than the one tested before the tested one is mastered, or
    a harder version of one the client was observed not to control: never chosen."""
    if measured.failed and ex.slug in catalog.exercises:
        for member in catalog.family(ex.slug):
            if member.slug in measured.failed and _relation(ex, member, catalog) == "harder":
                return True
    basis = _basis(ex, catalog, measured) or _related_basis(ex, catalog, measured)
    return basis is not None and basis.relation == "harder" and not basis.mastered()


def _capacity_fits(ex: Exercise, catalog: Catalog, measured: Measured) -> bool:
    """False when the measured capacity is below this exercise's lowest starting dose."""
    basis = _basis(ex, catalog, measured)
    if basis is None or not _same_unit(ex, basis.capacity):
        return True
    return start_amount(basis.capacity.amount, measured.low, measured.high) >= _bounds(ex)[0]


def _variants(
    ex: Exercise,
    kind: str,
    catalog: Catalog,
    options: BuildOptions,
    measured: Measured,
    imbalance: str | None = None,
) -> list[tuple[bool, Exercise]]:
    """Fitting family members in preference order: (over_level, exercise).

    At or below the level, the hardest the measured capacity allows first; above it,
    the easiest first, as a last resort. Only members meant for `imbalance` (when given)
    stand in for the exercise: a Copenhagen plank is no core exercise.
    """
    rank = LEVELS.index(options.level)
    fitting = [
        (i, m)
        for i, m in enumerate(_family(ex, catalog))
        if _fits(m, kind, options)
        and (imbalance is None or m.slug == ex.slug or imbalance in m.imbalances)
        and not _too_hard(m, catalog, measured)
    ]
    capable = [(i, m) for i, m in fitting if _capacity_fits(m, catalog, measured)]
    if not capable:
        # every version is under its lowest dose: the easiest first, dosed at its lowest
        easiest = sorted(
            fitting,
            key=lambda t: (LEVELS.index(t[1].level), len(_chain(t[1], "easier", catalog)), t[0]),
        )
        return [(LEVELS.index(m.level) > rank, m) for _, m in easiest]
    within = sorted(
        ((-LEVELS.index(m.level), i, m) for i, m in capable if LEVELS.index(m.level) <= rank),
        key=lambda t: (t[0], t[1]),
    )
    above = sorted(
        ((LEVELS.index(m.level), i, m) for i, m in capable if LEVELS.index(m.level) > rank),
        key=lambda t: (t[0], t[1]),
    )
    return [(False, m) for _, _, m in within] + [(True, m) for _, _, m in above]


def _pool(im: Imbalance, kind: str, catalog: Catalog) -> list[Exercise]:
    """The imbalance's listed exercises (the article's, most important first), then the rest."""
    listed = im.exercises if kind == "strength" else im.release
    slugs = [s for s in listed if s in catalog.exercises]
    slugs += [ex.slug for ex in catalog.exercises.values() if im.slug in ex.imbalances]
    return [catalog.exercises[s] for s in dict.fromkeys(slugs) if catalog.exercises[s].kind == kind]


def chosen_first(ex: Exercise, target: Target, options: BuildOptions) -> bool:
    """A clinician's first choice for this target: the exercise is named for one of its
    findings (chin tucks for a forward head), or is the safe choice for a caution the client
    reported (a back extension for osteoporosis)."""
    if target.slug not in ex.imbalances:
        return False
    tests = {e.indicator for e in target.evidence if e.indicator}
    return bool(set(ex.first_for) & tests or set(ex.safe_for) & options.cautions)


def _candidates(
    target: Target, catalog: Catalog, options: BuildOptions, measured: Measured
) -> list[tuple[bool, Exercise, Exercise]]:
    """Usable strengthening exercises for a target, best first: (over_level, exercise, origin).

    Within the measured family and the unmeasured work, a clinician's first choice
    (`chosen_first`) comes before the rest; the safe choice for a reported caution is
    usable whatever the findings measured.
    """
    im = catalog.imbalances[target.slug]
    asymmetry = target.slug == ASYMMETRY
    prefer_one_side = bool(target.weak_side) and not asymmetry
    ranked: list[tuple[tuple[int, int, int, int, int, int], bool, Exercise, Exercise]] = []
    for pool_index, origin in enumerate(_pool(im, "strength", catalog)):
        for pref, (over, variant) in enumerate(
            _variants(origin, "strength", catalog, options, measured, target.slug)
        ):
            if asymmetry and not _matches_asymmetry(variant, target):
                continue
            first = chosen_first(variant, target, options)
            safe = bool(set(variant.safe_for) & options.cautions)
            fit = 0 if first and safe else finding_fit(variant, target, catalog, measured)
            if fit is None:
                continue
            two_sided = int(prefer_one_side and not variant.unilateral)
            key = (int(over), fit, int(not first), two_sided, pool_index, pref)
            ranked.append((key, over, variant, origin))
    ranked.sort(key=lambda t: t[0])
    out: list[tuple[bool, Exercise, Exercise]] = []
    seen: set[str] = set()
    for _, over, ex, origin in ranked:
        if ex.slug not in seen:
            seen.add(ex.slug)
            out.append((over, ex, origin))
    return out


def _family_of(ex: Exercise) -> str:
    return ex.family or ex.slug


def finding_fit(ex: Exercise, target: Target, catalog: Catalog, measured: Measured) -> int | None:
    """How well an exercise trains what the target's findings measured, best first.

    0: the movement family a finding's test measured (a weak side plank: side planks);
    1: an unmeasured movement for the muscles a finding names; None: not for these
    findings, because another test measured its movement and found it fine (a symmetric
    hamstring bridge is no work for a glute-bridge difference) or it trains other muscles.
    A target confirmed without a finding takes any of its exercises (0).
    """
    evidence = [e for e in target.evidence if e.exercises or e.muscles]
    if not evidence:
        return 0
    family = _family_of(ex)
    found = {
        _family_of(catalog.exercises[slug])
        for e in evidence
        for slug in e.exercises
        if slug in catalog.exercises
    }
    if family in found:
        return 0
    tested = {
        _family_of(catalog.exercises[s]) for s in measured.capacities if s in catalog.exercises
    }
    if family in tested:
        return None
    muscles = {m for e in evidence for m in e.muscles}
    return 1 if muscles & set(ex.target_muscles) else None


def _asymmetry_regions(target: Target) -> tuple[str, ...]:
    """The body regions of the measured differences (from the findings if not stored)."""
    found = tuple(dict.fromkeys(e.region for e in target.evidence if e.region))
    return target.regions or found


def _matches_asymmetry(ex: Exercise, target: Target) -> bool:
    """Single-side work in a body region where a difference was measured."""
    regions = _asymmetry_regions(target)
    return ex.unilateral and (not regions or ex.region in regions)


# --------------------------------------------------------------------------- dosing


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _library_dose(ex: Exercise) -> tuple[int, int | None, int | None, int]:
    dose = ex.dose
    sets = _clamp(dose.sets, MIN_SETS, MAX_SETS)
    reps = _clamp(dose.reps, MIN_REPS, MAX_REPS) if dose.reps is not None else None
    hold = _clamp(dose.hold_seconds, MIN_HOLD, MAX_HOLD) if dose.hold_seconds is not None else None
    if reps is None and hold is None:
        reps = MIN_REPS
    return sets, reps, hold, _clamp(dose.rest_seconds, MIN_REST, MAX_REST)


def _start_dose(
    ex: Exercise, catalog: Catalog, measured: Measured
) -> tuple[int, int | None, int | None, int, str]:
    """(sets, reps, hold, rest, why this dose): from the measured capacity of the exercise
    or of its movement family when there is one."""
    sets, reps, hold, rest = _library_dose(ex)
    library = dose_text(sets, reps, hold, rest, ex.dose.per_side or ex.unilateral)
    if ex.kind == "release":
        return (
            sets,
            reps,
            hold,
            rest,
            (
                f"The library's dose ({library}), the same every session: release work prepares "
                "a muscle measured tight, as a warm-up, and does not need to get harder."
            ),
        )
    basis = _basis(ex, catalog, measured)
    related = None if basis else _related_basis(ex, catalog, measured)
    if related is not None:
        name = _lower_first(related.tested.name)
        because = (
            f"it is a harder exercise than the {name} measured ({related.capacity.text}), "
            "chosen only because that one reached its highest starting dose"
            if related.relation == "harder" and related.mastered()
            else f"the {name} measured ({related.capacity.text}) is another exercise, so it "
            "sets no number here"
        )
        return sets, reps, hold, rest, f"The library's starting dose ({library}): {because}."
    cap = measured.hold_caps.get(ex.slug)
    if basis is None and cap is not None and hold is not None:
        limit = start_amount(cap.amount, measured.low, measured.high)
        if hold > limit:
            share = f"{round(100 * measured.low)}–{round(100 * measured.high)}%"
            why = (
                f"Starts at {limit} s, not the library's {hold} s: no hold starts above about "
                f"{share} of the hold measured for this finding ({cap.text})."
            )
            return sets, reps, limit, rest, why
    if basis is None:
        observed = measured.failed.get(ex.slug)
        why = (
            f"The library's starting dose ({library}): nothing in the assessment measured "
            "this exercise's capacity or that of its movement family."
        )
        if observed:
            why += (
                f" Observed: {_lower_first(observed)}; its harder versions wait until it is "
                "done with control."
            )
        return sets, reps, hold, rest, why
    capacity = basis.capacity
    tested = _lower_first(basis.tested.name)
    if not _same_unit(ex, capacity):
        if basis.relation == "harder":
            because = (
                f"the {tested} was measured and has reached its highest starting dose "
                f"({capacity.text}), so this harder version starts at the library's dose"
                if basis.mastered()
                else f"this is a harder version than the {tested} measured ({capacity.text}), "
                "chosen only because nothing easier fits: coach it closely"
            )
        else:
            because = (
                f"the {tested} was measured ({capacity.text}), a "
                f"{'related' if basis.relation == 'peer' else 'harder'} version of this "
                "movement counted another way, so it sets no number here"
            )
        return sets, reps, hold, rest, f"The library's starting dose ({library}): {because}."
    low, high = _bounds(ex)
    wanted = start_amount(capacity.amount, measured.low, measured.high)
    if basis.relation == "harder":
        # a harder version never starts above what the tested one would
        wanted = min(wanted, ex.dose.amount)
    amount = _clamp(wanted, low, high)
    unit = "s" if capacity.unit == "seconds" else "reps"
    what = "hold" if capacity.unit == "seconds" else "reps"
    share = f"{round(100 * measured.low)}–{round(100 * measured.high)}%"
    of = "" if basis.relation == "same" else f" on the {tested}"
    why = (
        f"Starts at {amount} {unit}: about {share} of the measured maximum{of} "
        f"({capacity.text}), so every set can be finished with good form."
    )
    if basis.relation == "easier":
        why = (
            f"Starts at {amount} {unit}: about {share} of the maximum measured on the "
            f"{tested}, a harder version ({capacity.text}), so every set can be finished "
            "with good form."
        )
    elif basis.relation == "harder":
        why = (
            f"Starts at {amount} {unit}: a harder version of the {tested}, which the "
            f"measurement shows is mastered ({capacity.text}); no more than the library's "
            f"starting {what} or {share} of that maximum."
        )
    if amount > wanted:
        why += f" Raised from {wanted} {unit} to the exercise's lowest starting {what}."
    elif amount < wanted:
        why += f" Capped at the exercise's highest starting {what}."
    if capacity.unit == "seconds":
        return sets, None, _clamp(amount, 1, MAX_HOLD), rest, why
    return sets, _clamp(amount, MIN_REPS, MAX_REPS), None, rest, why


def progression_week(weeks: int) -> int:
    """The week in which a set is added: just past the middle of the program."""
    return weeks // 2 + 1


def hold_step(hold: int) -> int:
    """Seconds added to a hold in a week: a fifth of it (1 s at least, `HOLD_STEP` at most).

    Field rule of thumb: load grows by no more than about a fifth a week, so a 5 s hold
    becomes 6 s, not 10 s.
    """
    return max(1, min(HOLD_STEP, hold // 5))


def weekly_doses(
    sets: int, reps: int | None, hold: int | None, weeks: int, progress: bool
) -> tuple[WeekDose, ...]:
    """Week-by-week doses: +1 rep or about a fifth more hold each week, and mid-way one more
    set (and no other change) when the client already does `MIN_SETS_TO_ADD` sets or more,
    so no week adds more than a third to the work."""
    out = [WeekDose(1, sets, reps, hold)]
    set_week = progression_week(weeks)
    for week in range(2, weeks + 1):
        if progress and week == set_week and MIN_SETS_TO_ADD <= sets < MAX_SETS:
            sets += 1
        elif progress:
            if reps is not None:
                reps = min(MAX_REPS, reps + 1)
            if hold is not None:
                hold = min(MAX_HOLD, hold + hold_step(hold))
        out.append(WeekDose(week, sets, reps, hold))
    return tuple(out)


def progression_text(hold: bool, weeks: int) -> str:
    """How the dose grows, for "why this dose", e.g. "adds a rep each week and a set in week 3"."""
    step = "about a fifth to the hold (1 to 5 s)" if hold else "a rep"
    return (
        f"adds {step} each week, and a set in week {progression_week(weeks)} when there are "
        f"already {MIN_SETS_TO_ADD} or more"
    )


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


def _evidence_for(ex: Exercise, target: Target, catalog: Catalog) -> Evidence | None:
    """The finding this exercise addresses: one naming its family, else its muscles."""

    def family(slug: str) -> str | None:
        other = catalog.exercises.get(slug)
        return other.family if other else None

    by_family = [e for e in target.evidence if any(family(s) == ex.family for s in e.exercises)]
    if target.slug == ASYMMETRY:
        # only a difference measured in this exercise's region is its reason
        by_region = [e for e in target.evidence if e.region in (ex.region, None)]
        return ([e for e in by_family if e in by_region] or by_region or [None])[0]
    by_muscle = [e for e in target.evidence if set(e.muscles) & set(ex.target_muscles)]
    return (by_family or by_muscle or list(target.evidence) or [None])[0]


def _strength_reason(ex: Exercise, target: Target, im: Imbalance, catalog: Catalog) -> str:
    evidence = _evidence_for(ex, target, catalog)
    if evidence is not None:
        return f"{ex.name} addresses: {_lower_first(evidence.text)}"
    if target.reasons and target.slug != ASYMMETRY:
        return f"{ex.name}: {_lower_first(target.reasons[0])}"
    if im.weak_muscles:
        return (
            f"{ex.name}: strengthens the {_regions(im.weak_muscles)} "
            f"({_lower_first(im.name)}; confirmed by the trainer without a test finding)"
        )
    return (
        f"{ex.name}: trains each side on its own ({_lower_first(im.name)}; confirmed by the "
        "trainer without a test finding)"
    )


def _release_reason(ex: Exercise, im: Imbalance, measured: Measured) -> str:
    tight = [m for m in im.overactive_muscles if m in ex.target_muscles and m in measured.tight]
    quoted = "; ".join(_lower_first(measured.tight[m]) for m in tight)
    return f"{ex.name} releases the {_regions(tight)}, measured tight: {quoted}"


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
    if PREGNANCY in options.cautions and ex.supine and PREGNANCY not in ex.cautions:
        notes.append(SUPINE_PREGNANCY_NOTE)
    if pick.over_level:
        notes.append(
            f"Rated {ex.level}, above the {options.level} level: no easier variant fits the "
            "equipment, so coach it closely."
        )
    return " ".join(notes)


def held_for_pain(measured: Measured, catalog: Catalog) -> frozenset[str]:
    """Every exercise some test stopped by pain holds back (see `held_by_pain`)."""
    return frozenset(
        slug for label in pain_labels(measured) for slug in held_by_pain(label, catalog, measured)
    )


def suggested_variant(
    slug: str,
    link: str,
    catalog: Catalog,
    cautions: Iterable[str] = (),
    held: Iterable[str] = (),
) -> Exercise | None:
    """The easier (``link="easier"``) or harder version a card may suggest for this client.

    Follows the link from the exercise and takes the first version that carries none of the
    client's cautions; none once the chain reaches a movement held back for pain (its whole
    family waits for the cause), and none at the chain's end. A dead bug's "too easy?" for a
    client with osteoporosis is no tucked hollow hold.
    """
    cautions, held = set(cautions), set(held)
    current = catalog.exercises.get(slug)
    seen = {slug}
    while current is not None:
        following = getattr(current, link)
        if not following or following in seen or following not in catalog.exercises:
            return None
        seen.add(following)
        current = catalog.exercises[following]
        if current.slug in held:
            return None
        if not set(current.cautions) & cautions:
            return current
    return None


def _goal(pick: _Pick, im: Imbalance, catalog: Catalog, options: BuildOptions) -> str:
    """The article's exercise as the goal, only when it is harder than the one chosen and
    may be suggested to this client (no caution they reported, not held back for pain)."""
    origin = pick.origin
    if origin is None or origin.slug == pick.exercise.slug or origin.slug not in im.exercises:
        return ""
    if set(origin.cautions) & options.cautions or origin.slug in options.exclude:
        return ""
    if _relation(origin, pick.exercise, catalog) != "harder":
        return ""
    if not im.from_article:
        return ""
    return f"{origin.name} (the article's exercise), once this is easy with good form"


# --------------------------------------------------------------------------- building


def build_program(
    targets: Sequence[Target | str],
    catalog: Catalog,
    options: BuildOptions = BuildOptions(),  # noqa: B008 - frozen, immutable default
    measured: Measured = Measured(),  # noqa: B008 - frozen, immutable default
) -> ProgramDraft:
    """Turn confirmed imbalances (most important first) into a program draft.

    A target whose every exercise carries one of the client's cautions is left out with a
    line in the summary (at least one target must remain).

    :raise ValueError: no targets, an unknown imbalance or option, more targets than the
        exercise cap, a target with no exercise that fits the equipment, or nothing left.
    """
    _check_options(options)
    wanted = _targets(targets, catalog)
    painful = set(held_for_pain(measured, catalog))
    options = replace(options, exclude=options.exclude | painful)
    observed = {e.indicator: e.text for t in wanted for e in t.evidence if e.indicator}
    failed = {
        ex.slug: observed[test]
        for ex in catalog.exercises.values()
        for test in ex.tested_by
        if test in observed
    }
    if failed:
        measured = replace(measured, failed={**failed, **measured.failed})
    related = _related(wanted, catalog, measured)
    if related:
        measured = replace(measured, related={**related, **measured.related})
    caps = _hold_caps(wanted, catalog, measured)
    if caps:
        measured = replace(measured, hold_caps={**caps, **measured.hold_caps})
    if len(wanted) > options.max_exercises:
        raise ValueError(
            f"{len(wanted)} imbalances need at least {len(wanted)} exercises; "
            f"raise the exercise limit (now {options.max_exercises}) or choose fewer imbalances."
        )
    asymmetric = any(t.slug == ASYMMETRY for t in wanted)
    asym_side = next((t.weak_side for t in wanted if t.slug == ASYMMETRY), None)
    asym_regions = next((_asymmetry_regions(t) for t in wanted if t.slug == ASYMMETRY), ())
    state = _State()
    pools = {t.slug: _candidates(t, catalog, options, measured) for t in wanted}

    def take(target: Target, allow_over: bool, coverage: bool) -> bool:
        im = catalog.imbalances[target.slug]
        article = list(im.exercises) if im.from_article else []
        options_in_order = pools[target.slug]
        if coverage:
            # within the level, the article's exercise (or its family's easier version)
            # first; above the level only as a last resort; never a drill alone
            def rank(c: tuple[bool, Exercise, Exercise]) -> tuple[bool, int, bool]:
                fit = finding_fit(c[1], target, catalog, measured) or 0
                return (c[0], fit, c[2].slug not in article)

            options_in_order = sorted((c for c in options_in_order if not c[1].drill), key=rank)
        for over, ex, origin in options_in_order:
            family = ex.family or ex.slug
            if ex.slug in state.chosen or family in state.families or (over and not allow_over):
                continue
            pick = _Pick(ex, target, over, origin)
            state.add(pick)
            state.strength.setdefault(target.slug, []).append(pick)
            return True
        return False

    # 1. coverage: one strengthening exercise per target, most important first
    covered: list[Target] = []
    gaps: list[str] = []
    fixable = False

    def choice(target: Target) -> bool:
        """More than one movement family could cover it (else it chooses first)."""
        return len({_family_of(ex) for _, ex, _ in pools[target.slug]}) > 1

    # a target only one movement family can cover chooses first (a side-plank difference
    # and a weak side plank: the difference takes the side plank, the core other work)
    for target in sorted(wanted, key=choice):
        if take(target, allow_over=True, coverage=True):
            covered.append(target)
            continue
        im = catalog.imbalances[target.slug]
        blocked = _blocked_by_cautions(target, catalog, options)
        if blocked:
            state.skipped.append(
                f"{im.name}: no exercise was chosen automatically, because every option "
                f"carries a caution the client reported ({', '.join(blocked)}). Plan this "
                "with the treating clinician."
            )
            continue
        gap, by_equipment = _uncovered(target, catalog, options, measured, painful)
        gaps.append(gap)
        fixable = fixable or by_equipment
        if options.skip_uncovered:
            state.skipped.append(gap)
    if gaps and (not options.skip_uncovered or not covered):
        names = [catalog.imbalances[t.slug].name for t in covered]
        raise NotCovered(gaps, names if not options.skip_uncovered else [], fixable)
    if not covered:
        raise ValueError(" ".join(state.skipped))
    covered.sort(key=wanted.index)

    # 2. release wanted: one per target with a muscle measured tight
    release_wanted: list[tuple[Target, Exercise]] = []
    for target in covered:
        im = catalog.imbalances[target.slug]
        tight = [m for m in im.overactive_muscles if m in measured.tight]
        if not tight:
            continue
        for ex in _pool(im, "release", catalog):
            if (
                _fits(ex, "release", options)
                and set(ex.target_muscles) & set(tight)
                and ex.slug not in state.chosen
                and ex.family not in state.families
                and all(ex.slug != other.slug for _, other in release_wanted)
            ):
                release_wanted.append((target, ex))
                break
    limit = options.release_limit
    reserve = min(len(release_wanted), limit if limit is not None else options.max_exercises // 3)

    # 3. more strengthening work, round-robin, only at or below the level
    progress = True
    while progress and len(state.chosen) < options.max_exercises - reserve:
        progress = False
        for target in covered:
            if len(state.chosen) >= options.max_exercises - reserve:
                break
            progress = take(target, allow_over=False, coverage=False) or progress

    # 4. release work within its share of the session
    strength_count = len(state.chosen)
    allowed = limit if limit is not None else strength_count // 2
    allowed = min(allowed, options.max_exercises - strength_count)
    for target, ex in release_wanted[: max(0, allowed)]:
        pick = _Pick(ex, target)
        state.add(pick)
        state.release[target.slug] = pick
    release_dropped = len(release_wanted) > max(0, allowed)

    items: list[ProgramItem] = []
    for target in covered:
        pick = state.release.get(target.slug)
        if pick:
            items.append(_item(pick, catalog, options, measured, asymmetric=False, weak_side=None))
    for target in covered:
        # a clinician's first choice leads the target's work (the chin tuck before the
        # article's face pull that covers the pattern)
        picks = state.strength.get(target.slug, [])
        picks = sorted(picks, key=lambda p: not chosen_first(p.exercise, target, options))
        for pick in picks:
            # the asymmetry's side and "weaker side first" only for its own body region
            in_region = not asym_regions or pick.exercise.region in asym_regions
            # the side of the finding this item addresses, named on every card for it
            evidence = _evidence_for(pick.exercise, target, catalog)
            side = (
                (evidence.side if evidence is not None else None)
                or target.weak_side
                or (asym_side if in_region else None)
            )
            items.append(
                _item(
                    pick,
                    catalog,
                    options,
                    measured,
                    asymmetric=asymmetric and in_region,
                    weak_side=side,
                )
            )

    return ProgramDraft(
        items=tuple(items),
        sessions_per_week=options.sessions_per_week,
        weeks=options.weeks,
        tips=tuple(
            tip.slug for tip in catalog.tips if tip.from_article or tip.slug == TRACK_PROGRESS_TIP
        ),
        summary=_summary(
            covered, items, catalog, options, measured, asymmetric, release_dropped, state.skipped
        ),
        session_minutes=estimate_minutes(items),
        level=options.level,
        targets=tuple(t.slug for t in covered),
        catalog_version=catalog.version,
        cautions=tuple(sorted(options.cautions)),
    )


def _uncovered(
    target: Target, catalog: Catalog, options: BuildOptions, measured: Measured, painful: set[str]
) -> tuple[str, bool]:
    """Why a target has no exercise, for the trainer, and whether more equipment would cover
    it: the finding, then each real cause (the equipment that would cover it, a caution the
    client reported, a test stopped by pain that needs assessing first). No internal names."""
    im = catalog.imbalances[target.slug]
    where = (
        f" (measured in the {_regions(target.regions)})"
        if target.slug == ASYMMETRY and target.regions
        else ""
    )
    if target.evidence:
        finding = f"the finding “{target.evidence[0].text}”"
    elif target.reasons:
        finding = f"the finding “{target.reasons[0]}”"
    else:
        finding = "this imbalance, which you confirmed without a test finding,"
    kits: dict[frozenset[str], list[str]] = {}
    by_pain: dict[str, str] = {}
    by_caution: dict[str, set[str]] = {}  # caution slug -> exercise names it rules out
    pool = _pool(im, "strength", catalog)
    listed = {ex.slug for ex in pool}
    for ex in pool:
        for member in _family(ex, catalog):
            if member.kind != "strength" or member.drill:
                continue
            if member.slug not in listed and target.slug not in member.imbalances:
                continue
            if target.slug == ASYMMETRY and not _matches_asymmetry(member, target):
                continue
            # only what the builder would choose for this finding is offered
            safe = set(member.safe_for) & options.cautions
            if not safe and finding_fit(member, target, catalog, measured) is None:
                continue
            if member.slug in painful:
                by_pain[member.slug] = member.name
                continue
            hit = [c for c in member.cautions if c in options.cautions]
            if hit:
                for caution in hit:
                    by_caution.setdefault(caution, set()).add(member.name)
                continue
            if member.slug in options.exclude:
                continue
            missing = frozenset(set(member.equipment) - {"none"} - set(options.equipment or ()))
            if missing and member.name not in kits.setdefault(missing, []):
                kits[missing].append(member.name)
    smallest = [kit for kit in kits if not any(other < kit for other in kits)]
    smallest.sort(key=lambda kit: (len(kit), sorted(kit)))
    offers = [
        " and ".join(f"“{EQUIPMENT.get(e, e)}”" for e in sorted(kit))
        + f" ({', '.join(kits[kit][:2])})"
        for kit in smallest[:3]
    ]
    pain = ""
    if by_pain:
        tests = [
            label
            for label in pain_labels(measured)
            if set(held_by_pain(label, catalog, measured)) & set(by_pain)
        ]
        # named as in the library, and as the subset of the work the test holds back that
        # the trainer sees listed with the test, so the two lists never seem to disagree
        ruled_out = _and(sorted(set(by_pain.values())))
        named = _and([f"“{t}”" for t in tests])
        pain = (
            f"{f'The test {named} was' if len(tests) == 1 else f'The tests {named} were'}"
            if tests
            else "A test was"
        ) + (
            f" stopped by pain, and every exercise for this finding ({ruled_out}) is among the "
            "work held back for it: assess the cause of that pain, or refer the client to "
            "their doctor or a physiotherapist, before this movement is loaded."
        )
    causes: list[str] = []
    if offers:
        causes.append(
            f"No exercise for it fits the equipment ticked. Ticking {' or '.join(offers)} "
            "would cover it."
        )
    labels = {slug: c.label.lower() for slug, c in catalog.cautions.items()}
    for caution, names in sorted(by_caution.items()):
        causes.append(
            f"{_sentence_start(_and(sorted(names)))} "
            f"{'carries' if len(names) == 1 else 'carry'} a caution the client reported "
            f"({labels.get(caution, caution)}), so {'it is' if len(names) == 1 else 'they are'} "
            "never chosen automatically."
        )
    if pain:
        causes.append(pain)
    if not causes:
        causes.append(
            "No exercise in the library covers it with the options chosen (level, exercise "
            "limit or exercises left out)."
        )
    text = f"{im.name}{where} is not covered: no exercise for {finding} can be chosen. "
    text += " ".join(causes)
    if pain and not offers:
        text += " This finding calls for that assessment rather than exercises for now."
    return text, bool(offers)


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def pain_hold_text(label: str, catalog: Catalog, measured: Measured) -> str:
    """The trainer's line about a test stopped by pain: the test, the region, what waits."""
    test = measured.pain_tests.get(label) or PainTest()
    names = _and([catalog.exercises[s].name for s in held_by_pain(label, catalog, measured)])
    region = BODY_REGIONS.get(test.region or "", "").lower()
    if region and test.unit == "seconds":
        what = f"Its movement and the other holds loading the {region}"
    elif region and test.unit == "reps":
        what = f"Its movement and other work loading the {_regions(test.muscles)} in the {region}"
    else:
        what = "Its movements"
    return (
        f"Left out because the test was stopped by pain: {label}. {what}"
        f"{f' ({names})' if names else ''} were held back pending a clinician's look at that "
        "pain; they are not chosen automatically."
    )


def _and(words: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def _related(wanted: Sequence[Target], catalog: Catalog, measured: Measured) -> dict[str, str]:
    """Exercise -> the exercise measured by the test whose finding names it (with its family),
    outside the measured exercise's own family."""
    tested_by = {c.indicator: slug for slug, c in measured.capacities.items() if c.indicator}
    out: dict[str, str] = {}
    for target in wanted:
        for evidence in target.evidence:
            tested = tested_by.get(evidence.indicator)
            if tested is None or tested not in catalog.exercises:
                continue
            own = {m.slug for m in catalog.family(tested)}
            for slug in evidence.exercises:
                if slug in catalog.exercises:
                    for member in catalog.family(slug):
                        if member.slug not in own:
                            out.setdefault(member.slug, tested)
    return out


def _hold_caps(
    wanted: Sequence[Target], catalog: Catalog, measured: Measured
) -> dict[str, Capacity]:
    """Hold exercise -> the shortest hold measured for a finding of its target in its region,
    for holds whose own movement family was not measured."""
    by_test: dict[str, Capacity] = {}
    for c in measured.capacities.values():
        shorter = c.indicator not in by_test or c.amount < by_test[c.indicator].amount
        if c.indicator and c.unit == "seconds" and shorter:
            by_test[c.indicator] = c
    out: dict[str, Capacity] = {}
    for target in wanted:
        im = catalog.imbalances[target.slug]
        for evidence in target.evidence:
            cap = by_test.get(evidence.indicator)
            if cap is None:
                continue
            for ex in _pool(im, "strength", catalog):
                if ex.dose.hold_seconds is None or ex.region != evidence.region:
                    continue
                shorter = ex.slug not in out or cap.amount < out[ex.slug].amount
                if shorter and _basis(ex, catalog, measured) is None:
                    out[ex.slug] = cap
    return out


def left_out_by_cautions(
    targets: Iterable[str], catalog: Catalog, cautions: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """Caution slug -> the exercises for these imbalances that carry it (library order):
    what the client's cautions kept out of the automatic choice, for the clinician."""
    wanted = set(cautions)
    slugs: list[str] = []
    for slug in targets:
        im = catalog.imbalances.get(slug)
        if im is not None:
            slugs += [
                ex.slug for kind in ("strength", "release") for ex in _pool(im, kind, catalog)
            ]
    out: dict[str, tuple[str, ...]] = {}
    for caution in sorted(wanted):
        out[caution] = tuple(
            ex.slug
            for ex in catalog.exercises.values()
            if ex.slug in slugs and caution in ex.cautions
        )
    return out


def _blocked_by_cautions(target: Target, catalog: Catalog, options: BuildOptions) -> list[str]:
    """The client's cautions that rule out every exercise of this target (empty: not them)."""
    if not options.cautions:
        return []
    im = catalog.imbalances[target.slug]
    blocked: set[str] = set()
    for ex in _pool(im, "strength", catalog):
        for member in _family(ex, catalog):
            if not _fits(member, "strength", options, cautions=False) or member.drill:
                continue
            if target.slug == ASYMMETRY and not _matches_asymmetry(member, target):
                continue
            hit = set(member.cautions) & options.cautions
            if not hit:
                return []
            blocked |= hit
    labels = {slug: c.label.lower() for slug, c in catalog.cautions.items()}
    return [labels.get(c, c) for c in sorted(blocked)]


def _item(
    pick: _Pick,
    catalog: Catalog,
    options: BuildOptions,
    measured: Measured,
    *,
    asymmetric: bool,
    weak_side: str | None,
) -> ProgramItem:
    ex = pick.exercise
    im = catalog.imbalances[pick.target.slug]
    sets, reps, hold, rest, why_dose = _start_dose(ex, catalog, measured)
    strength = ex.kind == "strength"
    per_side = ex.dose.per_side or ex.unilateral
    side = None if strength or not per_side else _release_side(ex, im, measured)
    if side:
        why_dose = why_dose.replace(" each side,", f" on the {side} side,") + (
            f" For the {side} side only: only that side measured tight."
        )
    reason = (
        _strength_reason(ex, pick.target, im, catalog)
        if strength
        else _release_reason(ex, im, measured)
    )
    safe = [catalog.cautions[c].label for c in ex.safe_for if c in options.cautions]
    if strength and safe:
        # the safe choice for a reported caution says so (a back extension for osteoporosis)
        reason += (
            f"; chosen as the safe choice for {_lower_first(_and(safe))}, where the work "
            "this caution keeps out is not advised"
        )
    return ProgramItem(
        exercise_slug=ex.slug,
        name=ex.name,
        kind=ex.kind,
        imbalance=im.slug,
        sets=sets,
        reps=reps,
        hold_seconds=hold,
        rest_seconds=rest,
        per_side=per_side and side is None,
        reason=reason,
        notes=_notes(pick, weak_side, asymmetric, options),
        weekly=weekly_doses(sets, reps, hold, options.weeks, progress=strength),
        dose_reason=why_dose,
        goal=_goal(pick, im, catalog, options),
        side=side,
    )


def _release_side(ex: Exercise, im: Imbalance, measured: Measured) -> str | None:
    """The one side a per-side release is for: every muscle it releases measured tight on
    that side only (the left hip flexors: the left side, not "each side")."""
    tight = [m for m in im.overactive_muscles if m in ex.target_muscles and m in measured.tight]
    sides = {measured.tight_sides.get(m) for m in tight}
    return next(iter(sides)) if len(sides) == 1 else None


def _summary(
    wanted: list[Target],
    items: list[ProgramItem],
    catalog: Catalog,
    options: BuildOptions,
    measured: Measured,
    asymmetric: bool,
    release_dropped: bool,
    skipped: list[str],
) -> tuple[str, ...]:
    lines = [
        f"{options.sessions_per_week} sessions a week for {options.weeks} weeks, "
        f"about {estimate_minutes(items)} minutes a session ({options.level} level)."
    ]
    for target in wanted:
        names = [i.name for i in items if i.imbalance == target.slug and i.kind == "strength"]
        lines.append(f"{catalog.imbalances[target.slug].name}: {', '.join(names)}.")
    lines.extend(skipped)
    if any(i.kind == "release" for i in items):
        lines.append("Start each session with the release work as a warm-up.")
    elif any(catalog.imbalances[t.slug].overactive_muscles for t in wanted) and not measured.tight:
        lines.append(
            "No release work: no muscle was measured tight (the commonly paired muscles "
            "were not tested or tested normal)."
        )
    if release_dropped:
        share = (
            f"the limit of {options.release_limit}"
            if options.release_limit is not None
            else "a third of the session"
        )
        lines.append(f"Some release work was left out to keep it to {share}.")
    for label in pain_labels(measured):
        lines.append(pain_hold_text(label, catalog, measured))
    if options.cautions:
        labels = [
            catalog.cautions[c].label.lower() if c in catalog.cautions else c
            for c in sorted(options.cautions)
        ]
        lines.append(
            "Exercises with a caution for this client were left out: " + "; ".join(labels) + "."
        )
    lines.append(
        f"Each week add a rep or about a fifth to a hold (1 to {HOLD_STEP} s); in week "
        f"{progression_week(options.weeks)} add a set instead where there are "
        f"{MIN_SETS_TO_ADD} or more."
    )
    if asymmetric:
        lines.append("Single-side exercises: start with the weaker side and match its reps.")
    return tuple(lines)


# --------------------------------------------------------------------------- text and diff


def item_dose_text(item: ProgramItem) -> str:
    """The week-1 dose as text, e.g. "3 x 10 reps each side, rest 60 s"."""
    return dose_text(
        item.sets, item.reps, item.hold_seconds, item.rest_seconds, item.per_side, item.side
    )


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
        "cautions": list(draft.cautions),
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
        "dose_reason": item.dose_reason,
        "goal": item.goal,
        "cautions": list(item.cautions),
        "side": item.side,
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
        dose_reason=str(data.get("dose_reason", "")),
        goal=str(data.get("goal", "")),
        cautions=tuple(str(c) for c in data.get("cautions", ())),
        side=data.get("side") if data.get("side") in ("left", "right") else None,
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
        # schema 1 drafts lack dose reasons, goals and cautions; they read with defaults
        if data.get("schema", DRAFT_SCHEMA) not in (1, DRAFT_SCHEMA):
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
            cautions=tuple(str(c) for c in data.get("cautions", ())),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored program draft: {exc!r}") from exc
