"""Clinics (the tenant), their users, and the login sessions that sign-out can end."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer_app.extensions import db
from trainer_app.timeutil import DEFAULT_ZONE, utcnow

PAPER_SIZES = ("A4", "Letter")
DEFAULT_ACCENT = "#2f6f8f"
# How long an invitation link works after it was (last) sent.
INVITE_DAYS = 7


class Clinic(db.Model):
    """A tenant: a clinic, a studio or a single trainer's workspace."""

    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    contact: Mapped[str] = mapped_column(String(300), default="")
    accent_color: Mapped[str] = mapped_column(String(7), default=DEFAULT_ACCENT)
    paper_size: Mapped[str] = mapped_column(String(10), default="A4")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    logo_mime: Mapped[str | None] = mapped_column(String(30), nullable=True)
    # IANA name; pages, emails and PDFs show times in it (stored times stay UTC).
    time_zone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_ZONE, server_default=DEFAULT_ZONE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="clinic", order_by="User.name")


class User(UserMixin, db.Model):
    """A trainer who signs in; belongs to exactly one clinic."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="owner")
    is_active_user: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None until the owner of a self-service sign-up opens the link sent to the address;
    # accounts made by the CLI, the demo or an accepted invitation are confirmed at once.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    clinic: Mapped[Clinic] = relationship(back_populates="users")

    # Set per request by the user loader: the login session this request belongs to.
    session_token = None

    @property
    def is_active(self) -> bool:
        return self.is_active_user

    def get_id(self) -> str:
        """Flask-Login stores the login-session token, so ending that session signs out."""
        if not self.session_token:
            raise RuntimeError("User.get_id() called outside a login session")
        return self.session_token


class LoginSession(db.Model):
    """One signed-in browser; deleting the row ends that session and its remember-me cookie."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship()


class Invitation(db.Model):
    """A clinic owner's invitation; the trainer's account is made when they accept it."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    # The role the member gets on accepting (trainer or front desk).
    role: Mapped[str] = mapped_column(String(20), default="trainer", server_default="trainer")
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)

    clinic: Mapped[Clinic] = relationship()
    invited_by: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.withdrawn_at is None

    @property
    def expires_at(self) -> datetime:
        """When the last link sent stops working (sending again starts a new period)."""
        return self.created_at + timedelta(days=INVITE_DAYS)


class AccountEmail(db.Model):
    """One account email to send (reset, sign-up confirmation, invitation, notices): the job.

    Recorded with the request and sent by a worker, so a request takes as long whether or
    not the address has an account. It holds ids only: the link and its token are made when
    the worker sends, so no secret sits in the database or the broker.
    """

    __tablename__ = "account_emails"
    __table_args__ = (Index("ix_account_emails_status_queued_at", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True, nullable=True
    )
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Written every few seconds while a worker sends; see PlanDocument.heartbeat_at.
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)

    user: Mapped[User | None] = relationship()
    invitation: Mapped[Invitation | None] = relationship()
