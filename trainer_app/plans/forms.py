"""The "Make PDF" form."""

import secrets

from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired, Regexp

from trainer_app.accounts.models import PAPER_SIZES
from trainer_app.formutil import SafeForm, select_choices
from trainer_app.plans.options import AUDIENCE_LABELS, AUDIENCES, PrintOptions


class MakePdfForm(SafeForm):
    paper = SelectField(
        "Paper size",
        choices=select_choices([("A4", "A4"), ("Letter", "US Letter")]),
        validators=[DataRequired()],
    )
    large_print = BooleanField("Large print")
    audience = SelectField(
        "Copy",
        choices=select_choices([(a, AUDIENCE_LABELS[a]) for a in AUDIENCES]),
        validators=[DataRequired()],
        default=AUDIENCES[0],
    )
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

    def validate_audience(self, field) -> None:
        if field.data not in AUDIENCES:
            field.errors.append("Choose the client copy or the clinician copy.")

    def options(self) -> PrintOptions:
        """The validated choices."""
        return PrintOptions(
            paper=self.paper.data,
            large_print=bool(self.large_print.data),
            audience=self.audience.data,
        )

    @classmethod
    def fresh(cls, defaults: PrintOptions) -> "MakePdfForm":
        form = cls(formdata=None)
        form.paper.data = defaults.paper
        form.large_print.data = defaults.large_print
        form.audience.data = defaults.audience
        form.request_key.data = secrets.token_urlsafe(16)
        return form
