"""Plan documents: record a request, render it in a worker, reuse unchanged renders, relay.

Domain functions flush; the caller (view or task) commits, except where a claim must be
visible to other workers before slow work starts (noted in place).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from trainer_app.accounts.models import Clinic, User
from trainer_app.extensions import db
from trainer_app.jobs import record_once
from trainer_app.library.service import clinic_catalog
from trainer_app.plans.context import plan_context
from trainer_app.plans.models import FAILED, QUEUED, READY, RENDERING, PlanDocument
from trainer_app.plans.render import RenderError, fingerprint, render_plan
from trainer_app.programs.models import ProgramVersion
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)
RENDER_TASK = "plans.render"


def document_context(document: PlanDocument) -> dict:
    """The PDF context of a document (same data whether built in the web or the worker)."""
    version = document.program_version
    previous = None
    if version.number > 1:
        previous = db.session.scalar(
            select(ProgramVersion).where(
                ProgramVersion.program_id == version.program_id,
                ProgramVersion.number == version.number - 1,
            )
        )
    return plan_context(
        version,
        clinic=db.session.get(Clinic, document.clinic_id),
        catalog=clinic_catalog(document.clinic_id),
        previous=previous,
        paper=document.paper_size,
        large_print=document.large_print,
    )


def _ready_source(
    clinic_id: int, print_fingerprint: str, exclude_id: int | None
) -> PlanDocument | None:
    """A rendered document of this clinic with the same fingerprint (the original render)."""
    stmt = select(PlanDocument).where(
        PlanDocument.clinic_id == clinic_id,
        PlanDocument.fingerprint == print_fingerprint,
        PlanDocument.status == READY,
        PlanDocument.reused_from_id.is_(None),
    )
    if exclude_id is not None:
        stmt = stmt.where(PlanDocument.id != exclude_id)
    return db.session.scalar(stmt.order_by(PlanDocument.id).limit(1))


def _mark_reused(document: PlanDocument, source: PlanDocument, now: datetime) -> None:
    document.status = READY
    document.reused_from_id = source.id
    document.size_bytes = source.size_bytes
    document.page_count = source.page_count
    document.finished_at = now
    document.error = None


def request_document(
    version: ProgramVersion,
    *,
    user: User,
    paper: str,
    large_print: bool,
    request_key: str,
) -> tuple[PlanDocument, bool]:
    """Record a "Make PDF" request; return (document, needs_render).

    The same request key (a double click, a retried POST) returns the first document. An
    unchanged plan that was already rendered is served again at once, without a render.
    """
    key = clinic_key(version.clinic_id, request_key)
    existing = db.session.scalar(select(PlanDocument).where(PlanDocument.request_key == key))
    if existing is not None:
        return existing, False
    document = PlanDocument(
        clinic_id=version.clinic_id,
        program_version=version,
        request_key=key,
        paper_size=paper,
        large_print=large_print,
        status=QUEUED,
        created_by_id=user.id,
    )
    document.fingerprint = fingerprint(document_context(document))
    source = _ready_source(version.clinic_id, document.fingerprint, exclude_id=None)
    if source is not None:
        _mark_reused(document, source, utcnow())
    document, created = record_once(document, PlanDocument.request_key)
    return document, created and document.status == QUEUED


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=current_app.config["STALE_CLAIM_SECONDS"])


def claim_for_render(document_id: int, claim_id: str) -> bool:
    """Atomically move a queued document to rendering; commits so other workers see it.

    A redelivered message (same task id) may take back its own claim; a claim left by a
    worker that died long ago may be taken over.
    """
    now = utcnow()
    result = db.session.execute(
        update(PlanDocument)
        .where(
            PlanDocument.id == document_id,
            or_(
                PlanDocument.status == QUEUED,
                and_(
                    PlanDocument.status == RENDERING,
                    or_(
                        PlanDocument.claimed_by == claim_id,
                        PlanDocument.started_at < _stale_before(now),
                    ),
                ),
            ),
        )
        .values(
            status=RENDERING,
            claimed_by=claim_id,
            started_at=now,
            attempts=PlanDocument.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def render_document(document_id: int, claim_id: str) -> str:
    """Worker body: claim, reuse an identical render or render, store; returns the outcome."""
    if not claim_for_render(document_id, claim_id):
        log.info("plan document %s is not queued (or is claimed); nothing to do", document_id)
        return "skipped"
    document = db.session.get(PlanDocument, document_id)
    context = document_context(document)
    document.fingerprint = fingerprint(context)
    now = utcnow()
    source = _ready_source(document.clinic_id, document.fingerprint, exclude_id=document.id)
    if source is not None:
        _mark_reused(document, source, now)
        db.session.commit()
        return "reused"
    try:
        pdf = render_plan(
            context,
            timeout_s=current_app.config["PDF_RENDER_TIMEOUT"],
            memory_mb=current_app.config["PDF_RENDER_MEMORY_MB"],
        )
    except RenderError as exc:
        document.status = FAILED
        document.error = str(exc)
        document.finished_at = utcnow()
        db.session.commit()
        log.warning("plan document %s failed: %s", document_id, exc)
        return "failed"
    document.pdf = pdf
    document.size_bytes = len(pdf)
    document.status = READY
    document.error = None
    document.finished_at = utcnow()
    db.session.commit()
    return "ready"


def pdf_bytes(document: PlanDocument) -> bytes | None:
    """The PDF of a ready document (a reused document serves its source's bytes)."""
    if document.status != READY:
        return None
    if document.reused_from_id is not None:
        source = db.session.get(PlanDocument, document.reused_from_id)
        return source.pdf if source is not None else None
    return document.pdf


def due_for_relay(now: datetime) -> list[int]:
    """Documents still queued after the relay delay, or claimed by a worker that died.

    Their ``queued_at`` moves to now so a second relay (or the next run) leaves them alone;
    on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets two relays run without taking the same rows.
    The caller commits, then publishes.
    """
    cutoff = now - timedelta(seconds=current_app.config["RELAY_AFTER_SECONDS"])
    abandoned = _stale_before(now)
    stmt = (
        select(PlanDocument)
        .where(
            or_(
                and_(PlanDocument.status == QUEUED, PlanDocument.queued_at < cutoff),
                and_(PlanDocument.status == RENDERING, PlanDocument.started_at < abandoned),
            )
        )
        .order_by(PlanDocument.queued_at)
        .limit(200)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    documents = db.session.scalars(stmt).all()
    for document in documents:
        document.status = QUEUED
        document.queued_at = now
    db.session.flush()
    return [document.id for document in documents]
