"""Scoring of an assessment: screening, red flags and a 0-100 score per imbalance.

Pure module: no Flask, no database. Answers are the typed values `validate_answers`
returns (bools, ints, choice values); "yes"/"no" and number strings are accepted too,
anything else counts as unanswered. Every score comes with reasons that quote the answers,
so the trainer can see why the app suggests an imbalance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trainer_app.assessments.questionnaire import (
    NUMBER_TYPES,
    SIDES,
    Indicator,
    Questionnaire,
)
from trainer_app.library.catalog import Catalog, default_catalog

ASYMMETRY = "asymmetry"
LEVELS = ("none", "possible", "likely")
RESULT_SCHEMA = 1


@dataclass(frozen=True)
class ScreeningResult:
    yes_count: int
    likely: bool
    message: str
    answered: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RedFlag:
    id: str
    text: str


@dataclass(frozen=True)
class ImbalanceScore:
    slug: str
    name: str
    score: int
    level: str
    reasons: tuple[str, ...]
    weak_side: str | None = None


@dataclass(frozen=True)
class Measurement:
    key: str
    imbalance: str
    indicator: str
    label: str
    value: bool | int | str
    text: str
    severity: float


@dataclass(frozen=True)
class AssessmentResult:
    questionnaire_version: str
    screening: ScreeningResult
    red_flags: tuple[RedFlag, ...]
    blocked: bool
    message: str
    imbalances: tuple[ImbalanceScore, ...]
    measurements: tuple[Measurement, ...] = ()

    def imbalance(self, slug: str) -> ImbalanceScore:
        """The score for this imbalance slug; KeyError if it was not scored."""
        for item in self.imbalances:
            if item.slug == slug:
                return item
        raise KeyError(f"no imbalance {slug!r} in this result")


@dataclass(frozen=True)
class IndicatorChange:
    key: str
    label: str
    before: str | None
    after: str | None
    direction: str  # improved | worse | same | unknown


@dataclass(frozen=True)
class Change:
    slug: str
    name: str
    before: int
    after: int
    direction: str  # improved | worse | same
    indicators: tuple[IndicatorChange, ...] = field(default=())


# --------------------------------------------------------------------------- answers


def _yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("yes", "y", "true", "1", "on"):
            return True
        if text in ("no", "n", "false", "0", "off"):
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
    if not isinstance(value, int | float) or value != value:  # NaN is unanswered
        return None
    if ind.min is not None and value < ind.min:
        return None
    if ind.max is not None and value > ind.max:
        return None
    return value


def format_value(ind: Indicator, value: Any) -> str:
    """An answer as the trainer reads it: "12 s", "18 reps", "65°", "yes", "Mild"."""
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


# --------------------------------------------------------------------------- evaluation


@dataclass
class _GroupResult:
    points: float = 0.0
    answered_weight: int = 0
    reasons: list[str] = field(default_factory=list)
    side_votes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SIDES, 0.0))
    measurements: list[Measurement] = field(default_factory=list)


def _evaluate(slug: str, ind: Indicator, answers: Mapping[str, Any], out: _GroupResult) -> None:
    """Add one indicator's findings, measurements and side votes to the group result."""
    sides: tuple[str | None, ...] = SIDES if ind.bilateral else (None,)
    severity = 0.0
    answered = False
    numbers: dict[str, float] = {}
    for side, key in zip(sides, ind.answer_keys(), strict=True):
        raw = answers.get(key)
        fmt = {"side": side or "", "Side": _sentence(side or "")}
        label = f"{ind.label} ({side})" if side else ind.label
        if ind.type in NUMBER_TYPES:
            value = _number(raw, ind)
            if value is None:
                continue
            text = format_value(ind, value)
            sev, reason = 0.0, None
            finding = _sentence(ind.finding.format(value=text, **fmt))
            if value < ind.below:
                sev = 1.0
                reason = f"{finding}, below {format_value(ind, ind.below)}"
            elif ind.good is not None and value < ind.good:
                sev = 0.5
                reason = f"{finding}, short of the {format_value(ind, ind.good)} goal"
            if side:
                numbers[side] = value
        elif ind.type == "yes_no":
            value = _yes_no(raw)
            if value is None:
                continue
            text = format_value(ind, value)
            sev = 1.0 if value == ind.sign else 0.0
            reason = _sentence(ind.finding.format(**fmt)) if sev else None
            if sev and side:
                out.side_votes[side] += 0.5
        else:
            choice = ind.choice(str(raw)) if isinstance(raw, str) else None
            if choice is None:
                continue
            value, text, sev = choice.value, choice.label, choice.severity
            reason = _sentence(ind.finding.format(answer=choice.label.lower())) if sev else None
        answered = True
        severity = max(severity, sev)
        if reason:
            out.reasons.append(reason)
        out.measurements.append(Measurement(key, slug, ind.id, label, value, text, sev))
    if len(numbers) == 2:
        side, deficit = _weaker(numbers["left"], numbers["right"])
        if side:
            out.side_votes[side] += deficit
    if answered:
        out.answered_weight += ind.weight
        out.points += ind.weight * severity


def _weaker(left: float, right: float) -> tuple[str | None, float]:
    """The weaker side and its relative deficit (0..1), or (None, 0) when equal."""
    stronger = max(left, right)
    if left == right or stronger <= 0:
        return None, 0.0
    return ("left" if left < right else "right"), (stronger - min(left, right)) / stronger


def _vote(votes: Mapping[str, float]) -> str | None:
    if votes["left"] == votes["right"]:
        return None
    return "left" if votes["left"] > votes["right"] else "right"


def _level(q: Questionnaire, score: int) -> str:
    if score >= q.likely_at:
        return "likely"
    if score >= q.possible_at:
        return "possible"
    return "none"


def _imbalance_score(q: Questionnaire, slug: str, name: str, group: _GroupResult) -> ImbalanceScore:
    if not group.reasons or group.answered_weight <= 0:
        return ImbalanceScore(slug, name, 0, "none", (), None)
    value = min(100, max(1, round(100 * group.points / group.answered_weight)))
    side = _vote(group.side_votes)
    return ImbalanceScore(slug, name, value, _level(q, value), tuple(group.reasons), side)


def _asymmetry(q: Questionnaire, answers: Mapping[str, Any], name: str) -> ImbalanceScore:
    """Asymmetry from the left/right number pairs and the "one side stronger" question."""
    rule = q.asymmetry
    reasons: list[str] = []
    votes = dict.fromkeys(SIDES, 0.0)
    points = 0
    for group in q.indicators.values():
        for ind in group:
            if not ind.bilateral or ind.type not in NUMBER_TYPES:
                continue
            left, right = (_number(answers.get(key), ind) for key in ind.answer_keys())
            if left is None or right is None:
                continue
            side, deficit = _weaker(left, right)
            difference = abs(left - right)
            if side is None or (
                deficit < rule.min_ratio and difference < rule.min_difference[ind.type]
            ):
                continue
            word = "less range" if ind.type == "degrees" else "weaker"
            reasons.append(
                f"{ind.label}: left {format_value(ind, left)} vs right "
                f"{format_value(ind, right)}, {round(100 * deficit)}% {word} on the {side}"
            )
            votes[side] += deficit
            points += rule.points_per_measured
    reported = _yes_no(answers.get(rule.screening_question))
    if reported:
        question = next(s for s in q.screening if s.id == rule.screening_question)
        reasons.append(f"Client answered yes to: {question.text}")
        points += rule.points_for_screening
    if not reasons or points <= 0:
        return ImbalanceScore(ASYMMETRY, name, 0, "none", (), None)
    value = min(100, points)
    return ImbalanceScore(ASYMMETRY, name, value, _level(q, value), tuple(reasons), _vote(votes))


def score(
    q: Questionnaire, answers: Mapping[str, Any], catalog: Catalog | None = None
) -> AssessmentResult:
    """Score an assessment: screening rule, red flags, and each imbalance in catalog order.

    :param catalog: gives the imbalance order and names (the package catalog by default).
    """
    catalog = catalog if catalog is not None else default_catalog()

    answered = []
    yes_count = 0
    for question in q.screening:
        value = _yes_no(answers.get(question.id))
        if value is None:
            continue
        yes_count += value
        answered.append((question.text, "yes" if value else "no"))
    likely = yes_count >= q.screening_rule.min_yes
    screening = ScreeningResult(
        yes_count=yes_count,
        likely=likely,
        message=q.screening_rule.likely_message if likely else q.screening_rule.unlikely_message,
        answered=tuple(answered),
    )

    red_flags = tuple(
        RedFlag(flag.id, flag.text) for flag in q.red_flags if _yes_no(answers.get(flag.id))
    )
    blocked = bool(red_flags)

    slugs = list(catalog.imbalances)
    slugs += [slug for slug in q.indicators if slug not in catalog.imbalances]
    scores: list[ImbalanceScore] = []
    measurements: list[Measurement] = []
    for slug in slugs:
        im = catalog.imbalances.get(slug)
        name = im.name if im else slug.replace("_", " ").capitalize()
        if slug == ASYMMETRY and slug not in q.indicators:
            scores.append(_asymmetry(q, answers, name))
            continue
        group = _GroupResult()
        for ind in q.indicators.get(slug, ()):
            _evaluate(slug, ind, answers, group)
        measurements.extend(group.measurements)
        scores.append(_imbalance_score(q, slug, name, group))

    return AssessmentResult(
        questionnaire_version=q.version,
        screening=screening,
        red_flags=red_flags,
        blocked=blocked,
        message=q.red_flag_message if blocked else "",
        imbalances=tuple(scores),
        measurements=tuple(measurements),
    )


def suggested_imbalances(result: AssessmentResult) -> tuple[str, ...]:
    """Slugs scored likely or possible, highest score first, then in catalog order."""
    ranked = [
        (-item.score, index, item.slug)
        for index, item in enumerate(result.imbalances)
        if item.level in ("likely", "possible")
    ]
    return tuple(slug for _, _, slug in sorted(ranked))


# --------------------------------------------------------------------------- comparison


def _direction(before: float, after: float, higher_is_better: bool) -> str:
    if before == after:
        return "same"
    return "improved" if (after > before) == higher_is_better else "worse"


def _indicator_change(before: Measurement | None, after: Measurement | None) -> IndicatorChange:
    ref = after or before
    assert ref is not None
    if before is None or after is None:
        direction = "unknown"
    elif isinstance(after.value, int | float) and not isinstance(after.value, bool):
        direction = _direction(float(before.value), float(after.value), higher_is_better=True)
    else:
        direction = _direction(before.severity, after.severity, higher_is_better=False)
    return IndicatorChange(
        key=ref.key,
        label=ref.label,
        before=before.text if before else None,
        after=after.text if after else None,
        direction=direction,
    )


def compare(previous: AssessmentResult, current: AssessmentResult) -> tuple[Change, ...]:
    """Per imbalance: score before and after, direction, and the answers that changed."""
    before_scores = {item.slug: item for item in previous.imbalances}
    after_scores = {item.slug: item for item in current.imbalances}
    order = list(after_scores) + [s for s in before_scores if s not in after_scores]
    before_values = {m.key: m for m in previous.measurements}
    after_values = {m.key: m for m in current.measurements}
    keys = list(after_values) + [k for k in before_values if k not in after_values]
    changes = []
    for slug in order:
        old, new = before_scores.get(slug), after_scores.get(slug)
        ref = new or old
        assert ref is not None
        old_score, new_score = (old.score if old else 0), (new.score if new else 0)
        indicator_changes = []
        for key in keys:
            b, a = before_values.get(key), after_values.get(key)
            if (a or b).imbalance != slug:
                continue
            if b is not None and a is not None and b.value == a.value:
                continue
            indicator_changes.append(_indicator_change(b, a))
        changes.append(
            Change(
                slug=slug,
                name=ref.name,
                before=old_score,
                after=new_score,
                direction=_direction(old_score, new_score, higher_is_better=False),
                indicators=tuple(indicator_changes),
            )
        )
    return tuple(changes)


# --------------------------------------------------------------------------- storage


def result_to_dict(result: AssessmentResult) -> dict[str, Any]:
    """A JSON-ready dict (lists, strings, numbers, bools) for storing a result."""
    return {
        "schema": RESULT_SCHEMA,
        "questionnaire_version": result.questionnaire_version,
        "screening": {
            "yes_count": result.screening.yes_count,
            "likely": result.screening.likely,
            "message": result.screening.message,
            "answered": [list(pair) for pair in result.screening.answered],
        },
        "red_flags": [{"id": f.id, "text": f.text} for f in result.red_flags],
        "blocked": result.blocked,
        "message": result.message,
        "imbalances": [
            {
                "slug": i.slug,
                "name": i.name,
                "score": i.score,
                "level": i.level,
                "reasons": list(i.reasons),
                "weak_side": i.weak_side,
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
            }
            for m in result.measurements
        ],
    }


def result_from_dict(data: Mapping[str, Any]) -> AssessmentResult:
    """Rebuild a result stored with `result_to_dict`; ValueError if the shape is wrong."""
    try:
        if data.get("schema", RESULT_SCHEMA) != RESULT_SCHEMA:
            raise ValueError(f"unsupported result schema {data.get('schema')!r}")
        s = data["screening"]
        return AssessmentResult(
            questionnaire_version=str(data["questionnaire_version"]),
            screening=ScreeningResult(
                yes_count=int(s["yes_count"]),
                likely=bool(s["likely"]),
                message=str(s["message"]),
                answered=tuple((str(a), str(b)) for a, b in s["answered"]),
            ),
            red_flags=tuple(RedFlag(str(f["id"]), str(f["text"])) for f in data["red_flags"]),
            blocked=bool(data["blocked"]),
            message=str(data["message"]),
            imbalances=tuple(
                ImbalanceScore(
                    slug=str(i["slug"]),
                    name=str(i["name"]),
                    score=int(i["score"]),
                    level=str(i["level"]),
                    reasons=tuple(str(r) for r in i["reasons"]),
                    weak_side=i.get("weak_side"),
                )
                for i in data["imbalances"]
            ),
            measurements=tuple(
                Measurement(
                    key=str(m["key"]),
                    imbalance=str(m["imbalance"]),
                    indicator=str(m["indicator"]),
                    label=str(m["label"]),
                    value=m["value"],
                    text=str(m["text"]),
                    severity=float(m["severity"]),
                )
                for m in data.get("measurements", ())
            ),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a stored assessment result: {exc!r}") from exc
