"""The session sheet's boxes fit each exercise: weight and reps for reps, seconds for holds (each
side for one-sided holds)."""

from __future__ import annotations

import re
from datetime import date

from trainer_app.accounts.models import Clinic
from trainer_app.extensions import db
from trainer_app.library.catalog import default_catalog
from trainer_app.plans.render import session_html
from trainer_app.plans.session import session_context
from trainer_app.programs import service as programs
from trainer_app.programs.models import ProgramVersion


def _rows(html: str) -> dict[str, str]:
    """Each exercise's row of the sheet, by exercise name."""
    body = html[html.index("<tbody>") :]
    return {
        re.search(r'<div class="name">\d+\. ([^<]+)</div>', row).group(1): row
        for row in body.split("<tr>")[1:]
    }


def _boxes(row: str) -> list[str]:
    """The labels of the boxes of the first set."""
    first = re.search(r'<div class="set">(.*?)</div>', row).group(1)
    return re.findall(r'<span class="box[^"]*">([^<]+)</span>', first)


def test_holds_get_seconds_boxes_and_one_sided_holds_one_per_side(app, factories):
    catalog = default_catalog()
    owner = factories.user()
    version_id = factories.program_version(owner)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        draft = programs.draft_of(version)
        kept = [i for i in draft.items if i.exercise_slug not in ("plank", "side_plank")]
        draft = draft.__class__(**{**draft.__dict__, "items": tuple(kept)})
        for slug in ("plank", "side_plank"):
            draft = programs.add_exercise(draft, catalog.exercises[slug], "Trunk endurance")
        new = programs.save_version(
            version.program, version.number, draft, note="Holds", user_id=owner.id
        )
        db.session.commit()
        context = session_context(
            new,
            clinic=db.session.get(Clinic, owner.clinic_id),
            catalog=catalog,
            day=date(2026, 12, 1),
            paper="A4",
        )
        db.session.rollback()
    rows = _rows(session_html(context))
    assert _boxes(rows["Plank"]) == ["seconds", "pain"]
    assert _boxes(rows["Side plank"]) == ["left s", "right s", "pain"]
    reps = next(i.name for i in draft.items if i.hold_seconds is None and not i.per_side)
    assert _boxes(rows[reps]) == ["kg", "reps", "pain"]
    assert len(re.findall(r'<div class="set">', rows["Side plank"])) == min(
        next(i.sets for i in draft.items if i.exercise_slug == "side_plank"), 5
    )
