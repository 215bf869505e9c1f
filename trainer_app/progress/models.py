"""A client's personal progress link and what gets logged through it (or by the trainer)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

CLIENT = "client"
TRAINER = "trainer"


class ProgressLink(db.Model):
    """The client's one personal link. The URL carries a signed (id, nonce); a new nonce
    (a new generation) makes every earlier URL invalid, which is how revocation works."""

    __tablename__ = "progress_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), unique=True)
    nonce: Mapped[str] = mapped_column(String(32))
    generation: Mapped[int] = mapped_column(default=1)
    # The last day (clinic's calendar) the link opens: the program's end plus a grace period.
    expires_on: Mapped[date]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    renewed_at: Mapped[datetime] = mapped_column(default=utcnow)

    client: Mapped[Client] = relationship()


class ProgressEntry(db.Model):
    """One log: exercises done on a day, a pain score, a short note; by the client or trainer."""

    __tablename__ = "progress_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    day: Mapped[date]
    # Slugs of the program's exercises ticked as done; empty for a pain-only entry.
    exercises: Mapped[list[str]] = mapped_column(JSON, default=list)
    session: Mapped[bool] = mapped_column(default=False)
    pain: Mapped[int | None] = mapped_column(nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    warning_sign: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16))  # client | trainer
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # One form submission is one entry: a double tap sends the same key twice.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()
