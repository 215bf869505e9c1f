"""Clinic settings form."""

from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from trainer_app.accounts.roles import ASSIGNABLE, LABELS, TRAINER
from trainer_app.formutil import EmailAddress, SafeForm, select_choices
from trainer_app.timeutil import DEFAULT_ZONE, valid_zone, zone_names


def zone_choices() -> list:
    """Every IANA zone as "Europe/Copenhagen", for a select."""
    return select_choices((name, name.replace("_", " ")) for name in zone_names())


def check_zone(_form, field) -> None:
    """A zone zoneinfo can load (the select's choices are checked as well)."""
    if not valid_zone(field.data):
        raise ValidationError("Choose a time zone from the list, e.g. Europe/Copenhagen.")


def time_zone_field(description: str) -> SelectField:
    """The clinic's time zone select, shared by sign-up and clinic settings."""
    return SelectField(
        "Time zone",
        choices=zone_choices(),
        default=DEFAULT_ZONE,
        validators=[check_zone],
        description=description,
    )


class ClinicSettingsForm(SafeForm):
    name = StringField(
        "Clinic name", validators=[DataRequired("Enter the clinic's name."), Length(max=120)]
    )
    contact = TextAreaField(
        "Contact details printed on plans",
        validators=[Length(max=300)],
        description="Address, phone, email or website: shown in every plan's footer.",
        render_kw={"rows": 3},
    )
    accent_color = StringField(
        "Accent colour",
        validators=[
            DataRequired("Choose a colour."),
            Regexp(r"^#[0-9a-fA-F]{6}$", message="Use a colour like #2f6f8f."),
        ],
        render_kw={"type": "color"},
    )
    paper_size = SelectField(
        "Default paper size",
        choices=select_choices([("A4", "A4"), ("Letter", "US Letter")]),
    )
    time_zone = time_zone_field(
        "Dates and times on pages, emails and plans are shown in this zone."
    )
    logo_file = FileField(
        "Logo",
        description=(
            "PNG or JPEG, at most 512 KB and 2000 x 2000 pixels. Printed on the plan's cover."
        ),
        render_kw={"accept": "image/png,image/jpeg"},
    )
    remove_logo = BooleanField("Remove the current logo")


class AddTrainerForm(SafeForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the trainer's name."), Length(max=120)]
    )
    email = EmailField(
        "Email",
        validators=[
            DataRequired("Enter the trainer's email address."),
            EmailAddress(),
            Length(max=254),
        ],
        description="They get an email with a link to choose their password.",
    )
    role = SelectField(
        "Role",
        choices=select_choices([(r, LABELS[r]) for r in ASSIGNABLE]),
        default=TRAINER,
        description="Front desk: appointments, contact details, printing and emailing plans; "
        "no assessments, notes or findings.",
    )


class RoleForm(SafeForm):
    role = SelectField("Role", choices=select_choices([(r, LABELS[r]) for r in ASSIGNABLE]))


class ReassignForm(SafeForm):
    to_user_id = SelectField(
        "Give their clients to",
        coerce=int,
        validators=[DataRequired("Choose who takes over the clients.")],
    )
