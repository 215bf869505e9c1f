"""Assessment operations: record, clear red flags, confirm imbalances. They flush, never commit.

Scoring stays in the pure `scoring` module; this module stores its result and applies the
trainer's decisions, with the rules that protect the client (red flags block programming).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import defer

from trainer_app.accounts.models import Clinic
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import Questionnaire, default_questionnaire
from trainer_app.assessments.scoring import (
    AssessmentResult,
    order_by_rank,
    result_from_dict,
    result_to_dict,
    score,
    suggested_imbalances,
)
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.library.catalog import Catalog, default_catalog
from trainer_app.timeutil import format_local, local_today, utcnow

NOTES_MAX = 2000
CLEARANCE_MAX = 500


class AssessmentRefused(ValueError):
    """The operation is not allowed in this state; the message is shown to the trainer."""


@dataclass(frozen=True)
class Summary:
    """What the client page shows about one assessment."""

    screening_likely: bool
    yes_count: int
    questions: int
    findings: tuple[tuple[str, str], ...]  # (name, severity word), most severe first
    blocked: bool
    cleared: bool
    confirmed: tuple[str, ...]  # names of the confirmed imbalances


def record_assessment(
    client: Client,
    *,
    trainer_id: int | None,
    answers: Mapping[str, Any],
    notes: str = "",
    questionnaire: Questionnaire | None = None,
    catalog: Catalog | None = None,
) -> Assessment:
    """Score validated answers and store them with the result on a new Assessment row.

    :raise AssessmentRefused: if the client is archived.
    """
    if client.is_archived:
        raise AssessmentRefused(
            f"{client.name} is archived. Restore the client to record a new assessment."
        )
    q = questionnaire or default_questionnaire()
    result = score(q, answers, catalog)
    assessment = Assessment(
        clinic_id=client.clinic_id,
        client_id=client.id,
        trainer_id=trainer_id,
        questionnaire_version=q.version,
        answers=dict(answers),
        result=result_to_dict(result),
        notes=(notes or "").strip()[:NOTES_MAX],
    )
    db.session.add(assessment)
    db.session.flush()
    return assessment


def result_of(assessment: Assessment) -> AssessmentResult:
    """The stored result as the scoring module's dataclasses."""
    return result_from_dict(assessment.result)


def is_blocked(assessment: Assessment) -> bool:
    """True while a red flag stops programming and no clearance has been recorded."""
    return bool(assessment.result.get("blocked")) and assessment.cleared_at is None


@dataclass(frozen=True)
class ClinicalHold:
    """A client's open red flag: nothing clinical proceeds until a clearance is recorded."""

    assessment_id: int
    reason: str
    # Set when the red flag is cleared but this program, saved before it, awaits the trainer's
    # review (its restrictions may rule exercises out): the way on is the program, not clearance.
    review_program_id: int | None = None


def red_flag_advice(assessment: Assessment) -> str:
    """What the client is told to do about the assessment's red flags, in plain words: its
    most urgent level's ``client_text`` (the words the referral email uses too)."""
    levels = default_questionnaire().red_flags.levels
    urgencies = [f.get("urgency") for f in assessment.result.get("red_flags") or []]
    # Flags recorded before they were graded carry no urgency: see a doctor soon.
    most = next((u for u in ("emergency", "urgent", "routine") if u in urgencies), "urgent")
    return levels[most].client_text


def clinical_hold(clinic_id: int, client_id: int) -> ClinicalHold | None:
    """The hold on a client whose latest assessment has an uncleared red flag, else None.

    The hold is on the client, not the assessment: while it stands no program is built from
    any of their assessments and no plan of theirs is printed or emailed. A later assessment
    without red flags lifts it (the red-flag questions are asked at every assessment).
    """
    # Four plain columns: pages that show the hold (the program page asks twice) never read
    # the stored answers and result.
    latest = db.session.execute(
        select(Assessment.id, Assessment.created_at, Assessment.blocked, Assessment.cleared_at)
        .where(Assessment.clinic_id == clinic_id, Assessment.client_id == client_id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    ).first()
    if latest is None or not latest.blocked or latest.cleared_at is not None:
        return None
    zone = db.session.scalar(select(Clinic.time_zone).where(Clinic.id == clinic_id))
    # The reason names no symptom: the front desk sees it too, and never sees findings.
    return ClinicalHold(
        assessment_id=latest.id,
        reason=(
            f"The assessment of {format_local(latest.created_at, zone, 'date')} reported a red "
            "flag. Until a medical clearance is recorded on it, no program is built and no plan "
            "is printed or emailed for this client."
        ),
    )


def review_hold(
    clinic_id: int, client_id: int, program_id: int, saved_at: datetime
) -> ClinicalHold | None:
    """The review a program version saved before the client's latest red flag awaits, or None.

    Clearance lifts the client's hold, yet a program written before the red flag was never
    checked against what the doctor found or restricted: it is printed or emailed only from a
    version saved after the red flag (the trainer's "Reviewed — keep" saves one).
    """
    flagged = db.session.execute(
        select(
            Assessment.id,
            Assessment.created_at,
            Assessment.cleared_at,
            Assessment.cleared_on,
            Assessment.clearance_restrictions,
        )
        .where(
            Assessment.clinic_id == clinic_id,
            Assessment.client_id == client_id,
            Assessment.blocked.is_(True),
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    ).first()
    if flagged is None or saved_at >= flagged.created_at:
        return None
    zone = db.session.scalar(select(Clinic.time_zone).where(Clinic.id == clinic_id))
    reason = (
        "This program was saved before the red flag of "
        f"{format_local(flagged.created_at, zone, 'date')}"
    )
    if flagged.cleared_at is not None:
        cleared_on = flagged.cleared_on or local_today(zone, flagged.cleared_at)
        restrictions = _one_line(flagged.clearance_restrictions)
        reason += f"; the client was cleared on {format_local(cleared_on, zone, 'date')}"
        reason += f" with restrictions: {restrictions}" if restrictions else " without restrictions"
    # Restrictions typed as a sentence end with their own stop ("...healing."): no second one.
    reason += "" if reason.endswith((".", "!", "?")) else "."
    reason += (
        " Review it before it is printed or emailed: keep it as it is, or edit and save a new "
        "version."
    )
    return ClinicalHold(assessment_id=flagged.id, reason=reason, review_program_id=program_id)


def plan_hold(version: Any) -> ClinicalHold | None:
    """What stops a program version being printed or emailed: the client's open red flag, or
    the review a version saved before the latest red flag awaits."""
    program = version.program
    return clinical_hold(version.clinic_id, program.client_id) or review_hold(
        version.clinic_id, program.client_id, program.id, version.created_at
    )


# Who may clear a red flag: the professions a trainer records (value: how it is printed).
PROFESSIONS = {
    "gp": "GP",
    "doctor": "Hospital doctor or specialist",
    "emergency": "Emergency department doctor",
    "physiotherapist": "Physiotherapist",
}
CLEARANCE_NAME_MAX = 120
# Who may clear an emergency-level red flag: a doctor, never a physiotherapist alone.
DOCTORS = ("gp", "doctor", "emergency")


def red_flag_label(flag: dict) -> str:
    """A stored red flag in a few words (its question's label); a question no longer asked
    keeps the words it was recorded with."""
    labels = {q.id: q.label for q in default_questionnaire().red_flag_questions}
    return labels.get(str(flag.get("id", ""))) or str(flag.get("text", ""))


def hold_flags_text(hold: ClinicalHold) -> str:
    """The red flags behind a hold in a few words with their urgency in the results page's
    words (e.g. "Reported: night pain. Urgent: see a doctor within days."), for clinical pages
    only: the hold's own reason names no symptom because the front desk sees it too."""
    assessment = db.session.get(Assessment, hold.assessment_id)
    if assessment is None:
        return ""
    labels = [red_flag_label(flag) for flag in (assessment.result or {}).get("red_flags") or []]
    urgency = most_urgent(assessment) or "urgent"
    title = default_questionnaire().red_flags.levels[urgency].title
    return f"Reported: {', '.join(labels)}. {title}." if labels else f"{title}."


def most_urgent(assessment: Assessment) -> str | None:
    """The assessment's most pressing red-flag level (results before grading count as urgent)."""
    result = assessment.result or {}
    levels = {flag.get("urgency") or "urgent" for flag in result.get("red_flags") or []}
    level = result.get("urgency")
    if level:
        levels.add(level)
    for candidate in ("emergency", "urgent", "routine"):
        if candidate in levels:
            return candidate
    return None


@dataclass(frozen=True)
class Clearance:
    """A recorded clearance as pages and plans show it."""

    assessment_id: int
    line: str  # "Cleared by Dr A Patel (GP) on 2 Dec 2026 — restrictions: no lifting"
    recorded_by: str  # the signed-in user who recorded it
    recorded_on: str
    restrictions: str


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def record_clearance(
    assessment: Assessment,
    *,
    user_id: int,
    name: str,
    profession: str,
    cleared_on: date | None,
    restrictions: str = "",
    zone: str | None = None,
) -> None:
    """Record who cleared the client despite the red flags, when, and with what restrictions.

    :raise AssessmentRefused: without red flags, if already cleared, or a field is not valid
        (a blank name, an unknown profession, a day in the future or before the assessment).
    """
    if not assessment.result.get("blocked"):
        raise AssessmentRefused("This assessment has no red flags, so no clearance is needed.")
    if assessment.cleared_at is not None:
        raise AssessmentRefused("A clearance is already recorded for this assessment.")
    name = _one_line(name)
    restrictions = (restrictions or "").strip()
    if not name:
        raise AssessmentRefused("Name the doctor or physiotherapist who cleared the client.")
    if len(name) > CLEARANCE_NAME_MAX:
        raise AssessmentRefused(f"Keep the name to {CLEARANCE_NAME_MAX} characters.")
    if profession not in PROFESSIONS:
        raise AssessmentRefused("Choose the profession of the person who cleared the client.")
    if most_urgent(assessment) == "emergency" and profession not in DOCTORS:
        # Signs of a possible cauda equina or spinal cord problem need a medical examination.
        raise AssessmentRefused(
            "An emergency red flag is cleared by a doctor (GP, hospital or emergency department "
            "doctor) who examined the client, not by a physiotherapist."
        )
    if cleared_on is None:
        raise AssessmentRefused("Give the day the client was cleared.")
    if cleared_on > local_today(zone):
        raise AssessmentRefused("The day of the clearance cannot be in the future.")
    assessed_on = local_today(zone, assessment.created_at)
    if cleared_on < assessed_on:
        raise AssessmentRefused(
            "The clearance must come after the red flag: choose a day on or after the "
            f"assessment ({format_local(assessed_on, zone, 'date')})."
        )
    if len(restrictions) > CLEARANCE_MAX:
        raise AssessmentRefused(f"Keep the restrictions to {CLEARANCE_MAX} characters.")
    assessment.clearance_name = name
    assessment.clearance_profession = profession
    assessment.cleared_on = cleared_on
    assessment.clearance_restrictions = restrictions or None
    assessment.cleared_at = utcnow()
    assessment.cleared_by_id = user_id
    db.session.flush()


def clearance_of(assessment: Assessment, zone: str | None = None) -> Clearance | None:
    """The assessment's clearance in words, or None if none was recorded."""
    if assessment.cleared_at is None:
        return None
    restrictions = _one_line(assessment.clearance_restrictions)
    if assessment.clearance_name:
        who = assessment.clearance_name
        profession = PROFESSIONS.get(assessment.clearance_profession or "")
        if profession:
            who = f"{who} ({profession})"
        line = f"Cleared by {who} on {format_local(assessment.cleared_on, zone, 'date')}"
        line += f" — restrictions: {restrictions}" if restrictions else " — no restrictions"
    else:  # recorded before clearances were structured: the trainer's own note
        line = f"Cleared: {_one_line(assessment.clearance_note)}"
    recorder = assessment.cleared_by
    return Clearance(
        assessment_id=assessment.id,
        line=line,
        recorded_by=recorder.name if recorder else "a former user",
        recorded_on=format_local(assessment.cleared_at, zone, "date"),
        restrictions=restrictions,
    )


def current_clearance(clinic_id: int, client_id: int) -> Clearance | None:
    """The client's most recent clearance (its restrictions still apply to their plans)."""
    cleared = db.session.scalar(
        select(Assessment)
        .where(
            Assessment.clinic_id == clinic_id,
            Assessment.client_id == client_id,
            Assessment.cleared_at.is_not(None),
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
        .options(defer(Assessment.answers), defer(Assessment.result))  # not shown
    )
    if cleared is None:
        return None
    zone = db.session.scalar(select(Clinic.time_zone).where(Clinic.id == clinic_id))
    return clearance_of(cleared, zone)


def order_imbalances(result: AssessmentResult, slugs: Iterable[str]) -> list[str]:
    """The chosen slugs in the findings' rank order (most severe first)."""
    return order_by_rank(result, slugs)


def confirm_imbalances(assessment: Assessment, slugs: Iterable[str]) -> list[str]:
    """Save which imbalances the trainer will treat, ordered by score; returns the order.

    :raise AssessmentRefused: while blocked by red flags, when none or an unknown one is chosen.
    """
    if is_blocked(assessment):
        raise AssessmentRefused(
            "Red flags were reported: record the medical clearance before confirming."
        )
    result = result_of(assessment)
    known = {item.slug for item in result.imbalances}
    chosen = list(dict.fromkeys(slugs))
    unknown = [slug for slug in chosen if slug not in known]
    if unknown:
        raise AssessmentRefused(f"Unknown imbalance: {unknown[0]}.")
    if not chosen:
        raise AssessmentRefused("Choose at least one imbalance to treat.")
    ordered = order_imbalances(result, chosen)
    assessment.confirmed_imbalances = ordered
    assessment.confirmed_at = utcnow()
    db.session.flush()
    return ordered


def preselected_imbalances(assessment: Assessment) -> list[str]:
    """The confirmed imbalances, or the scorer's suggestion before confirmation."""
    if assessment.confirmed_imbalances is not None:
        return list(assessment.confirmed_imbalances)
    return list(suggested_imbalances(result_of(assessment)))


def latest_assessment(client: Client) -> Assessment | None:
    """The client's most recent assessment (a new one re-tests what it tested)."""
    return db.session.scalar(
        select(Assessment)
        .where(Assessment.clinic_id == client.clinic_id, Assessment.client_id == client.id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    )


def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The same client's assessment just before this one (by created_at, then id)."""
    return db.session.scalar(
        select(Assessment)
        .where(
            Assessment.clinic_id == assessment.clinic_id,
            Assessment.client_id == assessment.client_id,
            or_(
                Assessment.created_at < assessment.created_at,
                and_(
                    Assessment.created_at == assessment.created_at,
                    Assessment.id < assessment.id,
                ),
            ),
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    )


def body_map_regions(
    result: AssessmentResult,
    catalog: Catalog | None = None,
    slugs: Iterable[str] | None = None,
) -> tuple[list[str], list[str]]:
    """(weak, overactive) body-map regions: only the muscles a test or observation found weak
    ("glutes:left" when found on one side only) or tight; a muscle merely commonly paired with
    a flagged pattern, or tested and not weak, is not marked.

    The results page, the program page and the plan all shade the map with this function.

    :param slugs: only these imbalances (a program's targets): their findings, and the
        muscles a test found tight among their overactive muscles. None: every flagged one.
    """
    wanted = None if slugs is None else set(slugs)
    sides: dict[str, set[str | None]] = {}
    for item in result.flagged:
        if wanted is not None and item.slug not in wanted:
            continue
        for finding in item.findings:
            if finding.claim in ("weak", "asymmetry"):
                for muscle in finding.muscles:
                    sides.setdefault(muscle, set()).add(finding.side)
    weak = [
        f"{m}:{next(iter(s))}" if len(s) == 1 and None not in s else m for m, s in sides.items()
    ]
    releasable = None
    if wanted is not None:
        catalog = catalog or default_catalog()
        releasable = {
            m
            for slug in wanted
            if slug in catalog.imbalances
            for m in catalog.imbalances[slug].overactive_muscles
        }
    overactive: list[str] = []
    for status in result.muscles:
        if status.claim != "tight" or status.status != "found" or status.muscle in overactive:
            continue
        if releasable is None or status.muscle in releasable:
            overactive.append(status.muscle)
    return weak, overactive


def paired_regions(result: AssessmentResult, catalog: Catalog | None = None) -> list[str]:
    """Weak muscles commonly paired with a flagged imbalance that no test found weak."""
    catalog = catalog or default_catalog()
    found = {r.partition(":")[0] for r in body_map_regions(result, catalog)[0]}
    paired: list[str] = []
    for item in result.flagged:
        imbalance = catalog.imbalances.get(item.slug)
        for muscle in imbalance.weak_muscles if imbalance else ():
            status = result.muscle(muscle, "weak")
            if muscle not in found and muscle not in paired and status is None:
                paired.append(muscle)
    return paired


def untested_regions(result: AssessmentResult, q: Questionnaire | None = None) -> list[str]:
    """Body-map regions some test of the questionnaire covers but none measured this time.

    The map draws them as "not tested", never as normal; a test stopped by pain gave no result
    either, so its muscles count as not tested (the pain is a finding of its own).
    """
    q = q or default_questionnaire()
    tested = {m.muscle for m in result.muscles if m.status in ("found", "normal")}
    covered: list[str] = []
    for group in q.indicators.values():
        for ind in group:
            covered.extend(m for m in ind.muscles if m not in covered)
    return [m for m in covered if m not in tested]


def summarize(assessment: Assessment) -> Summary:
    """A short summary of an assessment for lists (screening, top findings, red-flag state)."""
    result = result_of(assessment)
    names = {item.slug: item.name for item in result.imbalances}
    return Summary(
        screening_likely=result.screening.likely,
        yes_count=result.screening.yes_count,
        questions=len(default_questionnaire().screening.questions),
        findings=tuple((item.name, item.severity or "flagged") for item in result.flagged),
        blocked=result.blocked,
        cleared=assessment.cleared_at is not None,
        confirmed=tuple(names.get(s, s) for s in assessment.confirmed_imbalances or ()),
    )
