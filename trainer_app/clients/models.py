"""Clients of a clinic."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, case, event, text, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer_app.accounts.models import User
from trainer_app.clients.search import fold
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

SEARCH_TEXT_MAX = 400


class Client(db.Model):
    """A person a trainer assesses and programs for."""

    __tablename__ = "clients"
    __table_args__ = (
        # Serves "contains" searches (LIKE '%...%') on PostgreSQL through trigrams; on SQLite
        # it is a plain index the search does not need.
        Index(
            "ix_clients_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        # The client list's first page in name or last-change order reads 20 index entries
        # instead of sorting every active client of the clinic.
        Index(
            "ix_clients_active_name",
            "clinic_id",
            "search_text",
            "id",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
        Index(
            "ix_clients_active_updated",
            "clinic_id",
            "updated_at",
            "id",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
        # The "last assessed" and "program changed" sorts read their page from these in index
        # order (both directions), instead of grouping every assessment and version of the
        # clinic and sorting every client.
        Index(
            "ix_clients_active_assessed",
            "clinic_id",
            "last_assessed_at",
            "id",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
        Index(
            "ix_clients_active_program",
            "clinic_id",
            "program_changed_at",
            "id",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
        # An erased client's id is never given to another (the audit trail still names it).
        {"sqlite_autoincrement": True},
    )

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
    # Name and email folded (lower case, accents and special letters made plain) by the app
    # on every write, so one LIKE finds "Łukasiewicz" from "lukasiewicz" on any database.
    search_text: Mapped[str] = mapped_column(String(SEARCH_TEXT_MAX), default="", server_default="")
    # Sort keys of the client list, kept by the database writes of assessments and program
    # versions (assessments/models.py, programs/models.py): when the newest assessment was
    # recorded and when the newest version of any of the client's programs was saved.
    last_assessed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    program_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    primary_trainer: Mapped[User | None] = relationship()

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def can_receive_email(self) -> bool:
        return bool(self.email) and self.email_consent and not self.is_archived


def search_text_of(name: str | None, email: str | None) -> str:
    """What client search matches against: folded name and email."""
    return fold(f"{name or ''} {email or ''}")[:SEARCH_TEXT_MAX]


@event.listens_for(Client, "before_insert")
@event.listens_for(Client, "before_update")
def _keep_search_text(_mapper, _connection, client: Client) -> None:
    # Every write path (forms, demo data, factories) keeps the search column in step.
    client.search_text = search_text_of(client.name, client.email)


def touch(connection, client_id, **sort_keys: datetime) -> None:
    """Mark the client changed now: the list's "Recently updated" and the dashboard follow it.

    For changes kept in other tables (a program version, an assessment); ``client_id`` may be a
    scalar subquery. Runs on the flush's connection, so it commits or rolls back with the change.
    ``sort_keys`` (``last_assessed_at``, ``program_changed_at``) move forward to the given time,
    never back, in the same statement.
    """
    table = Client.__table__
    values = {"updated_at": utcnow()}
    for column, at in sort_keys.items():
        key = table.c[column]
        values[column] = case((key.is_(None) | (key < at), at), else_=key)
    connection.execute(update(table).where(table.c.id == client_id).values(values))
