"""Scoring of an assessment: screening, graded red flags, cautions and ranked findings.

Pure module: no Flask, no database. Answers are the typed values `validate_answers`
returns (bools, ints, choice values, NOT_TESTED, UNABLE_PAIN); "yes"/"no" and number
strings are accepted too, anything else counts as not tested. The rules:

- the article's screening rule ("yes to several") says whether an imbalance is likely at
  all; self-report never flags one: only a measured test or an observation does, and the
  yes answers that support a flagged imbalance are quoted;
- a finding's severity (mild, moderate, marked) comes from how far the measurement falls
  short of its threshold; flagged imbalances rank by severity, ties by the data's priority;
- a left/right difference is relative (the weaker side at least 15% below the stronger)
  and larger than the test's noise, only from tests measured on both sides;
- a muscle is called tight or weak only when a test or observation says so;
- "unable (pain)" is a finding of its own and never a weak score; a test not done never
  counts as normal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from trainer_app.assessments.questionnaire import (
    NOT_TESTED,
    NUMBER_TYPES,
    SEVERITIES,
    SIDES,
    UNABLE_PAIN,
    URGENCIES,
    Indicator,
    Questionnaire,
    default_questionnaire,
)
from trainer_app.library.catalog import Catalog, default_catalog

ASYMMETRY = "asymmetry"
RESULT_SCHEMA = 2
SEVERITY_RANK = {"mild": 1, "moderate": 2, "marked": 3}


@dataclass(frozen=True)
class ScreeningResult:
    yes_count: int
    likely: bool
    message: str
    answered: tuple[tuple[str, str], ...]
    min_yes: int = 2


@dataclass(frozen=True)
class RedFlag:
    id: str
    text: str
    urgency: str | None = None  # emergency | urgent | routine (None: recorded before grading)
    client_text: str = ""


@dataclass(frozen=True)
class Caution:
    id: str  # the health question
    caution: str  # the caution slug exercises carry
    text: str


@dataclass(frozen=True)
class Finding:
    """One measured or observed result that says something about an imbalance."""

    text: str  # the sentence: "Left single-leg bridge held 12 s"
    indicator: str = ""
    value: str = ""  # "12 s", "yes", "Marked"
    threshold: str = ""  # "under 20 s", "a positive sign"
    source: str = ""  # "Published norm: …" or "Field rule of thumb: …"
    severity: str = ""  # mild | moderate | marked ("" for results recorded before grading)
    shortfall: float = 0.0  # how far from the threshold, 0..1
    side: str | None = None
    claim: str = ""  # weak | tight | pattern | asymmetry
    muscles: tuple[str, ...] = ()
    exercises: tuple[str, ...] = ()  # exercises that train what this test measures
    region: str | None = None


@dataclass(frozen=True)
class MuscleStatus:
    muscle: str
    claim: str  # weak | tight: what the test looked for
    status: str  # found | normal | unable_pain | not_tested (| partly, from muscle())
    evidence: str
    test: str = ""  # the indicator id


@dataclass(frozen=True)
class Capacity:
    """A measured capacity that sets an exercise's starting dose."""

    exercise: str
    indicator: str
    amount: int
    unit: str  # seconds | reps
    text: str  # "Front plank held 25 s" or "single-leg bridge held left 12 s, right 25 s"


@dataclass(frozen=True)
class PainFinding:
    key: str
    label: str
    imbalance: str


@dataclass(frozen=True)
class ImbalanceResult:
    slug: str
    name: str
    flagged: bool
    severity: str | None
    shortfall: float
    priority: int
    findings: tuple[Finding, ...] = ()
    supporting: tuple[str, ...] = ()
    weak_side: str | None = None
    regions: tuple[str, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """The finding sentences, most severe first (for lists and program reasons)."""
        return tuple(f.text for f in self.findings)


@dataclass(frozen=True)
class Measurement:
    key: str
    imbalance: str
    indicator: str
    label: str
    value: bool | int | str | None
    text: str
    severity: float  # shortfall of this answer (0: at or above threshold)
    status: str = "measured"  # measured | not_tested | unable_pain


@dataclass(frozen=True)
class AssessmentResult:
    questionnaire_version: str
    screening: ScreeningResult
    red_flags: tuple[RedFlag, ...]
    blocked: bool
    message: str
    imbalances: tuple[ImbalanceResult, ...]
    measurements: tuple[Measurement, ...] = ()
    urgency: str | None = None
    cautions: tuple[Caution, ...] = ()
    pain: tuple[PainFinding, ...] = ()
    muscles: tuple[MuscleStatus, ...] = ()
    capacities: tuple[Capacity, ...] = ()
    schema: int = RESULT_SCHEMA

    def imbalance(self, slug: str) -> ImbalanceResult:
        """The result for this imbalance slug; KeyError if it was not scored."""
        for item in self.imbalances:
            if item.slug == slug:
                return item
        raise KeyError(f"no imbalance {slug!r} in this result")

    @property
    def flagged(self) -> tuple[ImbalanceResult, ...]:
        """Imbalances a test or observation flagged, most severe first."""
        return tuple(item for item in self.imbalances if item.flagged)

    def muscle(self, muscle: str, claim: str) -> MuscleStatus | None:
        """What the tests said about this muscle being weak or tight (None: not tested).

        A finding on any side wins, then pain; normal on one side with the other side (or
        another test) not done is "partly" tested, never plain normal.
        """
        found = [m for m in self.muscles if m.muscle == muscle and m.claim == claim]
        positive = [m for m in found if m.status == "found"]
        if len(positive) > 1:
            # found on both sides (or by two tests): cite each, not the first alone
            evidence = "; ".join(dict.fromkeys(m.evidence for m in positive))
            return MuscleStatus(muscle, claim, "found", evidence, positive[0].test)
        statuses = {m.status for m in found}
        for status in ("found", "unable_pain"):
            if status in statuses:
                return next(m for m in found if m.status == status)
        normal = [m for m in found if m.status == "normal"]
        if not normal:
            return None
        missing = [m for m in found if m.status == NOT_TESTED and m.test]
        complete = [m for m in normal if m.test not in {x.test for x in missing}]
        if complete or not missing:
            return (complete or normal)[0]
        untested = ", ".join(m.evidence for m in missing if m.test in {n.test for n in normal})
        return MuscleStatus(muscle, claim, "partly", f"not tested: {untested}", normal[0].test)

    @property
    def sides_tested(self) -> bool:
        """True when a test was measured on both sides, so a left/right gap can be judged."""
        return any(
            len(pair) == 2
            and all(_measured(m) and _number_value(m) is not None for m in pair.values())
            for pair in _sides(self).values()
        )

    def tests(self, slug: str) -> TestState:
        """How this imbalance's tests went: stopped by pain, measured, or not done."""
        mine = [m for m in self.measurements if m.imbalance == slug]
        pain = tuple(m.label for m in mine if m.status == UNABLE_PAIN)
        measured = tuple(m.label for m in mine if m.status in (None, "measured"))
        done = {m.indicator for m in mine if m.status in (None, "measured")}
        # the missing side of a test measured on the other side: never counted as normal
        untested = tuple(m.label for m in mine if m.status == NOT_TESTED and m.indicator in done)
        if pain:
            state = "pain"
        elif measured and untested:
            state = "partly"
        elif measured:
            state = "no_finding"
        else:
            state = "not_tested"
        return TestState(state, pain, measured, untested)


@dataclass(frozen=True)
class TestState:
    """An imbalance's tests at a glance (for the lines of what was not flagged)."""

    state: str  # pain | partly | no_finding | not_tested
    pain: tuple[str, ...] = ()
    measured: tuple[str, ...] = ()
    untested: tuple[str, ...] = ()


# How one test compares between two assessments: a change is computed only when it was
# measured both times; otherwise the page says why there is none.
# stronger_fell: a left/right gap that closed only because the stronger side got weaker
COMPARABLE = ("improved", "worse", "same", "stronger_fell")
NOT_COMPARED = ("not_retested", "new", "pain", "not_tested")


@dataclass(frozen=True)
class IndicatorChange:
    key: str
    label: str
    before: str | None
    after: str | None
    # improved | worse | same (measured both times), not_retested (measured before only),
    # new (measured this time only), pain (unable (pain) either time), not_tested (neither)
    direction: str

    @property
    def compared(self) -> bool:
        return self.direction in COMPARABLE


@dataclass(frozen=True)
class Change:
    slug: str
    name: str
    # severity word, "not flagged", "unable (pain)", "not tested" (none of its tests done),
    # "not measured" (left/right: no test measured on both sides) or, after, "not retested"
    # (none of the tests measured before was measured again)
    before: str
    after: str
    # improved | worse | same | mixed, from the tests measured both times only;
    # not_retested when none of this imbalance's tests was measured both times
    direction: str
    indicators: tuple[IndicatorChange, ...] = field(default=())

    @property
    def compared(self) -> tuple[IndicatorChange, ...]:
        """The tests measured both times (the only ones a change is computed from)."""
        return tuple(i for i in self.indicators if i.compared)


# --------------------------------------------------------------------------- answers


def _yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("yes", "y", "true", "1", "on"):
            return True
        if word in ("no", "n", "false", "0", "off"):
            return False
    return None


def _number(value: Any, ind: Indicator) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if "." in value else int(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or value != value:  # NaN is not a result
        return None
    if ind.min is not None and value < ind.min:
        return None
    if ind.max is not None and value > ind.max:
        return None
    return value


def format_value(ind: Indicator, value: Any) -> str:
    """An answer as the trainer reads it: "12 s", "18 reps", "65°", "yes", "Mild"."""
    if value == NOT_TESTED:
        return "not tested"
    if value == UNABLE_PAIN:
        return "unable (pain)"
    if ind.type == "yes_no":
        return "yes" if value else "no"
    if ind.type == "choice":
        choice = ind.choice(str(value))
        return choice.label if choice else str(value)
    number = f"{value:g}" if isinstance(value, float) else str(value)
    if ind.type == "degrees":
        return f"{number}°"
    if ind.type == "reps":
        return f"{number} rep" if value == 1 else f"{number} reps"
    return f"{number} s"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _observation_shortfall(q: Questionnaire, severity: str) -> float:
    """A comparable shortfall for an observed sign, inside its severity band."""
    bands = q.severity
    return {
        "mild": bands.moderate / 2,
        "moderate": (bands.moderate + bands.marked) / 2,
        "marked": bands.marked,
    }[severity]


# --------------------------------------------------------------------------- evaluation


@dataclass
class _Group:
    findings: list[Finding] = field(default_factory=list)
    supporting: list[str] = field(default_factory=list)
    sides: set[str] = field(default_factory=set)
    side_conflict: bool = False
    # pattern observations too mild to flag alone, and the other signs that would confirm them
    pending: list[tuple[Finding, Indicator]] = field(default_factory=list)
    tight: int = 0
    notes: list[str] = field(default_factory=list)

    def settle(self) -> None:
        """A mild pattern observation counts only with a concordant sign; else it is a note."""
        if not self.pending:
            return
        if self.findings or self.supporting or self.tight:
            self.findings.extend(finding for finding, _ in self.pending)
            return
        for finding, ind in self.pending:
            source = ind.alone_source.text() if ind.alone_source else ""
            self.notes.append(
                f"Observed: {_lower_first(finding.text)}; on its own this does not flag the "
                f"imbalance ({source})"
            )


@dataclass
class _Scan:
    measurements: list[Measurement] = field(default_factory=list)
    pain: list[PainFinding] = field(default_factory=list)
    muscles: list[MuscleStatus] = field(default_factory=list)
    capacities: list[Capacity] = field(default_factory=list)


def _evaluate(
    q: Questionnaire,
    slug: str,
    ind: Indicator,
    answers: Mapping[str, Any],
    group: _Group,
    scan: _Scan,
) -> None:
    """One indicator: measurements, findings, muscle statuses, pain and capacities."""
    sides: tuple[str | None, ...] = SIDES if ind.bilateral else (None,)
    numbers: dict[str | None, int | float] = {}
    for side, key in zip(sides, ind.answer_keys(), strict=True):
        raw = answers.get(key)
        label = f"{ind.label} ({side})" if side else ind.label
        fmt = {"side": side or "", "Side": _sentence(side or "")}
        if raw == UNABLE_PAIN:
            scan.pain.append(PainFinding(key, label, slug))
            scan.measurements.append(
                Measurement(
                    key, slug, ind.id, label, UNABLE_PAIN, "unable (pain)", 0.0, UNABLE_PAIN
                )
            )
            for muscle in ind.muscles:
                scan.muscles.append(
                    MuscleStatus(muscle, _muscle_claim(ind), "unable_pain", label, ind.id)
                )
            continue
        finding: Finding | None = None
        if ind.type in NUMBER_TYPES:
            value = _number(raw, ind)
            if value is None:
                _untested(scan, key, slug, ind, label)
                continue
            numbers[side] = value
            shown = format_value(ind, value)
            threshold = f"under {format_value(ind, ind.below)}"
            shortfall = max(0.0, (ind.below - value) / ind.below) if value < ind.below else 0.0
            if shortfall > 0:
                finding = Finding(
                    text=_sentence(ind.finding.format(value=shown, **fmt)),
                    indicator=ind.id,
                    value=shown,
                    threshold=threshold,
                    source=ind.source.text(),
                    severity=q.severity.word(shortfall),
                    shortfall=round(shortfall, 4),
                    side=side,
                    claim=ind.claim,
                    muscles=ind.muscles,
                    exercises=(*ind.doses, *ind.exercises),
                    region=ind.region,
                )
            scan.measurements.append(
                Measurement(key, slug, ind.id, label, value, shown, round(shortfall, 4))
            )
        elif ind.type == "yes_no":
            value = _yes_no(raw)
            if value is None:
                _untested(scan, key, slug, ind, label)
                continue
            shown = format_value(ind, value)
            positive = value == ind.positive
            shortfall = _observation_shortfall(q, ind.severity) if positive else 0.0
            if positive:
                finding = Finding(
                    text=_sentence(ind.finding.format(**fmt)),
                    indicator=ind.id,
                    value=shown,
                    threshold="a positive sign",
                    source=ind.source.text(),
                    severity=ind.severity or "mild",
                    shortfall=round(shortfall, 4),
                    side=side,
                    claim=ind.claim,
                    muscles=ind.muscles,
                    exercises=ind.exercises,
                    region=ind.region,
                )
            scan.measurements.append(
                Measurement(key, slug, ind.id, label, value, shown, round(shortfall, 4))
            )
        else:
            choice = ind.choice(str(raw)) if isinstance(raw, str) else None
            if choice is None:
                _untested(scan, key, slug, ind, label)
                continue
            shortfall = 0.0
            if choice.severity != "none":
                shortfall = _observation_shortfall(q, choice.severity)
                finding = Finding(
                    text=_sentence(ind.finding.format(answer=choice.label.lower())),
                    indicator=ind.id,
                    value=choice.label,
                    threshold="any forward head or rounded shoulders",
                    source=ind.source.text(),
                    severity=choice.severity,
                    shortfall=round(shortfall, 4),
                    claim=ind.claim,
                    exercises=ind.exercises,
                    region=ind.region,
                )
            scan.measurements.append(
                Measurement(
                    key, slug, ind.id, label, choice.value, choice.label, round(shortfall, 4)
                )
            )
        for muscle in ind.muscles:
            status = "found" if finding else "normal"
            evidence = finding.text if finding else f"{label}: {scan.measurements[-1].text}"
            scan.muscles.append(MuscleStatus(muscle, _muscle_claim(ind), status, evidence, ind.id))
        if finding is None:
            continue
        too_mild = ind.alone_from is not None and SEVERITY_RANK.get(
            finding.severity, 0
        ) < SEVERITY_RANK.get(ind.alone_from, 0)
        if ind.claim == "pattern" and too_mild:
            group.pending.append((finding, ind))
        elif ind.claim == "tight":
            group.tight += 1
        if ind.claim == "weak" or (ind.claim == "pattern" and not too_mild):
            group.findings.append(finding)
        elif ind.claim == "supporting":
            group.supporting.append(f"Observed: {_lower_first(finding.text)}")
    if ind.claim == "weak" and len(numbers) == 2:
        side = _weaker_side(q, ind, numbers["left"], numbers["right"])
        if side:
            if group.sides and side not in group.sides:
                group.side_conflict = True
            group.sides.add(side)
    if ind.doses and numbers:
        amount = min(numbers.values())
        if ind.bilateral and len(numbers) == 2:
            measured = ", ".join(f"{s} {format_value(ind, numbers[s])}" for s in SIDES)
            text = f"{ind.label}: {measured}; the weaker side sets the dose"
        else:
            only = next(iter(numbers))
            text = f"{ind.label}: {(only + ' ') if only else ''}{format_value(ind, amount)}"
        for exercise in ind.doses:
            scan.capacities.append(
                Capacity(
                    exercise,
                    ind.id,
                    int(amount),
                    "seconds" if ind.type == "seconds" else "reps",
                    text,
                )
            )


def _muscle_claim(ind: Indicator) -> str:
    return "tight" if ind.claim == "tight" else "weak"


def _not_tested(key: str, slug: str, ind: Indicator, label: str) -> Measurement:
    return Measurement(key, slug, ind.id, label, NOT_TESTED, "not tested", 0.0, NOT_TESTED)


def _untested(scan: _Scan, key: str, slug: str, ind: Indicator, label: str) -> None:
    """A test (or one side of it) not done: recorded, and its muscles as not tested."""
    scan.measurements.append(_not_tested(key, slug, ind, label))
    for muscle in ind.muscles:
        scan.muscles.append(MuscleStatus(muscle, _muscle_claim(ind), NOT_TESTED, label, ind.id))


def _lower_first(text: str) -> str:
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _gap(q: Questionnaire, ind: Indicator, left: float, right: float) -> tuple[str | None, float]:
    """The weaker side and its relative deficit, when it meets the asymmetry rule."""
    stronger = max(left, right)
    if left == right or stronger <= 0:
        return None, 0.0
    ratio = (stronger - min(left, right)) / stronger
    noise = ind.noise or 0
    if ratio < q.asymmetry.min_ratio or abs(left - right) <= noise:
        return None, ratio
    return ("left" if left < right else "right"), ratio


def _weaker_side(q: Questionnaire, ind: Indicator, left: float, right: float) -> str | None:
    return _gap(q, ind, left, right)[0]


def _asymmetry(
    q: Questionnaire, answers: Mapping[str, Any], name: str, priority: int, supporting: list[str]
) -> ImbalanceResult:
    """Left/right differences of tests measured on both sides."""
    findings: list[Finding] = []
    for group in q.indicators.values():
        for ind in group:
            if not ind.bilateral or ind.type not in NUMBER_TYPES:
                continue
            left, right = (_number(answers.get(key), ind) for key in ind.answer_keys())
            if left is None or right is None:
                continue
            side, ratio = _gap(q, ind, left, right)
            if side is None:
                continue
            word = "less range" if ind.type == "degrees" else "weaker"
            findings.append(
                Finding(
                    text=(
                        f"{ind.label}: left {format_value(ind, left)}, right "
                        f"{format_value(ind, right)} (the {side} side {round(100 * ratio)}% "
                        f"{word})"
                    ),
                    indicator=ind.id,
                    value=f"{round(100 * ratio)}% {word} on the {side}",
                    threshold=(
                        f"{round(100 * q.asymmetry.min_ratio)}% or more, and more than "
                        f"{format_value(ind, ind.noise or 0)} apart"
                    ),
                    source=q.asymmetry.source.text(),
                    severity=q.asymmetry.severity.word(ratio),
                    shortfall=round(ratio, 4),
                    side=side,
                    claim="asymmetry",
                    muscles=ind.muscles,
                    exercises=ind.doses,
                    region=ind.region,
                )
            )
    findings.sort(key=_finding_order)
    sides = {f.side for f in findings}
    regions = tuple(dict.fromkeys(f.region for f in findings if f.region))
    return _result(
        ASYMMETRY,
        name,
        priority,
        findings,
        supporting,
        weak_side=next(iter(sides)) if len(sides) == 1 else None,
        regions=regions,
    )


def _finding_order(f: Finding) -> tuple:
    return (-SEVERITY_RANK.get(f.severity, 0), -f.shortfall)


def _result(
    slug: str,
    name: str,
    priority: int,
    findings: list[Finding],
    supporting: list[str],
    *,
    weak_side: str | None,
    regions: tuple[str, ...] = (),
) -> ImbalanceResult:
    findings = sorted(findings, key=_finding_order)
    top = findings[0] if findings else None
    return ImbalanceResult(
        slug=slug,
        name=name,
        flagged=top is not None,
        severity=top.severity if top else None,
        shortfall=top.shortfall if top else 0.0,
        priority=priority,
        findings=tuple(findings),
        supporting=tuple(supporting),
        weak_side=weak_side if top else None,
        regions=regions,
    )


def rank_key(item: ImbalanceResult) -> tuple:
    """Flagged first, then by severity word, shortfall, and the data's priority."""
    return (
        not item.flagged,
        -SEVERITY_RANK.get(item.severity or "", 0),
        -item.shortfall,
        item.priority,
    )


def score(
    q: Questionnaire, answers: Mapping[str, Any], catalog: Catalog | None = None
) -> AssessmentResult:
    """Score an assessment: screening rule, graded red flags, cautions, ranked imbalances.

    :param catalog: gives the imbalances, their names and priorities (the package's by default).
    """
    catalog = catalog if catalog is not None else default_catalog()

    answered = []
    yes_ids: list[str] = []
    for question in q.screening.questions:
        value = _yes_no(answers.get(question.id))
        if value is None:
            continue
        if value:
            yes_ids.append(question.id)
        answered.append((question.text, "yes" if value else "no"))
    rule = q.screening
    likely = len(yes_ids) >= rule.min_yes
    screening = ScreeningResult(
        yes_count=len(yes_ids),
        likely=likely,
        message=rule.likely_message if likely else rule.unlikely_message,
        answered=tuple(answered),
        min_yes=rule.min_yes,
    )

    flags = [f for f in q.red_flags.questions if _yes_no(answers.get(f.id))]
    red_flags = graded_red_flags(
        (RedFlag(f.id, f.text, f.urgency, f.client_text) for f in flags), q
    )
    urgency = red_flags[0].urgency if red_flags else None
    cautions = tuple(
        Caution(h.id, h.caution, h.text) for h in q.health.questions if _yes_no(answers.get(h.id))
    )

    def quoted(slug: str) -> list[str]:
        return [
            f'Client answered yes: "{s.text}"'
            for s in q.screening.questions
            if s.id in yes_ids and slug in s.supports
        ]

    scan = _Scan()
    items: list[ImbalanceResult] = []
    for slug, im in catalog.imbalances.items():
        if slug == ASYMMETRY and slug not in q.indicators:
            items.append(_asymmetry(q, answers, im.name, im.priority, quoted(slug)))
            continue
        group = _Group()
        for ind in q.indicators.get(slug, ()):
            _evaluate(q, slug, ind, answers, group, scan)
        side = (
            next(iter(group.sides)) if len(group.sides) == 1 and not group.side_conflict else None
        )
        group.settle()
        support = (
            [*group.supporting, *quoted(slug)] if group.findings else [*group.notes, *quoted(slug)]
        )
        items.append(_result(slug, im.name, im.priority, group.findings, support, weak_side=side))

    return AssessmentResult(
        questionnaire_version=q.version,
        screening=screening,
        red_flags=red_flags,
        blocked=bool(red_flags),
        message=q.red_flags.levels[urgency].action if urgency else "",
        imbalances=tuple(sorted(items, key=rank_key)),
        measurements=tuple(scan.measurements),
        urgency=urgency,
        cautions=cautions,
        pain=tuple(scan.pain),
        muscles=tuple(scan.muscles),
        capacities=tuple(scan.capacities),
    )


def graded_red_flags(flags: Iterable[RedFlag], q: Questionnaire) -> tuple[RedFlag, ...]:
    """Each red flag with the urgency it carries in this assessment, most urgent first.

    A flag whose question follows other flags (a first onset under 20 or over 50) takes the
    most urgent other flag's urgency when one is present, else its own: never "routine" beside
    an urgent flag. The one place a flag's urgency is decided: scoring and every stored result
    read through it (results page, referral letter, emails).
    """
    flags = list(flags)
    follows = {f.id for f in q.red_flags.questions if f.follows_other_flags}
    others = [f.urgency for f in flags if f.id not in follows and f.urgency in URGENCIES]
    lead = min(others, key=URGENCIES.index) if others else None
    graded = [
        replace(f, urgency=lead) if f.id in follows and lead and f.urgency in URGENCIES else f
        for f in flags
    ]
    # ungraded flags (recorded before urgency levels) keep their place after the graded ones
    return tuple(
        sorted(
            graded,
            key=lambda f: URGENCIES.index(f.urgency) if f.urgency in URGENCIES else len(URGENCIES),
        )
    )


def suggested_imbalances(result: AssessmentResult) -> tuple[str, ...]:
    """Flagged imbalances in rank order (none while red flags are present)."""
    if result.red_flags:
        return ()
    return tuple(item.slug for item in sorted(result.imbalances, key=rank_key) if item.flagged)


def order_by_rank(result: AssessmentResult, slugs: Any) -> list[str]:
    """The chosen slugs in rank order (unflagged ones the trainer ticked last, by priority)."""
    chosen = set(slugs)
    return [item.slug for item in sorted(result.imbalances, key=rank_key) if item.slug in chosen]


# --------------------------------------------------------------------------- comparison


def _direction(before: float, after: float, higher_is_better: bool) -> str:
    if before == after:
        return "same"
    return "improved" if (after > before) == higher_is_better else "worse"


def _measured(m: Measurement | None) -> bool:
    return (
        m is not None
        and m.status in (None, "measured")
        and m.value is not None
        and m.value not in (NOT_TESTED, UNABLE_PAIN)
    )


def _number_value(m: Measurement) -> float | None:
    value = m.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _indicator_change(
    before: Measurement | None, after: Measurement | None, noise: float = 0.0
) -> IndicatorChange:
    ref = after or before
    assert ref is not None
    if _measured(before) and _measured(after):
        assert before is not None and after is not None
        old, new = _number_value(before), _number_value(after)
        if old is not None and new is not None:
            # a difference within the test's stated measurement noise is no change
            direction = "same" if abs(new - old) <= noise else _direction(old, new, True)
        else:
            direction = _direction(before.severity, after.severity, higher_is_better=False)
    elif any(m is not None and m.status == UNABLE_PAIN for m in (before, after)):
        direction = "pain"
    elif _measured(before):
        direction = "not_retested"
    elif _measured(after):
        direction = "new"
    else:
        direction = "not_tested"
    return IndicatorChange(
        key=ref.key,
        label=ref.label,
        before=before.text if before else None,
        after=after.text if after else None,
        direction=direction,
    )


def _level(item: ImbalanceResult | None) -> tuple[str, float]:
    if item is None or not item.flagged:
        return "not flagged", 0.0
    return item.severity or "flagged", SEVERITY_RANK.get(item.severity or "", 0) + item.shortfall


def _word(item: ImbalanceResult | None, result: AssessmentResult, slug: str) -> str:
    """The level of an imbalance in one assessment, as the compare page shows it.

    A test stopped by pain reads "unable (pain)" and an imbalance none of whose tests was
    done reads "not tested": neither is "not flagged". A left/right difference is judged
    only from a test measured on both sides: without one it reads "not measured".
    """
    if item is not None and item.flagged:
        return _level(item)[0]
    if slug == ASYMMETRY and not result.sides_tested:
        return "not measured"
    state = result.tests(slug).state
    if state == "pain":
        return "unable (pain)"
    if state == "not_tested" and slug != ASYMMETRY:
        return "not tested"
    return "not flagged"


def _sides(result: AssessmentResult) -> dict[str, dict[str, Measurement]]:
    """indicator id -> side -> measurement, for the tests done on both sides."""
    sides: dict[str, dict[str, Measurement]] = {}
    for m in result.measurements:
        for side in SIDES:
            if m.key.endswith(f"_{side}") and m.label.endswith(f"({side})"):
                sides.setdefault(m.indicator, {})[side] = m
    return sides


def _gap_text(pair: dict[str, Measurement]) -> str | None:
    if not pair:
        return None
    return ", ".join(f"{side} {pair[side].text}" for side in SIDES if side in pair)


def _gap_direction(before: dict[str, float], after: dict[str, float], noise: float) -> str:
    """How a left/right gap changed, judged by the sides (higher is better on each side).

    A narrower gap is improved only when the weaker side gained more than the test's noise;
    one that closed because the stronger side fell is said so, never called improved.
    """
    gap_b = abs(before["left"] - before["right"])
    gap_a = abs(after["left"] - after["right"])
    if abs(gap_a - gap_b) <= noise:
        return "same"
    if gap_a > gap_b:
        return "worse"
    weaker = "left" if before["left"] < before["right"] else "right"
    stronger = "right" if weaker == "left" else "left"
    if after[weaker] - before[weaker] > noise:
        return "improved"
    if before[stronger] - after[stronger] > noise:
        return "stronger_fell"
    return "same"  # neither side changed by more than the noise


def _asymmetry_changes(
    previous: AssessmentResult, current: AssessmentResult, q: Questionnaire | None
) -> list[IndicatorChange]:
    """Each left/right test: both sides before and after, and whether the gap narrowed.

    The gap is compared only when both sides were measured both times; a change of the gap
    within the test's measurement noise counts as the same.
    """
    before, after = _sides(previous), _sides(current)
    changes = []
    for indicator in list(after) + [i for i in before if i not in after]:
        b, a = before.get(indicator, {}), after.get(indicator, {})
        ref = next(iter((a or b).values()))
        numbers_b = {s: _number_value(m) for s, m in b.items() if _measured(m)}
        numbers_a = {s: _number_value(m) for s, m in a.items() if _measured(m)}
        if any(v is None for v in (*numbers_b.values(), *numbers_a.values())):
            continue  # a yes/no observation: no gap to measure
        full_b, full_a = len(numbers_b) == 2, len(numbers_a) == 2
        if not (full_b or full_a):
            continue
        if any(m.status == UNABLE_PAIN for m in (*b.values(), *a.values())):
            direction = "pain"
        elif full_b and full_a:
            noise = _noise(q, indicator)
            direction = _gap_direction(numbers_b, numbers_a, noise)  # type: ignore[arg-type]
        else:
            direction = "not_retested" if full_b else "new"
        label = ref.label.rsplit(" (", 1)[0]
        changes.append(
            IndicatorChange(
                key=f"{indicator}_sides",
                label=f"{label}: left and right",
                before=_gap_text(b),
                after=_gap_text(a),
                direction=direction,
            )
        )
    return changes


def _overall(indicators: list[IndicatorChange]) -> str:
    """One direction for an imbalance from its tests measured both times."""
    directions = {i.direction for i in indicators if i.compared}
    if not directions:
        return "not_retested"
    if {"improved", "worse"} <= directions:
        return "mixed"
    if "stronger_fell" in directions:
        # a gap closed by a weaker stronger side is never read as improved overall
        if "improved" in directions:
            return "mixed"
        return "worse" if "worse" in directions else "stronger_fell"
    for word in ("improved", "worse"):
        if word in directions:
            return word
    return "same"


def compare(
    previous: AssessmentResult, current: AssessmentResult, q: Questionnaire | None = None
) -> tuple[Change, ...]:
    """Per imbalance: severity words before and after, and each test side by side.

    A change is computed only from tests measured both times (each side of a left/right test
    on its own); a test done only once is marked (not retested, new, unable (pain)), never
    read as an improvement. With the questionnaire, a numeric change within the test's stated
    measurement noise counts as the same.
    """
    before_items = {item.slug: item for item in previous.imbalances}
    after_items = {item.slug: item for item in current.imbalances}
    order = list(after_items) + [s for s in before_items if s not in after_items]
    before_values = {m.key: m for m in previous.measurements}
    after_values = {m.key: m for m in current.measurements}
    keys = list(after_values) + [k for k in before_values if k not in after_values]
    changes = []
    for slug in order:
        old, new = before_items.get(slug), after_items.get(slug)
        ref = new or old
        assert ref is not None
        indicator_changes = []
        for key in keys:
            b, a = before_values.get(key), after_values.get(key)
            m = a or b
            assert m is not None
            if m.imbalance != slug:
                continue
            change = _indicator_change(b, a, _noise(q, m.indicator))
            if change.direction != "not_tested":
                indicator_changes.append(change)
        if slug == ASYMMETRY:
            indicator_changes = _asymmetry_changes(previous, current, q)
        direction = _overall(indicator_changes)
        after = _word(new, current, slug)
        if direction == "not_retested" and after in ("not flagged", "not tested"):
            after = "not retested"  # what was measured before was not measured again
        changes.append(
            Change(
                slug=slug,
                name=ref.name,
                before=_word(old, previous, slug),
                after=after,
                direction=direction,
                indicators=tuple(indicator_changes),
            )
        )
    return tuple(changes)


def _noise(q: Questionnaire | None, indicator_id: str) -> float:
    if q is None:
        return 0.0
    try:
        return float(q.indicator(indicator_id).noise or 0)
    except KeyError:
        return 0.0  # a test of another questionnaire version


# --------------------------------------------------------------------------- storage


def _finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "text": f.text,
        "indicator": f.indicator,
        "value": f.value,
        "threshold": f.threshold,
        "source": f.source,
        "severity": f.severity,
        "shortfall": f.shortfall,
        "side": f.side,
        "claim": f.claim,
        "muscles": list(f.muscles),
        "exercises": list(f.exercises),
        "region": f.region,
    }


def result_to_dict(result: AssessmentResult) -> dict[str, Any]:
    """A JSON-ready dict (lists, strings, numbers, bools) for storing a result (schema 2)."""
    return {
        "schema": RESULT_SCHEMA,
        "questionnaire_version": result.questionnaire_version,
        "screening": {
            "yes_count": result.screening.yes_count,
            "likely": result.screening.likely,
            "message": result.screening.message,
            "answered": [list(pair) for pair in result.screening.answered],
            "min_yes": result.screening.min_yes,
        },
        # Each red flag carries its urgency and the plain words for the client, so referral
        # letters, PDFs and emails can be written from the stored result alone.
        "red_flags": [
            {"id": f.id, "text": f.text, "urgency": f.urgency, "client_text": f.client_text}
            for f in result.red_flags
        ],
        "urgency": result.urgency,
        "blocked": result.blocked,
        "message": result.message,
        "cautions": [{"id": c.id, "caution": c.caution, "text": c.text} for c in result.cautions],
        "imbalances": [
            {
                "slug": i.slug,
                "name": i.name,
                "flagged": i.flagged,
                "severity": i.severity,
                "shortfall": i.shortfall,
                "priority": i.priority,
                "findings": [_finding_dict(f) for f in i.findings],
                "supporting": list(i.supporting),
                "weak_side": i.weak_side,
                "regions": list(i.regions),
            }
            for i in result.imbalances
        ],
        "measurements": [
            {
                "key": m.key,
                "imbalance": m.imbalance,
                "indicator": m.indicator,
                "label": m.label,
                "value": m.value,
                "text": m.text,
                "severity": m.severity,
                "status": m.status,
            }
            for m in result.measurements
        ],
        "pain": [{"key": p.key, "label": p.label, "imbalance": p.imbalance} for p in result.pain],
        "muscles": [
            {
                "muscle": m.muscle,
                "claim": m.claim,
                "status": m.status,
                "evidence": m.evidence,
                "test": m.test,
            }
            for m in result.muscles
        ],
        "capacities": [
            {
                "exercise": c.exercise,
                "indicator": c.indicator,
                "amount": c.amount,
                "unit": c.unit,
                "text": c.text,
            }
            for c in result.capacities
        ],
    }


def _finding_from(d: Mapping[str, Any]) -> Finding:
    return Finding(
        text=str(d["text"]),
        indicator=str(d.get("indicator", "")),
        value=str(d.get("value", "")),
        threshold=str(d.get("threshold", "")),
        source=str(d.get("source", "")),
        severity=str(d.get("severity", "")),
        shortfall=float(d.get("shortfall", 0.0)),
        side=d.get("side"),
        claim=str(d.get("claim", "")),
        muscles=tuple(str(m) for m in d.get("muscles", ())),
        exercises=tuple(str(e) for e in d.get("exercises", ())),
        region=d.get("region"),
    )


def _measurements(data: Mapping[str, Any]) -> tuple[Measurement, ...]:
    return tuple(
        Measurement(
            key=str(m["key"]),
            imbalance=str(m["imbalance"]),
            indicator=str(m["indicator"]),
            label=str(m["label"]),
            value=m["value"],
            text=str(m["text"]),
            severity=float(m["severity"]),
            status=str(m.get("status", "measured")),
        )
        for m in data.get("measurements", ())
    )


def _screening(s: Mapping[str, Any]) -> ScreeningResult:
    return ScreeningResult(
        yes_count=int(s["yes_count"]),
        likely=bool(s["likely"]),
        message=str(s["message"]),
        answered=tuple((str(a), str(b)) for a, b in s["answered"]),
        min_yes=int(s.get("min_yes", 2)),
    )


def _from_schema_1(data: Mapping[str, Any]) -> AssessmentResult:
    """A result stored before graded findings: scores become flagged or not, reasons findings."""
    items = []
    for index, i in enumerate(data["imbalances"], 1):
        flagged = str(i["level"]) in ("likely", "possible")
        items.append(
            ImbalanceResult(
                slug=str(i["slug"]),
                name=str(i["name"]),
                flagged=flagged,
                severity=None,
                shortfall=int(i["score"]) / 100,
                priority=index,
                findings=tuple(Finding(text=str(r)) for r in i["reasons"]) if flagged else (),
                supporting=(),
                weak_side=i.get("weak_side") if flagged else None,
            )
        )
    items.sort(key=lambda item: (not item.flagged, -item.shortfall, item.priority))
    return AssessmentResult(
        questionnaire_version=str(data["questionnaire_version"]),
        screening=_screening(data["screening"]),
        red_flags=tuple(RedFlag(str(f["id"]), str(f["text"])) for f in data["red_flags"]),
        blocked=bool(data["blocked"]),
        message=str(data["message"]),
        imbalances=tuple(items),
        measurements=_measurements(data),
        schema=1,
    )


def result_from_dict(data: Mapping[str, Any]) -> AssessmentResult:
    """Rebuild a stored result (schema 1 or 2); ValueError if the shape is wrong."""
    try:
        schema = data.get("schema", 1)
        if schema == 1:
            return _from_schema_1(data)
        if schema != RESULT_SCHEMA:
            raise ValueError(f"unsupported result schema {schema!r}")
        return AssessmentResult(
            questionnaire_version=str(data["questionnaire_version"]),
            screening=_screening(data["screening"]),
            red_flags=graded_red_flags(
                (
                    RedFlag(
                        str(f["id"]),
                        str(f["text"]),
                        f.get("urgency"),
                        str(f.get("client_text", "")),
                    )
                    for f in data["red_flags"]
                ),
                default_questionnaire(),
            ),
            blocked=bool(data["blocked"]),
            message=str(data["message"]),
            imbalances=tuple(
                ImbalanceResult(
                    slug=str(i["slug"]),
                    name=str(i["name"]),
                    flagged=bool(i["flagged"]),
                    severity=i.get("severity"),
                    shortfall=float(i.get("shortfall", 0.0)),
                    priority=int(i.get("priority", 99)),
                    findings=tuple(_finding_from(f) for f in i.get("findings", ())),
                    supporting=tuple(str(s) for s in i.get("supporting", ())),
                    weak_side=i.get("weak_side"),
                    regions=tuple(str(r) for r in i.get("regions", ())),
                )
                for i in data["imbalances"]
            ),
            measurements=_measurements(data),
            urgency=data.get("urgency"),
            cautions=tuple(
                Caution(str(c["id"]), str(c["caution"]), str(c["text"]))
                for c in data.get("cautions", ())
            ),
            pain=tuple(
                PainFinding(str(p["key"]), str(p["label"]), str(p["imbalance"]))
                for p in data.get("pain", ())
            ),
            muscles=tuple(
                MuscleStatus(
                    str(m["muscle"]),
                    str(m["claim"]),
                    str(m["status"]),
                    str(m["evidence"]),
                    str(m.get("test", "")),
                )
                for m in data.get("muscles", ())
            ),
            capacities=tuple(
                Capacity(
                    str(c["exercise"]),
                    str(c["indicator"]),
                    int(c["amount"]),
                    str(c["unit"]),
                    str(c["text"]),
                )
                for c in data.get("capacities", ())
            ),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored assessment result: {exc!r}") from exc


__all__ = [
    "ASYMMETRY",
    "SEVERITIES",
    "AssessmentResult",
    "Capacity",
    "Caution",
    "Change",
    "Finding",
    "ImbalanceResult",
    "Measurement",
    "MuscleStatus",
    "PainFinding",
    "RedFlag",
    "compare",
    "format_value",
    "order_by_rank",
    "rank_key",
    "result_from_dict",
    "result_to_dict",
    "score",
    "suggested_imbalances",
    "TestState",
]
