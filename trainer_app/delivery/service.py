"""Email deliveries of plan PDFs: record with the click, claim before sending, record outcomes.

The row is the job. A delivery is written in the request's transaction (one per idempotency
key), published after commit, claimed atomically by exactly one task, and every attempt is
recorded. Only a worker killed between the server's acceptance and our commit can cause a
second copy, and that copy carries the same Message-ID.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from trainer_app.accounts.models import DEFAULT_ACCENT, Clinic, User
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.service import ClinicalHold, clinical_hold, plan_hold
from trainer_app.clients.models import Client
from trainer_app.delivery.mailer import (
    Address,
    Attachment,
    InlineImage,
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
from trainer_app.jobs import (
    Heartbeat,
    due_to_send,
    keep_claim,
    record_once,
    relay_cutoff,
    retry_delay,
    stale_before,
)
from trainer_app.mail import compose, current_transport, render_email
from trainer_app.plans.context import logo_data_uri
from trainer_app.plans.models import READY, PlanDocument
from trainer_app.plans.service import pdf_bytes
from trainer_app.programs.builder import draft_from_dict
from trainer_app.programs.models import ProgramVersion
from trainer_app.progress.service import active_link_url
from trainer_app.referrals.models import ReferralLetter
from trainer_app.referrals.service import pdf_bytes as letter_pdf_bytes
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import format_local, utcnow

log = logging.getLogger(__name__)
SEND_TASK = "delivery.send"
NOTE_MAX = 1000
FILENAME_MAX = 120
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# Characters that file systems or mail clients treat specially in a file name.
_FILENAME_UNSAFE = re.compile(r'[\\/:*?"<>|]+')


@dataclass(frozen=True)
class SendOutcome:
    """What a send task did, and when to try again (seconds) if it should."""

    status: str
    retry_in: float | None = None


def cannot_email_reason(
    client: Client,
    document: PlanDocument | None = None,
    *,
    plan: bool = True,
    hold: ClinicalHold | None | bool = False,
) -> str | None:
    """Why this plan (``plan=False``: the referral letter) cannot be emailed, or None.

    A plan is never emailed while the client has an open red flag; the referral letter is
    exactly what is sent then. ``hold``: the document's hold when the caller has just checked
    it (False: look it up).
    """
    if client.is_archived:
        return "The client is archived."
    if not client.email:
        return "Add the client's email address first."
    if not client.email_consent:
        return "The client has not agreed to receive email."
    if not plan:
        hold = None
    elif hold is False:  # a plan saved before the latest red flag waits for the review too
        hold = (
            plan_hold(document.program_version)
            if document is not None
            else clinical_hold(client.clinic_id, client.id)
        )
    if hold is not None:
        return hold.reason
    if document is not None and document.status != READY:
        return "The PDF is not ready yet."
    return None


def clean_note(text: str | None) -> str:
    """The trainer's note as plain text: line breaks kept, control and format characters
    (bidi overrides, zero-width characters) dropped, at most NOTE_MAX characters."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs")
    )
    lines = [line.rstrip() for line in kept.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()[:NOTE_MAX]


def attachment_name(client_name: str, program_title: str) -> str:
    """The PDF's file name for the client, e.g. "Maria Jensen - Back-care program.pdf".

    Only characters any file system and mail client take: no path separators, no control or
    bidi characters, no "=?" (which mail software reads as an encoded word).
    """

    def part(text: str) -> str:
        text = "".join(
            " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
        )
        text = _FILENAME_UNSAFE.sub(" ", text).replace("=", " ")
        return " ".join(text.split()).strip(". ")

    stem = " - ".join(p for p in (part(client_name), part(program_title)) if p) or "Exercise plan"
    return stem[:FILENAME_MAX].rstrip(" .-") + ".pdf"


def _accent(clinic: Clinic) -> tuple[str, str]:
    """The clinic's accent colour and a text colour readable on it (WCAG contrast)."""
    colour = clinic.accent_color if _HEX_COLOUR.fullmatch(clinic.accent_color or "") else ""
    colour = colour or DEFAULT_ACCENT

    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    background = luminance(colour)
    on_white = (1.05) / (background + 0.05)
    on_dark = (background + 0.05) / (luminance("#1f2933") + 0.05)
    return colour, "#ffffff" if on_white >= on_dark else "#1f2933"


def warning_signs() -> list[str]:
    """When a client must stop and get help at once, in their words: the emergency red flags."""
    q = default_questionnaire()
    return [f.client_text for f in q.red_flags.questions if f.urgency == "emergency"]


@dataclass(frozen=True)
class PlanEmail:
    """The plan email exactly as it goes out, and the same HTML with the logo for a browser."""

    email: OutgoingEmail
    preview_html: str


def plan_email(
    document: PlanDocument,
    *,
    to_name: str,
    to_email: str,
    note: str = "",
    message_id: str | None = None,
    pdf: bytes | None = None,
) -> PlanEmail:
    """Compose the plan email for a document: what the preview shows is what is sent.

    The clinic's name, accent colour and logo brand the HTML part; the logo travels inside
    the message as an inline (cid:) image, never as a remote one.
    """
    version = document.program_version
    program = version.program
    clinic = db.session.get(Clinic, document.clinic_id)
    trainer = version.created_by or program.client.primary_trainer
    draft = draft_from_dict(version.content)
    accent, on_accent = _accent(clinic)
    logo = None
    if clinic.logo and clinic.logo_mime in ("image/png", "image/jpeg"):
        logo = InlineImage(f"clinic-logo@{_mail_domain()}", clinic.logo_mime, clinic.logo)
    context = {
        "clinic_name": clinic.name,
        "client_name": to_name,
        "trainer_name": trainer.name if trainer else clinic.name,
        "trainer_email": trainer.email if trainer else "",
        "sessions_per_week": draft.sessions_per_week,
        "weeks": draft.weeks,
        "note": clean_note(note),
        "accent_color": accent,
        "on_accent_color": on_accent,
        "retest_on": format_local(program.retest_on, clinic.time_zone, "date"),
        "logo_src": f"cid:{logo.cid}" if logo else None,
        "progress_url": active_link_url(program.client_id),
        "warning_signs": warning_signs(),
    }
    email_ = compose(
        "plan",
        to_name=to_name,
        to_email=to_email,
        sender_name=clinic.name,
        reply_to=Address(trainer.name, trainer.email) if trainer else None,
        attachments=(
            Attachment(attachment_name(to_name, program.title), "application/pdf", pdf or b""),
        ),
        message_id=message_id,
        context=context,
        inline_images=(logo,) if logo else (),
    )
    preview_html = email_.html or ""
    if logo:
        preview_html = render_email("plan", dict(context, logo_src=logo_data_uri(clinic)))[2]
    return PlanEmail(email_, preview_html)


def request_delivery(
    document: PlanDocument, *, user: User, idempotency_key: str, note: str = ""
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
        personal_note=clean_note(note) or None,
        # Fixed with the row and random per click: every send of this delivery carries it, and
        # it never repeats across deliveries or installations (mail clients dedupe on it).
        message_id=make_message_id(key, _mail_domain()),
    )
    return record_once(delivery, Delivery.idempotency_key)


def request_letter_delivery(
    letter: ReferralLetter, *, user: User, idempotency_key: str
) -> tuple[Delivery, bool]:
    """Record an "Email the letter to the client" click; return (delivery, created).

    :raise ValueError: the client cannot get email, or the letter is not ready.
    """
    key = clinic_key(letter.clinic_id, idempotency_key)
    existing = db.session.scalar(select(Delivery).where(Delivery.idempotency_key == key))
    if existing is not None:
        return existing, False
    client = letter.client
    reason = cannot_email_reason(client, plan=False)
    if reason is None and letter.status != READY:
        reason = "The letter is not ready yet."
    if reason:
        raise ValueError(reason)
    delivery = Delivery(
        clinic_id=letter.clinic_id,
        client_id=client.id,
        referral_letter_id=letter.id,
        idempotency_key=key,
        to_name=client.name,
        to_email=client.email,
        status=QUEUED,
        created_by_id=user.id,
        message_id=make_message_id(key, _mail_domain()),
    )
    return record_once(delivery, Delivery.idempotency_key)


def letter_email(
    letter: ReferralLetter, *, to_name: str, to_email: str, message_id: str | None, pdf: bytes
) -> OutgoingEmail:
    """The email that carries a referral letter to the client, in plain words."""
    clinic = db.session.get(Clinic, letter.clinic_id)
    trainer = letter.assessment.trainer or letter.created_by
    levels = default_questionnaire().red_flags.levels
    urgencies = [f.get("urgency") for f in letter.assessment.result.get("red_flags") or []]
    most = next((u for u in ("emergency", "urgent", "routine") if u in urgencies), None)
    context = {
        "clinic_name": clinic.name,
        "client_name": to_name,
        "trainer_name": trainer.name if trainer else clinic.name,
        "trainer_email": trainer.email if trainer else "",
        "advice": levels[most].client_text if most else "Please see your doctor soon.",
    }
    return compose(
        "referral",
        to_name=to_name,
        to_email=to_email,
        sender_name=clinic.name,
        reply_to=Address(trainer.name, trainer.email) if trainer else None,
        attachments=(
            Attachment(attachment_name(to_name, "Referral letter"), "application/pdf", pdf or b""),
        ),
        message_id=message_id,
        context=context,
    )


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
            due_to_send(Delivery, claim_id, now, waiting=(QUEUED, RETRYING), sending=SENDING),
        )
        .values(
            status=SENDING,
            claimed_by=claim_id,
            claimed_at=now,
            heartbeat_at=now,
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
            joinedload(Delivery.letter).undefer(ReferralLetter.pdf),
        )
        .execution_options(populate_existing=True)
    )


def _message(delivery: Delivery) -> OutgoingEmail:
    if delivery.letter is not None:
        pdf = letter_pdf_bytes(delivery.letter)
        if pdf is None:
            raise PermanentMailError("The referral letter is no longer available.")
        return letter_email(
            delivery.letter,
            to_name=delivery.to_name,
            to_email=delivery.to_email,
            message_id=delivery.message_id,
            pdf=pdf,
        )
    document = delivery.document
    pdf = pdf_bytes(document)
    if pdf is None:
        raise PermanentMailError("The PDF of this plan is no longer available.")
    return plan_email(
        document,
        to_name=delivery.to_name,
        to_email=delivery.to_email,
        note=delivery.personal_note or "",
        message_id=delivery.message_id,
        pdf=pdf,
    ).email


def send_delivery(delivery_id: int, claim_id: str) -> SendOutcome:
    """Worker body: claim, send once, record the attempt and the outcome."""
    attempt = claim_for_send(delivery_id, claim_id)
    if attempt is None:
        return SendOutcome("skipped")
    failure: MailError | None = None
    with Heartbeat(Delivery, delivery_id, claim_id, SENDING):
        delivery = _load_for_send(delivery_id)
        try:
            # a plan queued before a red flag is not sent; the referral letter is
            reason = cannot_email_reason(
                delivery.client, delivery.document, plan=delivery.letter is None
            )
            if reason:
                raise PermanentMailError(reason)
            message = build_message(_message(delivery))
            current_transport(delivery.clinic_id).send(message)
        except MailError as exc:
            failure = exc
    if not keep_claim(Delivery, delivery_id, claim_id, working=SENDING):
        db.session.rollback()
        log.warning("delivery %s was taken over by another worker; outcome dropped", delivery_id)
        return SendOutcome("superseded")
    if failure is not None:
        return _record_failure(delivery, attempt, failure)
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
    delay = retry_delay(delivery.attempts)
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
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL keeps two concurrent relays apart, and each
    ``UPDATE`` repeats its condition, so a heartbeat written in between keeps its claim. The
    caller commits, then publishes. ``session`` defaults to the app's (tests pass a second one).
    """
    session = session or db.session
    cutoff = relay_cutoff(now)
    abandoned = stale_before(now)
    waiting = and_(
        Delivery.status.in_((QUEUED, RETRYING)),
        Delivery.queued_at < cutoff,
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
    )
    dead_claim = and_(Delivery.status == SENDING, Delivery.heartbeat_at < abandoned)
    stmt = (
        select(Delivery.id).where(or_(waiting, dead_claim)).order_by(Delivery.queued_at).limit(200)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    candidates = session.scalars(stmt).all()
    if not candidates:
        return []
    taken_back = session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(candidates), dead_claim)
        .values(status=RETRYING, next_attempt_at=now, queued_at=now)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    still_waiting = session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(candidates), waiting)
        .values(queued_at=now)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    return [*taken_back, *still_waiting]
