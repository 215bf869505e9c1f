"""Appointments: who comes in when, with which trainer (entered by hand or imported)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow


class Appointment(db.Model):
    """One session in the clinic's diary. Times are stored in UTC, shown in the clinic's zone.

    An imported event keeps its calendar key (``source_key``: the event's UID and, for one
    occurrence of a recurring event, its start), so importing the same file again finds it
    instead of adding a copy. An imported event no client matched has no ``client_id`` until
    someone picks the client on the review page.
    """

    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_clinic_starts_at", "clinic_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), index=True, nullable=True
    )
    trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    all_day: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    # What the calendar called the event, and the address it named: shown while unmatched.
    title: Mapped[str] = mapped_column(String(200), default="")
    attendee_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    source_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    client: Mapped[Client | None] = relationship()
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])

    @property
    def is_matched(self) -> bool:
        return self.client_id is not None
