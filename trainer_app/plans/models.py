"""PDF plan documents: a job row written with the request, rendered by a worker."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.extensions import db
from trainer_app.programs.models import ProgramVersion
from trainer_app.timeutil import utcnow

QUEUED, RENDERING, READY, FAILED = "queued", "rendering", "ready", "failed"
STATUSES = (QUEUED, RENDERING, READY, FAILED)
# Who asked: a trainer's "Make PDF" (listed, counted), or the pre-render of a saved version, kept
# out of sight until a "Make PDF" for the same PDF adopts it (plans/prerender.py).
CLICK, PRERENDER = "click", "prerender"
PLAN, SESSION = "plan", "session"


class PlanDocument(db.Model):
    """One "Make PDF" request and, once rendered, its PDF (stored in the database)."""

    __tablename__ = "plan_documents"
    __table_args__ = (Index("ix_plan_documents_status_queued_at", "status", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    program_version_id: Mapped[int] = mapped_column(ForeignKey("program_versions.id"), index=True)
    # One document per request, even when the browser or a proxy sends the request twice.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    paper_size: Mapped[str] = mapped_column(String(10))
    # "plan" (the client's full plan) or "session" (the sheet for one day's session).
    kind: Mapped[str] = mapped_column(String(12), default=PLAN, server_default=PLAN)
    session_day: Mapped[date | None] = mapped_column(nullable=True)
    large_print: Mapped[bool] = mapped_column(default=False)
    # Whose copy: "client" (plain words) or "clinician" (findings with values and thresholds).
    audience: Mapped[str] = mapped_column(String(10), default="client", server_default="client")
    status: Mapped[str] = mapped_column(String(12), default=QUEUED)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    size_bytes: Mapped[int | None] = mapped_column(nullable=True)
    page_count: Mapped[int | None] = mapped_column(nullable=True)
    reused_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_documents.id", ondelete="SET NULL"), nullable=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    origin: Mapped[str] = mapped_column(String(10), default=CLICK, server_default=CLICK)
    # The broker priority the render is published with (jobs.URGENT, PRERENDER or BULK); the
    # relay publishes the row again with the same one.
    priority: Mapped[int] = mapped_column(default=0, server_default="0")
    # The Celery task id holding the claim; a redelivered message (same id) may take it back.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Written every few seconds while a worker renders; a claim whose heartbeat stopped is taken
    # back by the relay (STALE_CLAIM_SECONDS).
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)

    program_version: Mapped[ProgramVersion] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def is_done(self) -> bool:
        return self.status in (READY, FAILED)
