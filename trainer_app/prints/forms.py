"""The day's print form (the appointments or clients come as checkbox lists)."""

import secrets

from flask import request
from wtforms import BooleanField, DateField, HiddenField, SelectField
from wtforms.validators import DataRequired, InputRequired, Regexp

from trainer_app.formutil import PlausibleDay, SafeForm, select_choices
from trainer_app.prints.models import BOTH, PLANS, SESSIONS


class PrintForm(SafeForm):
    what = SelectField(
        "Print",
        choices=select_choices(
            [(SESSIONS, "Session sheets"), (PLANS, "Full plans"), (BOTH, "Both")]
        ),
        default=SESSIONS,
    )
    duplex = BooleanField("Two-sided printing (each sheet and plan starts on a new sheet of paper)")
    day = DateField(
        "Session day",
        validators=[InputRequired("Choose the day of the sessions."), PlausibleDay()],
    )
    # Rendered into the page once, so a double click or a resent POST is the same batch.
    request_key = HiddenField(
        validators=[
            DataRequired("The form is missing its request key; reload the page."),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Reload the page and try again."),
        ]
    )

    @classmethod
    def fresh(cls, day) -> "PrintForm":
        form = cls(formdata=None)
        form.day.data = day
        form.request_key.data = secrets.token_urlsafe(16)
        return form


def chosen_ids(name: str) -> list[int]:
    """The ticked ids of a checkbox list, in page order (anything not a number is ignored)."""
    out = []
    for value in request.form.getlist(name)[:500]:
        if value.isascii() and value.isdigit() and len(value) < 12:
            out.append(int(value))
    return out
