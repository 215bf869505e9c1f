"""The day's print: one job row per batch, one row per client in it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument
from trainer_app.timeutil import utcnow

# A batch: recorded (queued) -> its documents requested (rendering) -> merged (ready), or
# failed; a ready batch's PDF is dropped after PRINT_KEEP_HOURS (expired).
QUEUED, RENDERING, MERGING, READY, FAILED, EXPIRED = (
    "queued",
    "rendering",
    "merging",
    "ready",
    "failed",
    "expired",
)
SESSIONS, PLANS, BOTH = "sessions", "plans", "both"
# An item: waiting for its documents, printed, or left out (with the reason).
PENDING, PRINTED, LEFT_OUT = "pending", "printed", "left_out"


class PrintBatch(db.Model):
    """A "print these clients" request and, once merged, its one PDF (kept for a while)."""

    __tablename__ = "print_batches"
    __table_args__ = (Index("ix_print_batches_status_queued_at", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    # A double click (or a retried POST) finds the first batch instead of making a second.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    what: Mapped[str] = mapped_column(String(10))
    duplex: Mapped[bool] = mapped_column(default=False)
    day: Mapped[date] = mapped_column()
    paper_size: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    page_count: Mapped[int | None] = mapped_column(nullable=True)
    blank_pages: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)

    items: Mapped[list[PrintItem]] = relationship(
        back_populates="batch", order_by="PrintItem.position", cascade="all, delete-orphan"
    )

    @property
    def is_done(self) -> bool:
        return self.status in (READY, FAILED, EXPIRED)


class PrintItem(db.Model):
    """One client of a batch, in print order, with the documents made for them."""

    __tablename__ = "print_items"
    __table_args__ = (UniqueConstraint("batch_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("print_batches.id", ondelete="CASCADE"), index=True
    )
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    position: Mapped[int] = mapped_column()
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), nullable=True
    )
    session_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_documents.id", ondelete="SET NULL"), index=True, nullable=True
    )
    plan_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_documents.id", ondelete="SET NULL"), index=True, nullable=True
    )
    status: Mapped[str] = mapped_column(String(12), default=PENDING)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    page_count: Mapped[int | None] = mapped_column(nullable=True)

    batch: Mapped[PrintBatch] = relationship(back_populates="items")
    client: Mapped[Client] = relationship()
    session_document: Mapped[PlanDocument | None] = relationship(foreign_keys=[session_document_id])
    plan_document: Mapped[PlanDocument | None] = relationship(foreign_keys=[plan_document_id])
