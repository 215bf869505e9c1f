"""Library forms: the browse filters and the clinic exercise editor."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from trainer_app.formutil import SafeForm, select_choices
from trainer_app.library.catalog import EQUIPMENT, KINDS, LEVELS, REGIONS, Catalog

KIND_LABELS = {"strength": "Strength", "release": "Release (stretch / foam roll)"}
SOURCE_LABELS = {"builtin": "Built-in", "clinic": "Clinic's own"}


class FilterForm(SafeForm):
    """GET filters of the library page; unknown values are ignored, not errors."""

    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional(), Length(max=100)])
    imbalance = SelectField("Imbalance", validate_choice=False)
    muscle = SelectField("Target muscle", validate_choice=False)
    equipment = SelectField("Equipment", validate_choice=False)
    kind = SelectField("Kind", validate_choice=False)
    source = SelectField("Source", validate_choice=False)
    view = SelectField(
        "Show as",
        choices=select_choices([("cards", "Cards"), ("table", "Table")]),
        validate_choice=False,
    )

    def set_choices(self, catalog: Catalog) -> None:
        any_ = [("", "Any")]
        self.imbalance.choices = select_choices(
            any_ + [(slug, im.name) for slug, im in catalog.imbalances.items()]
        )
        self.muscle.choices = select_choices(any_ + list(REGIONS.items()))
        labels = dict(EQUIPMENT, none="No equipment (bodyweight; a mat or wall is fine)")
        self.equipment.choices = select_choices(any_ + list(labels.items()))
        self.kind.choices = select_choices(any_ + [(k, KIND_LABELS[k]) for k in KINDS])
        self.source.choices = select_choices(any_ + list(SOURCE_LABELS.items()))

    def value(self, name: str) -> str:
        """The filter value if it is one of the field's choices, else "" (any)."""
        field = self[name]
        allowed = {choice.value for choice in field.choices}
        return field.data if field.data in allowed else ""


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (works without JS, unlike a multi-select box on touch screens)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ClinicExerciseForm(SafeForm):
    """The same fields as a built-in exercise; the rules live in catalog.validate_exercise."""

    name = StringField("Name", render_kw={"maxlength": 80})
    kind = RadioField(
        "Kind",
        choices=select_choices([(k, KIND_LABELS[k]) for k in KINDS]),
        default="strength",
    )
    imbalances = MultiCheckboxField("Treats these imbalances")
    summary = TextAreaField(
        "Summary",
        render_kw={"rows": 2, "maxlength": 200},
        description="One sentence shown on the library card and in plans (up to 200 characters).",
    )
    steps = TextAreaField(
        "Steps",
        render_kw={"rows": 6},
        description="One step per line, in order (1 to 10 steps).",
    )
    cues = TextAreaField(
        "Key form cues", render_kw={"rows": 3}, description="One cue per line (1 to 10)."
    )
    mistakes = TextAreaField(
        "Common mistakes", render_kw={"rows": 3}, description="One mistake per line (1 to 10)."
    )
    target_muscles = MultiCheckboxField(
        "Target muscles", choices=select_choices(list(REGIONS.items()))
    )
    equipment = MultiCheckboxField("Equipment", choices=select_choices(list(EQUIPMENT.items())))
    cautions = MultiCheckboxField(
        "Cautions",
        description="Never chosen automatically for a client who reports one of these; "
        "adding it by hand needs the trainer's confirmation.",
    )
    sets = IntegerField("Sets", validators=[Optional()], render_kw={"min": 1, "max": 10})
    reps = IntegerField(
        "Reps", validators=[Optional()], render_kw={"min": 1, "max": 50}, description="Or a hold."
    )
    hold_seconds = IntegerField(
        "Hold (seconds)",
        validators=[Optional()],
        render_kw={"min": 1, "max": 300},
        description="For holds and release work.",
    )
    rest_seconds = IntegerField(
        "Rest (seconds)", validators=[Optional()], render_kw={"min": 1, "max": 300}
    )
    per_side = BooleanField("Dose is per side")
    easier = SelectField("Easier variant")
    harder = SelectField("Harder variant")
    unilateral = BooleanField("One side at a time (unilateral)")
    level = SelectField(
        "Level",
        choices=select_choices([(lv, lv.capitalize()) for lv in LEVELS]),
        default="beginner",
    )

    def set_choices(self, catalog: Catalog, *, exclude: str | None = None) -> None:
        """Imbalances and variant choices come from the clinic's catalog (not the row itself)."""
        self.imbalances.choices = select_choices(
            [(slug, im.name) for slug, im in catalog.imbalances.items()]
        )
        exercises = sorted(
            (ex for ex in catalog.exercises.values() if ex.slug != exclude),
            key=lambda ex: ex.name.lower(),
        )
        variants = [("", "None")] + [
            (ex.slug, f"{ex.name} (clinic)" if ex.source == "clinic" else ex.name)
            for ex in exercises
        ]
        self.easier.choices = select_choices(variants)
        self.harder.choices = select_choices(variants)
        self.cautions.choices = select_choices(
            [(slug, c.label) for slug, c in catalog.cautions.items()]
        )

    def fill(self, values: dict[str, Any]) -> None:
        """Show an exercise's values (the shape of service.form_values)."""
        dose = values["dose"]
        self.name.data = values["name"]
        self.kind.data = values["kind"]
        self.imbalances.data = list(values["imbalances"])
        self.summary.data = values["summary"]
        self.steps.data = "\n".join(values["steps"])
        self.cues.data = "\n".join(values["cues"])
        self.mistakes.data = "\n".join(values["mistakes"])
        self.target_muscles.data = list(values["target_muscles"])
        self.equipment.data = list(values["equipment"])
        self.cautions.data = list(values.get("cautions", ()))
        self.sets.data = dose["sets"]
        self.reps.data = dose["reps"]
        self.hold_seconds.data = dose["hold_seconds"]
        self.rest_seconds.data = dose["rest_seconds"]
        self.per_side.data = dose["per_side"]
        self.easier.data = values["easier"] or ""
        self.harder.data = values["harder"] or ""
        self.unilateral.data = values["unilateral"]
        self.level.data = values["level"]

    def exercise_data(self) -> dict[str, Any]:
        """The form as catalog exercise fields (no slug), for service.check_exercise."""
        return {
            "name": self.name.data or "",
            "kind": self.kind.data,
            "imbalances": list(self.imbalances.data or []),
            "summary": self.summary.data or "",
            "steps": _lines(self.steps.data),
            "cues": _lines(self.cues.data),
            "mistakes": _lines(self.mistakes.data),
            "target_muscles": list(self.target_muscles.data or []),
            "equipment": list(self.equipment.data or []),
            "cautions": list(self.cautions.data or []),
            "dose": {
                "sets": self.sets.data,
                "reps": self.reps.data,
                "hold_seconds": self.hold_seconds.data,
                "rest_seconds": self.rest_seconds.data,
                "per_side": bool(self.per_side.data),
            },
            "easier": self.easier.data or None,
            "harder": self.harder.data or None,
            "unilateral": bool(self.unilateral.data),
            "level": self.level.data,
        }

    def add_errors(self, errors: dict[str | None, list[str]]) -> list[str]:
        """Attach service errors to their fields; return the ones that belong to no field."""
        general = []
        for name, messages in errors.items():
            if name is not None and name in self._fields:
                self[name].errors = [*self[name].errors, *messages]
            else:
                general.extend(messages)
        return general


class ExercisePhotoForm(SafeForm):
    """The clinic's own photo of an exercise, shown instead of the drawing."""

    photo = FileField(
        "Your own photo",
        validators=[FileRequired("Choose a photo to upload.")],
        description=(
            "PNG or JPEG, at most 3 MB and 6000 x 6000 pixels. Your clinic sees it instead of "
            "the drawing, on pages and printed plans."
        ),
        render_kw={"accept": "image/png,image/jpeg"},
    )


class VideoLinkForm(SafeForm):
    """An optional video link, printed on the plan as a QR code."""

    video_url = StringField(
        "Video link",
        validators=[Length(max=300)],
        description="An https:// link, e.g. to your clinic's video. Leave empty for none.",
        render_kw={"type": "url", "placeholder": "https://", "maxlength": 300},
    )
