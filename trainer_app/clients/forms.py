"""Client forms."""

from datetime import date

from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from trainer_app.formutil import EmailAddress, PlausibleDay, SafeForm, select_choices


def _not_in_future(_form, field) -> None:
    if field.data and field.data > date.today():
        raise ValidationError("Date of birth cannot be in the future.")
    if field.data and field.data.year < 1900:
        raise ValidationError("Enter a date after 1900.")


class ClientForm(SafeForm):
    name = StringField(
        "Full name", validators=[DataRequired("Enter the client's name."), Length(max=120)]
    )
    email = EmailField(
        "Email",
        validators=[Optional(), EmailAddress(), Length(max=254)],
        description="Needed to email plans.",
    )
    phone = StringField(
        "Phone",
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9 +()./-]+$", message="Use digits, spaces and + ( ) - . / only."),
        ],
    )
    date_of_birth = DateField(
        "Date of birth", validators=[Optional(), _not_in_future, PlausibleDay()]
    )
    primary_trainer_id = SelectField("Primary trainer", coerce=int)
    email_consent = BooleanField("The client agrees to receive plans by email")
    notes = TextAreaField("Notes", validators=[Length(max=5000)], render_kw={"rows": 4})

    def validate_email_consent(self, field) -> None:
        if field.data and not self.email.data:
            raise ValidationError("Add an email address before recording consent to email.")


class SearchForm(SafeForm):
    class Meta:
        csrf = False

    q = StringField("Search by name or email", validators=[Optional(), Length(max=100)])
    sort = SelectField(
        "Sort",
        choices=select_choices(
            [
                ("name", "Name"),
                ("-assessed", "Assessed most recently"),
                ("assessed", "Longest since assessment"),
                ("-program", "Program changed most recently"),
                ("-updated", "Recently updated"),
                ("-created", "Newest first"),
            ]
        ),
        default="name",
        validators=[Optional()],
    )
    mine = SelectField(
        "Whose",
        choices=select_choices([("", "All of the clinic's clients"), ("1", "My clients")]),
        default="",
        validators=[Optional()],
    )
    status = SelectField(
        "Show",
        choices=select_choices([("active", "Active"), ("archived", "Archived"), ("all", "All")]),
        default="active",
        validators=[Optional()],
    )
