"""Referral letters: record a request, render it in a worker, reuse an identical letter, relay.

The same job rules as plan documents: the row is written in the request's transaction and
published after commit; a worker claims it with one ``UPDATE`` (a redelivered message takes
back its own claim, a silent heartbeat lets another worker take over), a letter whose content
matches a ready one is served from it, and the relay publishes rows left queued.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from trainer_app.accounts.models import Clinic, User
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import SIDES, default_questionnaire
from trainer_app.assessments.scoring import result_from_dict
from trainer_app.extensions import db
from trainer_app.jobs import Heartbeat, claim, finish, record_once, take_due
from trainer_app.plans.models import FAILED, QUEUED, READY, RENDERING
from trainer_app.plans.render import RenderError, fingerprint, render_referral
from trainer_app.programs.models import Program
from trainer_app.referrals.models import ReferralLetter
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import format_local, utcnow

log = logging.getLogger(__name__)
RENDER_TASK = "referrals.render"
URGENCY_ORDER = ("emergency", "urgent", "routine")


class ReferralRefused(ValueError):
    """No letter for this assessment; the message is shown to the trainer."""


def letter_context(assessment: Assessment, *, clinic: Clinic, trainer: User | None) -> dict:
    """Everything the letter shows, as plain data (the fingerprint is taken over this).

    The letter is read by a doctor: each red flag in clinical terms, with the question the
    client answered "yes" to quoted, grouped by urgency (most urgent first) with what is asked
    of the doctor; the relevant negatives (the red-flag questions answered no); the health
    conditions the client reported (osteoporosis, anticoagulants, ...); whether the
    client has an exercise program with us (on hold until cleared); the tests stopped by pain,
    with their side (pain on loading is a clinical finding); no scores, thresholds or other
    exercise findings.
    """
    questionnaire = default_questionnaire()
    levels = questionnaire.red_flags.levels
    questions = {q.id: q for q in questionnaire.red_flags.questions}
    # each flag at the urgency the results page shows (one function decides it)
    result = result_from_dict(assessment.result)
    flags = result.red_flags
    groups = []
    for urgency in (*URGENCY_ORDER, None):
        chosen = [f for f in flags if (f.urgency or None) == urgency]
        if not chosen:
            continue
        level = levels.get(urgency) if urgency else None
        findings = []
        for flag in chosen:
            question = questions.get(flag.id)
            asked = flag.text or (question.text if question else "")
            findings.append(
                {"clinical": question.clinical_text if question else asked, "asked": asked}
            )
        groups.append(
            {
                "urgency": urgency or "unknown",
                "heading": f"{urgency.capitalize()} red flags" if urgency else "Red flags",
                "request": level.referral_text if level else "Medical review requested.",
                "findings": findings,
            }
        )
    # relevant negatives: the red-flag questions asked at this assessment and answered no
    answers = assessment.answers or {}
    negatives = [
        q.negative_text
        for q in questionnaire.red_flags.questions
        if answers.get(q.id) is False or str(answers.get(q.id)).strip().lower() == "no"
    ]
    # known health conditions from the health questions (osteoporosis, anticoagulants, ...):
    # they bear on the doctor's examination and on what exercise may follow
    health = {q.id: q for q in questionnaire.health.questions}
    conditions = [health[c.id].clinical_text if c.id in health else c.text for c in result.cautions]
    # tests stopped by pain: pain on loading is a finding the doctor weighs, not a score
    stopped = [f"{_pain_test(questionnaire, p)}: stopped by pain" for p in result.pain]
    zone = clinic.time_zone
    client = assessment.client
    return {
        "clinic": {"name": clinic.name, "contact": clinic.contact or ""},
        "client": {
            "name": client.name,
            "born": format_local(client.date_of_birth, zone, "long_date"),
        },
        "trainer": {
            "name": trainer.name if trainer else clinic.name,
            "email": trainer.email if trainer else "",
        },
        "assessed_on": format_local(assessment.created_at, zone, "long_date"),
        "urgency": groups[0]["urgency"] if groups else "unknown",
        "groups": groups,
        "negatives": negatives,
        "conditions": conditions,
        "stopped_by_pain": stopped,
        "program": current_program(assessment, zone),
    }


def _pain_test(questionnaire, pain) -> str:
    """A test stopped by pain named for the doctor, with its side when it is one-sided
    ("Left single-leg hamstring bridge repetitions"); a test no longer asked keeps the
    label it was recorded with."""
    for group in questionnaire.indicators.values():
        for ind in group:
            for side, key in zip(
                SIDES if ind.bilateral else (None,), ind.answer_keys(), strict=True
            ):
                if key == pain.key:
                    return (
                        f"{side.capitalize()} {ind.label[:1].lower()}{ind.label[1:]}"
                        if side
                        else ind.label
                    )
    return pain.label


def current_program(assessment: Assessment, zone: str | None) -> dict | None:
    """The client's exercise program with us (the newest), for the doctor: its name and the
    day it started; it is on hold until the clearance is recorded. None if they have none."""
    program = db.session.scalar(
        select(Program)
        .where(Program.clinic_id == assessment.clinic_id, Program.client_id == assessment.client_id)
        .order_by(Program.created_at.desc(), Program.id.desc())
        .limit(1)
    )
    if program is None:
        return None
    return {"title": program.title, "started": format_local(program.created_at, zone, "long_date")}


def _context_for(letter: ReferralLetter) -> dict:
    clinic = db.session.get(Clinic, letter.clinic_id)
    assessment = letter.assessment
    trainer = assessment.trainer or letter.created_by
    return letter_context(assessment, clinic=clinic, trainer=trainer)


def request_letter(
    assessment: Assessment, *, user: User, request_key: str
) -> tuple[ReferralLetter, bool]:
    """Record a "Make referral letter" request; return (letter, needs_render).

    The same request key returns the first letter; a letter with the same content as a ready
    one is served by it (``reused_from_id``), ready at once.

    :raise ReferralRefused: the assessment reported no red flag.
    """
    if not assessment.result.get("red_flags"):
        raise ReferralRefused("This assessment reported no red flag, so no referral is needed.")
    key = clinic_key(assessment.clinic_id, request_key)
    existing = db.session.scalar(select(ReferralLetter).where(ReferralLetter.request_key == key))
    if existing is not None:
        return existing, False
    letter = ReferralLetter(
        clinic_id=assessment.clinic_id,
        client_id=assessment.client_id,
        assessment=assessment,
        request_key=key,
        status=QUEUED,
        created_by_id=user.id,
    )
    # the date printed is the day it is made, so a letter made on another day is a new one
    letter.fingerprint = fingerprint({"referral": _context_for(letter), "day": _today(letter)})
    source = _ready_original(letter.clinic_id, letter.fingerprint)
    if source is not None:
        letter.status = READY
        letter.reused_from_id = source.id
        letter.size_bytes = source.size_bytes
        letter.finished_at = utcnow()
    letter, created = record_once(letter, ReferralLetter.request_key)
    return letter, created and letter.status == QUEUED


def _today(letter: ReferralLetter) -> str:
    clinic = db.session.get(Clinic, letter.clinic_id)
    return format_local(utcnow(), clinic.time_zone, "long_date")


def _ready_original(clinic_id: int, print_fingerprint: str) -> ReferralLetter | None:
    return db.session.scalar(
        select(ReferralLetter)
        .where(
            ReferralLetter.clinic_id == clinic_id,
            ReferralLetter.fingerprint == print_fingerprint,
            ReferralLetter.status == READY,
            ReferralLetter.reused_from_id.is_(None),
        )
        .order_by(ReferralLetter.id)
        .limit(1)
    )


def claim_for_render(letter_id: int, claim_id: str) -> bool:
    """Atomically move a queued letter to rendering (see ``jobs.claim``); commits."""
    return claim(
        ReferralLetter,
        letter_id,
        claim_id,
        waiting=QUEUED,
        working=RENDERING,
        where=[ReferralLetter.reused_from_id.is_(None)],
    )


def _finish(letter_id: int, claim_id: str, **values) -> bool:
    """Record the outcome if this task still holds the claim (see ``jobs.finish``); commits."""
    done = finish(ReferralLetter, letter_id, claim_id, working=RENDERING, now=utcnow(), **values)
    db.session.commit()
    return done


def render_letter(letter_id: int, claim_id: str) -> str:
    """Worker body: claim, render (or reuse an identical ready letter), store the outcome."""
    if not claim_for_render(letter_id, claim_id):
        return "skipped"
    with Heartbeat(ReferralLetter, letter_id, claim_id, RENDERING):
        letter = db.session.get(ReferralLetter, letter_id)
        context = _context_for(letter)
        today = _today(letter)
        source = _ready_original(letter.clinic_id, letter.fingerprint or "")
        db.session.commit()  # nothing may hold the database during a render
        if source is not None and source.id != letter_id:
            done = _finish(
                letter_id,
                claim_id,
                status=READY,
                reused_from_id=source.id,
                size_bytes=source.size_bytes,
                error=None,
            )
            return "reused" if done else "superseded"
        try:
            pdf = render_referral(
                {**context, "date": today},
                timeout_s=current_app.config["PDF_RENDER_TIMEOUT"],
                memory_mb=current_app.config["PDF_RENDER_MEMORY_MB"],
            )
        except RenderError as exc:
            log.warning("referral letter %s failed: %s", letter_id, exc)
            done = _finish(letter_id, claim_id, status=FAILED, error=str(exc))
            return "failed" if done else "superseded"
    done = _finish(letter_id, claim_id, status=READY, pdf=pdf, size_bytes=len(pdf), error=None)
    return "ready" if done else "superseded"


def pdf_bytes(letter: ReferralLetter) -> bytes | None:
    """The PDF of a ready letter (a reused letter serves its source's bytes)."""
    if letter.status != READY:
        return None
    if letter.reused_from_id is not None:
        source = db.session.get(ReferralLetter, letter.reused_from_id)
        return source.pdf if source is not None else None
    return letter.pdf


def due_for_relay(now: datetime) -> list[int]:
    """Letters to publish again (see ``jobs.take_due``); the caller commits, then publishes."""
    return take_due(
        ReferralLetter,
        now,
        waiting=QUEUED,
        working=RENDERING,
        where=[ReferralLetter.reused_from_id.is_(None)],
    )


def letters_of(assessment: Assessment) -> list[ReferralLetter]:
    """The assessment's letters, newest first (requests served by another letter included)."""
    return list(
        db.session.scalars(
            select(ReferralLetter)
            .where(
                ReferralLetter.clinic_id == assessment.clinic_id,
                ReferralLetter.assessment_id == assessment.id,
            )
            .order_by(ReferralLetter.created_at.desc(), ReferralLetter.id.desc())
        )
    )
