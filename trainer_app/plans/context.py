"""Turn a program version and its clinic, client and assessment into the PDF's plain context.

The client copy holds plain words only: no scores, thresholds or findings, so nothing clinical
can leak onto the client's paper whatever the template does. The clinician copy adds the
findings with their measured values and thresholds, and each exercise's detailed reasons.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from trainer_app.accounts.models import Clinic
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import result_from_dict
from trainer_app.assessments.service import body_map_regions
from trainer_app.library.catalog import REGIONS, Catalog, dose_text
from trainer_app.library.poses import default_poses
from trainer_app.plans.options import CLIENT_COPY, CLINICIAN_COPY
from trainer_app.programs.builder import (
    ProgramDraft,
    ProgramItem,
    diff_items,
    draft_from_dict,
    item_dose_text,
    left_out_by_cautions,
    suggested_variant,
)
from trainer_app.programs.models import ProgramVersion
from trainer_app.programs.service import pain_holds_of
from trainer_app.timeutil import format_local

SAFETY_NOTE = (
    "Stop an exercise that causes sharp pain, numbness or tingling, and tell your trainer. "
    "Mild muscle effort is expected; pain that lasts into the next day means the dose is too high."
)
NOT_MEDICAL_ADVICE = (
    "This plan supports your training; it does not replace medical advice. "
    "If you are unsure whether an exercise is right for you, ask your doctor."
)
PLAN_TITLE = "Corrective exercise plan"


def logo_data_uri(clinic: Clinic) -> str | None:
    """The clinic's logo as a data: URI (stored bytes were checked at upload)."""
    if not clinic.logo or clinic.logo_mime not in ("image/png", "image/jpeg"):
        return None
    return f"data:{clinic.logo_mime};base64," + base64.b64encode(clinic.logo).decode("ascii")


def _week_text(item: ProgramItem, sets: int, reps: int | None, hold: int | None) -> str:
    return dose_text(sets, reps, hold, item.rest_seconds, item.per_side, item.side)


def _names(regions) -> str:
    names = [REGIONS.get(r, r).lower() for r in regions]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def client_why(item: ProgramItem, catalog: Catalog) -> str:
    """Why this exercise is in the plan, in one plain sentence (no findings, no scores)."""
    exercise = catalog.exercises.get(item.exercise_slug)
    imbalance = catalog.imbalances.get(item.imbalance)
    if item.kind == "release":
        muscles = _names(exercise.target_muscles) if exercise else ""
        if muscles:
            return f"Loosens your {muscles}, so the strengthening work can do its job."
        return "Loosens tight muscles, so the strengthening work can do its job."
    if imbalance is not None and imbalance.client_why:
        return imbalance.client_why
    muscles = _names(exercise.target_muscles) if exercise else ""
    return f"Makes your {muscles} stronger." if muscles else "Builds the strength you need."


def _item_context(
    item: ProgramItem,
    catalog: Catalog,
    pictures,
    audience: str,
    cautions: frozenset[str] = frozenset(),
    held: frozenset[str] = frozenset(),
) -> dict:
    exercise = catalog.exercises.get(item.exercise_slug)

    def variant(link: str) -> str | None:
        # never a version carrying the client's caution or held back for pain
        other = suggested_variant(item.exercise_slug, link, catalog, cautions, held)
        return other.name if other else None

    entry = {
        "slug": item.exercise_slug,
        "name": item.name,
        "kind": item.kind,
        "dose_text": item_dose_text(item),
        "steps": list(exercise.steps) if exercise else [],
        "cues": list(exercise.cues) if exercise else [],
        "mistakes": list(exercise.mistakes) if exercise else [],
        "target_muscles": list(exercise.target_muscles) if exercise else [],
        "target_muscle_names": [],  # filled below from the catalog's region names
        "easier": variant("easier") if exercise else None,
        "harder": variant("harder") if exercise else None,
        "why": client_why(item, catalog),
        "notes": item.notes,
        "photo_data_uri": pictures.photo_data_uri if pictures is not None else None,
        "video_url": pictures.video_url if pictures is not None else None,
        "weekly": [
            {"week": w.week, "dose_text": _week_text(item, w.sets, w.reps, w.hold_seconds)}
            for w in item.weekly
        ],
    }
    if audience == CLINICIAN_COPY:
        entry["reason"] = item.reason
        entry["dose_reason"] = item.dose_reason
    return entry


# Warning signs to stop exercise in pregnancy and get help (ACOG Committee Opinion 804, 2020;
# RCOG), in the client's words.
PREGNANCY_SIGNS = (
    "Bleeding from the vagina.",
    "Fluid leaking from the vagina.",
    "Feeling dizzy or faint.",
    "Pain or swelling in a calf.",
    "Regular painful contractions (tightening of the womb).",
    "Chest pain.",
    "A headache.",
)


def stop_signs(*, pregnant: bool = False) -> dict:
    """The red-flag symptoms in the client's words, most urgent first (the questionnaire's),
    with the pregnancy warning signs for a client who reported pregnancy or a recent birth."""
    flags = default_questionnaire().red_flags
    emergency = [q.client_text for q in flags.questions if q.urgency == "emergency"]
    doctor = [q.client_text for q in flags.questions if q.urgency == "urgent"]
    return {
        "emergency": emergency,
        "doctor": doctor,
        "pregnancy": list(PREGNANCY_SIGNS) if pregnant else [],
    }


def version_stop_signs(version: ProgramVersion) -> dict:
    """The stop signs a version's plan prints (the client's phone page shows the same)."""
    cautions = set(draft_from_dict(version.content).cautions)  # as when the program was built
    assessment = version.program.assessment
    if assessment is not None:
        cautions |= {c.caution for c in result_from_dict(assessment.result).cautions}
    return stop_signs(pregnant="pregnancy" in cautions)


def _finding(finding) -> dict:
    return {
        "text": finding.text,
        "value": finding.value,
        "threshold": finding.threshold,
        "severity": finding.severity,
        "source": finding.source,
    }


def _not_covered_why(name: str, draft: ProgramDraft) -> str:
    """Why a finding has no exercise in the plan: the builder's line about it, else the edit."""
    for line in draft.summary[1:]:
        if line.startswith(name) and ("not covered" in line or "no exercise was chosen" in line):
            # the copy puts the finding's name before this line: do not say it twice
            for lead in (f"{name} is not covered: ", f"{name}: "):
                if line.startswith(lead):
                    rest = line[len(lead) :]
                    return rest[:1].upper() + rest[1:]
            return line
    return "No exercise for it is in this version of the program (taken out when it was edited)."


def clinician_notes(
    draft: ProgramDraft,
    catalog: Catalog,
    *,
    cautions: set[str],
    confirmed: list[str],
    flagged: list[str],
) -> dict:
    """The clinician copy's health cautions (with the exercises they kept out) and the findings
    the plan does not cover, each with why; nothing of this reaches the client copy."""
    worked_on = {item.imbalance for item in draft.items}
    in_plan = {item.exercise_slug for item in draft.items}
    consider = list(dict.fromkeys([*confirmed, *flagged]))
    left_out = left_out_by_cautions(consider, catalog, cautions)
    caution_rows = [
        {
            "label": catalog.cautions[c].label if c in catalog.cautions else c,
            "left_out": [
                catalog.exercises[slug].name for slug in left_out.get(c, ()) if slug not in in_plan
            ],
            "acknowledged": [item.name for item in draft.items if c in item.cautions],
        }
        for c in sorted(cautions)
    ]
    not_covered = []
    for slug in consider:
        im = catalog.imbalances.get(slug)
        if im is None or slug in worked_on:
            continue
        why = (
            _not_covered_why(im.name, draft)
            if slug in confirmed
            else "Flagged by the assessment, but not chosen by the trainer for this program."
        )
        not_covered.append({"name": im.name, "why": why})
    return {"cautions": caution_rows, "not_covered": not_covered}


def plan_context(
    version: ProgramVersion,
    *,
    clinic: Clinic,
    catalog: Catalog,
    previous: ProgramVersion | None,
    paper: str,
    large_print: bool,
    audience: str = CLIENT_COPY,
    pictures: Mapping | None = None,
) -> dict:
    """Everything that shapes the PDF, as plain data (the fingerprint is taken over this).

    :param pictures: exercise slug -> ``library.media.ExercisePictures`` (photos loaded).
    """
    program = version.program
    client = program.client
    draft = draft_from_dict(version.content)
    trainer = version.created_by or client.primary_trainer
    findings: list[dict] = []
    targets = list(draft.targets)
    # The map shades what the results page and the program page shade (one function): weak
    # only where a test or observation found it (one side when only that side was weak), "to
    # loosen" only what a test found tight; without an assessment nothing is shaded.
    weak: list[str] = []
    overactive: list[str] = []
    cautions = set(draft.cautions)  # as reported when the program was built
    flagged: list[str] = []
    pain: list[str] = []
    held: frozenset[str] = frozenset()
    if program.assessment is not None:
        result = result_from_dict(program.assessment.result)
        cautions |= {c.caution for c in result.cautions}
        chosen = program.assessment.confirmed_imbalances or targets
        flagged = [item.slug for item in result.imbalances if item.flagged]
        holds = pain_holds_of(result, catalog)
        held = frozenset(slug for hold in holds for slug in hold.exercises)
        if audience == CLINICIAN_COPY:
            pain = [hold.text for hold in holds]
        for item in result.imbalances:
            if item.slug in chosen and audience == CLINICIAN_COPY:
                findings.append(
                    {
                        "name": item.name,
                        "severity": item.severity or ("flagged" if item.flagged else "not flagged"),
                        "findings": [_finding(f) for f in item.findings],
                    }
                )
        targets = list(chosen)
        weak, overactive = body_map_regions(result, catalog, targets)
    # "What we work on" names only what the plan's exercises work on: a finding left
    # uncovered (every exercise ruled out by a caution or by pain) is not promised to the client
    worked_on = {item.imbalance for item in draft.items}
    focus = [
        {"name": catalog.imbalances[slug].name, "why": catalog.imbalances[slug].client_why or ""}
        for slug in targets
        if slug in catalog.imbalances and slug in worked_on
    ]
    clinical = (
        clinician_notes(draft, catalog, cautions=cautions, confirmed=targets, flagged=flagged)
        if audience == CLINICIAN_COPY
        else {"cautions": [], "not_covered": []}
    )
    clinical["pain"] = pain
    pictures = pictures or {}
    items = []
    for item in draft.items:
        entry = _item_context(
            item, catalog, pictures.get(item.exercise_slug), audience, frozenset(cautions), held
        )
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
        "audience": audience,
        "program": {
            "version": version.number,
            "sessions_per_week": draft.sessions_per_week,
            "weeks": draft.weeks,
            "session_minutes": draft.session_minutes,
            "retest_on": format_local(program.retest_on, None, "long_date"),
        },
        "focus": focus,
        "findings": findings,
        "clinical": clinical,
        "body_map": {"weak": weak, "overactive": overactive},
        "items": items,
        "tips": tips,
        "changes": changes,
        "safety_note": SAFETY_NOTE,
        "stop_signs": stop_signs(pregnant="pregnancy" in cautions),
        "not_medical_advice": NOT_MEDICAL_ADVICE,
        # The drawings come from the poses file: a new version is a new PDF.
        "drawings_version": default_poses().version,
    }
