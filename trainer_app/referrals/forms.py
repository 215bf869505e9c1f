"""Referral letter forms: one hidden key each, so a double click makes one letter or email."""

from __future__ import annotations

import secrets

from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from trainer_app.formutil import SafeForm


def _key_field() -> HiddenField:
    return HiddenField(
        validators=[
            DataRequired("The form is missing its key; reload the page."),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Reload the page and try again."),
        ]
    )


def fresh(form_class):
    """A form to draw, with a new random key."""
    form = form_class(formdata=None)
    form.request_key.data = secrets.token_urlsafe(16)
    return form


class MakeLetterForm(SafeForm):
    """Make a referral letter for an assessment with red flags."""

    request_key = _key_field()


class EmailLetterForm(SafeForm):
    """Email a ready referral letter to the client."""

    request_key = _key_field()
