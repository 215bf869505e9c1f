"""The audit trail: one append-only row per look at, or change to, a client's data.

Rows name the client by id only, never by name or email, so erasing the client leaves nothing
personal here: the page shows the tombstone (``ErasedClient``) in place of the name. The
database refuses UPDATE and DELETE on the table (triggers made by the migration), so the
application cannot rewrite history even through a bug.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

# What a row records; the page filters on these.
ACTIONS = {
    "view": "Viewed",
    "change": "Changed",
    "download": "Downloaded",
    "email": "Emailed",
    "export": "Exported",
    "erase": "Erased",
    "retention": "Retention setting",
}


class AuditEvent(db.Model):
    """Who (user and role) did what to which client of which clinic, when (UTC), from where.

    No foreign keys on purpose: the rows outlive the client (erasure) and must never be
    touched by a cascade.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_clinic_at", "clinic_id", "at"),
        Index("ix_audit_events_clinic_client", "clinic_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    clinic_id: Mapped[int]
    # None for the worker's own actions (retention erasures).
    user_id: Mapped[int | None] = mapped_column(nullable=True)
    # Copies at the time, with control characters escaped (a name cannot forge a line).
    user_name: Mapped[str] = mapped_column(String(160), default="")
    role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(20))
    # The page or job, e.g. "assessments.detail", and ids of what it showed ("assessment 7").
    what: Mapped[str] = mapped_column(String(80))
    detail: Mapped[str] = mapped_column(String(300), default="")
    client_id: Mapped[int | None] = mapped_column(nullable=True)
    address: Mapped[str] = mapped_column(String(64), default="")


# The database's half of "append-only". The migration holds its own copy (migrations are
# frozen in time); the tests' table clean-up uses these to put SQLite's triggers back.
APPEND_ONLY_MESSAGE = "audit_events is append-only"
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
)
SQLITE_TRIGGER_NAMES = ("audit_events_no_update", "audit_events_no_delete")
