"""Appointment and calendar-import forms."""

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from trainer_app.formutil import PlausibleDay, SafeForm, select_choices

CHOOSE_CLIENT = "Choose a client…"


def _client_id(value) -> int | None:
    """The chosen client's id; None for the empty "Choose a client…" option."""
    return None if value in ("", None) else int(value)


def client_choices(pairs: list[tuple[int, str]]) -> list:
    """The clinic's clients after an empty first option: nobody is chosen until someone is.

    Pre-selecting the first client booked an unmatched event to whoever sorts first when the
    front desk pressed Save or Match without looking.
    """
    return select_choices([("", CHOOSE_CLIENT), *pairs])


class AppointmentForm(SafeForm):
    client_id = SelectField(
        "Client",
        coerce=_client_id,
        validators=[DataRequired("Choose the client.")],
        render_kw={"required": True},
    )
    trainer_id = SelectField("Trainer", coerce=int)
    day = DateField("Date", validators=[InputRequired("Enter the date."), PlausibleDay()])
    start = TimeField("Starts at", validators=[InputRequired("Enter the time it starts.")])
    minutes = IntegerField(
        "Length (minutes)",
        default=60,
        validators=[
            InputRequired("Enter how long it lasts."),
            NumberRange(5, 600, "Between 5 and 600 minutes."),
        ],
    )
    note = TextAreaField("Note", validators=[Length(max=1000)], render_kw={"rows": 2})


class ImportForm(SafeForm):
    calendar = FileField(
        "Calendar file (.ics)",
        validators=[FileRequired("Choose the .ics file your booking system exported.")],
        render_kw={"accept": ".ics,text/calendar"},
    )
    day = DateField(
        "Import the events of", validators=[InputRequired("Choose the day."), PlausibleDay()]
    )
    days = SelectField(
        "Over",
        coerce=int,
        choices=select_choices([(1, "That day"), (7, "That day and the six after it")]),
        default=1,
    )


class MatchForm(SafeForm):
    client_id = SelectField(
        "Client", coerce=_client_id, validators=[DataRequired("Choose the client.")]
    )
