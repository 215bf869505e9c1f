"""Data-rights forms: ask for an export, confirm an erasure, set the retention period."""

from __future__ import annotations

import secrets

from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from trainer_app.formutil import SafeForm, select_choices
from trainer_app.privacy.models import REASONS
from trainer_app.privacy.retention import PERIODS


class ExportForm(SafeForm):
    # Rendered into the page once, so a double click or a resent POST is one export.
    request_key = HiddenField(
        validators=[
            DataRequired("The form is missing its request key; reload the page."),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Reload the page and try again."),
        ]
    )

    @classmethod
    def fresh(cls) -> ExportForm:
        form = cls(formdata=None)
        form.request_key.data = secrets.token_urlsafe(16)
        return form


class EraseForm(SafeForm):
    reason = SelectField(
        "Why is the client erased?",
        choices=select_choices(
            [("", "Choose a reason"), *((k, v) for k, v in REASONS.items() if k != "retention")]
        ),
        validators=[DataRequired("Choose why the client is erased.")],
    )
    confirm_name = StringField(
        "Type the client's full name to confirm",
        validators=[DataRequired("Type the client's name to confirm."), Length(max=120)],
    )

    def validate_reason(self, field) -> None:
        if field.data not in REASONS or field.data == "retention":
            raise ValidationError("Choose one of the listed reasons.")


def _period_label(months: int) -> str:
    return f"{months} months" if months % 12 else f"{months // 12} year{'s' if months > 12 else ''}"


class RetentionForm(SafeForm):
    months = SelectField(
        "Erase archived clients after",
        choices=select_choices(
            [("", "Never: keep them until erased by hand")]
            + [(str(m), _period_label(m)) for m in PERIODS]
        ),
        validators=[Optional()],
    )

    def validate_months(self, field) -> None:
        if field.data and field.data not in {str(m) for m in PERIODS}:
            raise ValidationError("Choose one of the listed periods.")

    @property
    def chosen(self) -> int | None:
        return int(self.months.data) if self.months.data else None


class RetentionPreviewForm(RetentionForm):
    class Meta:
        csrf = False
