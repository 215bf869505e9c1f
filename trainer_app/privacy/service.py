"""Exports of one client's data or a whole clinic's: gathered from the models, built by a worker.

Same job rules as plan renders: the row is recorded with the click (one per request key),
published after commit, claimed by one atomic ``UPDATE``, kept alive by a heartbeat, and
relayed when left queued or when its worker died. Domain functions flush; callers commit,
except where a claim must be visible before slow work starts.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import LargeBinary, select, update

from trainer_app.accounts.models import Clinic, User
from trainer_app.audit.models import AuditEvent
from trainer_app.extensions import db
from trainer_app.jobs import Heartbeat, claim, finish, record_once, take_due
from trainer_app.privacy.archive import EXTENSIONS, ExportContent, Stored, build_zip
from trainer_app.privacy.graph import paths_to
from trainer_app.privacy.models import (
    BUILDING,
    CLIENT,
    CLINIC,
    EXPIRED,
    FAILED,
    QUEUED,
    READY,
    DataExport,
)
from trainer_app.privacy.tables import (
    CLINIC_EXPORT_OMITTED,
    CLINIC_EXPORT_SKIPPED,
    OWNED,
    client_tables,
)
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)
EXPORT_TASK = "privacy.export"
EXPORT_QUEUE = "celery"


def _extension(table_name: str, column: str, row) -> str:
    mime = row.get(f"{column}_mime")
    if mime:
        return EXTENSIONS.get(mime, "bin")
    return "pdf" if column == "pdf" else "bin"


def _table_rows(table, stmt, omit, files: list[Stored]) -> tuple[list[dict], list[str]]:
    """Rows of ``stmt`` as dicts; binary values become files in the zip, named in the row."""
    columns = [c for c in table.columns if c.name not in omit]
    pk = list(table.primary_key.columns)
    rows = []
    for mapping in db.session.execute(stmt.order_by(*pk)).mappings():
        row = {}
        for column in columns:
            value = mapping[column]
            if isinstance(column.type, LargeBinary) and value is not None:
                key = "-".join(str(mapping[c]) for c in pk)
                ext = _extension(table.name, column.name, mapping)
                path = f"files/{table.name}-{key}-{column.name}.{ext}"
                files.append(Stored(path, bytes(value)))
                value = {"file": path, "bytes": len(value)}
            row[column.name] = value
        rows.append(row)
    return rows, [c.name for c in columns]


def _about(title: str, clinic: Clinic, now: datetime, until: datetime | None) -> dict:
    return {
        "title": title,
        "clinic": clinic.name,
        "exported_at": now,
        "available_until": until,
        "format": "corrective-plans data export, version 1",
    }


def client_content(
    clinic_id: int, client_id: int, now: datetime, until: datetime | None
) -> ExportContent:
    """Everything held about one client: each client table's rows, files, and the access log."""
    clinic = db.session.get(Clinic, clinic_id)
    content = ExportContent(
        root=f"client-{client_id}",
        about={
            **_about(f"Data held about client {client_id}", clinic, now, until),
            "client_id": client_id,
        },
    )
    for path, policy in client_tables(db.metadata):
        if policy.kind != OWNED:
            continue
        table = path.table
        stmt = path.rows_of(client_id)
        if "clinic_id" in table.c:
            stmt = stmt.where(table.c.clinic_id == clinic_id)
        rows, columns = _table_rows(table, stmt, policy.omit, content.files)
        content.tables[table.name], content.columns[table.name] = rows, columns
    # Who looked at or changed the client's data (it names the client by id only).
    audit = AuditEvent.__table__
    stmt = select(audit).where(audit.c.clinic_id == clinic_id, audit.c.client_id == client_id)
    content.tables["audit_events"], content.columns["audit_events"] = _table_rows(
        audit, stmt, (), content.files
    )
    return content


def clinic_content(clinic_id: int, now: datetime, until: datetime | None) -> ExportContent:
    """Everything the clinic holds: every table reaching ``clinics``, but secrets and queues."""
    clinic = db.session.get(Clinic, clinic_id)
    content = ExportContent(
        root=f"clinic-{clinic_id}",
        about=_about(f"Data held by {clinic.name}", clinic, now, until),
    )
    paths = paths_to(db.metadata, "clinics")
    for table in db.metadata.sorted_tables:
        if table.name not in paths or table.name in CLINIC_EXPORT_SKIPPED:
            continue
        stmt = paths[table.name].rows_of(clinic_id)
        rows, columns = _table_rows(
            table, stmt, CLINIC_EXPORT_OMITTED.get(table.name, ()), content.files
        )
        content.tables[table.name], content.columns[table.name] = rows, columns
    audit = AuditEvent.__table__
    stmt = select(audit).where(audit.c.clinic_id == clinic_id)
    content.tables["audit_events"], content.columns["audit_events"] = _table_rows(
        audit, stmt, (), content.files
    )
    return content


def request_export(
    clinic_id: int, client_id: int | None, *, user: User, request_key: str
) -> tuple[DataExport, bool]:
    """Record an export request (``client_id`` None: the whole clinic); (row, needs building)."""
    key = clinic_key(clinic_id, f"export:{request_key}")
    existing = db.session.scalar(select(DataExport).where(DataExport.request_key == key))
    if existing is not None:
        return existing, False
    export = DataExport(
        clinic_id=clinic_id,
        client_id=client_id,
        scope=CLIENT if client_id is not None else CLINIC,
        request_key=key,
        status=QUEUED,
        created_by_id=user.id,
    )
    return record_once(export, DataExport.request_key)


def claim_for_build(export_id: int, claim_id: str) -> bool:
    """Atomically move a queued export to building (see ``jobs.claim``); commits."""
    return claim(DataExport, export_id, claim_id, waiting=QUEUED, working=BUILDING)


def _finish(export_id: int, claim_id: str, **values) -> bool:
    """Record the outcome if this task still holds the claim (see ``jobs.finish``); commits.

    False also when the row is gone (the client was erased meanwhile: the zip is dropped).
    """
    done = finish(DataExport, export_id, claim_id, working=BUILDING, now=utcnow(), **values)
    db.session.commit()
    return done


def available_for() -> timedelta:
    return timedelta(hours=current_app.config["EXPORT_AVAILABLE_HOURS"])


def build_export(export_id: int, claim_id: str) -> str:
    """Worker body: claim, gather, zip, store; returns the outcome."""
    if not claim_for_build(export_id, claim_id):
        log.info("export %s is not queued (or is claimed); nothing to do", export_id)
        return "skipped"
    with Heartbeat(DataExport, export_id, claim_id, BUILDING):
        export = db.session.get(DataExport, export_id)
        now = utcnow()
        until = now + available_for()
        try:
            if export.scope == CLIENT:
                content = client_content(export.clinic_id, export.client_id, now, until)
            else:
                content = clinic_content(export.clinic_id, now, until)
            data = build_zip(content)
        except LookupError as exc:  # a table without a policy: refuse rather than leave it out
            log.error("export %s failed: %s", export_id, exc)
            db.session.rollback()
            done = _finish(export_id, claim_id, status=FAILED, error=str(exc))
            return "failed" if done else "superseded"
        db.session.commit()  # end the read transaction before the write
    done = _finish(
        export_id,
        claim_id,
        status=READY,
        zip=data,
        size_bytes=len(data),
        expires_at=until,
        error=None,
    )
    return "ready" if done else "superseded"


def due_for_relay(now: datetime) -> list[int]:
    """Exports to publish again (see ``jobs.take_due``); the caller commits, then publishes."""
    return take_due(DataExport, now, waiting=QUEUED, working=BUILDING, limit=50)


def expire_exports(now: datetime) -> int:
    """Drop the zips of exports past their time; the rows stay (who exported what, when)."""
    result = db.session.execute(
        update(DataExport)
        .where(DataExport.status == READY, DataExport.expires_at < now)
        .values(status=EXPIRED, zip=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def downloadable(export: DataExport, now: datetime) -> bool:
    return export.status == READY and export.expires_at is not None and export.expires_at > now
