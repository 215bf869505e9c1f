"""Assessments: the answers a trainer recorded, the scored result, and the trainer's decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, and_, event, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.clients.models import Client, touch
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow


class Assessment(db.Model):
    """One sitting: answers and scored result are kept as recorded (never rescored in place)."""

    __tablename__ = "assessments"
    __table_args__ = (
        # Open red flags (a clinic's clients on hold) are found without reading any result.
        Index(
            "ix_assessments_open_red_flags",
            "clinic_id",
            "client_id",
            postgresql_where=text("blocked AND cleared_at IS NULL"),
            sqlite_where=text("blocked AND cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    trainer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    questionnaire_version: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    # result["blocked"] as a column (kept by the events below), so a clinic's holds are an
    # index lookup rather than a scan of every stored result.
    blocked: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # Imbalances the trainer chose to treat (slugs, most important first); None = unconfirmed.
    confirmed_imbalances: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # A red flag blocks the client until a signed-in user records a medical clearance: who
    # cleared them (name, profession), on which day, and any restrictions. Clearances recorded
    # before the structured fields existed have only the free-text note.
    clearance_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    clearance_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    clearance_profession: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cleared_on: Mapped[date | None] = mapped_column(nullable=True)
    clearance_restrictions: Mapped[str | None] = mapped_column(Text, nullable=True)
    cleared_at: Mapped[datetime | None] = mapped_column(nullable=True)  # when it was recorded
    cleared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @hybrid_property
    def uncleared_red_flag(self) -> bool:
        """A red flag no clearance was recorded for (what the partial index above serves)."""
        return self.blocked and self.cleared_at is None

    @uncleared_red_flag.inplace.expression
    @classmethod
    def _uncleared_red_flag_expression(cls):
        return and_(cls.blocked.is_(True), cls.cleared_at.is_(None))

    client: Mapped[Client] = relationship()
    trainer: Mapped[User | None] = relationship(foreign_keys=[trainer_id])
    cleared_by: Mapped[User | None] = relationship(foreign_keys=[cleared_by_id])


@event.listens_for(Assessment, "before_insert")
@event.listens_for(Assessment, "before_update")
def _keep_blocked(_mapper, _connection, assessment: Assessment) -> None:
    assessment.blocked = bool((assessment.result or {}).get("blocked"))


@event.listens_for(Assessment, "after_insert")
def _client_assessed(_mapper, connection, assessment: Assessment) -> None:
    # A new assessment makes its client recently updated (the client list, the dashboard) and
    # moves the list's "last assessed" sort key.
    touch(connection, assessment.client_id, last_assessed_at=assessment.created_at)
