"""Referral letters: a job row written with the request, rendered by a worker like a plan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.assessments.models import Assessment
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.plans.models import FAILED, QUEUED, READY
from trainer_app.timeutil import utcnow


class ReferralLetter(db.Model):
    """One "Make referral letter" request for an assessment with red flags, and its PDF."""

    __tablename__ = "referral_letters"
    __table_args__ = (Index("ix_referral_letters_status_queued_at", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Same letter content (and template) as an earlier ready letter: its PDF is served instead.
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    size_bytes: Mapped[int | None] = mapped_column(nullable=True)
    reused_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_letters.id", ondelete="SET NULL"), nullable=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)

    client: Mapped[Client] = relationship()
    assessment: Mapped[Assessment] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def is_done(self) -> bool:
        return self.status in (READY, FAILED)
