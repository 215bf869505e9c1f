"""What needs the trainer's attention: clients held by a red flag (emergencies first), re-tests
due, failed plans and emails, assessed clients without a program. Each item names its next
action; queries are scoped to one clinic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased, defer

from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.service import most_urgent
from trainer_app.clients.models import Client
from trainer_app.delivery.models import FAILED as DELIVERY_FAILED
from trainer_app.delivery.models import Delivery
from trainer_app.extensions import db
from trainer_app.plans.models import CLICK, PlanDocument
from trainer_app.plans.models import FAILED as PLAN_FAILED
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.referrals.models import ReferralLetter

DUE_WITHIN_DAYS = 7  # a re-test this close counts as due, so it can be booked
FAILURES_SINCE_DAYS = 30
LIMIT = 10


URGENCY_ORDER = ("emergency", "urgent", "routine")


@dataclass(frozen=True)
class RedFlagHold:
    client: Client
    assessment: Assessment
    urgency: str  # emergency | urgent | routine
    title: str  # the level's heading, e.g. "Emergency: same-day emergency care"
    letter: ReferralLetter | None  # the newest referral letter made for the assessment


@dataclass(frozen=True)
class RetestDue:
    client: Client
    program: Program
    days_left: int  # negative when overdue


@dataclass(frozen=True)
class FailedJob:
    client: Client
    program: Program | None  # None for a referral letter's email
    what: str  # "plan", "email" (a plan's) or "letter" (a referral letter's email)
    reason: str
    at: datetime
    document_id: int | None  # the plan document, or the referral letter for "letter"
    delivery_id: int | None = None


@dataclass(frozen=True)
class AssessedNoProgram:
    client: Client
    assessment: Assessment
    step: str  # "confirm" or "build"


def _current_programs(clinic_id: int):
    """Each client's newest program id (program ids grow with creation)."""
    return (
        select(Program.client_id, func.max(Program.id).label("program_id"))
        .where(Program.clinic_id == clinic_id)
        .group_by(Program.client_id)
        .subquery()
    )


def _latest_assessments(clinic_id: int):
    """Each client's newest assessment id (ids grow with creation)."""
    return (
        select(Assessment.client_id, func.max(Assessment.id).label("assessment_id"))
        .where(Assessment.clinic_id == clinic_id)
        .group_by(Assessment.client_id)
        .subquery()
    )


def red_flag_holds(clinic_id: int) -> list[RedFlagHold]:
    """Active clients whose latest assessment has an uncleared red flag: emergencies first, then
    urgent, then routine, the longest waiting first within a level.

    Not cut to ``LIMIT``: a client left off this list would be a client nobody refers.
    """
    latest = _latest_assessments(clinic_id)
    rows = db.session.execute(
        select(Client, Assessment)
        .join(latest, latest.c.client_id == Client.id)
        .join(Assessment, Assessment.id == latest.c.assessment_id)
        .where(
            Client.clinic_id == clinic_id,
            Client.archived_at.is_(None),
            Assessment.uncleared_red_flag,
        )
        .order_by(Assessment.created_at, Assessment.id)
    ).all()
    letters: dict[int, ReferralLetter] = {}
    if rows:
        for letter in db.session.scalars(
            select(ReferralLetter)
            .where(
                ReferralLetter.clinic_id == clinic_id,
                ReferralLetter.assessment_id.in_([a.id for _, a in rows]),
            )
            .order_by(ReferralLetter.id)
        ):
            letters[letter.assessment_id] = letter
    levels = default_questionnaire().red_flags.levels
    holds = []
    for client, assessment in rows:
        urgency = most_urgent(assessment) or "urgent"
        holds.append(
            RedFlagHold(
                client, assessment, urgency, levels[urgency].title, letters.get(assessment.id)
            )
        )
    return sorted(holds, key=lambda hold: URGENCY_ORDER.index(hold.urgency))


def retests_due(clinic_id: int, today: date) -> list[RetestDue]:
    """Active clients whose current program's re-test date is within a week or past, and who
    have not been assessed since that program was made."""
    current = _current_programs(clinic_id)
    reassessed = exists(
        select(Assessment.id).where(
            Assessment.client_id == Client.id, Assessment.created_at > Program.created_at
        )
    )
    rows = db.session.execute(
        select(Client, Program)
        .join(current, current.c.client_id == Client.id)
        .join(Program, Program.id == current.c.program_id)
        .where(
            Client.clinic_id == clinic_id,
            Client.archived_at.is_(None),
            Program.retest_on.is_not(None),
            Program.retest_on <= today + timedelta(days=DUE_WITHIN_DAYS),
            ~reassessed,
        )
        .order_by(Program.retest_on, Client.search_text, Client.id)
        .limit(LIMIT)
    ).all()
    return [RetestDue(c, p, (p.retest_on - today).days) for c, p in rows]


def failed_jobs(clinic_id: int, now: datetime) -> list[FailedJob]:
    """Plans that failed to render and emails (plans and referral letters) that failed to send
    in the last month, unless a later attempt for the same version (plans) or of the same kind
    to the same client (emails) went through."""
    since = now - timedelta(days=FAILURES_SINCE_DAYS)
    later_doc = aliased(PlanDocument)
    fixed_plan = exists(
        select(later_doc.id).where(
            later_doc.program_version_id == PlanDocument.program_version_id,
            later_doc.id > PlanDocument.id,
            later_doc.status != PLAN_FAILED,
        )
    )
    plans = db.session.execute(
        select(PlanDocument, Program, Client)
        .join(ProgramVersion, PlanDocument.program_version_id == ProgramVersion.id)
        .join(Program, ProgramVersion.program_id == Program.id)
        .join(Client, Program.client_id == Client.id)
        .where(
            PlanDocument.clinic_id == clinic_id,
            PlanDocument.status == PLAN_FAILED,
            PlanDocument.reused_from_id.is_(None),
            PlanDocument.origin == CLICK,  # a failed pre-render is nobody's error
            PlanDocument.created_at >= since,
            Client.archived_at.is_(None),
            ~fixed_plan,
        )
        .order_by(PlanDocument.created_at.desc())
        .limit(LIMIT)
    ).all()
    later = aliased(Delivery)

    def fixed_email(same_kind):
        # a later email of the same kind (plan or referral letter) to the client went through
        return exists(
            select(later.id).where(
                later.client_id == Delivery.client_id,
                later.id > Delivery.id,
                later.status != DELIVERY_FAILED,
                same_kind,
            )
        )

    emails = db.session.execute(
        select(Delivery, Program, Client)
        .join(PlanDocument, Delivery.plan_document_id == PlanDocument.id)
        .join(ProgramVersion, PlanDocument.program_version_id == ProgramVersion.id)
        .join(Program, ProgramVersion.program_id == Program.id)
        .join(Client, Delivery.client_id == Client.id)
        .where(
            Delivery.clinic_id == clinic_id,
            Delivery.status == DELIVERY_FAILED,
            Delivery.created_at >= since,
            Client.archived_at.is_(None),
            ~fixed_email(later.plan_document_id.is_not(None)),
        )
        .order_by(Delivery.created_at.desc())
        .limit(LIMIT)
    ).all()
    letter_emails = db.session.execute(
        select(Delivery, Client)
        .join(Client, Delivery.client_id == Client.id)
        .where(
            Delivery.clinic_id == clinic_id,
            Delivery.referral_letter_id.is_not(None),
            Delivery.status == DELIVERY_FAILED,
            Delivery.created_at >= since,
            Client.archived_at.is_(None),
            ~fixed_email(later.referral_letter_id.is_not(None)),
        )
        .order_by(Delivery.created_at.desc())
        .limit(LIMIT)
    ).all()
    items = (
        [
            FailedJob(c, p, "plan", d.error or "The PDF could not be made.", d.created_at, d.id)
            for d, p, c in plans
        ]
        + [
            FailedJob(
                c,
                p,
                "email",
                d.last_error or "The email could not be sent.",
                d.created_at,
                d.plan_document_id,
                d.id,
            )
            for d, p, c in emails
        ]
        + [
            FailedJob(
                c,
                None,
                "letter",
                d.last_error or "The email could not be sent.",
                d.created_at,
                d.referral_letter_id,
                d.id,
            )
            for d, c in letter_emails
        ]
    )
    return sorted(items, key=lambda item: item.at, reverse=True)[:LIMIT]


def assessed_without_program(clinic_id: int) -> list[AssessedNoProgram]:
    """Active clients whose latest assessment has no program made after it (a client held by
    a red flag is listed by ``red_flag_holds`` instead)."""
    latest = _latest_assessments(clinic_id)
    programmed = exists(
        select(Program.id).where(
            and_(Program.client_id == Client.id, Program.created_at >= Assessment.created_at)
        )
    )
    rows = db.session.execute(
        select(Client, Assessment)
        .join(latest, latest.c.client_id == Client.id)
        .join(Assessment, Assessment.id == latest.c.assessment_id)
        .where(
            Client.clinic_id == clinic_id,
            Client.archived_at.is_(None),
            ~programmed,
            # a held client is on the red-flag list instead
            ~Assessment.uncleared_red_flag,
        )
        .order_by(Assessment.created_at, Client.id)
        .limit(LIMIT)
        # the answers and the scored result stay in the database: the blocked column says
        # what the next step needs
        .options(defer(Assessment.answers), defer(Assessment.result))
    ).all()
    # an assessment that confirmed nothing to treat needs no program
    return [AssessedNoProgram(c, a, _next_step(a)) for c, a in rows if a.confirmed_imbalances != []]


def _next_step(assessment: Assessment) -> str:
    if assessment.confirmed_imbalances is None:
        return "confirm"
    return "build"
