"""Turn a program version and its clinic, client and assessment into the PDF's plain context."""

from __future__ import annotations

import base64

from trainer_app.accounts.models import Clinic
from trainer_app.assessments.scoring import result_from_dict
from trainer_app.library.catalog import REGIONS, Catalog, dose_text
from trainer_app.programs.builder import ProgramItem, diff_items, draft_from_dict, item_dose_text
from trainer_app.programs.models import ProgramVersion
from trainer_app.timeutil import format_local

SAFETY_NOTE = (
    "Stop an exercise that causes sharp pain, numbness or tingling, and tell your trainer. "
    "Mild muscle effort is expected; pain that lasts into the next day means the dose is too high."
)
PLAN_TITLE = "Corrective exercise plan"


def logo_data_uri(clinic: Clinic) -> str | None:
    """The clinic's logo as a data: URI (stored bytes were checked at upload)."""
    if not clinic.logo or clinic.logo_mime not in ("image/png", "image/jpeg"):
        return None
    return f"data:{clinic.logo_mime};base64," + base64.b64encode(clinic.logo).decode("ascii")


def _week_text(item: ProgramItem, sets: int, reps: int | None, hold: int | None) -> str:
    return dose_text(sets, reps, hold, item.rest_seconds, item.per_side)


def _item_context(item: ProgramItem, catalog: Catalog) -> dict:
    exercise = catalog.exercises.get(item.exercise_slug)

    def variant(slug: str | None) -> str | None:
        other = catalog.exercises.get(slug) if slug else None
        return other.name if other else None

    return {
        "name": item.name,
        "kind": item.kind,
        "dose_text": item_dose_text(item),
        "steps": list(exercise.steps) if exercise else [],
        "cues": list(exercise.cues) if exercise else [],
        "mistakes": list(exercise.mistakes) if exercise else [],
        "target_muscles": list(exercise.target_muscles) if exercise else [],
        "target_muscle_names": [],  # filled below from the catalog's region names
        "easier": variant(exercise.easier) if exercise else None,
        "harder": variant(exercise.harder) if exercise else None,
        "reason": item.reason,
        "notes": item.notes,
        "weekly": [
            {"week": w.week, "dose_text": _week_text(item, w.sets, w.reps, w.hold_seconds)}
            for w in item.weekly
        ],
    }


def plan_context(
    version: ProgramVersion,
    *,
    clinic: Clinic,
    catalog: Catalog,
    previous: ProgramVersion | None,
    paper: str,
    large_print: bool,
) -> dict:
    """Everything that shapes the PDF, as plain data (the fingerprint is taken over this)."""
    program = version.program
    client = program.client
    draft = draft_from_dict(version.content)
    trainer = version.created_by or client.primary_trainer
    findings, weak, overactive = [], [], []
    targets = list(draft.targets)
    if program.assessment is not None:
        result = result_from_dict(program.assessment.result)
        chosen = program.assessment.confirmed_imbalances or targets
        for item in result.imbalances:
            if item.slug in chosen:
                findings.append(
                    {
                        "name": item.name,
                        "severity": item.severity or ("flagged" if item.flagged else "not flagged"),
                        "reasons": list(item.reasons),
                    }
                )
        targets = list(chosen)
    for slug in targets:
        imbalance = catalog.imbalances.get(slug)
        if imbalance is None:
            continue
        weak += [m for m in imbalance.weak_muscles if m not in weak]
        overactive += [m for m in imbalance.overactive_muscles if m not in overactive]
    items = []
    for item in draft.items:
        entry = _item_context(item, catalog)
        entry["target_muscle_names"] = [REGIONS.get(m, m) for m in entry["target_muscles"]]
        items.append(entry)
    tips = [
        {"title": tip.title, "text": tip.text} for tip in catalog.tips if tip.slug in draft.tips
    ]
    changes: list[str] = []
    if previous is not None:
        changes = diff_items(draft_from_dict(previous.content).items, draft.items)
    return {
        "clinic": {
            "name": clinic.name,
            "accent_color": clinic.accent_color,
            "logo_data_uri": logo_data_uri(clinic),
            "contact": clinic.contact,
            "paper": paper,
        },
        "client": {"name": client.name},
        "trainer": {
            "name": trainer.name if trainer else clinic.name,
            "email": trainer.email if trainer else "",
        },
        "date": format_local(version.created_at, clinic.time_zone, "long_date"),
        "title": program.title or PLAN_TITLE,
        "large_print": bool(large_print),
        "program": {
            "version": version.number,
            "sessions_per_week": draft.sessions_per_week,
            "weeks": draft.weeks,
            "session_minutes": draft.session_minutes,
        },
        "findings": findings,
        "body_map": {"weak": weak, "overactive": overactive},
        "items": items,
        "tips": tips,
        "changes": changes,
        "safety_note": SAFETY_NOTE,
    }
