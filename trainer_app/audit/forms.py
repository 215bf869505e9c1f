"""The audit trail's filters (a GET form: links to a filtered view can be shared)."""

from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional, ValidationError

from trainer_app.audit.models import ACTIONS
from trainer_app.formutil import PlausibleDay, SafeForm, select_choices
from trainer_app.security import MAX_ID


class TrailFilterForm(SafeForm):
    class Meta:
        csrf = False

    user = SelectField("Who", validators=[Optional()])
    action = SelectField(
        "What",
        choices=select_choices([("", "Everything"), *ACTIONS.items()]),
        validators=[Optional()],
    )
    client = IntegerField("Client number", validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    since = DateField("From (UTC)", validators=[Optional(), PlausibleDay()])
    until = DateField("To (UTC)", validators=[Optional(), PlausibleDay()])

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")
