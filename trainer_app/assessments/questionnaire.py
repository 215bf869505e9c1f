"""The assessment questionnaire (data/questionnaire.yaml): loading, validation, answer parsing.

Pure module: the standard library and PyYAML only. Load errors name the file and the field
so a clinician editing the YAML can fix it; answer errors are worded for the trainer.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trainer_app.datafile import IDENT, Fields, describe

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "questionnaire.yaml"

TYPES = ("yes_no", "seconds", "reps", "degrees", "choice")
NUMBER_TYPES = ("seconds", "reps", "degrees")
UNITS = {"seconds": "s", "reps": "reps", "degrees": "°"}
SIDES = ("left", "right")

_ID = IDENT
_VERSION = re.compile(r"^[0-9]{4}\.[0-9]{1,2}\.[0-9]+\Z")
_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}
_NUMBER_WORDS = {"seconds": "seconds", "reps": "repetitions", "degrees": "degrees"}


class QuestionnaireError(ValueError):
    """Invalid questionnaire content; the message names the file and the field."""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    help: str


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    severity: float


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    help: str
    type: str
    unit: str | None
    min: int | None
    max: int | None
    bilateral: bool
    required: bool
    finding: str
    below: int | None = None
    good: int | None = None
    sign: bool | None = None
    choices: tuple[Choice, ...] = ()
    weight: int = 1

    def answer_keys(self) -> tuple[str, ...]:
        """The answer keys of this indicator: `id`, or `id_left` and `id_right`."""
        return tuple(f"{self.id}_{side}" for side in SIDES) if self.bilateral else (self.id,)

    def choice(self, value: str) -> Choice | None:
        """The choice with this value, or None."""
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class ScreeningRule:
    min_yes: int
    likely_message: str
    unlikely_message: str


@dataclass(frozen=True)
class AsymmetryRule:
    screening_question: str
    min_ratio: float
    min_difference: dict[str, int]
    points_per_measured: int
    points_for_screening: int


@dataclass(frozen=True)
class Questionnaire:
    version: str
    screening: tuple[Question, ...]
    red_flags: tuple[Question, ...]
    indicators: dict[str, tuple[Indicator, ...]]
    screening_rule: ScreeningRule
    red_flag_message: str
    asymmetry: AsymmetryRule
    likely_at: int = 50
    possible_at: int = 1

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator with this id; KeyError naming it if there is none."""
        for group in self.indicators.values():
            for ind in group:
                if ind.id == indicator_id:
                    return ind
        raise KeyError(f"no indicator {indicator_id!r} in questionnaire {self.version}")


# --------------------------------------------------------------------------- loading


class _Fields(Fields):
    """Typed access to one YAML mapping; errors carry the dotted path of the field."""

    def __init__(self, raw: Any, where: str) -> None:
        self.where = where
        super().__init__(raw)

    def not_a_mapping(self, raw: Any) -> QuestionnaireError:
        return QuestionnaireError(f"{self.where}: must be a mapping, got {_kind(raw)}")

    def error(self, name: str, message: str) -> QuestionnaireError:
        return QuestionnaireError(f"{self.where}.{name}: {message}")

    def ident(self, name: str) -> str:
        return self.identifier(name, "an id")

    def integer(self, name: str, low: int, high: int, default: int | None = None) -> int:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(name, f"must be a whole number from {low} to {high}, got {value!r}")
        return value

    def number(self, name: str, low: float, high: float) -> float:
        value = self.raw.get(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.error(name, f"must be a number from {low} to {high}, got {value!r}")
        return float(value)

    def items(self, name: str) -> list[Any]:
        value = self.raw.get(name)
        if not isinstance(value, list) or not value:
            raise self.error(name, f"must be a non-empty list, got {_kind(value)}")
        return value


_kind = describe


def _question(raw: Any, where: str) -> Question:
    f = _Fields(raw, where)
    f.only(("id", "text", "help"))
    return Question(id=f.ident("id"), text=f.text("text", 200), help=f.text("help"))


def _check_template(f: _Fields, template: str, allowed: set[str], bilateral: bool) -> None:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    unknown = fields - allowed
    if unknown:
        raise f.error("finding", f"unknown placeholder {{{sorted(unknown)[0]}}}")
    has_side = bool(fields & {"side", "Side"})
    if has_side != bilateral:
        need = "must" if bilateral else "must not"
        raise f.error("finding", f"{need} contain {{side}} or {{Side}} (bilateral is {bilateral})")


def _indicator(raw: Any, where: str) -> Indicator:
    f = _Fields(raw, where)
    common = ("id", "label", "type", "help", "finding")
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    if kind not in TYPES:
        raise f.error("type", f"must be one of {', '.join(TYPES)}; got {kind!r}")
    optional = ("bilateral", "required", "weight")
    if kind in NUMBER_TYPES:
        f.only((*common, "min", "max", "below"), (*optional, "good"))
    elif kind == "yes_no":
        f.only((*common, "sign"), optional)
    else:
        f.only((*common, "choices"), optional)
    bilateral = f.flag("bilateral", False)
    finding = f.text("finding", 200)
    low = high = below = good = None
    sign = None
    choices: tuple[Choice, ...] = ()
    if kind in NUMBER_TYPES:
        low = f.integer("min", 0, 10_000)
        high = f.integer("max", 0, 10_000)
        if high <= low:
            raise f.error("max", f"must be above min ({low})")
        below = f.integer("below", low + 1, high)
        if "good" in raw:
            good = f.integer("good", below, high)
        _check_template(f, finding, {"side", "Side", "value"}, bilateral)
    elif kind == "yes_no":
        value = raw.get("sign")
        if value not in ("yes", "no"):
            raise f.error("sign", f'must be "yes" or "no" (quoted), got {value!r}')
        sign = value == "yes"
        _check_template(f, finding, {"side", "Side"}, bilateral)
    else:
        if bilateral:
            raise f.error("bilateral", "a choice indicator cannot be bilateral")
        parsed = []
        for i, item in enumerate(f.items("choices")):
            c = _Fields(item, f"{where}.choices[{i}]")
            c.only(("value", "label", "severity"))
            parsed.append(Choice(c.ident("value"), c.text("label", 80), c.number("severity", 0, 1)))
        if len({c.value for c in parsed}) != len(parsed):
            raise f.error("choices", "lists a value twice")
        choices = tuple(parsed)
        _check_template(f, finding, {"answer"}, bilateral)
    return Indicator(
        id=f.ident("id"),
        label=f.text("label", 120),
        help=f.text("help"),
        type=kind,
        unit=UNITS.get(kind),
        min=low,
        max=high,
        bilateral=bilateral,
        required=f.flag("required", False),
        finding=finding,
        below=below,
        good=good,
        sign=sign,
        choices=choices,
        weight=f.integer("weight", 1, 10, default=1),
    )


def _parse(doc: Any, name: str) -> Questionnaire:
    top = _Fields(doc, name)
    top.only(("version", "screening", "red_flags", "asymmetry", "levels", "indicators"))
    version = doc["version"]
    if not isinstance(version, str) or not _VERSION.match(version):
        raise top.error("version", f'must be a quoted string like "2026.11.1", got {version!r}')

    s = _Fields(doc["screening"], f"{name}.screening")
    s.only(("min_yes", "likely_message", "unlikely_message", "questions"))
    screening = tuple(
        _question(q, f"{name}.screening.questions[{i}]") for i, q in enumerate(s.items("questions"))
    )
    rule = ScreeningRule(
        min_yes=s.integer("min_yes", 1, len(screening)),
        likely_message=s.text("likely_message"),
        unlikely_message=s.text("unlikely_message"),
    )

    r = _Fields(doc["red_flags"], f"{name}.red_flags")
    r.only(("message", "questions"))
    red_flags = tuple(
        _question(q, f"{name}.red_flags.questions[{i}]") for i, q in enumerate(r.items("questions"))
    )

    lv = _Fields(doc["levels"], f"{name}.levels")
    lv.only(("likely", "possible"))
    possible_at = lv.integer("possible", 1, 100)
    likely_at = lv.integer("likely", possible_at, 100)

    groups = _Fields(doc["indicators"], f"{name}.indicators")
    if not groups.raw:
        raise QuestionnaireError(f"{name}.indicators: must list at least one imbalance")
    indicators: dict[str, tuple[Indicator, ...]] = {}
    for slug in groups.raw:
        if not isinstance(slug, str) or not _ID.match(slug):
            raise groups.error(str(slug), "must be an imbalance slug")
        where = f"{name}.indicators.{slug}"
        indicators[slug] = tuple(
            _indicator(item, f"{where}[{i}]") for i, item in enumerate(groups.items(slug))
        )

    a = _Fields(doc["asymmetry"], f"{name}.asymmetry")
    a.only(
        (
            "screening_question",
            "min_ratio",
            "min_difference",
            "points_per_measured",
            "points_for_screening",
        )
    )
    screening_ids = [q.id for q in screening]
    asym_question = a.ident("screening_question")
    if asym_question not in screening_ids:
        raise a.error("screening_question", f"no screening question {asym_question!r}")
    md = _Fields(a.raw["min_difference"], f"{name}.asymmetry.min_difference")
    md.only(NUMBER_TYPES)
    asymmetry = AsymmetryRule(
        screening_question=asym_question,
        min_ratio=a.number("min_ratio", 0.01, 1),
        min_difference={t: md.integer(t, 1, 10_000) for t in NUMBER_TYPES},
        points_per_measured=a.integer("points_per_measured", 1, 100),
        points_for_screening=a.integer("points_for_screening", 0, 100),
    )

    q = Questionnaire(
        version=version,
        screening=screening,
        red_flags=red_flags,
        indicators=indicators,
        screening_rule=rule,
        red_flag_message=r.text("message"),
        asymmetry=asymmetry,
        likely_at=likely_at,
        possible_at=possible_at,
    )
    seen: set[str] = set()
    for key in answer_keys(q):
        if key in seen:
            raise QuestionnaireError(f"{name}: answer key {key!r} is used twice")
        seen.add(key)
    return q


def load_questionnaire(path: str | Path | None = None) -> Questionnaire:
    """Read and validate a questionnaire YAML file (the package's own by default).

    :raise QuestionnaireError: on the first problem, naming the file and the field.
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QuestionnaireError(f"{path.name}: cannot read {path}: {exc.strerror}") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise QuestionnaireError(f"{path.name}: not valid YAML: {exc}") from None
    return _parse(doc, path.name)


def parse_questionnaire(doc: Any, name: str = "questionnaire") -> Questionnaire:
    """Validate an already-parsed YAML document (used by tests and tools)."""
    return _parse(doc, name)


@functools.cache
def default_questionnaire() -> Questionnaire:
    """The package's questionnaire, loaded and validated once per process."""
    return load_questionnaire()


# --------------------------------------------------------------------------- answers


def answer_keys(q: Questionnaire) -> tuple[str, ...]:
    """Every answer key, in form order: screening, red flags, then each indicator's keys."""
    keys = [question.id for question in (*q.screening, *q.red_flags)]
    for group in q.indicators.values():
        for ind in group:
            keys.extend(ind.answer_keys())
    return tuple(keys)


def number_hint(ind: Indicator) -> str:
    """The user-facing instruction for a number field."""
    return f"Enter a whole number of {_NUMBER_WORDS[ind.type]} between {ind.min} and {ind.max}."


def _parse_yes_no(value: str) -> bool | None:
    text = value.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return None


def _field_specs(q: Questionnaire) -> list[tuple[str, Indicator | None, bool]]:
    """(key, indicator or None for a yes/no question, required) for every answer key."""
    specs: list[tuple[str, Indicator | None, bool]] = [
        (question.id, None, True) for question in (*q.screening, *q.red_flags)
    ]
    for group in q.indicators.values():
        for ind in group:
            specs.extend((key, ind, ind.required) for key in ind.answer_keys())
    return specs


def validate_answers(
    q: Questionnaire, raw: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse raw form strings into typed answers; return (answers, errors by answer key).

    yes/no answers become bools, numbers ints, choices their value. Blank optional answers
    are left out. Keys the questionnaire does not know are ignored.
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, ind, required in _field_specs(q):
        value = raw.get(key)
        text = "" if value is None else str(value).strip()
        if ind is None or ind.type == "yes_no":
            hint = "Answer yes or no."
        elif ind.type == "choice":
            hint = "Choose one of: " + ", ".join(c.label for c in ind.choices) + "."
        else:
            hint = number_hint(ind)
        if not text:
            if required:
                errors[key] = f"This answer is required. {hint}"
            continue
        if ind is None or ind.type == "yes_no":
            parsed = _parse_yes_no(text)
            if parsed is None:
                errors[key] = hint
            else:
                answers[key] = parsed
        elif ind.type == "choice":
            match = next(
                (c for c in ind.choices if text.lower() in (c.value, c.label.lower())), None
            )
            if match is None:
                errors[key] = hint
            else:
                answers[key] = match.value
        else:
            if not re.fullmatch(r"[0-9]{1,6}", text):
                errors[key] = hint
                continue
            number = int(text)
            if not ind.min <= number <= ind.max:
                errors[key] = hint
            else:
                answers[key] = number
    return answers, errors
