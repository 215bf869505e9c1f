"""Client operations scoped to a clinic. They flush; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from trainer_app.accounts.models import User
from trainer_app.accounts.roles import CLINICAL
from trainer_app.assessments.models import Assessment
from trainer_app.clients.models import Client
from trainer_app.clients.search import fold
from trainer_app.extensions import db
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.timeutil import utcnow

SORTS = ("name", "-assessed", "assessed", "-program", "-updated", "-created")


def _ordered(stmt: Select, clinic_id: int, sort: str) -> Select:
    """``stmt`` in the order of ``sort``.

    The newest assessment and program change come from one grouped subquery per clinic joined
    once (not a subquery per client row), and the name and date sorts are served by partial
    indexes on the active clients, so a clinic of 10,000 costs about what one of 100 does.
    """
    if sort in ("-assessed", "assessed"):
        last = (
            select(Assessment.client_id, func.max(Assessment.created_at).label("at"))
            .where(Assessment.clinic_id == clinic_id)
            .group_by(Assessment.client_id)
            .subquery("last_assessed")
        )
        stmt = stmt.outerjoin(last, last.c.client_id == Client.id)
        if sort == "assessed":
            return stmt.order_by(last.c.at.asc().nulls_first(), Client.id.asc())
        return stmt.order_by(last.c.at.desc().nulls_last(), Client.id.desc())
    if sort == "-program":
        changed = (
            select(Program.client_id, func.max(ProgramVersion.created_at).label("at"))
            .join(ProgramVersion, ProgramVersion.program_id == Program.id)
            .where(Program.clinic_id == clinic_id)
            .group_by(Program.client_id)
            .subquery("program_changed")
        )
        stmt = stmt.outerjoin(changed, changed.c.client_id == Client.id)
        return stmt.order_by(changed.c.at.desc().nulls_last(), Client.id.desc())
    if sort == "-updated":
        return stmt.order_by(Client.updated_at.desc(), Client.id.desc())
    if sort == "-created":
        return stmt.order_by(Client.created_at.desc(), Client.id.desc())
    # search_text starts with the folded name, so "Zoë" sorts with "Zoe" whatever the case.
    return stmt.order_by(Client.search_text.asc(), Client.id.asc())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def client_query(
    clinic_id: int,
    *,
    q: str = "",
    status: str = "active",
    sort: str = "name",
    trainer_id: int | None = None,
) -> Select:
    """Clients of ``clinic_id`` matching a search, an archive status and a sort.

    The search ignores case and accents ("lukasiewicz" finds "Łukasiewicz"): it matches the
    folded search column, which a trigram index serves on PostgreSQL. The page's primary
    trainers come in one more query (joining them here would widen every row the sort handles).
    ``trainer_id`` keeps the clients whose primary trainer that member is ("my clients").
    """
    stmt = (
        select(Client)
        .where(Client.clinic_id == clinic_id)
        .options(selectinload(Client.primary_trainer))
    )
    if status == "active":
        stmt = stmt.where(Client.archived_at.is_(None))
    elif status == "archived":
        stmt = stmt.where(Client.archived_at.is_not(None))
    if trainer_id is not None:
        stmt = stmt.where(Client.primary_trainer_id == trainer_id)
    needle = fold(q)
    if needle:
        stmt = stmt.where(Client.search_text.like(f"%{_escape_like(needle)}%", escape="\\"))
    return _ordered(stmt, clinic_id, sort)


@dataclass(frozen=True)
class CurrentProgram:
    """The newest program of a client, as the client list shows it."""

    id: int
    title: str
    version: int
    changed_at: datetime


@dataclass(frozen=True)
class ClientRow:
    """One line of the client list."""

    client: Client
    last_assessed_at: datetime | None
    program: CurrentProgram | None


def list_rows(clinic_id: int, clients: Sequence[Client]) -> list[ClientRow]:
    """Last assessment and current program for a page of clients, in two queries in all."""
    ids = [c.id for c in clients]
    if not ids:
        return []
    assessed = dict(
        db.session.execute(
            select(Assessment.client_id, func.max(Assessment.created_at))
            .where(Assessment.clinic_id == clinic_id, Assessment.client_id.in_(ids))
            .group_by(Assessment.client_id)
        ).all()
    )
    programs: dict[int, CurrentProgram] = {}
    rows = db.session.execute(
        select(
            Program.client_id,
            Program.id,
            Program.title,
            func.max(ProgramVersion.number),
            func.max(ProgramVersion.created_at),
        )
        .join(ProgramVersion, ProgramVersion.program_id == Program.id)
        .where(Program.clinic_id == clinic_id, Program.client_id.in_(ids))
        .group_by(Program.client_id, Program.id, Program.title, Program.created_at)
        .order_by(Program.created_at.desc(), Program.id.desc())
    ).all()
    for client_id, program_id, title, number, changed_at in rows:
        programs.setdefault(client_id, CurrentProgram(program_id, title, number, changed_at))
    return [ClientRow(c, assessed.get(c.id), programs.get(c.id)) for c in clients]


def trainer_choices(clinic_id: int) -> list[tuple[int, str]]:
    """(id, name) of the clinic's active trainers (and owner), for the primary-trainer select."""
    users = db.session.scalars(
        select(User)
        .where(
            User.clinic_id == clinic_id,
            User.is_active_user.is_(True),
            User.role.in_(CLINICAL),
        )
        .order_by(User.name)
    )
    return [(u.id, u.name) for u in users]


def apply_form(client: Client, data: dict, *, clinic_id: int) -> None:
    """Copy validated form data onto ``client``; consent keeps the date it was first given."""
    trainer_ids = {tid for tid, _ in trainer_choices(clinic_id)}
    if data["primary_trainer_id"] not in trainer_ids:
        raise ValueError("The primary trainer must belong to this clinic.")
    client.name = data["name"].strip()
    client.email = (data["email"] or "").strip().lower() or None
    client.phone = (data["phone"] or "").strip() or None
    client.date_of_birth = data["date_of_birth"]
    if "notes" in data:  # the front desk's form has no notes field: they stay as they are
        client.notes = (data["notes"] or "").strip()
    client.primary_trainer_id = data["primary_trainer_id"]
    consent = bool(data["email_consent"]) and client.email is not None
    if consent and not client.email_consent:
        client.email_consent_at = utcnow()
    if not consent:
        client.email_consent_at = None
    client.email_consent = consent


def create_client(clinic_id: int, data: dict) -> Client:
    """A new client in ``clinic_id``."""
    client = Client(clinic_id=clinic_id)
    apply_form(client, data, clinic_id=clinic_id)
    db.session.add(client)
    db.session.flush()
    return client


def archive(client: Client) -> None:
    """Hide the client from the active list; nothing is deleted."""
    if client.archived_at is None:
        client.archived_at = utcnow()


def restore(client: Client) -> None:
    """Bring an archived client back to the active list."""
    client.archived_at = None
