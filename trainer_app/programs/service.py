"""Programs: build one from a confirmed assessment, and save trainer edits as new versions.

Functions here flush and never commit: the view owns the transaction. Versions are never
changed once written; every edit adds the next number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.util import identity_key

from trainer_app.accounts.models import Clinic
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import AssessmentResult, result_from_dict
from trainer_app.assessments.service import (
    ClinicalHold,
    clinical_hold,
    current_clearance,
    plan_hold,
)
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.library.catalog import BODY_REGIONS, Catalog, Exercise
from trainer_app.programs import builder
from trainer_app.programs.builder import BuildOptions, ProgramDraft, ProgramItem
from trainer_app.programs.models import Program, ProgramTemplate, ProgramVersion
from trainer_app.timeutil import format_local, local_today, utcnow

NOTE_MAX = 300
TITLE_MAX = 120
# A re-test four weeks after the build is the default; the trainer changes it on the program.
RETEST_AFTER_DAYS = 28
RETEST_MAX_DAYS = 2 * 366
# The builder's summary line about release work, replaced by one naming the exercises.
RELEASE_WARM_UP = "Start each session with the release work as a warm-up."


class ProgramError(ValueError):
    """A request the program cannot accept; the message is shown to the trainer."""


class StaleVersion(ProgramError):
    """The form was based on a version that is no longer the latest."""

    def __init__(self) -> None:
        super().__init__("Someone saved a newer version of this program; reload to see it.")


class NoReviewAwaited(ProgramError):
    """Marking a program reviewed when no review is awaited (``hold``: the client's open red
    flag, or None when nothing holds the program)."""

    def __init__(self, hold: ClinicalHold | None) -> None:
        self.hold = hold
        super().__init__(
            hold.reason if hold is not None else "This program needs no review; nothing was saved."
        )


class NothingChanged(ProgramError):
    """The edit would store a version identical to the latest one."""

    def __init__(self) -> None:
        super().__init__("Nothing changed: change a dose, a note or the order, then save.")


def clinic_zone(clinic_id: int) -> str:
    """The clinic's time zone name (read from the clinic this session holds, if it does)."""
    held = db.session.identity_map.get(identity_key(Clinic, clinic_id))
    if held is not None and "time_zone" in sa_inspect(held).dict:
        return held.time_zone
    return db.session.scalar(select(Clinic.time_zone).where(Clinic.id == clinic_id))


def day(moment: datetime | None, zone: str | None) -> str:
    """A stored time as the clinic's calendar day, e.g. "25 Nov 2026"."""
    return format_local(moment, zone, "date")


def default_retest_on(zone: str | None, now: datetime | None = None) -> date:
    """Four weeks from today in the clinic's zone."""
    return local_today(zone, now) + timedelta(days=RETEST_AFTER_DAYS)


def set_retest_on(program: Program, when: date | None, zone: str | None) -> None:
    """Set (or clear, with None) the day the client should be tested again.

    :raise ProgramError: the day is before the program was built or more than two years ahead.
    """
    if when is not None:
        start = local_today(zone, program.created_at)
        if when < start:
            raise ProgramError(
                f"Choose a re-test date on or after the day the program was built "
                f"({format_local(start, zone, 'date')})."
            )
        if when > local_today(zone) + timedelta(days=RETEST_MAX_DAYS):
            raise ProgramError("Choose a re-test date within the next two years.")
    program.retest_on = when
    db.session.flush()


# --------------------------------------------------------------------------- building


def build_refusal(assessment: Assessment) -> str | None:
    """Why a program cannot be built from this assessment yet, or None if it can.

    An open red flag on the client's latest assessment refuses every assessment of theirs.
    """
    hold = clinical_hold(assessment.clinic_id, assessment.client_id)
    if hold is not None:
        return hold.reason
    if assessment.confirmed_imbalances is None:
        return (
            "Confirm the imbalances on this assessment first: a program is built only from "
            "imbalances a trainer has confirmed."
        )
    if result_from_dict(assessment.result).blocked and assessment.cleared_at is None:
        return (
            "This assessment has a red flag. Record the medical clearance on the assessment "
            "before building a program."
        )
    if not assessment.confirmed_imbalances:
        return "No imbalances were confirmed on this assessment, so there is nothing to build."
    return None


def assessment_result(assessment: Assessment) -> AssessmentResult:
    """The stored scored result of an assessment."""
    return result_from_dict(assessment.result)


def client_cautions(assessment: Assessment | None) -> frozenset[str]:
    """The caution slugs the client reported in this assessment."""
    if assessment is None:
        return frozenset()
    return frozenset(c.caution for c in assessment_result(assessment).cautions)


def _stopped_by_pain(result: AssessmentResult) -> list[tuple[Any, str]]:
    """The questionnaire's tests stopped by pain, each with its label naming the side as the
    results page does ("… (left)", "… (left and right)"), in the assessment's order."""
    q = default_questionnaire()
    sides: dict[str, list[str]] = {}
    found: dict[str, Any] = {}
    for m in result.measurements:
        if m.status != "unable_pain":
            continue
        try:
            found.setdefault(m.indicator, q.indicator(m.indicator))
        except KeyError:
            continue  # a test of an older questionnaire
        side = m.key.rpartition("_")[2] if m.key.endswith(("_left", "_right")) else None
        sides.setdefault(m.indicator, [])
        if side:
            sides[m.indicator].append(side)
    return [
        (ind, f"{ind.label} ({' and '.join(sides[i])})" if sides[i] else ind.label)
        for i, ind in found.items()
    ]


def pain_tests(result: AssessmentResult) -> dict[str, builder.PainTest]:
    """Tests stopped by pain, each with the region and the kind of load it put there."""
    out: dict[str, builder.PainTest] = {}
    for ind, label in _stopped_by_pain(result):
        unit = {"seconds": "seconds", "reps": "reps"}.get(ind.type, "")
        out[label] = builder.PainTest(ind.region, unit, tuple(ind.muscles))
    return out


def measured_of(result: AssessmentResult) -> builder.Measured:
    """What the builder reads from an assessment: capacities, tight muscles, pain."""
    q = default_questionnaire()
    return builder.measured_from_result(
        result, q.dosing.low, q.dosing.high, painful_tests(result), pain_tests(result)
    )


def painful_tests(result: AssessmentResult) -> dict[str, tuple[str, ...]]:
    """Tests stopped by pain, each with the exercises it stands for (from the questionnaire)."""
    out: dict[str, tuple[str, ...]] = {}
    for ind, label in _stopped_by_pain(result):
        if ind.doses or ind.exercises:
            out[label] = (*ind.doses, *ind.exercises)
    return out


def draft_for(assessment: Assessment, catalog: Catalog, options: BuildOptions) -> ProgramDraft:
    """The builder's draft for the assessment's confirmed imbalances.

    The client's reported cautions are added to the options; measured capacities set the
    starting doses and muscles measured tight get release work.

    :raise ValueError: from the builder (nothing fits the equipment, too many targets, ...).
    """
    result = assessment_result(assessment)
    targets = builder.targets_from_scores(result.imbalances, assessment.confirmed_imbalances or [])
    measured = measured_of(result)
    options = replace(options, cautions=options.cautions | client_cautions(assessment))
    return builder.build_program(targets, catalog, options, measured)


def build_from_assessment(
    assessment: Assessment,
    catalog: Catalog,
    options: BuildOptions,
    *,
    user_id: int | None,
    title: str = "",
) -> Program:
    """Create a program and its version 1 from a confirmed assessment.

    :raise ProgramError: the assessment is not ready (see `build_refusal`).
    :raise ValueError: the builder could not make a program with these options.
    """
    refusal = build_refusal(assessment)
    if refusal:
        raise ProgramError(refusal)
    draft = draft_for(assessment, catalog, options)
    zone = clinic_zone(assessment.clinic_id)
    program = Program(
        clinic_id=assessment.clinic_id,
        client_id=assessment.client_id,
        assessment_id=assessment.id,
        title=title.strip() or f"Corrective program — {day(utcnow(), zone)}",
        retest_on=default_retest_on(zone),
    )
    db.session.add(program)
    db.session.flush()
    db.session.add(
        ProgramVersion(
            clinic_id=program.clinic_id,
            program_id=program.id,
            number=1,
            content=builder.draft_to_dict(draft),
            catalog_version=draft.catalog_version,
            created_by_id=user_id,
            change_note=f"Built from assessment of {day(assessment.created_at, zone)}",
        )
    )
    db.session.flush()
    return program


# --------------------------------------------------------------------------- reading


def draft_of(version: ProgramVersion) -> ProgramDraft:
    """The stored content of a version as a draft."""
    return builder.draft_from_dict(version.content)


def latest_number(program: Program) -> int:
    """The newest version number, read from the database (not a cached relationship)."""
    return db.session.scalar(
        select(func.max(ProgramVersion.number)).where(ProgramVersion.program_id == program.id)
    )


def version_changes(versions: Sequence[ProgramVersion]) -> dict[int, list[str]]:
    """For each version number, what changed from the version before it (none for the first)."""
    out: dict[int, list[str]] = {}
    previous: ProgramDraft | None = None
    for version in versions:
        draft = draft_of(version)
        out[version.number] = (
            [] if previous is None else builder.diff_items(previous.items, draft.items)
        )
        previous = draft
    return out


def weekly_doses(item: ProgramItem, weeks: int) -> tuple[builder.WeekDose, ...]:
    """Week-by-week doses for an item: strength work progresses, release work stays put."""
    return builder.weekly_doses(
        item.sets, item.reps, item.hold_seconds, weeks, progress=item.kind == "strength"
    )


def dose_reason(item: ProgramItem, weeks: int, exercise: Exercise | None) -> str:
    """Why the item has this dose: the builder's reason (quoting the measurement), or why not."""
    progression = builder.progression_text(item.hold_seconds is not None, weeks)
    if item.dose_reason:
        if item.kind != "strength":
            return item.dose_reason
        progression = progression[:1].upper() + progression[1:]
        return f"{item.dose_reason} {progression}, so the weak muscles keep adapting."
    default = exercise is not None and (
        exercise.dose.sets,
        exercise.dose.reps,
        exercise.dose.hold_seconds,
    ) == (item.sets, item.reps, item.hold_seconds)
    start = "the library's starting dose" if default else "the dose the trainer set"
    if item.kind != "strength":
        return (
            f"Starts at {start} and stays the same every session: release work prepares the "
            "overactive muscles as a warm-up and does not need to get harder."
        )
    return (
        f"Starts at {start}, easy enough to do with good form; {progression}, so the weak "
        "muscles keep adapting."
    )


# --------------------------------------------------------------------------- editing


@dataclass(frozen=True)
class ItemEdit:
    """The trainer's values for one existing item, as the edit form submitted them."""

    exercise_slug: str
    sets: int
    reps: int | None
    hold_seconds: int | None
    rest_seconds: int
    notes: str
    position: int
    remove: bool = False


def apply_edits(draft: ProgramDraft, edits: Sequence[ItemEdit]) -> ProgramDraft:
    """The draft with the edits applied: doses, notes, removals and the new order.

    Items whose dose changed get their weekly progression recomputed; the session length
    is re-estimated. Pure: nothing is stored.

    :raise ProgramError: the edits do not name exactly the draft's items, or remove them all.
    """
    by_slug = {item.exercise_slug: item for item in draft.items}
    if sorted(e.exercise_slug for e in edits) != sorted(by_slug):
        raise ProgramError("The form does not match this program any more; reload and try again.")
    kept: list[tuple[int, int, ProgramItem]] = []
    for index, edit in enumerate(edits):
        if edit.remove:
            continue
        item = by_slug[edit.exercise_slug]
        changed = replace(
            item,
            sets=edit.sets,
            reps=edit.reps,
            hold_seconds=edit.hold_seconds,
            rest_seconds=edit.rest_seconds,
            notes=edit.notes.strip(),
        )
        if (changed.sets, changed.reps, changed.hold_seconds) != (
            item.sets,
            item.reps,
            item.hold_seconds,
        ):
            # the trainer's dose replaces the measured one, and the reason says so
            changed = replace(changed, weekly=weekly_doses(changed, draft.weeks), dose_reason="")
        kept.append((edit.position, index, changed))
    if not kept:
        raise ProgramError("A program needs at least one exercise; keep one or add another.")
    items = tuple(item for _, _, item in sorted(kept, key=lambda t: (t[0], t[1])))
    return replace(draft, items=items, session_minutes=builder.estimate_minutes(items))


# An exercise held back because a test loading its region was stopped by pain is
# acknowledged like a caution; its item records this pseudo-caution: "pain:<region>".
PAIN_PREFIX = "pain:"


@dataclass(frozen=True)
class PainHold:
    """A test stopped by pain and the work it holds back until a clinician has looked."""

    test: str
    region: str | None
    text: str  # the trainer's line: the test, the region, the exercises held back
    exercises: tuple[str, ...]  # slugs

    @property
    def slug(self) -> str:
        return f"{PAIN_PREFIX}{self.region or 'movement'}"


def caution_label(slug: str, catalog: Catalog) -> str:
    """A caution's label, including the pain pseudo-caution of an exercise held back."""
    if slug in catalog.cautions:
        return catalog.cautions[slug].label
    if slug.startswith(PAIN_PREFIX):
        region = BODY_REGIONS.get(slug[len(PAIN_PREFIX) :], "its movement").lower()
        return f"A test loading the {region} was stopped by pain (held back for a clinician's look)"
    return slug


def caution_conflicts(
    exercise: Exercise,
    cautions: frozenset[str] | set[str],
    pain: Sequence[PainHold] = (),
) -> tuple[str, ...]:
    """The client's cautions this exercise carries (slugs, in the exercise's order), then the
    pain holds that hold it back."""
    held = tuple(dict.fromkeys(h.slug for h in pain if exercise.slug in h.exercises))
    return tuple(c for c in exercise.cautions if c in cautions) + held


def _program_assessment(program: Program) -> Assessment | None:
    """The program's assessment, else the client's latest (a template or a copy)."""
    return program.assessment or db.session.scalar(
        select(Assessment)
        .where(
            Assessment.clinic_id == program.clinic_id,
            Assessment.client_id == program.client_id,
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    )


def program_cautions(program: Program) -> frozenset[str]:
    """The client's cautions for a program: from its assessment, else the client's latest
    assessment (a program started from a template or a copy), else as recorded at build."""
    assessment = _program_assessment(program)
    if assessment is not None:
        return client_cautions(assessment)
    return frozenset(draft_of(program.latest).cautions)


def pain_holds_of(result: AssessmentResult, catalog: Catalog) -> list[PainHold]:
    """The assessment's tests stopped by pain, each with the work it holds back."""
    measured = measured_of(result)
    return [
        PainHold(
            test=label,
            region=(measured.pain_tests.get(label) or builder.PainTest()).region,
            text=builder.pain_hold_text(label, catalog, measured),
            exercises=builder.held_by_pain(label, catalog, measured),
        )
        for label in builder.pain_labels(measured)
    ]


def program_pain_holds(program: Program, catalog: Catalog) -> list[PainHold]:
    """The pain holds of the program's assessment (else the client's latest)."""
    assessment = _program_assessment(program)
    if assessment is None:
        return []
    return pain_holds_of(assessment_result(assessment), catalog)


def item_for_exercise(
    exercise: Exercise, draft: ProgramDraft, reason: str, acknowledged: tuple[str, ...] = ()
) -> ProgramItem:
    """A new program item for a library exercise at its default dose, with weekly progression."""
    dose = exercise.dose
    reps = None if dose.reps is None else min(max(dose.reps, builder.MIN_REPS), builder.MAX_REPS)
    hold = (
        None
        if dose.hold_seconds is None
        else min(max(dose.hold_seconds, builder.MIN_HOLD), builder.MAX_HOLD)
    )
    targeted = [slug for slug in exercise.imbalances if slug in draft.targets]
    item = ProgramItem(
        exercise_slug=exercise.slug,
        name=exercise.name,
        kind=exercise.kind,
        imbalance=(targeted or list(exercise.imbalances) or [""])[0],
        sets=min(max(dose.sets, builder.MIN_SETS), builder.MAX_SETS),
        reps=reps,
        hold_seconds=hold,
        rest_seconds=min(dose.rest_seconds, builder.MAX_REST),
        per_side=dose.per_side or exercise.unilateral,
        reason=f"{exercise.name}: {reason.strip()}",
        cautions=acknowledged,
    )
    return replace(item, weekly=weekly_doses(item, draft.weeks))


class CautionNotAcknowledged(ProgramError):
    """The exercise carries a caution the client reported and the trainer has not confirmed."""

    def __init__(self, exercise: Exercise, labels: list[str]) -> None:
        self.exercise = exercise
        self.labels = labels
        super().__init__(
            f"{exercise.name} carries a caution for this client ({'; '.join(labels)}). "
            "Tick the confirmation that it is safe for them, then add it again."
        )


def add_exercise(
    draft: ProgramDraft,
    exercise: Exercise,
    reason: str,
    *,
    cautions: frozenset[str] = frozenset(),
    acknowledged: bool = False,
    labels: dict[str, str] | None = None,
    pain: Sequence[PainHold] = (),
) -> ProgramDraft:
    """The draft with the exercise added at the end (release work goes after the other release).

    :param cautions: the client's reported cautions; an exercise carrying one needs
        ``acknowledged`` and keeps the acknowledged cautions on its item.
    :param pain: the tests stopped by pain: an exercise one holds back is acknowledged too.
    :raise ProgramError: the exercise is already in the program.
    :raise CautionNotAcknowledged: it carries a client caution and was not acknowledged.
    """
    if any(item.exercise_slug == exercise.slug for item in draft.items):
        raise ProgramError(f"{exercise.name} is already in this program.")
    conflicts = caution_conflicts(exercise, cautions, pain)
    if conflicts and not acknowledged:
        names = labels or {}
        raise CautionNotAcknowledged(exercise, [names.get(c, c) for c in conflicts])
    new = item_for_exercise(exercise, draft, reason, conflicts)
    items = list(draft.items)
    if new.kind == "release":
        # release work is the warm-up: keep it together at the start
        at = max((i + 1 for i, item in enumerate(items) if item.kind == "release"), default=0)
        items.insert(at, new)
    else:
        items.append(new)
    return replace(draft, items=tuple(items), session_minutes=builder.estimate_minutes(items))


def save_version(
    program: Program,
    base_number: int,
    draft: ProgramDraft,
    *,
    note: str,
    user_id: int | None,
) -> ProgramVersion:
    """Store the draft as the program's next version.

    :raise StaleVersion: `base_number` is not the latest version any more.
    :raise NothingChanged: the items are exactly those of the latest version.
    """
    latest = latest_number(program)
    if base_number != latest:
        raise StaleVersion()
    current = db.session.scalar(
        select(ProgramVersion).where(
            ProgramVersion.program_id == program.id, ProgramVersion.number == latest
        )
    )
    content: dict[str, Any] = builder.draft_to_dict(draft)
    if content["items"] == builder.draft_to_dict(draft_of(current))["items"]:
        raise NothingChanged()
    return _append_version(
        program,
        latest,
        content,
        catalog_version=draft.catalog_version or current.catalog_version,
        user_id=user_id,
        note=note,
    )


def _append_version(
    program: Program,
    latest: int,
    content: dict[str, Any],
    *,
    catalog_version: str | None,
    user_id: int | None,
    note: str,
) -> ProgramVersion:
    """Add ``content`` as version ``latest + 1`` (the unique number refuses a concurrent save)."""
    version = ProgramVersion(
        clinic_id=program.clinic_id,
        program_id=program.id,
        number=latest + 1,
        content=content,
        catalog_version=catalog_version,
        created_by_id=user_id,
        change_note=note.strip()[:NOTE_MAX],
    )
    db.session.add(version)
    db.session.flush()
    return version


def summary_lines(draft: ProgramDraft, catalog: Catalog) -> list[str]:
    """The program page's summary of the saved items (the schedule line is shown apart).

    The builder wrote one line per target naming its picks; the lines are named again from the
    items saved, so exercises added or removed by hand show, and exercises for other imbalances
    get a line of their own. The builder's other notes are kept as written.
    """
    names = {
        slug: catalog.imbalances[slug].name for slug in draft.targets if slug in catalog.imbalances
    }
    stale = tuple(f"{name}: " for name in names.values())
    lines = []
    for slug, name in names.items():
        picks = [i.name for i in draft.items if i.imbalance == slug and i.kind == "strength"]
        if picks:
            lines.append(f"{name}: {', '.join(picks)}.")
    others: dict[str, list[str]] = {}
    for item in draft.items:
        if item.kind == "strength" and item.imbalance not in names:
            imbalance = catalog.imbalances.get(item.imbalance)
            others.setdefault(imbalance.name if imbalance else "", []).append(item.name)
    for name, picks in others.items():
        lines.append(f"{name or 'Also in this program'}: {', '.join(picks)}.")
    release = [i.name for i in draft.items if i.kind == "release"]
    if release:
        lines.append(f"Release work, as the warm-up of each session: {', '.join(release)}.")
    kept = [
        line for line in draft.summary[1:] if not line.startswith(stale) and line != RELEASE_WARM_UP
    ]
    return lines + kept


def latest_confirmed(assessments: Sequence[Assessment]) -> Assessment | None:
    """The newest confirmed assessment of a list ordered newest first."""
    return next((a for a in assessments if a.confirmed_imbalances is not None), None)


# --------------------------------------------------------------------------- reuse


def neutral_draft(draft: ProgramDraft, catalog: Catalog) -> ProgramDraft:
    """The draft without what was written for one client, ready for another.

    Reasons quoted that client's findings and notes their sides and history (both are printed
    on the client's plan), so each reason becomes the library's description of the exercise
    and notes are left empty; the imbalances it worked on go too (a new program takes its
    client's own). Exercises, doses, progression, order, schedule and tips stay.
    """
    items = []
    for item in draft.items:
        exercise = catalog.exercises.get(item.exercise_slug)
        summary = exercise.summary if exercise else ""
        what = (
            (summary[:1].lower() + summary[1:]).rstrip(".") if summary else "chosen by your trainer"
        )
        # the dose reason quoted this client's measurement, the cautions and a one-sided
        # stretch's side were theirs (the other client stretches each side)
        items.append(
            replace(
                item,
                reason=f"{item.name}: {what}.",
                notes="",
                dose_reason="",
                cautions=(),
                per_side=item.per_side or item.side is not None,
                side=None,
            )
        )
    # what it worked on and the builder's notes were that client's findings
    return replace(draft, items=tuple(items), cautions=(), targets=(), summary=draft.summary[:1])


def _clean_title(title: str, fallback: str) -> str:
    return (" ".join(title.split()) or fallback)[:TITLE_MAX]


def save_template(
    program: Program, name: str, catalog: Catalog, *, user_id: int | None
) -> ProgramTemplate:
    """Keep the program's current version as a clinic template.

    :raise ProgramError: the clinic already has a template with this name.
    """
    name = _clean_title(name, program.title)
    taken = db.session.scalar(
        select(ProgramTemplate.id).where(
            ProgramTemplate.clinic_id == program.clinic_id,
            func.lower(ProgramTemplate.name) == name.lower(),
        )
    )
    if taken is not None:
        raise ProgramError(f"Your clinic already has a template named “{name}”; choose another.")
    latest = program.latest
    template = ProgramTemplate(
        clinic_id=program.clinic_id,
        name=name,
        content=builder.draft_to_dict(neutral_draft(draft_of(latest), catalog)),
        catalog_version=latest.catalog_version,
        source_program_id=program.id,
        created_by_id=user_id,
    )
    db.session.add(template)
    db.session.flush()
    return template


def _refuse_archived(client: Client) -> None:
    if client.is_archived:
        raise ProgramError(f"{client.name} is archived; restore them before giving them a program.")
    hold = clinical_hold(client.clinic_id, client.id)
    if hold is not None:
        raise ProgramError(f"{client.name} has an open red flag. {hold.reason}")


def _new_program(
    client: Client,
    title: str,
    content: dict[str, Any],
    catalog_version: str,
    *,
    note: str,
    user_id: int | None,
) -> Program:
    zone = clinic_zone(client.clinic_id)
    # What the program works on is this client's: the imbalances confirmed in their latest
    # confirmed assessment (none if they have none), never those of the client it came from.
    assessment = latest_confirmed(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.clinic_id == client.clinic_id, Assessment.client_id == client.id)
            .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        ).all()
    )
    content = {
        **content,
        "targets": list(assessment.confirmed_imbalances) if assessment else [],
        # the builder's notes (pain, cautions, what was left out) were about the other client
        "summary": list(content.get("summary", ()))[:1],
    }
    program = Program(
        clinic_id=client.clinic_id,
        client_id=client.id,
        assessment_id=assessment.id if assessment else None,
        title=title,
        retest_on=default_retest_on(zone),
    )
    db.session.add(program)
    db.session.flush()
    db.session.add(
        ProgramVersion(
            clinic_id=program.clinic_id,
            program_id=program.id,
            number=1,
            content=content,
            catalog_version=catalog_version,
            created_by_id=user_id,
            change_note=note[:NOTE_MAX],
        )
    )
    db.session.flush()
    return program


def start_from_template(
    template: ProgramTemplate, client: Client, *, title: str = "", user_id: int | None
) -> Program:
    """A new program for ``client`` whose version 1 is the template.

    :raise ProgramError: the client is archived.
    """
    _refuse_archived(client)
    return _new_program(
        client,
        _clean_title(title, template.name),
        dict(template.content),
        template.catalog_version,
        note=f"Started from the clinic template “{template.name}”",
        user_id=user_id,
    )


def copy_program(
    program: Program, client: Client, catalog: Catalog, *, title: str = "", user_id: int | None
) -> Program:
    """A new program for another client with the current version's exercises and doses.

    :raise ProgramError: the client is the program's own client, or archived.
    """
    if client.id == program.client_id:
        raise ProgramError("Choose another client: this program already belongs to this client.")
    _refuse_archived(client)
    latest = program.latest
    return _new_program(
        client,
        _clean_title(title, program.title),
        builder.draft_to_dict(neutral_draft(draft_of(latest), catalog)),
        latest.catalog_version,
        # Trainer-facing history only: the client's plan never shows change notes.
        note=f"Copied from “{program.title}” (version {latest.number}) of {program.client.name}",
        user_id=user_id,
    )


def keep_after_review(program: Program, base_number: int, *, user_id: int | None) -> ProgramVersion:
    """Save the latest version unchanged as the next one: the trainer's review after a red flag.

    The new version records who reviewed the program and when, with the clearance; plans are
    made from it.

    :raise NoReviewAwaited: the program awaits no review, or the client's red flag is still
        open (the hold says why).
    :raise StaleVersion: `base_number` is not the latest version any more.
    """
    current = program.latest
    hold = plan_hold(current)
    if hold is None or hold.review_program_id is None:
        raise NoReviewAwaited(hold)
    latest = latest_number(program)
    if base_number != latest:
        raise StaleVersion()
    clearance = current_clearance(program.clinic_id, program.client_id)
    cleared = clearance.line if clearance else ""
    return _append_version(
        program,
        latest,
        dict(current.content),
        catalog_version=current.catalog_version,
        user_id=user_id,
        note=f"Reviewed after the red flag and kept unchanged. {cleared}",
    )


def restore_version(program: Program, number: int, *, user_id: int | None) -> ProgramVersion:
    """Save an older version's content as the next version (history is never rewritten).

    :raise ProgramError: there is no such version, or it matches the latest.
    """
    old = db.session.scalar(
        select(ProgramVersion).where(
            ProgramVersion.program_id == program.id, ProgramVersion.number == number
        )
    )
    if old is None:
        raise ProgramError(f"This program has no version {number}.")
    latest = latest_number(program)
    same = ProgramError(
        f"Version {number} has the same exercises and doses as the current version "
        f"{latest}; there is nothing to restore."
    )
    if number == latest:
        raise same
    try:
        return save_version(
            program, latest, draft_of(old), note=f"Restored version {number}", user_id=user_id
        )
    except NothingChanged:
        raise same from None
