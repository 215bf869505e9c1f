"""Small WTForms helpers shared by the domain forms, and the base class every form uses."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField, PasswordField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from trainer_app.delivery.mailer import InvalidAddress, validate_address

# Typed line breaks and tabs are text in a multi-line box; anywhere else they are not.
MULTILINE_ALLOWED = frozenset("\n\r\t")


def select_choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """WTForms 3.3+ wants SelectChoice objects instead of (value, label) tuples."""
    return [SelectChoice(value, label) for value, label in pairs]


def first_control_character(text: str, *, multiline: bool = False) -> str | None:
    """The first control character (C0 with NUL, DEL, C1) in ``text``, or None.

    With ``multiline`` (text areas) line breaks and tabs are allowed.
    """
    for ch in text:
        if unicodedata.category(ch) == "Cc" and not (multiline and ch in MULTILINE_ALLOWED):
            return ch
    return None


# Joiners that scripts and emoji need (Persian ZWNJ, emoji ZWJ sequences) stay allowed.
_JOINERS = frozenset("\u200c\u200d")


def first_invisible_format_character(text: str) -> str | None:
    """The first format character (Cf: bidi overrides, isolates, marks...) or line/paragraph
    separator (U+2028/U+2029) in one-line ``text``, or None. They can reverse or hide a name."""
    for ch in text:
        category = unicodedata.category(ch)
        if (category == "Cf" and ch not in _JOINERS) or category in ("Zl", "Zp"):
            return ch
    return None


def _leaf_fields(fields: Iterable[Field]) -> Iterator[Field]:
    for field in fields:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            yield from _leaf_fields(field.entries)
        else:
            yield field


def _texts(field: Field) -> list[str]:
    # What was typed (raw_data), so a coerced field (a select of ids) is checked as well.
    raw = [item for item in (getattr(field, "raw_data", None) or []) if isinstance(item, str)]
    if raw:
        return raw
    data = field.data
    if isinstance(data, str):
        return [data]
    if isinstance(data, list | tuple):
        return [item for item in data if isinstance(item, str)]
    return []


def refuse_control_characters(form) -> bool:
    """Add an error to every text field holding a control character (or, on one line, a bidi
    or other format character or a line separator); True if there was none."""
    clean = True
    for field in _leaf_fields(form):
        multiline = isinstance(field, TextAreaField)
        # Text areas keep their own rules (notes go through clean_note); a password is never
        # shown, so a format character in one misleads nobody and an old one keeps working.
        shown_on_one_line = not multiline and not isinstance(field, PasswordField)
        for text in _texts(field):
            ch = first_control_character(text, multiline=multiline)
            if ch is not None:
                field.errors = [
                    *field.errors,
                    f"Remove the invisible control character (U+{ord(ch):04X}) from this "
                    "field; such characters cannot be saved.",
                ]
                clean = False
                break
            ch = first_invisible_format_character(text) if shown_on_one_line else None
            if ch is not None:
                field.errors = [
                    *field.errors,
                    f"Remove the invisible formatting character (U+{ord(ch):04X}) from this "
                    "field; it can reverse or hide the text around it.",
                ]
                clean = False
                break
    return clean


class SafeForm(FlaskForm):
    """Base of every form in the app: refuses control characters in every text field.

    One check for all fields instead of a validator on each, so a field added later is
    covered too (tests/test_forms.py checks every form derives from this class).
    """

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return refuse_control_characters(self) and valid


class EmailAddress:
    """The mailer's own address rule (``validate_address``), so a saved address can be mailed."""

    def __call__(self, _form, field) -> None:
        if not field.data:
            return
        try:
            validate_address(field.data)
        except InvalidAddress as exc:
            raise ValidationError(exc.reason) from None


# Dates a clinic can mean: wide enough for any birth date or booking, narrow enough that a week's
# arithmetic never leaves Python's date range (9999-12-31 + 1 day is an OverflowError, a 500).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def plausible_day(day: date | None) -> bool:
    return day is not None and FIRST_DAY <= day <= LAST_DAY


class PlausibleDay:
    """Refuse a date outside ``FIRST_DAY`` .. ``LAST_DAY`` with a message that says so."""

    def __call__(self, form, field) -> None:
        if field.data is not None and not plausible_day(field.data):
            raise ValidationError(
                f"Enter a date between {FIRST_DAY.year} and {LAST_DAY.year}.", field
            )
