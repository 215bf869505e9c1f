"""The session sheet: one page a trainer works from during a client's visit.

Today's exercises with their drawings and this week's dose, boxes to write the weight, reps and
pain of each set (seconds held for a hold, each side for a one-sided one), the trainer's focus
notes and the clearance line. Built as a plain dict, like the plan's context, so the worker
renders it and an unchanged sheet is reused by fingerprint.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from trainer_app.accounts.models import Clinic
from trainer_app.appointments.models import Appointment
from trainer_app.appointments.service import local_midnight_utc
from trainer_app.assessments.service import current_clearance
from trainer_app.extensions import db
from trainer_app.library.catalog import Catalog, dose_text
from trainer_app.library.media import pictures
from trainer_app.plans.context import logo_data_uri
from trainer_app.programs.builder import draft_from_dict
from trainer_app.programs.models import ProgramVersion
from trainer_app.timeutil import format_local, local_today

MAX_SET_BOXES = 5
SESSION_KIND = "session"


def program_week(start: date, day: date, weeks: int) -> int:
    """The program week ``day`` falls in, 1 .. ``weeks`` (before the start: week 1)."""
    return max(1, min((day - start).days // 7 + 1, max(weeks, 1)))


def _diary(clinic: Clinic, client_id: int, day: date) -> tuple[list[str], list[str]]:
    """The client's appointments that day: their times, labelled with the clinic's zone
    ("09:30 CET": a sheet may be read where another zone is in use), and what the diary says
    (the trainer's focus for the session)."""
    start = local_midnight_utc(day, clinic.time_zone)
    end = local_midnight_utc(date.fromordinal(day.toordinal() + 1), clinic.time_zone)
    rows = db.session.execute(
        select(Appointment.starts_at, Appointment.all_day, Appointment.note)
        .where(
            Appointment.clinic_id == clinic.id,
            Appointment.client_id == client_id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.starts_at)
    ).all()
    times = [
        format_local(at, clinic.time_zone, "time_zone") for at, all_day, _ in rows if not all_day
    ]
    return times, [n.strip() for _, _, n in rows if n and n.strip()]


def _clearance_line(version: ProgramVersion, clinic: Clinic) -> str | None:
    """The client's current clearance in words (who cleared them, when, restrictions), if any."""
    clearance = current_clearance(clinic.id, version.program.client_id)
    return clearance.line if clearance is not None else None


def session_context(
    version: ProgramVersion, *, clinic: Clinic, catalog: Catalog, day: date, paper: str
) -> dict:
    """Everything that shapes the session sheet, as plain data (fingerprinted like a plan)."""
    program = version.program
    client = program.client
    draft = draft_from_dict(version.content)
    start = local_today(clinic.time_zone, program.created_at)
    week = program_week(start, day, draft.weeks)
    pics = pictures(clinic.id, [item.exercise_slug for item in draft.items])
    items = []
    for item in draft.items:
        dose = next((w for w in item.weekly if w.week == week), None)
        sets = dose.sets if dose else item.sets
        hold = dose.hold_seconds if dose else item.hold_seconds
        items.append(
            {
                "name": item.name,
                "dose_text": dose_text(
                    sets,
                    dose.reps if dose else item.reps,
                    dose.hold_seconds if dose else item.hold_seconds,
                    item.rest_seconds,
                    item.per_side,
                    item.side,
                ),
                "sets": max(1, min(int(sets or 1), MAX_SET_BOXES)),
                # A hold is written down in seconds (each side when one-sided), not kg x reps.
                "hold": hold is not None,
                "per_side": bool(item.per_side),
                # Our own line drawings (library.figures), never user text.
                "figures": [figure.svg for figure in pics[item.exercise_slug].figures[:2]],
                "notes": item.notes or "",
                "known": item.exercise_slug in catalog.exercises,
            }
        )
    trainer = client.primary_trainer or version.created_by
    times, notes = _diary(clinic, client.id, day)
    return {
        "kind": SESSION_KIND,
        "clinic": {
            "name": clinic.name,
            "accent_color": clinic.accent_color,
            "logo_data_uri": logo_data_uri(clinic),
            "paper": paper,
        },
        "client": {"name": client.name},
        "trainer": {"name": trainer.name if trainer else ""},
        "day": format_local(day, clinic.time_zone, "long_date"),
        "title": program.title,
        "program": {"version": version.number, "week": week, "weeks": draft.weeks},
        "items": items,
        "times": times,
        "focus_notes": notes,
        "clearance": _clearance_line(version, clinic),
    }
