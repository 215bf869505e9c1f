"""Account mail: password links, sign-up confirmations, invitations and "already has an account".

Each email is an :class:`AccountEmail` row recorded with the request and sent by a worker
(record, then enqueue), so answering a request takes the same time whether or not the
address has an account. The row holds ids only; the signed link is made when the worker
sends, so no token sits in the database or in a broker message. Without SMTP_URL the mail
goes to the operator-only account-mail folder, never to the clinic outbox that members can
read, and in development the link is also written to the server log.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import and_, or_, select, update

from trainer_app.accounts import service
from trainer_app.accounts.models import AccountEmail, Invitation, User
from trainer_app.delivery.mailer import Address, MailError, build_message, make_message_id
from trainer_app.extensions import db
from trainer_app.jobs import (
    Heartbeat,
    due_to_send,
    keep_claim,
    relay_cutoff,
    retry_delay,
    stale_before,
)
from trainer_app.mail import account_transport, compose
from trainer_app.timeutil import format_local, utcnow

log = logging.getLogger(__name__)
SEND_TASK = "accounts.send_email"
PRODUCT_NAME = "Corrective Plans"

RESET = "password_reset"  # a link to choose a new password
CONFIRM = "confirm_signup"  # a link that finishes a self-service sign-up
SIGNUP_TAKEN = "signup_taken"  # someone tried to sign up with an address that has an account
INVITATION = "invite"  # a link to join a clinic
INVITE_TAKEN = "invite_taken"  # a clinic tried to invite an address that has an account
KINDS = (RESET, CONFIRM, SIGNUP_TAKEN, INVITATION, INVITE_TAKEN)

QUEUED, SENDING, SENT, RETRYING, FAILED, CANCELLED = (
    "queued",
    "sending",
    "sent",
    "retrying",
    "failed",
    "cancelled",
)


@dataclass(frozen=True)
class SendOutcome:
    """What a send did, and when to try again (seconds) if it should."""

    status: str
    retry_in: float | None = None


def record(kind: str, *, user: User | None = None, invitation: Invitation | None = None):
    """Add an account email job to the session (the caller commits, then enqueues its id)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown account email {kind!r}.")
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2]
    row = AccountEmail(
        kind=kind,
        user=user,
        invitation=invitation,
        status=QUEUED,
        message_id=make_message_id("account-" + secrets.token_hex(16), domain),
    )
    db.session.add(row)
    db.session.flush()
    return row


def record_invitation(invitation: Invitation) -> AccountEmail:
    """The email an invitation sends: the link, or a notice to an address that has an account.

    The owner sees the same answer either way, so inviting does not reveal who has an account.
    """
    existing = service.find_user_by_email(invitation.email)
    if existing is not None and existing.email_confirmed_at is None:
        # A sign-up nobody confirmed is no account: the invitation replaces it, unsaid.
        service.discard_pending_signup(existing)
        existing = None
    if existing is not None:
        return record(INVITE_TAKEN, user=existing, invitation=invitation)
    return record(INVITATION, invitation=invitation)


# ---------------------------------------------------------------------------------------------
# Sending (worker)


def _claim(email_id: int, claim_id: str) -> bool:
    """Atomically take a due job (or one this same task held before its worker died)."""
    now = utcnow()
    result = db.session.execute(
        update(AccountEmail)
        .where(
            AccountEmail.id == email_id,
            due_to_send(AccountEmail, claim_id, now, waiting=(QUEUED, RETRYING), sending=SENDING),
        )
        .values(
            status=SENDING,
            claimed_by=claim_id,
            claimed_at=now,
            heartbeat_at=now,
            attempts=AccountEmail.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _link(endpoint: str, token: str) -> str:
    # Workers have no request: build the link against PUBLIC_URL (which may carry a path).
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, token=token, _external=True)


def _plain_link(endpoint: str) -> str:
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _until(moment: datetime, zone: str | None) -> str:
    """When a link stops working, in the clinic's time with its zone ("3 Dec 2026, 14:05 CET")."""
    return format_local(moment, zone, "datetime_zone")


def _message(row: AccountEmail) -> tuple[object, str | None] | None:
    """(OutgoingEmail, the link it carries) for a job, or None when it no longer applies."""
    user, invitation = row.user, row.invitation
    if row.kind == RESET:
        if user is None or not user.is_active:
            return None
        token = service.make_password_token(user, _secret(), service.RESET_SALT)
        link = _link("accounts.reset_password", token)
        return (
            compose(
                "password_reset",
                to_name=user.name,
                to_email=user.email,
                sender_name=user.clinic.name,
                context={
                    "trainer_name": user.name,
                    "clinic_name": user.clinic.name,
                    "reset_url": link,
                    "expires_minutes": current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
                    "expires_at": _until(
                        utcnow() + timedelta(seconds=current_app.config["PASSWORD_RESET_MAX_AGE"]),
                        user.clinic.time_zone,
                    ),
                },
                message_id=row.message_id,
            ),
            link,
        )
    if row.kind == CONFIRM:
        if user is None or user.email_confirmed_at is not None:
            return None
        link = _link("accounts.confirm_email", service.make_confirm_token(user, _secret()))
        return (
            compose(
                "confirm_signup",
                to_name=user.name,
                to_email=user.email,
                sender_name=PRODUCT_NAME,
                context={
                    "trainer_name": user.name,
                    "clinic_name": user.clinic.name,
                    "confirm_url": link,
                    "expires_hours": round(current_app.config["SIGNUP_CONFIRM_HOURS"]),
                    "expires_at": _until(
                        user.created_at
                        + timedelta(hours=current_app.config["SIGNUP_CONFIRM_HOURS"]),
                        user.clinic.time_zone,
                    ),
                },
                message_id=row.message_id,
            ),
            link,
        )
    if row.kind == SIGNUP_TAKEN:
        if user is None:
            return None
        return (
            compose(
                "signup_taken",
                to_name=user.name,
                to_email=user.email,
                sender_name=PRODUCT_NAME,
                context={
                    "trainer_name": user.name,
                    "sign_in_url": _plain_link("accounts.login"),
                    "reset_url": _plain_link("accounts.reset_request"),
                },
                message_id=row.message_id,
            ),
            None,
        )
    if invitation is None or not invitation.is_open:
        return None
    owner = invitation.invited_by
    owner_name = owner.name if owner else invitation.clinic.name
    reply_to = Address(owner.name, owner.email) if owner else None
    if row.kind == INVITE_TAKEN:
        if user is None:
            return None
        return (
            compose(
                "invite_taken",
                to_name=user.name,
                to_email=user.email,
                sender_name=PRODUCT_NAME,
                context={
                    "trainer_name": user.name,
                    "owner_name": owner_name,
                    "clinic_name": invitation.clinic.name,
                    "sign_in_url": _plain_link("accounts.login"),
                    "reset_url": _plain_link("accounts.reset_request"),
                },
                message_id=row.message_id,
            ),
            None,
        )
    link = _link("accounts.accept_invitation", service.make_invitation_token(invitation, _secret()))
    return (
        compose(
            "invite",
            to_name=invitation.name,
            to_email=invitation.email,
            sender_name=invitation.clinic.name,
            reply_to=reply_to,
            context={
                "trainer_name": invitation.name,
                "owner_name": owner_name,
                "clinic_name": invitation.clinic.name,
                "invite_url": link,
                "expires_days": service.INVITE_MAX_AGE // 86400,
                "expires_at": _until(invitation.expires_at, invitation.clinic.time_zone),
            },
            message_id=row.message_id,
        ),
        link,
    )


def send_account_email(email_id: int, claim_id: str) -> SendOutcome:
    """Worker body: claim the job, build its link and message, send once, record the outcome."""
    if not _claim(email_id, claim_id):
        return SendOutcome("skipped")
    failure: MailError | None = None
    with Heartbeat(AccountEmail, email_id, claim_id, SENDING):
        row = db.session.get(AccountEmail, email_id, populate_existing=True)
        now = utcnow()
        built = _message(row)
        if built is not None:
            outgoing, link = built
            try:
                account_transport().send(build_message(outgoing))
            except MailError as exc:
                failure = exc
    if not keep_claim(AccountEmail, email_id, claim_id, working=SENDING):
        db.session.rollback()
        log.warning("account email %s was taken over by another worker", email_id)
        return SendOutcome("superseded")
    if built is None:  # the invitation was withdrawn, the account confirmed or deactivated
        row.status = CANCELLED
        row.last_error = "No longer needed."
        db.session.commit()
        return SendOutcome(CANCELLED)
    if failure is not None:
        return _record_failure(row, failure, now)
    row.status = SENT
    row.sent_at = utcnow()
    row.last_error = None
    row.next_attempt_at = None
    db.session.commit()
    if current_app.config.get("SMTP_URL") is None:
        _log_local_copy(row, link)
    return SendOutcome(SENT)


def _log_local_copy(row: AccountEmail, link: str | None) -> None:
    """Tell the operator where the mail went; in development the log also carries the link."""
    folder = current_app.config["ACCOUNT_MAIL_FOLDER"]
    if link and current_app.config["TRAINER_ENV"] != "production":
        log.info(
            "Account email %s (%s) written to %s; its link: %s", row.id, row.kind, folder, link
        )
    else:
        log.info("Account email %s (%s) written to %s", row.id, row.kind, folder)


def _record_failure(row: AccountEmail, exc: MailError, now: datetime) -> SendOutcome:
    row.last_error = exc.reason
    if exc.permanent or row.attempts >= current_app.config["DELIVERY_MAX_ATTEMPTS"]:
        row.status = FAILED
        row.next_attempt_at = None
        db.session.commit()
        log.warning("account email %s failed: %s", row.id, exc.reason)
        return SendOutcome(FAILED)
    delay = retry_delay(row.attempts)
    row.status = RETRYING
    row.next_attempt_at = now + timedelta(seconds=delay)
    row.queued_at = now
    db.session.commit()
    log.info("account email %s will retry in %.1f s: %s", row.id, delay, exc.reason)
    return SendOutcome(RETRYING, retry_in=delay)


def due_for_relay(now: datetime) -> list[int]:
    """Jobs to publish again: queued too long, retries that are due, claims of dead workers.

    ``queued_at`` moves to now so the next relay skips them; a claim is taken back only when
    its heartbeat has been silent for STALE_CLAIM_SECONDS, and each ``UPDATE`` repeats its
    condition, so a heartbeat written in between keeps the claim. The caller commits, then
    publishes.
    """
    cutoff = relay_cutoff(now)
    abandoned = stale_before(now)
    waiting = and_(
        AccountEmail.status.in_((QUEUED, RETRYING)),
        AccountEmail.queued_at < cutoff,
        or_(AccountEmail.next_attempt_at.is_(None), AccountEmail.next_attempt_at <= now),
    )
    dead_claim = and_(AccountEmail.status == SENDING, AccountEmail.heartbeat_at < abandoned)
    stmt = (
        select(AccountEmail.id)
        .where(or_(waiting, dead_claim))
        .order_by(AccountEmail.queued_at)
        .limit(200)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    candidates = db.session.scalars(stmt).all()
    if not candidates:
        return []
    taken_back = db.session.scalars(
        update(AccountEmail)
        .where(AccountEmail.id.in_(candidates), dead_claim)
        .values(status=RETRYING, next_attempt_at=now, queued_at=now)
        .returning(AccountEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    still_waiting = db.session.scalars(
        update(AccountEmail)
        .where(AccountEmail.id.in_(candidates), waiting)
        .values(queued_at=now)
        .returning(AccountEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    return [*taken_back, *still_waiting]
