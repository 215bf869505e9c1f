"""The assessment questionnaire (data/questionnaire.yaml): models, loading, answer parsing.

Pure module: the standard library, PyYAML, Pydantic and the (pure) catalog, against which
the questionnaire's references are checked (imbalances, muscles, cautions, dosed exercises).
Load errors name the file, the entry and the field; answer errors are worded for the trainer.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationError, model_validator

from trainer_app.content import (
    ContentError,
    Flag,
    Slug,
    Strict,
    Version,
    Whole,
    explain,
    read_yaml,
    text,
    unique,
    vocabulary,
)
from trainer_app.library.catalog import BODY_REGIONS, REGIONS, Catalog, default_catalog

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "questionnaire.yaml"

TYPES = ("yes_no", "seconds", "reps", "degrees", "choice")
NUMBER_TYPES = ("seconds", "reps", "degrees")
UNITS = {"seconds": "s", "reps": "reps", "degrees": "°"}
SIDES = ("left", "right")
URGENCIES = ("emergency", "urgent", "routine")  # most pressing first
SEVERITIES = ("mild", "moderate", "marked")
# Test answers that are not a result: a missing test never counts as normal, and pain
# that stops a test is a finding of its own, never a weak score.
NOT_TESTED = "not_tested"
UNABLE_PAIN = "unable_pain"
NO_RESULT = {NOT_TESTED: "Not tested", UNABLE_PAIN: "Unable (pain)"}

_YES = {"yes", "y", "true", "1", "on"}
_NO = {"no", "n", "false", "0", "off"}
_NUMBER_WORDS = {"seconds": "seconds", "reps": "repetitions", "degrees": "degrees"}
STATUS_SUFFIX = "__status"

Label = text(120)
Short = text(200)
Paragraph = text(600)
Region = vocabulary(REGIONS, "region")
BodyRegion = vocabulary(BODY_REGIONS, "body region")
Urgency = Literal["emergency", "urgent", "routine"]
Severity = Literal["mild", "moderate", "marked"]


class QuestionnaireError(ContentError):
    """Invalid questionnaire content; the message names the file, the entry and the field."""


class Source(Strict):
    """Where a threshold or a sign comes from, shown next to the finding."""

    kind: Literal["published", "rule_of_thumb", "article"]
    citation: Paragraph
    # Who a published norm was measured in, as its paper says (a norm from athletes may not
    # fit an untrained or older client): shown beside the threshold to the clinician.
    population: Label | None = None

    @model_validator(mode="after")
    def _population_of_a_norm(self) -> Source:
        if self.population is not None and self.kind != "published":
            raise ValueError("population: only a published norm was measured in a population")
        return self

    def text(self) -> str:
        """E.g. "Published norm: McGill et al. 1999 …" or "Field rule of thumb: …"."""
        prefix = {
            "published": "Published norm",
            "rule_of_thumb": "Field rule of thumb",
            "article": "From the article",
        }[self.kind]
        text = f"{prefix}: {self.citation}"
        if self.population:
            text += f" Norm from {self.population}; interpret with care for other clients."
        return text


class Question(Strict):
    id: Slug
    text: Short
    help: Paragraph


class ScreeningQuestion(Question):
    # The imbalances a yes supports (quoted with a flagged finding; never flags one alone).
    supports: Annotated[tuple[Slug, ...], AfterValidator(unique)] = ()


class RedFlagQuestion(Question):
    urgency: Urgency
    # A few words for lists where the question would not fit ("Red flag: constant night pain").
    label: Label
    # Its urgency alone; together with another flag it takes that flag's (the most urgent
    # other one's) urgency: see scoring.graded_red_flags.
    follows_other_flags: bool = False
    client_text: Short
    # The finding in the clinical terms a doctor reads on the referral letter.
    clinical_text: Short
    # The same question answered no, as a relevant negative on the referral letter.
    negative_text: Short


class HealthQuestion(Question):
    caution: Slug
    # The condition in the clinical terms a doctor reads on the referral letter.
    clinical_text: Short


class UrgencyLevel(Strict):
    title: Label
    action: Paragraph
    client_text: Paragraph
    # What the referral letter asks of the doctor, in clinical terms.
    referral_text: Paragraph


class Choice(Strict):
    value: Slug
    label: text(80)
    severity: Literal["none", "mild", "moderate", "marked"]


class Indicator(Strict):
    """One in-session test or observation and what its result says."""

    id: Slug
    label: Label
    help: Paragraph
    type: Literal["yes_no", "seconds", "reps", "degrees", "choice"]
    # What the test measures; it must fit its claim (strength or endurance for "weak",
    # length for "tight"; an observation may support either or show the visible pattern).
    measures: Literal["strength", "endurance", "length", "observation"]
    claim: Literal["weak", "tight", "pattern", "supporting"]
    muscles: Annotated[tuple[Region, ...], AfterValidator(unique)] = ()
    region: BodyRegion | None = None
    bilateral: Flag = False
    required: Flag = False
    finding: Short
    source: Source
    min: Whole | None = None
    max: Whole | None = None
    below: Whole | None = None
    noise: Annotated[Whole, Field(ge=1)] | None = None
    sign: Literal["yes", "no"] | None = None
    severity: Severity | None = None
    choices: tuple[Choice, ...] = ()
    doses: Annotated[tuple[Slug, ...], AfterValidator(unique)] = ()
    # Exercises (with their families) that train what the test measures: their "why"
    # quotes this test's finding. `doses` are included without being repeated here.
    exercises: Annotated[tuple[Slug, ...], AfterValidator(unique)] = ()
    # A pattern observation flags its imbalance on its own only from this severity; a
    # milder one needs a concordant sign (a test finding or another observation), by the
    # rule `alone_source` states. Unset: any positive observation flags.
    alone_from: Severity | None = None
    alone_source: Source | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        numeric = self.type in NUMBER_TYPES
        need = {
            "min": numeric,
            "max": numeric,
            "below": numeric,
            "noise": numeric and self.bilateral,
            "sign": self.type == "yes_no",
            "severity": self.type == "yes_no",
            "choices": self.type == "choice",
        }
        for name, wanted in need.items():
            present = (
                bool(getattr(self, name)) if name == "choices" else getattr(self, name) is not None
            )
            if wanted and not present:
                raise ValueError(f"{name}: needed for a {self.type} test")
            if present and not wanted and not (name == "noise" and numeric):
                raise ValueError(f"{name}: not used by a {self.type} test")
        if numeric:
            if not 0 <= self.min < self.max:  # type: ignore[operator]
                raise ValueError(f"max: must be above min ({self.min})")
            if not self.min < self.below <= self.max:  # type: ignore[operator]
                raise ValueError(f"below: must be between min and max, got {self.below}")
        if self.type == "choice" and self.bilateral:
            raise ValueError("bilateral: a choice indicator cannot be bilateral")
        if len({c.value for c in self.choices}) != len(self.choices):
            raise ValueError("choices: lists a value twice")
        fits = {
            "weak": ("strength", "endurance", "observation"),
            "tight": ("length", "observation"),
            "pattern": ("observation",),
            "supporting": ("observation",),
        }[self.claim]
        if self.measures not in fits:
            raise ValueError(
                f"measures: a {self.measures} test cannot show {self.claim!r} "
                f"(it needs {' or '.join(fits)})"
            )
        if self.claim in ("weak", "tight") and not self.muscles:
            raise ValueError(f"muscles: say which muscles the test shows as {self.claim}")
        if self.doses and not numeric:
            raise ValueError("doses: only a measured number can set a starting dose")
        if (self.alone_from is None) != (self.alone_source is None):
            raise ValueError("alone_source: alone_from and its source go together")
        if self.alone_from is not None and self.claim != "pattern":
            raise ValueError("alone_from: only a pattern observation needs a concordant sign")
        _check_template(self)
        return self

    @property
    def unit(self) -> str | None:
        return UNITS.get(self.type)

    @property
    def measured(self) -> bool:
        """A number measured against a threshold (not an observation)."""
        return self.type in NUMBER_TYPES

    def answer_keys(self) -> tuple[str, ...]:
        """The answer keys of this indicator: `id`, or `id_left` and `id_right`."""
        return tuple(f"{self.id}_{side}" for side in SIDES) if self.bilateral else (self.id,)

    def choice(self, value: str) -> Choice | None:
        """The choice with this value, or None."""
        return next((c for c in self.choices if c.value == value), None)

    @property
    def positive(self) -> bool | None:
        """The yes/no answer that is the finding (None for other types)."""
        return None if self.sign is None else self.sign == "yes"


def _check_template(ind: Indicator) -> None:
    fields = {name for _, name, _, _ in string.Formatter().parse(ind.finding) if name is not None}
    allowed = {"answer"} if ind.type == "choice" else {"side", "Side"}
    if ind.type in NUMBER_TYPES:
        allowed |= {"value"}
    unknown = fields - allowed
    if unknown:
        raise ValueError(f"finding: unknown placeholder {{{sorted(unknown)[0]}}}")
    if ind.type != "choice" and bool(fields & {"side", "Side"}) != ind.bilateral:
        need = "must" if ind.bilateral else "must not"
        raise ValueError(
            f"finding: {need} contain {{side}} or {{Side}} (bilateral is {ind.bilateral})"
        )


class ScreeningRule(Strict):
    min_yes: Annotated[Whole, Field(ge=1)]
    source: Source
    likely_message: Paragraph
    unlikely_message: Paragraph
    questions: Annotated[tuple[ScreeningQuestion, ...], Field(min_length=1)]


class RedFlags(Strict):
    message: Paragraph
    levels: dict[Urgency, UrgencyLevel]
    questions: Annotated[tuple[RedFlagQuestion, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _every_level(self) -> RedFlags:
        missing = [u for u in URGENCIES if u not in self.levels]
        if missing:
            raise ValueError(f"levels: missing the {missing[0]} level")
        return self


class Health(Strict):
    intro: Paragraph
    questions: Annotated[tuple[HealthQuestion, ...], Field(min_length=1)]


class SeverityBands(Strict):
    """Shortfall from the threshold (a fraction of it) at which a finding becomes worse."""

    moderate: Annotated[float, Field(gt=0, lt=1)]
    marked: Annotated[float, Field(gt=0, lt=1)]
    source: Source

    @model_validator(mode="after")
    def _ordered(self) -> SeverityBands:
        if not self.moderate < self.marked:
            raise ValueError("marked: must be above moderate")
        return self

    def word(self, shortfall: float) -> str:
        """mild, moderate or marked for a shortfall (0..1)."""
        if shortfall >= self.marked:
            return "marked"
        return "moderate" if shortfall >= self.moderate else "mild"


class AsymmetryRule(Strict):
    screening_question: Slug
    min_ratio: Annotated[float, Field(gt=0, lt=1)]
    source: Source
    severity: SeverityBands


class DosingRule(Strict):
    """Start at this share of the measured capacity (hold or reps)."""

    low: Annotated[float, Field(gt=0, le=1)]
    high: Annotated[float, Field(gt=0, le=1)]
    source: Source


class Questionnaire(Strict):
    version: Version
    screening: ScreeningRule
    red_flags: RedFlags
    health: Health
    severity: SeverityBands
    asymmetry: AsymmetryRule
    dosing: DosingRule
    indicators: dict[Slug, Annotated[tuple[Indicator, ...], Field(min_length=1)]]

    @property
    def screening_rule(self) -> ScreeningRule:
        return self.screening

    @property
    def screening_questions(self) -> tuple[ScreeningQuestion, ...]:
        return self.screening.questions

    @property
    def red_flag_questions(self) -> tuple[RedFlagQuestion, ...]:
        return self.red_flags.questions

    @property
    def health_questions(self) -> tuple[HealthQuestion, ...]:
        return self.health.questions

    @property
    def red_flag_message(self) -> str:
        return self.red_flags.message

    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator with this id; KeyError naming it if there is none."""
        for group in self.indicators.values():
            for ind in group:
                if ind.id == indicator_id:
                    return ind
        raise KeyError(f"no indicator {indicator_id!r} in questionnaire {self.version}")

    def group_of(self, indicator_id: str) -> str:
        """The imbalance slug whose section holds this indicator."""
        for slug, group in self.indicators.items():
            if any(ind.id == indicator_id for ind in group):
                return slug
        raise KeyError(indicator_id)


# --------------------------------------------------------------------------- loading


def _namer(doc: Any):
    """Name an error's entry by id: "indicators.weak_core.front_plank_hold", ".dose"..."""

    def name(loc: tuple) -> tuple[str, tuple]:
        def ident(raw: Any, fallback: str) -> str:
            key = raw.get("id") if isinstance(raw, Mapping) else None
            return (
                key if isinstance(key, str) and re.match(r"^[a-z][a-z0-9_]*\Z", key) else fallback
            )

        if len(loc) >= 3 and loc[0] == "indicators" and isinstance(loc[2], int):
            group = (doc.get("indicators") or {}).get(loc[1]) if isinstance(doc, Mapping) else None
            raw = group[loc[2]] if isinstance(group, list) and loc[2] < len(group) else None
            return f"indicators.{loc[1]}.{ident(raw, f'[{loc[2] + 1}]')}", loc[3:]
        if len(loc) >= 3 and loc[1] == "questions" and isinstance(loc[2], int):
            section = doc.get(loc[0]) if isinstance(doc, Mapping) else None
            items = section.get("questions") if isinstance(section, Mapping) else None
            raw = items[loc[2]] if isinstance(items, list) and loc[2] < len(items) else None
            return f"{loc[0]}.{ident(raw, f'questions[{loc[2] + 1}]')}", loc[3:]
        return "", loc

    return name


def _fail(name: str, where: str, message: str) -> QuestionnaireError:
    return QuestionnaireError(f"{name}: {where}: {message}")


def _cross_check(q: Questionnaire, catalog: Catalog, name: str) -> None:
    """References from the questionnaire into the catalog, and answer keys used once."""
    overactive = {m for im in catalog.imbalances.values() for m in im.overactive_muscles}
    for slug, group in q.indicators.items():
        if slug not in catalog.imbalances:
            raise _fail(name, f"indicators.{slug}", f"no imbalance {slug!r} in the catalog")
        weak = set(catalog.imbalances[slug].weak_muscles)
        for ind in group:
            where = f"indicators.{slug}.{ind.id}"
            if ind.claim == "weak" and not set(ind.muscles) <= weak:
                extra = sorted(set(ind.muscles) - weak)[0]
                raise _fail(name, f"{where}.muscles", f"{extra!r} is not a weak muscle of {slug}")
            if ind.claim == "tight" and not set(ind.muscles) <= overactive:
                extra = sorted(set(ind.muscles) - overactive)[0]
                raise _fail(
                    name, f"{where}.muscles", f"{extra!r} is no imbalance's overactive muscle"
                )
            for i, ex_slug in enumerate(ind.exercises, 1):
                if ex_slug not in catalog.exercises:
                    raise _fail(name, f"{where}.exercises[{i}]", f"no exercise {ex_slug!r}")
            for i, ex_slug in enumerate(ind.doses, 1):
                ex = catalog.exercises.get(ex_slug)
                if ex is None:
                    raise _fail(name, f"{where}.doses[{i}]", f"no exercise {ex_slug!r}")
                uses_hold = ex.dose.hold_seconds is not None
                if (ind.type == "seconds") != uses_hold or ind.type == "degrees":
                    raise _fail(
                        name,
                        f"{where}.doses[{i}]",
                        f"{ex_slug!r} is dosed in {'seconds' if uses_hold else 'reps'}, "
                        f"the test in {ind.type}",
                    )
    indicators = {ind.id: ind for group in q.indicators.values() for ind in group}
    for ex in catalog.exercises.values():
        for i, test in enumerate(ex.first_for, 1):
            ind = indicators.get(test)
            where = f"exercises.yaml: {ex.slug}.first_for[{i}]"
            if ind is None:
                raise _fail(name, where, f"no test or observation {test!r}")
            if ex.slug not in (*ind.doses, *ind.exercises):
                raise _fail(name, where, f"{test!r} does not list {ex.slug!r} in its exercises")
    for question in q.screening.questions:
        for slug in question.supports:
            if slug not in catalog.imbalances:
                raise _fail(name, f"screening.{question.id}.supports", f"no imbalance {slug!r}")
    for question in q.health.questions:
        if question.caution not in catalog.cautions:
            known = ", ".join(catalog.cautions)
            raise _fail(
                name,
                f"health.{question.id}.caution",
                f"no caution {question.caution!r} (known: {known})",
            )
    screening_ids = [s.id for s in q.screening.questions]
    if q.asymmetry.screening_question not in screening_ids:
        raise _fail(
            name,
            "asymmetry.screening_question",
            f"no screening question {q.asymmetry.screening_question!r}",
        )
    seen: set[str] = set()
    for key in answer_keys(q):
        if key in seen:
            raise QuestionnaireError(f"{name}: answer key {key!r} is used twice")
        seen.add(key)


def _parse(doc: Any, name: str, catalog: Catalog | None) -> Questionnaire:
    if not isinstance(doc, Mapping):
        raise QuestionnaireError(f"{name}: must be a mapping, got {type(doc).__name__}")
    try:
        q = Questionnaire.model_validate(doc)
    except ValidationError as exc:
        raise explain(
            exc, Questionnaire, where=name, entry=_namer(doc), error=QuestionnaireError
        ) from None
    _cross_check(q, catalog or default_catalog(), name)
    return q


def load_questionnaire(
    path: str | Path | None = None, catalog: Catalog | None = None
) -> Questionnaire:
    """Read and validate a questionnaire YAML file (the package's own by default).

    :param catalog: what references are checked against (the package catalog by default).
    :raise QuestionnaireError: naming the file, the entry and the field of each problem.
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    return _parse(read_yaml(path, QuestionnaireError), path.name, catalog)


def parse_questionnaire(
    doc: Any, name: str = "questionnaire", catalog: Catalog | None = None
) -> Questionnaire:
    """Validate an already-parsed YAML document (used by tests and tools)."""
    return _parse(doc, name, catalog)


@functools.cache
def default_questionnaire() -> Questionnaire:
    """The package's questionnaire, loaded and validated once per process."""
    return load_questionnaire()


# --------------------------------------------------------------------------- answers


def answer_keys(q: Questionnaire) -> tuple[str, ...]:
    """Every answer key in form order: screening, red flags, health, each indicator's keys."""
    keys = [
        question.id
        for question in (*q.screening.questions, *q.red_flags.questions, *q.health.questions)
    ]
    for group in q.indicators.values():
        for ind in group:
            keys.extend(ind.answer_keys())
    return tuple(keys)


def number_hint(ind: Indicator) -> str:
    """The user-facing instruction for a number field."""
    return (
        f"Enter a whole number of {_NUMBER_WORDS[ind.type]} between {ind.min} and {ind.max}, "
        "or mark the test not tested or unable (pain)."
    )


def _parse_yes_no(value: str) -> bool | None:
    word = value.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


def _hint(ind: Indicator | None) -> str:
    if ind is None:
        return "Answer yes or no."
    if ind.type == "yes_no":
        return "Answer yes or no, or mark the test not tested or unable (pain)."
    if ind.type == "choice":
        labels = ", ".join(c.label for c in ind.choices)
        return f"Choose one of: {labels}, or not tested or unable (pain)."
    return number_hint(ind)


def validate_answers(
    q: Questionnaire, raw: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse raw form strings into typed answers; return (answers, errors by answer key).

    Questions: yes/no answers become bools (all required). Tests: numbers become ints,
    yes/no bools, choices their value; "not tested" and "unable (pain)" are kept as
    `NOT_TESTED` and `UNABLE_PAIN` (a number field says so in ``<key>__status``). A blank
    optional test is recorded as not tested, never as normal. Unknown keys are ignored.
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    questions = (*q.screening.questions, *q.red_flags.questions, *q.health.questions)
    for question in questions:
        value = str(raw.get(question.id) or "").strip()
        if not value:
            errors[question.id] = "This answer is required. Answer yes or no."
            continue
        parsed = _parse_yes_no(value)
        if parsed is None:
            errors[question.id] = "Answer yes or no."
        else:
            answers[question.id] = parsed
    for group in q.indicators.values():
        for ind in group:
            for key in ind.answer_keys():
                _test_answer(ind, key, raw, answers, errors)
    return answers, errors


def _test_answer(
    ind: Indicator,
    key: str,
    raw: Mapping[str, str],
    answers: dict[str, Any],
    errors: dict[str, str],
) -> None:
    value = str(raw.get(key) or "").strip()
    status = str(raw.get(key + STATUS_SUFFIX) or "").strip().lower()
    if value.lower() in NO_RESULT:
        status, value = value.lower(), ""
    if status in NO_RESULT:
        if value:
            errors[key] = (
                f"You marked this test {NO_RESULT[status].lower()}: clear the number "
                "or choose measured."
            )
        else:
            answers[key] = status
        return
    if status not in ("", "measured"):
        errors[key] = _hint(ind)
        return
    if not value:
        if ind.required:
            errors[key] = f"This answer is required. {_hint(ind)}"
        else:
            answers[key] = NOT_TESTED
        return
    if ind.type == "yes_no":
        parsed = _parse_yes_no(value)
        if parsed is None:
            errors[key] = _hint(ind)
        else:
            answers[key] = parsed
    elif ind.type == "choice":
        match = next((c for c in ind.choices if value.lower() in (c.value, c.label.lower())), None)
        if match is None:
            errors[key] = _hint(ind)
        else:
            answers[key] = match.value
    else:
        if not re.fullmatch(r"[0-9]{1,6}", value):
            errors[key] = _hint(ind)
            return
        number = int(value)
        if not ind.min <= number <= ind.max:  # type: ignore[operator]
            errors[key] = _hint(ind)
        else:
            answers[key] = number
