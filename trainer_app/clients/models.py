"""Clients of a clinic."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow


class Client(db.Model):
    """A person a trainer assesses and programs for."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    date_of_birth: Mapped[date | None] = mapped_column(nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    email_consent: Mapped[bool] = mapped_column(default=False)
    email_consent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    primary_trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    archived_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    primary_trainer: Mapped[User | None] = relationship()

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def can_receive_email(self) -> bool:
        return bool(self.email) and self.email_consent and not self.is_archived
