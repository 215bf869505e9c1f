"""Data-rights records: exports (the zip handed over), erased-client tombstones, retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

QUEUED, BUILDING, READY, FAILED, EXPIRED = "queued", "building", "ready", "failed", "expired"
CLIENT, CLINIC = "client", "clinic"


class DataExport(db.Model):
    """One "Export data" request (one client's, or the whole clinic's) and, once built, its zip.

    A job row like a plan document: recorded with the click, built by a worker that claims it,
    relayed when left queued. The zip lives in the database (every machine reads it) until
    ``expires_at``, when the scheduled clean-up drops it.
    """

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_status_queued_at", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    # None for a whole-clinic export.
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id"), index=True, nullable=True
    )
    scope: Mapped[str] = mapped_column(String(10), default=CLIENT)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    zip: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    size_bytes: Mapped[int | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)

    @property
    def is_done(self) -> bool:
        return self.status in (READY, FAILED, EXPIRED)


# Why a client was erased (the tombstone keeps the category, never the words of a request).
REASONS = {
    "client_request": "The client asked to be erased",
    "retention": "Kept longer than the clinic's retention period",
    "mistake": "Added by mistake or a duplicate",
    "other": "Another reason",
}


class ErasedClient(db.Model):
    """The tombstone of an erased client: which id, when, by whom, why. Nothing personal.

    Audit rows keep naming the erased client by its old id; the trail shows this tombstone in
    place of a name. Client ids are never handed out again (PostgreSQL sequences; SQLite's
    AUTOINCREMENT on ``clients``), so the old id cannot come to mean someone else.
    """

    __tablename__ = "erased_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    client_id: Mapped[int] = mapped_column(unique=True)
    erased_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None when the scheduled retention job erased the client.
    erased_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reason: Mapped[str] = mapped_column(String(20))

    erased_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        return f"Erased client E-{self.id}"


class RetentionPolicy(db.Model):
    """How long a clinic keeps an archived client before the worker erases them (None: keep)."""

    __tablename__ = "retention_policies"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), primary_key=True)
    archived_months: Mapped[int | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
