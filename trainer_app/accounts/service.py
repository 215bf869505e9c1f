"""Account operations used by the views and the CLI. They flush; the caller commits."""

from __future__ import annotations

import hashlib
import logging
import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from trainer_app.accounts.models import Clinic, LoginSession, User
from trainer_app.accounts.passwords import hash_password, needs_rehash, verify_password
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)
RESET_SALT = "password-reset"
INVITE_SALT = "invitation"
INVITE_MAX_AGE = 7 * 24 * 3600


class EmailTaken(ValueError):
    """An account with this email already exists."""


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The user with this email, in any clinic (emails are unique across the product)."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def register_trainer(*, name: str, email: str, password: str, clinic_name: str) -> User:
    """Create a clinic workspace and its owner account."""
    if find_user_by_email(email) is not None:
        raise EmailTaken("An account with this email already exists. Sign in instead.")
    clinic = Clinic(name=clinic_name.strip(), contact=normalise_email(email))
    user = User(
        clinic=clinic,
        name=name.strip(),
        email=normalise_email(email),
        password_hash=hash_password(password),
        role="owner",
    )
    db.session.add_all([clinic, user])
    db.session.flush()
    return user


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


def add_trainer(clinic: Clinic, *, name: str, email: str) -> User:
    """A new trainer in ``clinic`` who sets a password through an invitation link."""
    if find_user_by_email(email) is not None:
        raise EmailTaken("An account with this email already exists.")
    user = User(
        clinic=clinic,
        name=name.strip(),
        email=normalise_email(email),
        # Nobody knows this password; the invitation link replaces it.
        password_hash=hash_password(secrets.token_urlsafe(32)),
        role="trainer",
    )
    db.session.add(user)
    db.session.flush()
    return user


def set_active(user: User, active: bool) -> None:
    """Let a trainer sign in again, or stop them (their open sessions end at once)."""
    if user.role == "owner" and not active:
        raise ValueError("The clinic's owner cannot be deactivated.")
    user.is_active_user = active
    if not active:
        db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.session.flush()
