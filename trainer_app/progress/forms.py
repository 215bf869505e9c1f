"""The progress entry form: the client's on their phone, the trainer's on the client page."""

from __future__ import annotations

from wtforms import BooleanField, DateField, HiddenField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from trainer_app.formutil import SafeForm
from trainer_app.programs.forms import MultiCheckboxField
from trainer_app.progress.rules import PAIN_MAX, PAIN_MIN
from trainer_app.progress.service import NOTE_MAX

PAIN_MESSAGE = f"Pain is a number from {PAIN_MIN} (none) to {PAIN_MAX} (worst imaginable)."


class _Pain(IntegerField):
    """A pain score; anything but a whole number gets the plain message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(PAIN_MESSAGE) from None


class EntryForm(SafeForm):
    day = DateField(
        "Day",
        validators=[InputRequired("Choose the day you are logging.")],
        format="%Y-%m-%d",
    )
    done = MultiCheckboxField("Done", choices=[], validate_choice=False)
    pain = _Pain(
        "Pain today, 0 (none) to 10 (worst imaginable)",
        validators=[Optional(), NumberRange(PAIN_MIN, PAIN_MAX, PAIN_MESSAGE)],
    )
    note = TextAreaField(
        "Anything your trainer should know (optional)",
        validators=[Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX} characters.")],
    )
    warning_sign = BooleanField("I had one of the warning signs in the box above")
    request_key = HiddenField(
        validators=[DataRequired("Reload the page and try again."), Length(min=16, max=64)]
    )

    @property
    def first_error(self) -> str | None:
        for field in self:
            if field.errors:
                return field.errors[0]
        return None
