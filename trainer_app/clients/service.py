"""Client operations scoped to a clinic. They flush; the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from trainer_app.accounts.models import User
from trainer_app.accounts.roles import CLINICAL
from trainer_app.clients.models import Client
from trainer_app.clients.search import fold
from trainer_app.extensions import db
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.timeutil import utcnow

SORTS = ("name", "-assessed", "assessed", "-program", "-updated", "-created")


@dataclass(frozen=True)
class SortKey:
    """How the client list orders by one sort: a column, its direction, the id breaking ties.

    A nullable column (never assessed, no program) puts its empty rows last when descending
    and first when ascending, as the column's header promises.
    """

    column: str
    descending: bool
    nullable: bool = False


SORT_KEYS = {
    "name": SortKey("search_text", False),  # starts with the folded name: "Zoë" sorts as "Zoe"
    "-assessed": SortKey("last_assessed_at", True, nullable=True),
    "assessed": SortKey("last_assessed_at", False, nullable=True),
    "-program": SortKey("program_changed_at", True, nullable=True),
    "-updated": SortKey("updated_at", True),
    "-created": SortKey("created_at", True),
}
SORTS = tuple(SORT_KEYS)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(
    clinic_id: int, *, q: str = "", status: str = "active", trainer_id: int | None = None
) -> list:
    """WHERE conditions of the client list: clinic, archive status, "my clients", search.

    The search ignores case and accents ("lukasiewicz" finds "Łukasiewicz"): it matches the
    folded search column, which a trigram index serves on PostgreSQL.
    """
    where = [Client.clinic_id == clinic_id]
    if status == "active":
        where.append(Client.archived_at.is_(None))
    elif status == "archived":
        where.append(Client.archived_at.is_not(None))
    if trainer_id is not None:
        where.append(Client.primary_trainer_id == trainer_id)
    needle = fold(q)
    if needle:
        where.append(Client.search_text.like(f"%{_escape_like(needle)}%", escape="\\"))
    return where


def client_query(
    clinic_id: int,
    *,
    q: str = "",
    status: str = "active",
    sort: str = "name",
    trainer_id: int | None = None,
) -> Select:
    """Clients of ``clinic_id`` matching a search, an archive status and a sort, in list order
    (the whole list, e.g. for printing what a search found; pages come from ``client_page``)."""
    return (
        select(Client)
        .where(*_filters(clinic_id, q=q, status=status, trainer_id=trainer_id))
        .options(selectinload(Client.primary_trainer))
        .order_by(*_order_by(SORT_KEYS[sort]))
    )


def _order_by(key: SortKey) -> list:
    column = getattr(Client, key.column)
    direction = (lambda c: c.desc()) if key.descending else (lambda c: c.asc())
    # Empty values first when ascending, last when descending, on every database.
    empty_first = [column.is_(None) if key.descending else column.is_not(None)]
    return [*(empty_first if key.nullable else []), direction(column), direction(Client.id)]


class ClientPage(Pagination):
    """One page of the client list in two statements whatever the clinic's size.

    A count (all matching clients, and those with a value in the sort column) and the page's
    rows. The rows' ids are read in index order (the partial indexes on active clients hold
    the clinic, the sort column and the id, so a deep page reads index entries only, never
    the rows it skips), from at most two runs: the clients with a value in the sort column and
    those without, each in its own order, so no database sorts the whole clinic. The page's
    primary trainers are joined to its rows.
    """

    def _query_items(self) -> list[Client]:
        args = self._query_args
        where, key = args["where"], SORT_KEYS[args["sort"]]
        column = getattr(Client, key.column)
        total, keyed = db.session.execute(
            select(func.count(), func.count(column)).select_from(Client).where(*where)
        ).one()
        self._total = total
        direction = (lambda c: c.desc()) if key.descending else (lambda c: c.asc())
        runs = [(column.is_not(None), [direction(column), direction(Client.id)], keyed)]
        if key.nullable:
            empty = (column.is_(None), [direction(Client.id)], total - keyed)
            runs = runs + [empty] if key.descending else [empty, *runs]
        ids, offset, wanted = [], self._query_offset, self.per_page
        for condition, order, size in runs:
            take = max(0, min(wanted, size - offset))
            ids.append(
                select(Client.id)
                .where(*where, condition)
                .order_by(*order)
                .offset(max(0, offset))
                .limit(take)
                .subquery()
                .select()
            )
            offset, wanted = offset - size, wanted - take
        page_ids = union_all(*ids) if len(ids) > 1 else ids[0]
        clients = db.session.scalars(
            select(Client)
            .where(Client.id.in_(page_ids))
            .options(joinedload(Client.primary_trainer))  # twenty rows: join, no extra query
            .order_by(*_order_by(key))  # the page's rows only, in the database's collation
        ).all()
        return list(clients)

    def _query_count(self) -> int:
        return self._total


def client_page(
    clinic_id: int,
    *,
    page: int,
    per_page: int,
    q: str = "",
    status: str = "active",
    sort: str = "name",
    trainer_id: int | None = None,
) -> ClientPage:
    """Page ``page`` of the client list (``client_query``'s order), with its total."""
    return ClientPage(
        page=page,
        per_page=per_page,
        error_out=False,
        where=_filters(clinic_id, q=q, status=status, trainer_id=trainer_id),
        sort=sort,
    )


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
    """Last assessment (the client's own column) and current program for a page of clients, in
    one query in all."""
    ids = [c.id for c in clients]
    if not ids:
        return []
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
    return [ClientRow(c, c.last_assessed_at, programs.get(c.id)) for c in clients]


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
