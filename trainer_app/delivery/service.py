"""Email deliveries of plan PDFs: record with the click, claim before sending, record outcomes.

The row is the job. A delivery is written in the request's transaction (one per idempotency
key), published after commit, claimed atomically by exactly one task, and every attempt is
recorded. Only a worker killed between the server's acceptance and our commit can cause a
second copy, and that copy carries the same Message-ID.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from trainer_app.accounts.models import Clinic, User
from trainer_app.clients.models import Client
from trainer_app.delivery.mailer import (
    Address,
    Attachment,
    MailError,
    OutgoingEmail,
    PermanentMailError,
    build_message,
    make_message_id,
)
from trainer_app.delivery.models import (
    FAILED,
    QUEUED,
    RETRYING,
    SENDING,
    SENT,
    Delivery,
    DeliveryAttempt,
)
from trainer_app.extensions import db
from trainer_app.jobs import record_once
from trainer_app.mail import compose, current_transport
from trainer_app.plans.models import READY, PlanDocument
from trainer_app.plans.service import pdf_bytes
from trainer_app.programs.builder import draft_from_dict
from trainer_app.programs.models import ProgramVersion
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)
SEND_TASK = "delivery.send"
# A task may arrive a moment before its scheduled retry time (clocks, rounding).
EARLY_TOLERANCE = timedelta(seconds=2)


@dataclass(frozen=True)
class SendOutcome:
    """What a send task did, and when to try again (seconds) if it should."""

    status: str
    retry_in: float | None = None


def cannot_email_reason(client: Client, document: PlanDocument | None = None) -> str | None:
    """Why this plan cannot be emailed to this client, or None when it can."""
    if client.is_archived:
        return "The client is archived."
    if not client.email:
        return "Add the client's email address first."
    if not client.email_consent:
        return "The client has not agreed to receive email."
    if document is not None and document.status != READY:
        return "The PDF is not ready yet."
    return None


def request_delivery(
    document: PlanDocument, *, user: User, idempotency_key: str
) -> tuple[Delivery, bool]:
    """Record an "Email plan to client" click; return (delivery, created).

    The same key (a double click, a retried request) returns the first delivery.
    """
    key = clinic_key(document.clinic_id, idempotency_key)
    existing = db.session.scalar(select(Delivery).where(Delivery.idempotency_key == key))
    if existing is not None:
        return existing, False
    client = document.program_version.program.client
    reason = cannot_email_reason(client, document)
    if reason:
        raise ValueError(reason)
    delivery = Delivery(
        clinic_id=document.clinic_id,
        client_id=client.id,
        plan_document_id=document.id,
        idempotency_key=key,
        to_name=client.name,
        to_email=client.email,
        status=QUEUED,
        created_by_id=user.id,
        # Fixed with the row and random per click: every send of this delivery carries it, and
        # it never repeats across deliveries or installations (mail clients dedupe on it).
        message_id=make_message_id(key, _mail_domain()),
    )
    return record_once(delivery, Delivery.idempotency_key)


def _mail_domain() -> str:
    return current_app.config["MAIL_FROM"].rpartition("@")[2]


def claim_for_send(delivery_id: int, claim_id: str) -> DeliveryAttempt | None:
    """Atomically take a delivery that is due and open its attempt; None if not ours.

    One commit makes the claim and the attempt row visible before anything reaches the mail
    server. A message redelivered after its worker died (same task id) takes back its claim.
    """
    now = utcnow()
    attempts = db.session.scalar(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            or_(
                and_(
                    Delivery.status.in_((QUEUED, RETRYING)),
                    or_(
                        Delivery.next_attempt_at.is_(None),
                        Delivery.next_attempt_at <= now + EARLY_TOLERANCE,
                    ),
                ),
                and_(Delivery.status == SENDING, Delivery.claimed_by == claim_id),
            ),
        )
        .values(
            status=SENDING,
            claimed_by=claim_id,
            claimed_at=now,
            attempts=Delivery.attempts + 1,
        )
        .returning(Delivery.attempts)
        .execution_options(synchronize_session=False)
    )
    if attempts is None:
        db.session.commit()
        return None
    clinic_id = db.session.scalar(select(Delivery.clinic_id).where(Delivery.id == delivery_id))
    attempt = DeliveryAttempt(
        clinic_id=clinic_id, delivery_id=delivery_id, number=attempts, started_at=now
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter, capped."""
    base = current_app.config["DELIVERY_RETRY_BASE_SECONDS"]
    cap = current_app.config["DELIVERY_RETRY_MAX_SECONDS"]
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311  (jitter, not security)


def _load_for_send(delivery_id: int) -> Delivery:
    """The delivery with everything its message needs, in one query."""
    version = joinedload(Delivery.document).joinedload(PlanDocument.program_version)
    return db.session.scalar(
        select(Delivery)
        .where(Delivery.id == delivery_id)
        .options(
            joinedload(Delivery.client).joinedload(Client.primary_trainer),
            version.joinedload(ProgramVersion.created_by),
            joinedload(Delivery.document).undefer(PlanDocument.pdf),
        )
        .execution_options(populate_existing=True)
    )


def _message(delivery: Delivery) -> OutgoingEmail:
    document = delivery.document
    version = document.program_version
    clinic = db.session.get(Clinic, delivery.clinic_id)
    trainer = version.created_by or delivery.client.primary_trainer
    draft = draft_from_dict(version.content)
    pdf = pdf_bytes(document)
    if pdf is None:
        raise PermanentMailError("The PDF of this plan is no longer available.")
    return compose(
        "plan",
        to_name=delivery.to_name,
        to_email=delivery.to_email,
        sender_name=clinic.name,
        reply_to=Address(trainer.name, trainer.email) if trainer else None,
        attachments=(Attachment(f"exercise-plan-v{version.number}.pdf", "application/pdf", pdf),),
        message_id=delivery.message_id,
        context={
            "clinic_name": clinic.name,
            "client_name": delivery.to_name,
            "trainer_name": trainer.name if trainer else clinic.name,
            "trainer_email": trainer.email if trainer else "",
            "sessions_per_week": draft.sessions_per_week,
            "weeks": draft.weeks,
        },
    )


def send_delivery(delivery_id: int, claim_id: str) -> SendOutcome:
    """Worker body: claim, send once, record the attempt and the outcome."""
    attempt = claim_for_send(delivery_id, claim_id)
    if attempt is None:
        return SendOutcome("skipped")
    delivery = _load_for_send(delivery_id)
    try:
        reason = cannot_email_reason(delivery.client)
        if reason:
            raise PermanentMailError(reason)
        message = build_message(_message(delivery))
        current_transport(delivery.clinic_id).send(message)
    except MailError as exc:
        return _record_failure(delivery, attempt, exc)
    now = utcnow()
    delivery.status = SENT
    delivery.sent_at = now
    delivery.last_error = None
    delivery.next_attempt_at = None
    attempt.outcome = "sent"
    attempt.finished_at = now
    db.session.commit()
    log.info("delivery %s sent on attempt %s", delivery_id, attempt.number)
    return SendOutcome(SENT)


def _record_failure(delivery: Delivery, attempt: DeliveryAttempt, exc: MailError) -> SendOutcome:
    now = utcnow()
    attempt.finished_at = now
    attempt.detail = exc.reason
    delivery.last_error = exc.reason
    max_attempts = current_app.config["DELIVERY_MAX_ATTEMPTS"]
    if exc.permanent or delivery.attempts >= max_attempts:
        delivery.status = FAILED
        delivery.next_attempt_at = None
        attempt.outcome = "failed"
        if not exc.permanent:
            delivery.last_error = f"Gave up after {delivery.attempts} attempts: {exc.reason}"
        db.session.commit()
        log.warning("delivery %s failed: %s", delivery.id, delivery.last_error)
        return SendOutcome(FAILED)
    delay = _backoff(delivery.attempts)
    delivery.status = RETRYING
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.queued_at = now
    attempt.outcome = "retry"
    db.session.commit()
    log.info("delivery %s will retry in %.1f s: %s", delivery.id, delay, exc.reason)
    return SendOutcome(RETRYING, retry_in=delay)


def due_for_relay(now: datetime, session: Session | None = None) -> list[int]:
    """Deliveries to publish again: queued too long, retries that are due, dead claims.

    ``queued_at`` moves to now for each, so another relay (or the next run) skips them;
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL keeps two concurrent relays apart. The caller
    commits, then publishes. ``session`` defaults to the app's (tests pass a second one).
    """
    session = session or db.session
    cutoff = now - timedelta(seconds=current_app.config["RELAY_AFTER_SECONDS"])
    abandoned = now - timedelta(seconds=current_app.config["STALE_CLAIM_SECONDS"])
    stmt = (
        select(Delivery)
        .where(
            or_(
                and_(
                    Delivery.status.in_((QUEUED, RETRYING)),
                    Delivery.queued_at < cutoff,
                    or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
                ),
                and_(Delivery.status == SENDING, Delivery.claimed_at < abandoned),
            )
        )
        .order_by(Delivery.queued_at)
        .limit(200)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    deliveries = session.scalars(stmt).all()
    for delivery in deliveries:
        if delivery.status == SENDING:
            delivery.status = RETRYING
            delivery.next_attempt_at = now
        delivery.queued_at = now
    session.flush()
    return [delivery.id for delivery in deliveries]
