"""Programs and their immutable versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event, select, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.assessments.models import Assessment
from trainer_app.clients.models import Client, touch
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow


class Program(db.Model):
    """A client's program; its content lives in numbered, never-edited versions."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(120))
    # When the client should be tested again (a calendar day in the clinic's zone).
    retest_on: Mapped[date | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    client: Mapped[Client] = relationship()
    assessment: Mapped[Assessment | None] = relationship()
    versions: Mapped[list[ProgramVersion]] = relationship(
        back_populates="program", order_by="ProgramVersion.number"
    )

    @property
    def latest(self) -> ProgramVersion:
        return self.versions[-1]


class ProgramVersion(db.Model):
    """One saved state of a program: items, schedule and tips exactly as the trainer saved them."""

    __tablename__ = "program_versions"
    __table_args__ = (UniqueConstraint("program_id", "number", name="uq_program_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    number: Mapped[int]
    # builder.draft_to_dict(): items with reasons and weekly doses, sessions, weeks, tips.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    # content["weeks"] as a column (kept by the event below): lists over many programs (the
    # dashboard's attention list) read a program's length without reading its content.
    weeks: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    catalog_version: Mapped[str] = mapped_column(String(80))
    change_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()


@event.listens_for(ProgramVersion, "before_insert")
def _keep_weeks(_mapper, _connection, version: ProgramVersion) -> None:
    version.weeks = weeks_of(version.content)


def weeks_of(content: dict | None) -> int:
    """A saved version's length in weeks (at least 1), as its content says."""
    try:
        return max(int((content or {}).get("weeks") or 1), 1)
    except (TypeError, ValueError):
        return 1


@event.listens_for(ProgramVersion, "after_insert")
def _client_changed(_mapper, connection, version: ProgramVersion) -> None:
    # Every saved version (built, edited, copied, restored) makes its client recently updated.
    # The client list's "program changed" sort key moves with it.
    touch(
        connection,
        select(Program.client_id).where(Program.id == version.program_id).scalar_subquery(),
        program_changed_at=version.created_at,
    )


class ProgramTemplate(db.Model):
    """A clinic's reusable program: exercises, doses, order, schedule and tips, no client data."""

    __tablename__ = "program_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinics.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # builder.draft_to_dict() with client-specific reasons and notes replaced.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    catalog_version: Mapped[str] = mapped_column(String(80))
    source_program_id: Mapped[int | None] = mapped_column(
        ForeignKey("programs.id", ondelete="SET NULL"), nullable=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by: Mapped[User | None] = relationship()
