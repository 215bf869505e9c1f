"""The "Make PDF" form."""

import secrets

from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired, Regexp

from trainer_app.accounts.models import PAPER_SIZES
from trainer_app.formutil import SafeForm, select_choices


class MakePdfForm(SafeForm):
    paper = SelectField(
        "Paper size",
        choices=select_choices([("A4", "A4"), ("Letter", "US Letter")]),
        validators=[DataRequired()],
    )
    large_print = BooleanField("Large print (one exercise per page)")
    # Rendered into the page once, so a double click or a resent POST is the same request.
    request_key = HiddenField(
        validators=[
            DataRequired("The form is missing its request key; reload the page."),
            Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="Reload the page and try again."),
        ]
    )

    def validate_paper(self, field) -> None:
        if field.data not in PAPER_SIZES:
            field.errors.append("Choose A4 or US Letter.")

    @classmethod
    def fresh(cls, default_paper: str) -> "MakePdfForm":
        form = cls(formdata=None)
        form.paper.data = default_paper
        form.request_key.data = secrets.token_urlsafe(16)
        return form
