"""Email deliveries of plan documents, and every attempt made to send one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument
from trainer_app.referrals.models import ReferralLetter
from trainer_app.timeutil import utcnow

QUEUED, SENDING, SENT, RETRYING, FAILED = "queued", "sending", "sent", "retrying", "failed"


class Delivery(db.Model):
    """One "Email plan to client" request; the row is the job and its history."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_deliveries_idempotency_key"),
        Index("ix_deliveries_status_queued_at", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    # What is sent: a plan document, or (after a red flag) a referral letter for the doctor.
    plan_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_documents.id"), index=True, nullable=True
    )
    referral_letter_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_letters.id"), index=True, nullable=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(64))
    to_name: Mapped[str] = mapped_column(String(120))
    to_email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The trainer's own words above the standard text (plain text, escaped in the HTML part).
    personal_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Written every few seconds while a worker sends; see PlanDocument.heartbeat_at.
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The Celery task id holding the claim; a redelivered message (same id) may take it back.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)

    client: Mapped[Client] = relationship()
    document: Mapped[PlanDocument | None] = relationship()
    letter: Mapped[ReferralLetter | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.number"
    )


class DeliveryAttempt(db.Model):
    """One try at handing the message to the mail server."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    outcome: Mapped[str] = mapped_column(String(12), default="started")
    detail: Mapped[str] = mapped_column(Text, default="")

    delivery: Mapped[Delivery] = relationship(back_populates="attempt_log")
