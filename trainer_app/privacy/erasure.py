"""Erase a client: every row holding their data, their stored files, and a tombstone left.

The rows to delete are found from the models (:mod:`trainer_app.privacy.tables`): each table
reaching ``clients`` is either the client's (deleted) or a clinic's row pointing at something
of theirs (the pointer cleared). Queued renders, deliveries and exports go with their rows, so
a task published earlier finds nothing to claim and does nothing. Domain code: it flushes,
the caller commits.
"""

from __future__ import annotations

import calendar
import logging
from datetime import datetime

from sqlalchemy import delete, select, update

from trainer_app.accounts.models import User
from trainer_app.audit.service import record
from trainer_app.clients.models import Client
from trainer_app.delivery.mailer import outbox_filename
from trainer_app.delivery.models import SENDING, Delivery
from trainer_app.extensions import db
from trainer_app.jobs import stale_before
from trainer_app.mail import outbox_folder
from trainer_app.privacy.models import CLINIC, EXPIRED, REASONS, DataExport, ErasedClient
from trainer_app.privacy.tables import OWNED, client_tables
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)
_CHUNK = 500


class ErasureBlocked(Exception):
    """The client cannot be erased at this moment; the message says why and what to do."""


def _chunks(ids: list) -> list[list]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _sending_now(client_id: int, now: datetime) -> bool:
    """An email to the client is in a mail server conversation right now (a live claim)."""
    stale = stale_before(now)
    return (
        db.session.scalar(
            select(Delivery.id).where(
                Delivery.client_id == client_id,
                Delivery.status == SENDING,
                Delivery.heartbeat_at >= stale,
            )
        )
        is not None
    )


def _outbox_files(client: Client) -> list:
    """The clinic outbox's copies of emails sent to this client."""
    folder = outbox_folder(client.clinic_id)
    message_ids = db.session.scalars(
        select(Delivery.message_id).where(
            Delivery.client_id == client.id, Delivery.message_id.is_not(None)
        )
    ).all()
    return [folder / outbox_filename(mid) for mid in message_ids]


def _rows_of(client: Client, plan) -> dict[str, list]:
    """The primary keys of every row held about ``client``, per table."""
    doomed: dict[str, list] = {}
    for path, policy in plan:
        if policy.kind != OWNED:
            continue
        pk = path.table.primary_key.columns[0]
        stmt = path.rows_of(client.id, pk)
        if "clinic_id" in path.table.c:
            stmt = stmt.where(path.table.c.clinic_id == client.clinic_id)
        doomed[path.table.name] = list(db.session.scalars(stmt))
    return doomed


# How the erase page names each table's rows (others: the table's name).
LABELS = {
    "clients": "the client's record (contact details, consent, notes)",
    "plan_documents": "plan PDFs",
    "deliveries": "emails sent",
    "delivery_attempts": "email send attempts",
    "data_exports": "exports of this client",
    "program_versions": "program versions",
    "progress_links": "progress link",
    "progress_entries": "progress logs (sessions, pain)",
    "referral_letters": "referral letters",
}


def summary(client: Client) -> list[tuple[str, int]]:
    """What an erasure of ``client`` would delete: (what, rows), tables with rows only."""
    doomed = _rows_of(client, client_tables(db.metadata))
    return [
        (LABELS.get(name, name.replace("_", " ")), len(ids)) for name, ids in doomed.items() if ids
    ]


def erase_client(
    client: Client, *, reason: str, user: User | None, system: bool = False
) -> ErasedClient:
    """Delete everything held about ``client``; return the tombstone (flushed, not committed).

    :raise ErasureBlocked: an email to the client is being sent at this moment.
    :raise LookupError: a table reaches ``clients`` without a policy (nothing is deleted).
    """
    if reason not in REASONS:
        raise ValueError(f"unknown erasure reason {reason!r}")
    now = utcnow()
    plan = client_tables(db.metadata)
    if _sending_now(client.id, now):
        raise ErasureBlocked(
            "An email to this client is being sent right now. Try again in a minute; "
            "nothing was erased."
        )
    clinic_id, client_id = client.clinic_id, client.id
    files = _outbox_files(client)

    # Every row of the client, found before anything is deleted (the chains run through
    # parents that go too).
    doomed = _rows_of(client, plan)

    # Rows elsewhere that point at a doomed row let go of it (a clinic template remembers
    # the program it was saved from; a reused PDF names its original).
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            target = fk.column.table.name
            if not doomed.get(target):
                continue
            keep = doomed.get(table.name, [])
            if not fk.parent.nullable:
                if table.name in doomed:
                    continue  # deleted with the client too
                raise LookupError(f"{table.name}.{fk.parent.name} cannot let go of {target}")
            for chunk in _chunks(doomed[target]):
                stmt = update(table).where(fk.parent.in_(chunk))
                if keep:
                    stmt = stmt.where(table.primary_key.columns[0].not_in(keep))
                db.session.execute(
                    stmt.values({fk.parent.name: None}).execution_options(synchronize_session=False)
                )

    # Children before parents.
    for table in reversed(db.metadata.sorted_tables):
        ids = doomed.get(table.name)
        if not ids:
            continue
        pk = table.primary_key.columns[0]
        for chunk in _chunks(ids):
            db.session.execute(delete(table).where(pk.in_(chunk)))

    # A whole-clinic export made before now holds this client too: its zip goes.
    db.session.execute(
        update(DataExport)
        .where(
            DataExport.clinic_id == clinic_id,
            DataExport.scope == CLINIC,
            DataExport.zip.is_not(None),
        )
        .values(status=EXPIRED, zip=None)
        .execution_options(synchronize_session=False)
    )
    tombstone = ErasedClient(
        clinic_id=clinic_id,
        client_id=client_id,
        erased_at=now,
        erased_by_id=None if system else user.id,
        reason=reason,
    )
    db.session.add(tombstone)
    db.session.flush()
    record(
        "erase",
        clinic_id=clinic_id,
        client_id=client_id,
        what="privacy.erase",
        detail=f"tombstone E-{tombstone.id}, reason {reason}",
        user=user,
        system=system,
    )
    db.session.flush()
    db.session.expunge(client)
    # The database work is done and about to be committed; the outbox copies go now.
    for path in files:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove the outbox file %s", path.name, exc_info=True)
    return tombstone


def names_match(typed: str, name: str) -> bool:
    """The owner typed the client's name (spacing and letter case aside)."""
    return " ".join(typed.split()).casefold() == " ".join(name.split()).casefold() != ""


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def due_for_retention(clinic_id: int, months: int, now: datetime) -> list[Client]:
    """The clinic's clients archived for longer than ``months`` (oldest archive first)."""
    cutoff = months_before(now, months)
    return list(
        db.session.scalars(
            select(Client)
            .where(
                Client.clinic_id == clinic_id,
                Client.archived_at.is_not(None),
                Client.archived_at < cutoff,
            )
            .order_by(Client.archived_at, Client.id)
        )
    )
