"""The "Email plan to client" form: only a key that makes a repeated click one delivery."""

import secrets

from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from trainer_app.formutil import SafeForm


class SendPlanForm(SafeForm):
    idempotency_key = HiddenField(
        validators=[
            DataRequired("The form is missing its key; reload the page."),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Reload the page and try again."),
        ]
    )

    @classmethod
    def fresh(cls) -> "SendPlanForm":
        form = cls(formdata=None)
        form.idempotency_key.data = secrets.token_urlsafe(16)
        return form
