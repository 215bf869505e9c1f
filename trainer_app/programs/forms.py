"""Program forms: build options, the per-item edit form, adding from the library."""

from __future__ import annotations

from collections.abc import Mapping

from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from trainer_app.formutil import PlausibleDay, SafeForm, select_choices
from trainer_app.library.catalog import EQUIPMENT, KINDS, REGIONS
from trainer_app.programs import builder
from trainer_app.programs.builder import ProgramItem
from trainer_app.security import MAX_ID

NOTES_MAX = 500
NOTE_MAX = 300
REST_MIN, REST_MAX = 0, 300


def _whole(label: str, low: int, high: int, required: bool = True) -> list:
    message = f"{label}: enter a whole number from {low} to {high}."
    first = InputRequired(message) if required else Optional()
    return [first, NumberRange(low, high, message)]


class _Int(IntegerField):
    """IntegerField whose "not a number" message says what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            low = next((v.min for v in self.validators if isinstance(v, NumberRange)), None)
            high = next((v.max for v in self.validators if isinstance(v, NumberRange)), None)
            raise ValueError(f"Enter a whole number from {low} to {high}.") from None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BuildForm(SafeForm):
    level = SelectField(
        "Level",
        choices=select_choices([(level, level.title()) for level in builder.LEVELS]),
        default="beginner",
        validators=[DataRequired("Choose a level.")],
        description="Picks the easier or harder variant of each exercise.",
    )
    sessions_per_week = _Int(
        "Sessions per week", default=3, validators=_whole("Sessions per week", 2, 5)
    )
    weeks = _Int("Weeks", default=4, validators=_whole("Weeks", 4, 6))
    equipment = MultiCheckboxField(
        "Equipment available",
        choices=select_choices(list(EQUIPMENT.items())),
        description="Exercises that need anything else are swapped for a variant or left out.",
    )
    max_exercises = _Int(
        "Most exercises per session",
        default=8,
        validators=_whole("Most exercises per session", 4, 10),
    )
    release_limit = _Int(
        "Most release exercises (optional)",
        validators=_whole("Most release exercises", 0, 10, required=False),
        description="Left empty, release work is at most a third of the session. Release work "
        "is chosen only for muscles a test found tight.",
    )
    title = StringField(
        "Title (optional)",
        validators=[Optional(), Length(max=120)],
        description='Default: "Corrective program — today\'s date".',
    )
    submit = SubmitField("Build program")
    # offered when an imbalance has no exercise that fits: build the others anyway
    build_rest = SubmitField("Build the rest without it")

    def validate_equipment(self, field) -> None:
        unknown = [e for e in field.data or [] if e not in EQUIPMENT]
        if unknown:
            raise ValidationError("Choose equipment from the list.")


class ItemForm(Form):
    """One program item's editable values (the exercise itself is fixed)."""

    exercise_slug = HiddenField()
    sets = _Int("Sets", validators=_whole("Sets", builder.MIN_SETS, builder.MAX_SETS))
    reps = _Int(
        "Reps",
        validators=_whole("Reps", builder.MIN_REPS, builder.MAX_REPS, required=False),
    )
    hold_seconds = _Int(
        "Hold (s)",
        validators=_whole("Hold", builder.MIN_HOLD, builder.MAX_HOLD, required=False),
    )
    rest_seconds = _Int("Rest (s)", validators=_whole("Rest", REST_MIN, REST_MAX))
    position = _Int("Position", validators=_whole("Position", 1, 99))
    notes = TextAreaField(
        "Notes",
        validators=[Length(max=NOTES_MAX, message=f"Keep notes to {NOTES_MAX} characters.")],
        render_kw={"rows": 2, "maxlength": NOTES_MAX},
    )
    remove = BooleanField("Remove")
    # an exercise added from the library in this edit, not saved yet: its reason and whether
    # the trainer acknowledged the client's caution travel with the form until "Save"
    added = HiddenField()
    reason = HiddenField(validators=[Length(max=NOTE_MAX)])
    acknowledged = HiddenField()


class EditForm(SafeForm):
    """The whole editor: every item, the exercises added so far, and the change note.

    Searching, adding, moving and removing post this form back and re-render it, so what the
    trainer typed is kept until one "Save" makes one version.
    """

    # the version the items were loaded from
    base_version = _Int(validators=[InputRequired(), NumberRange(0, MAX_ID)])
    # set after a refused stale save: the newer version the trainer chose to replace
    replaces_version = _Int(validators=[Optional()])
    items = FieldList(FormField(ItemForm), min_entries=0)
    change_note = StringField(
        "What changed and why",
        validators=[
            DataRequired("Say briefly what changed and why."),
            Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX} characters."),
        ],
        render_kw={"maxlength": NOTE_MAX},
        description="Saved with the new version, so everyone can see why the program changed.",
    )
    submit = SubmitField("Save as new version")

    def fill(self, items: tuple[ProgramItem, ...], base_version: int) -> None:
        """Pre-fill the form from the latest version (GET)."""
        self.base_version.data = base_version
        while self.items.entries:
            self.items.pop_entry()
        for position, item in enumerate(items, 1):
            self.items.append_entry(
                {
                    "exercise_slug": item.exercise_slug,
                    "sets": item.sets,
                    "reps": item.reps,
                    "hold_seconds": item.hold_seconds,
                    "rest_seconds": item.rest_seconds,
                    "position": position,
                    "notes": item.notes,
                    "remove": False,
                }
            )

    def check_doses(self, items: Mapping[str, ProgramItem]) -> bool:
        """Each item keeps its kind of dose: reps items need reps, hold items a hold time."""
        ok = True
        for entry in self.items:
            sub = entry.form
            item = items.get(sub.exercise_slug.data or "")
            if item is None or sub.remove.data:
                continue
            if item.hold_seconds is None:
                field, other, word = sub.reps, sub.hold_seconds, "reps"
            else:
                field, other, word = sub.hold_seconds, sub.reps, "a hold time"
            if other.errors or (other.raw_data and other.raw_data[0].strip()):
                # only the item's own measure is shown, so the error goes there
                other.errors = []
                field.errors = [
                    *field.errors,
                    f"{item.name} is dosed in {word}; leave the other measure empty.",
                ]
                ok = False
            elif field.data is None and not field.errors:
                field.errors = [*field.errors, f"Enter {word} for {item.name}."]
                ok = False
        return ok


class SearchForm(SafeForm):
    """Find library exercises to add (a GET form; no CSRF needed for reading)."""

    class Meta:
        csrf = False

    q = StringField("Search exercises", validators=[Optional(), Length(max=100)])
    imbalance = SelectField("Imbalance", validators=[Optional()])
    muscle = SelectField(
        "Muscle",
        choices=select_choices([("", "Any muscle"), *REGIONS.items()]),
        validators=[Optional()],
    )
    equipment = SelectField(
        "Equipment",
        choices=select_choices([("", "Any equipment"), *EQUIPMENT.items()]),
        validators=[Optional()],
    )
    kind = SelectField(
        "Kind",
        choices=select_choices([("", "Strength or release"), *((k, k.title()) for k in KINDS)]),
        validators=[Optional()],
    )


class RetestForm(SafeForm):
    retest_on = DateField(
        "Re-test on",
        validators=[Optional(), PlausibleDay()],
        description="Leave empty when no re-test is planned.",
    )
    submit = SubmitField("Save re-test date")


class SaveTemplateForm(SafeForm):
    name = StringField(
        "Template name",
        validators=[DataRequired("Name the template."), Length(max=120)],
        render_kw={"maxlength": 120},
        description="Exercises, doses, order, schedule and tips are kept; notes written for "
        "this client are not.",
    )
    submit = SubmitField("Save as clinic template")


class StartFromTemplateForm(SafeForm):
    template_id = SelectField("Template", coerce=int, validators=[InputRequired()])
    title = StringField(
        "Program title (optional)",
        validators=[Optional(), Length(max=120)],
        render_kw={"maxlength": 120},
        description="Default: the template's name.",
    )
    submit = SubmitField("Start program")


class CopyForm(SafeForm):
    client_id = _Int(
        "Copy to client",
        validators=[
            InputRequired("Choose the client to copy the program to."),
            NumberRange(1, MAX_ID, "Choose the client to copy the program to."),
        ],
    )
    title = StringField(
        "Title of the copy (optional)",
        validators=[Optional(), Length(max=120)],
        render_kw={"maxlength": 120},
        description="Default: this program's title. Reasons and notes written for this client "
        "are not copied.",
    )
    submit = SubmitField("Copy program")
