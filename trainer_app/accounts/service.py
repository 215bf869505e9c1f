"""Account operations used by the views and the CLI. They flush; the caller commits."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from trainer_app.accounts.models import (
    INVITE_DAYS,
    AccountEmail,
    Clinic,
    Invitation,
    LoginSession,
    User,
)
from trainer_app.accounts.passwords import hash_password, needs_rehash, verify_password
from trainer_app.accounts.roles import ASSIGNABLE, LABELS, OWNER, TRAINER
from trainer_app.extensions import db
from trainer_app.timeutil import DEFAULT_ZONE, utcnow, valid_zone

log = logging.getLogger(__name__)
RESET_SALT = "password-reset"
INVITE_SALT = "invitation-v2"  # an invitation row's id (v1 tokens named a user; now void)
CONFIRM_SALT = "confirm-signup"
INVITE_MAX_AGE = INVITE_DAYS * 24 * 3600


class EmailTaken(ValueError):
    """An account with this email already exists (the CLI and the demo say so; pages don't)."""


class AlreadyMember(ValueError):
    """The invited address belongs to a member of the same clinic."""


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The user with this email, in any clinic (emails are unique across the product)."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def _new_workspace(
    *,
    name: str,
    email: str,
    password_hash: str,
    clinic_name: str,
    confirmed: bool,
    time_zone: str = DEFAULT_ZONE,
) -> User:
    if not valid_zone(time_zone):
        raise ValueError(f"Unknown time zone {time_zone!r}.")
    clinic = Clinic(name=clinic_name.strip(), contact=normalise_email(email), time_zone=time_zone)
    user = User(
        clinic=clinic,
        name=name.strip(),
        email=normalise_email(email),
        password_hash=password_hash,
        role="owner",
        email_confirmed_at=utcnow() if confirmed else None,
    )
    db.session.add_all([clinic, user])
    db.session.flush()
    return user


def register_trainer(
    *, name: str, email: str, password: str, clinic_name: str, time_zone: str = DEFAULT_ZONE
) -> User:
    """Create a clinic workspace and its owner account, confirmed (CLI and demo data)."""
    if find_user_by_email(email) is not None:
        raise EmailTaken("An account with this email already exists. Sign in instead.")
    return _new_workspace(
        name=name,
        email=email,
        password_hash=hash_password(password),
        clinic_name=clinic_name,
        confirmed=True,
        time_zone=time_zone,
    )


def request_signup(
    *, name: str, email: str, password: str, clinic_name: str, time_zone: str = DEFAULT_ZONE
) -> tuple[User, bool]:
    """A self-service sign-up: (the user to email, whether a new workspace was made).

    A new address gets an unconfirmed workspace and a confirmation link; an address that
    has an account gets a notice instead. The page answers the same in both cases, and the
    password is hashed in both, so neither the answer nor its timing tells them apart.
    """
    password_hash = hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None and existing.email_confirmed_at is None:
        # Nobody proved this address yet: the newest sign-up replaces the pending one (and its
        # links), so a stranger's sign-up never blocks the address's owner.
        discard_pending_signup(existing)
        existing = None
    if existing is not None:
        return existing, False
    user = _new_workspace(
        name=name,
        email=email,
        password_hash=password_hash,
        clinic_name=clinic_name,
        confirmed=False,
        time_zone=time_zone,
    )
    return user, True


def _confirm_seconds() -> int:
    return int(current_app.config["SIGNUP_CONFIRM_HOURS"] * 3600)


def signup_lapsed(user: User) -> bool:
    """An unconfirmed sign-up older than SIGNUP_CONFIRM_HOURS: it can no longer be confirmed."""
    if user.email_confirmed_at is not None:
        return False
    return user.created_at + timedelta(seconds=_confirm_seconds()) <= utcnow()


def discard_pending_signup(user: User) -> None:
    """Delete an unconfirmed sign-up and its empty workspace (nobody ever signed in to it)."""
    if user.email_confirmed_at is not None:
        raise ValueError("Only an unconfirmed sign-up can be discarded.")
    clinic_id = user.clinic_id
    db.session.execute(delete(AccountEmail).where(AccountEmail.user_id == user.id))
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.session.delete(user)
    db.session.flush()
    others = db.session.scalar(select(func.count()).where(User.clinic_id == clinic_id))
    if not others:
        db.session.execute(delete(Clinic).where(Clinic.id == clinic_id))
    db.session.flush()


def confirm_resend_due(user: User) -> bool:
    """Whether signing in may send the confirmation link again (at most every few minutes)."""
    since = utcnow() - timedelta(minutes=current_app.config["CONFIRM_RESEND_MINUTES"])
    recent = db.session.scalar(
        select(func.count()).where(
            AccountEmail.user_id == user.id,
            AccountEmail.kind == "confirm_signup",  # emails.CONFIRM (emails imports this module)
            AccountEmail.created_at > since,
        )
    )
    return not recent


def confirm_email(user: User) -> None:
    """Mark the address as proven (it opened a link sent there)."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.flush()


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same work either way)."""
    user = find_user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(user: User, password: str) -> None:
    """Store a new password hash; reset links issued before now stop working."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    db.session.flush()


def reset_password(user: User, password: str) -> None:
    """Set a password from an emailed link, which also proves the address."""
    set_password(user, password)
    confirm_email(user)


def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=purpose)


def _hash_fingerprint(user: User) -> str:
    # Tying the token to the current hash makes a used link (or one issued before a change) void.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_password_token(user: User, secret_key: str, purpose: str = RESET_SALT) -> str:
    """A signed token that sets ``user``'s password once (a reset, or an invitation)."""
    return _serializer(secret_key, purpose).dumps({"u": user.id, "h": _hash_fingerprint(user)})


def user_for_password_token(
    token: str, secret_key: str, max_age: int, purpose: str = RESET_SALT
) -> User | None:
    """The user a still-valid, unused token of this purpose belongs to, or None."""
    try:
        data = _serializer(secret_key, purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or not user.is_active or data.get("h") != _hash_fingerprint(user):
        return None
    return user


def invite_trainer(
    clinic: Clinic, *, invited_by: User, name: str, email: str, role: str = TRAINER
) -> Invitation:
    """Record an invitation to ``clinic`` (an open one to the same address is reused).

    :raise AlreadyMember: the address is already on this clinic's team (the owner sees the
        team anyway, so saying so reveals nothing).
    """
    address = normalise_email(email)
    existing = find_user_by_email(address)
    if existing is not None and existing.clinic_id == clinic.id:
        raise AlreadyMember(f"{existing.name} is already on your team.")
    invitation = db.session.scalar(
        select(Invitation).where(
            Invitation.clinic_id == clinic.id,
            Invitation.email == address,
            Invitation.accepted_at.is_(None),
            Invitation.withdrawn_at.is_(None),
        )
    )
    if invitation is None:
        invitation = Invitation(clinic=clinic, email=address)
        db.session.add(invitation)
    if role not in ASSIGNABLE:
        raise ValueError(f"Unknown role {role!r}.")
    invitation.name = name.strip()
    invitation.role = role
    invitation.invited_by = invited_by
    invitation.created_at = utcnow()
    db.session.flush()
    return invitation


def accept_invitation(invitation: Invitation, password: str) -> User:
    """Create the invited trainer's account, signed in by the caller.

    :raise EmailTaken: the address got an account since the invitation was sent.
    """
    existing = find_user_by_email(invitation.email)
    if existing is not None and existing.email_confirmed_at is None:
        discard_pending_signup(existing)  # the invitation link proves the address; theirs won
        existing = None
    if existing is not None:
        raise EmailTaken("This address already has an account. Sign in with it instead.")
    user = User(
        clinic_id=invitation.clinic_id,
        name=invitation.name,
        email=invitation.email,
        password_hash=hash_password(password),
        role=invitation.role or TRAINER,
        email_confirmed_at=utcnow(),  # the link came to this address
    )
    db.session.add(user)
    invitation.accepted_at = utcnow()
    db.session.flush()
    return user


def make_invitation_token(invitation: Invitation, secret_key: str) -> str:
    """A signed link token naming the invitation (valid while it is open)."""
    return _serializer(secret_key, INVITE_SALT).dumps({"i": invitation.id})


def invitation_for_token(token: str, secret_key: str) -> Invitation | None:
    """The open invitation a still-valid token names, or None."""
    try:
        data = _serializer(secret_key, INVITE_SALT).loads(token, max_age=INVITE_MAX_AGE)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        return None
    invitation = db.session.get(Invitation, data["i"])
    if invitation is None or not invitation.is_open:
        return None
    return invitation


def make_confirm_token(user: User, secret_key: str) -> str:
    """A signed link token that confirms a sign-up (works until the address is confirmed)."""
    # The hash's fingerprint ties the link to this sign-up: a replaced one's links are void.
    return _serializer(secret_key, CONFIRM_SALT).dumps({"u": user.id, "h": _hash_fingerprint(user)})


def user_for_confirm_token(token: str, secret_key: str) -> User | None:
    """The unconfirmed user a still-valid confirmation token names, or None."""
    try:
        data = _serializer(secret_key, CONFIRM_SALT).loads(token, max_age=_confirm_seconds())
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active or user.email_confirmed_at is not None:
        return None
    if data.get("h") != _hash_fingerprint(user) or signup_lapsed(user):
        return None
    return user


def change_role(user: User, role: str) -> None:
    """Give a member another role (trainer or front desk); the owner stays the owner.

    Open sessions carry on: every request reads the role afresh, so the change applies at once.
    """
    if user.role == OWNER:
        raise ValueError("The clinic's owner keeps the owner's role.")
    if role not in ASSIGNABLE:
        raise ValueError(f"Choose one of: {', '.join(LABELS[r] for r in ASSIGNABLE)}.")
    user.role = role
    db.session.flush()


def set_active(user: User, active: bool) -> None:
    """Let a trainer sign in again, or stop them (their open sessions end at once)."""
    if user.role == OWNER and not active:
        raise ValueError("The clinic's owner cannot be deactivated.")
    user.is_active_user = active
    if not active:
        db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.session.flush()
