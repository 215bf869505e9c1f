"""Assessment forms.

The questionnaire's answers are validated by `questionnaire.validate_answers` (the data decides
which fields exist and their limits); the template renders them from the `Section` view model
built here. WTForms handles the rest: CSRF, notes, the clearance note and the confirmation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from trainer_app.assessments.questionnaire import (
    NO_RESULT,
    NOT_TESTED,
    SIDES,
    STATUS_SUFFIX,
    Indicator,
    Question,
    Questionnaire,
)
from trainer_app.assessments.service import (
    CLEARANCE_MAX,
    CLEARANCE_NAME_MAX,
    NOTES_MAX,
    PROFESSIONS,
)
from trainer_app.formutil import PlausibleDay, SafeForm, select_choices
from trainer_app.library.catalog import Catalog


class AssessmentForm(SafeForm):
    notes = TextAreaField(
        "Notes",
        validators=[Length(max=NOTES_MAX)],
        description="Anything the answers do not capture: history, goals, how the tests felt.",
        render_kw={"rows": 4},
    )


class ClearanceForm(SafeForm):
    name = StringField(
        "Cleared by",
        validators=[
            DataRequired("Name the doctor or physiotherapist who cleared the client."),
            Length(max=CLEARANCE_NAME_MAX),
        ],
        render_kw={"maxlength": CLEARANCE_NAME_MAX, "autocomplete": "off"},
        description='Their name as on the letter or note, for example "Dr Anna Patel".',
    )
    profession = SelectField(
        "Profession",
        choices=select_choices([("", "Choose…"), *PROFESSIONS.items()]),
        validators=[DataRequired("Choose the profession of the person who cleared the client.")],
    )
    cleared_on = DateField(
        "Cleared on",
        validators=[DataRequired("Give the day the client was cleared."), PlausibleDay()],
        description="The day they saw the client, not today's date unless it was today.",
    )
    restrictions = TextAreaField(
        "Restrictions",
        validators=[Optional(), Length(max=CLEARANCE_MAX)],
        description="Anything they asked you to avoid or limit; leave empty if none. "
        "Printed on the client's plan.",
        render_kw={"rows": 2, "maxlength": CLEARANCE_MAX},
    )


class ConfirmForm(SafeForm):
    # Choices are set per assessment; the template draws the checkboxes with their scores.
    imbalances = SelectMultipleField("Imbalances to treat", choices=[], validate_choice=True)

    def validate_imbalances(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one imbalance to treat.")


# --------------------------------------------------------------------------- questionnaire


@dataclass(frozen=True)
class Input:
    """One answer key as the template draws it."""

    key: str
    label: str  # visible label: the question, or "Left" / "Right" for one side of a pair
    kind: str  # yes_no | number | choice
    value: str
    error: str | None
    unit: str | None = None
    min: int | None = None
    max: int | None = None
    options: tuple[tuple[str, str], ...] = ()  # (value, label) radio options
    status: str = ""  # number tests: measured | not_tested | unable_pain
    status_key: str = ""
    badge: str = ""  # red flags: their urgency
    last: str = ""  # a re-test: what this test gave at the previous assessment


@dataclass(frozen=True)
class Item:
    """One question or indicator: heading, how to test it, and one input or a left/right pair."""

    id: str
    label: str
    help: str
    required: bool
    inputs: tuple[Input, ...]

    @property
    def paired(self) -> bool:
        return len(self.inputs) > 1

    @property
    def errors(self) -> list[str]:
        return [i.error for i in self.inputs if i.error]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    items: tuple[Item, ...]


_YES_NO = (("yes", "Yes"), ("no", "No"))
# Every test can be answered "not tested" or "unable (pain)"; neither ever counts as normal.
_NO_RESULT = tuple(NO_RESULT.items())
_STATUSES = (("measured", "Measured"), *_NO_RESULT)
_URGENCY_WORDS = {"emergency": "Emergency", "urgent": "Urgent", "routine": "Routine referral"}


def _question_item(
    question: Question, raw: Mapping[str, str], errors: Mapping[str, str], badge: str = ""
) -> Item:
    field = Input(
        key=question.id,
        label=question.text,
        kind="yes_no",
        value=str(raw.get(question.id, "")).strip().lower(),
        error=errors.get(question.id),
        options=_YES_NO,
        badge=badge,
    )
    return Item(question.id, question.text, question.help, True, (field,))


def _indicator_item(
    ind: Indicator,
    raw: Mapping[str, str],
    errors: Mapping[str, str],
    last: Mapping[str, str] | None = None,
) -> Item:
    if ind.type == "yes_no":
        kind, options = "yes_no", (*_YES_NO, *_NO_RESULT)
    elif ind.type == "choice":
        kind, options = "choice", (*((c.value, c.label) for c in ind.choices), *_NO_RESULT)
    else:
        kind, options = "number", ()
    sides = SIDES if ind.bilateral else (None,)
    inputs = []
    for side, key in zip(sides, ind.answer_keys(), strict=True):
        if kind == "number":
            value = str(raw.get(key, "")).strip()
            status = str(raw.get(key + STATUS_SUFFIX, "")).strip().lower() or "measured"
        else:
            value = _choice_value(raw, key)
            if not value and not ind.required and key not in (last or {}):
                # an optional test starts as not tested, never as normal; on a re-test one
                # done last time starts unanswered (left so, it is still recorded not tested)
                value = NOT_TESTED
            status = ""
        inputs.append(
            Input(
                key=key,
                label=side.capitalize() if side else ind.label,
                kind=kind,
                value=value,
                error=errors.get(key),
                unit=ind.unit,
                min=ind.min,
                max=ind.max,
                options=options if kind != "number" else _STATUSES,
                status=status,
                status_key=key + STATUS_SUFFIX if kind == "number" else "",
                last=(last or {}).get(key, ""),
            )
        )
    return Item(ind.id, ind.label, ind.help, ind.required, tuple(inputs))


def _shown(ind: Indicator, value) -> str:
    """A stored test answer as the trainer reads it, e.g. "35 seconds", "Yes", "Not tested"."""
    if isinstance(value, str) and value in NO_RESULT:
        return NO_RESULT[value]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if ind.type == "choice":
        return next((c.label for c in ind.choices if c.value == value), str(value))
    return f"{value} {ind.unit}" if ind.unit else str(value)


def retest_start(q: Questionnaire, previous: Mapping[str, object]) -> tuple[dict, dict]:
    """A re-test starts with the same tests as last time: (form values, last results by key).

    Tests not done last time start as "not tested" (the trainer can still run them); tests that
    were done start empty, to be measured again, with last time's result shown beside them.
    Questions (screening, red flags, health) are always asked afresh.
    """
    raw: dict[str, str] = {}
    last: dict[str, str] = {}
    for group in q.indicators.values():
        for ind in group:
            for key in ind.answer_keys():
                if key not in previous:
                    continue
                value = previous[key]
                last[key] = _shown(ind, value)
                if value == NOT_TESTED:
                    number = ind.type not in ("yes_no", "choice")
                    raw[key + STATUS_SUFFIX if number else key] = NOT_TESTED
    return raw, last


def _choice_value(raw: Mapping[str, str], key: str) -> str:
    return str(raw.get(key, "")).strip().lower()


def questionnaire_sections(
    q: Questionnaire,
    catalog: Catalog,
    raw: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    last: Mapping[str, str] | None = None,
) -> list[Section]:
    """The questionnaire as sections of items, carrying what was typed, the errors and (on a
    re-test) each test's previous result."""
    raw, errors = raw or {}, errors or {}
    rule = q.screening_rule
    sections = [
        Section(
            "screening",
            "Screening questions",
            f"Ask the client. {rule.min_yes} or more yes answers suggest a muscle imbalance "
            "that may contribute to back pain.",
            tuple(_question_item(s, raw, errors) for s in q.screening.questions),
        ),
        Section(
            "red_flags",
            "Red flags",
            "Ask at every assessment, re-assessments included. Any yes stops programming "
            "until the client has been seen (an emergency sign by a doctor; otherwise a "
            "doctor or physiotherapist) and you have recorded their clearance; the results "
            "page says how urgently.",
            tuple(
                _question_item(s, raw, errors, _URGENCY_WORDS[s.urgency])
                for s in q.red_flags.questions
            ),
        ),
        Section(
            "health",
            "Health and cautions",
            q.health.intro,
            tuple(_question_item(s, raw, errors) for s in q.health.questions),
        ),
    ]
    for slug, indicators in q.indicators.items():
        imbalance = catalog.imbalances.get(slug)
        sections.append(
            Section(
                slug,
                imbalance.name if imbalance else slug.replace("_", " ").capitalize(),
                "In-session tests. Record what you measure, or mark a test not tested or "
                "unable (pain); a test left out is recorded as not tested, never as normal.",
                tuple(_indicator_item(ind, raw, errors, last) for ind in indicators),
            )
        )
    return sections
