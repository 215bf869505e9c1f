"""The "Email plan to client" form: a key that makes a repeated click one delivery, and the
trainer's optional note."""

import secrets

from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from trainer_app.delivery.service import NOTE_MAX
from trainer_app.formutil import SafeForm


class SendPlanForm(SafeForm):
    idempotency_key = HiddenField(
        validators=[
            DataRequired("The form is missing its key; reload the page."),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Reload the page and try again."),
        ]
    )
    personal_note = TextAreaField(
        "Personal note (optional)",
        validators=[Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX} characters.")],
        render_kw={"rows": 4, "maxlength": NOTE_MAX},
        description="Plain text shown above the standard message, signed with your name.",
    )

    @classmethod
    def fresh(cls, note: str = "") -> "SendPlanForm":
        form = cls(formdata=None)
        form.idempotency_key.data = secrets.token_urlsafe(16)
        form.personal_note.data = note
        return form
