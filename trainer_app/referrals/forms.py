"""Referral letter forms: one hidden key each, so a double click makes one letter or email."""

from __future__ import annotations

import secrets

from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from trainer_app.formutil import SafeForm


class RequestKeyForm(SafeForm):
    request_key = HiddenField(
        validators=[
            DataRequired("The form is missing its key; reload the page."),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Reload the page and try again."),
        ]
    )

    @classmethod
    def fresh(cls) -> RequestKeyForm:
        form = cls(formdata=None)
        form.request_key.data = secrets.token_urlsafe(16)
        return form


class MakeLetterForm(RequestKeyForm):
    """Make a referral letter for an assessment with red flags."""


class EmailLetterForm(RequestKeyForm):
    """Email a ready referral letter to the client."""
