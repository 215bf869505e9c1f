"""The day's print: many clients' documents rendered by the workers, merged into one PDF.

A batch is a job row like a plan document: recorded with the request, prepared by a worker
(one document request per client and kind, each reused when unchanged), advanced when the last
of its documents settles, merged by one task, relayed when a worker died on the way. Every step
is a claim checked in one ``UPDATE``, so a redelivered or relayed task never prints a client
twice. Functions flush; the task bodies commit where noted.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, datetime, timedelta

import pikepdf
from flask import current_app
from sqlalchemy import func, or_, select, update

from trainer_app.accounts.models import Clinic, User
from trainer_app.appointments.models import Appointment
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.jobs import Heartbeat, record_once, relay_cutoff, stale_before
from trainer_app.plans import service as plans
from trainer_app.plans.models import FAILED as DOC_FAILED
from trainer_app.plans.models import PLAN, SESSION, PlanDocument
from trainer_app.plans.models import READY as DOC_READY
from trainer_app.prints.models import (
    BOTH,
    EXPIRED,
    FAILED,
    LEFT_OUT,
    MERGING,
    PENDING,
    PLANS,
    PRINTED,
    QUEUED,
    READY,
    RENDERING,
    SESSIONS,
    PrintBatch,
    PrintItem,
)
from trainer_app.progress.service import current_program, open_red_flags
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)
PREPARE_TASK = "prints.prepare"
MERGE_TASK = "prints.merge"
MAX_CLIENTS = 200
NO_PROGRAM = "no current program"
RED_FLAG = "red flag not cleared"


class BatchError(ValueError):
    """The request cannot make a batch (nothing chosen, another clinic's ids)."""


def kinds_of(what: str) -> tuple[str, ...]:
    """The document kinds a batch prints for each client, in the order they are stapled."""
    return {SESSIONS: (SESSION,), PLANS: (PLAN,), BOTH: (SESSION, PLAN)}[what]


def create_batch(
    clinic: Clinic,
    user: User,
    *,
    appointment_ids: list[int] = (),
    client_ids: list[int] = (),
    what: str,
    duplex: bool,
    day: date,
    request_key: str,
) -> tuple[PrintBatch, bool]:
    """Record a batch and its clients in print order; (batch, created).

    From appointments: their order in the day (a client booked twice prints once, at the first).
    From the client list: the order given. The same request key returns the first batch.
    :raise BatchError: nothing of this clinic was chosen, or too many clients.
    """
    key = clinic_key(clinic.id, "print:" + request_key)
    existing = db.session.scalar(select(PrintBatch).where(PrintBatch.request_key == key))
    if existing is not None:
        return existing, False
    if what not in (SESSIONS, PLANS, BOTH):
        raise BatchError("Choose session sheets, full plans or both.")
    order: list[tuple[int, int | None]] = []
    if appointment_ids:
        rows = db.session.execute(
            select(Appointment.id, Appointment.client_id)
            .where(
                Appointment.clinic_id == clinic.id,
                Appointment.id.in_(list(appointment_ids)),
                Appointment.client_id.is_not(None),
            )
            .order_by(Appointment.starts_at, Appointment.id)
        ).all()
        order = [(client_id, appointment_id) for appointment_id, client_id in rows]
    else:
        known = set(
            db.session.scalars(
                select(Client.id).where(
                    Client.clinic_id == clinic.id, Client.id.in_(list(client_ids))
                )
            )
        )
        order = [(client_id, None) for client_id in client_ids if client_id in known]
    seen: set[int] = set()
    unique = [(c, a) for c, a in order if not (c in seen or seen.add(c))]
    if not unique:
        raise BatchError("Choose at least one appointment or client of this clinic to print.")
    if len(unique) > MAX_CLIENTS:
        raise BatchError(f"Print at most {MAX_CLIENTS} clients at once.")
    batch = PrintBatch(
        clinic_id=clinic.id,
        request_key=key,
        what=what,
        duplex=duplex,
        day=day,
        paper_size=clinic.paper_size,
        status=QUEUED,
        total=len(unique),
        created_by_id=user.id,
    )
    batch.items = [
        PrintItem(clinic_id=clinic.id, position=i, client_id=c, appointment_id=a)
        for i, (c, a) in enumerate(unique)
    ]
    return record_once(batch, PrintBatch.request_key)


def _claim(batch_id: int, status: str, claim_id: str) -> bool:
    """Take the batch in ``status`` for this task (its own redelivery, or a dead worker's)."""
    now = utcnow()
    result = db.session.execute(
        update(PrintBatch)
        .where(
            PrintBatch.id == batch_id,
            PrintBatch.status == status,
            or_(
                PrintBatch.claimed_by.is_(None),
                PrintBatch.claimed_by == claim_id,
                PrintBatch.heartbeat_at < stale_before(now),
            ),
        )
        .values(claimed_by=claim_id, heartbeat_at=now, attempts=PrintBatch.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def prepare(batch_id: int, claim_id: str, publish: Callable[[int], object]) -> int:
    """Worker body: request each client's documents, publishing renders as it goes. Commits.

    Clients without a current program, or with a red flag no clearance was recorded for, are
    left out with the reason. Each client's documents are committed, then ``publish`` is called
    with each one that needs a render, so the other workers start while this one prepares the
    next client. Document request keys are the batch's and the client's: a second run (after a
    crash) finds the same documents, and the plan relay publishes any left queued.
    Returns how many renders were published.
    """
    if not _claim(batch_id, QUEUED, claim_id):
        log.info("print batch %s is not waiting to be prepared; nothing to do", batch_id)
        return 0
    published = 0
    with Heartbeat(PrintBatch, batch_id, claim_id, QUEUED):
        batch = db.session.get(PrintBatch, batch_id)
        user = db.session.get(User, batch.created_by_id) if batch.created_by_id else None
        what, paper, day = batch.what, batch.paper_size, batch.day
        item_ids = [item.id for item in batch.items if item.status == PENDING]
        for item_id in item_ids:
            item = db.session.get(PrintItem, item_id)
            to_render = _prepare_item(item, batch_id, user, what, paper, day)
            db.session.commit()
            for document_id in to_render:
                publish(document_id)
                published += 1
    db.session.execute(
        update(PrintBatch)
        .where(
            PrintBatch.id == batch_id,
            PrintBatch.status == QUEUED,
            PrintBatch.claimed_by == claim_id,
        )
        .values(status=RENDERING, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return published


def _prepare_item(
    item: PrintItem, batch_id: int, user: User | None, what: str, paper: str, day: date
) -> list[int]:
    """Record one client's documents (or why they are left out); the ids that need a render."""
    if item.session_document_id or item.plan_document_id:
        return []  # done by an earlier run; the plan relay publishes what it left queued
    program = current_program(item.client_id)
    if program is None or program.latest is None:
        item.status, item.reason = LEFT_OUT, NO_PROGRAM
        return []
    if open_red_flags(item.client_id):
        item.status, item.reason = LEFT_OUT, RED_FLAG
        return []
    to_render = []
    for kind in kinds_of(what):
        document, needs_render = plans.request_document(
            program.latest,
            user=user,
            paper=paper,
            large_print=False,
            request_key=f"batch-{batch_id}-client-{item.client_id}-{kind}",
            kind=kind,
            session_day=day,
        )
        if kind == SESSION:
            item.session_document_id = document.id
        else:
            item.plan_document_id = document.id
        if needs_render:
            to_render.append(document.id)
    return to_render


def _documents(item: PrintItem, what: str) -> list[PlanDocument | None]:
    ids = [
        item.session_document_id if kind == SESSION else item.plan_document_id
        for kind in kinds_of(what)
    ]
    return [db.session.get(PlanDocument, i) if i else None for i in ids]


def _unsettled(batch: PrintBatch) -> int:
    """How many of the batch's waiting clients still have a document not rendered (or failed).

    One query, however many clients: each render of a batch asks it.
    """
    missing = []
    for kind in kinds_of(batch.what):
        column = PrintItem.session_document_id if kind == SESSION else PrintItem.plan_document_id
        settled = select(PlanDocument.id).where(
            PlanDocument.id == column, PlanDocument.status.in_((DOC_READY, DOC_FAILED))
        )
        missing.append(~settled.exists())
    return db.session.scalar(
        select(func.count())
        .select_from(PrintItem)
        .where(PrintItem.batch_id == batch.id, PrintItem.status == PENDING, or_(*missing))
    )


def counts(batch: PrintBatch) -> tuple[int, int]:
    """(clients settled, clients in all): settled means printed, left out or rendered."""
    if batch.status in (RENDERING, MERGING):
        waiting = _unsettled(batch)
    else:
        waiting = db.session.scalar(
            select(func.count())
            .select_from(PrintItem)
            .where(PrintItem.batch_id == batch.id, PrintItem.status == PENDING)
        )
    return batch.total - waiting, batch.total


def advance(batch_id: int) -> bool:
    """Move a rendering batch whose documents have all settled to merging; commits.

    True for the one caller whose ``UPDATE`` made the move (it enqueues the merge).
    """
    batch = db.session.get(PrintBatch, batch_id)
    if batch is None or batch.status != RENDERING:
        return False
    done, total = counts(batch)
    if done < total:
        return False
    result = db.session.execute(
        update(PrintBatch)
        .where(PrintBatch.id == batch_id, PrintBatch.status == RENDERING)
        .values(status=MERGING, claimed_by=None, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def waiting_on(document_id: int) -> list[int]:
    """Rendering batches with a client whose document is this one (or is served by it)."""
    served = select(PlanDocument.id).where(
        or_(PlanDocument.id == document_id, PlanDocument.reused_from_id == document_id)
    )
    return list(
        db.session.scalars(
            select(PrintItem.batch_id)
            .join(PrintBatch, PrintBatch.id == PrintItem.batch_id)
            .where(
                PrintBatch.status == RENDERING,
                or_(
                    PrintItem.session_document_id.in_(served),
                    PrintItem.plan_document_id.in_(served),
                ),
            )
            .distinct()
        )
    )


def blanks_after(pages: int, duplex: bool) -> int:
    """Blank pages to add after one document (a session sheet, a plan) of ``pages`` pages.

    Printed two-sided, every document starts on a fresh sheet: the client's plan is handed to
    the client on its own, so its first page must not be on the back of the trainer's session
    sheet (nor one client's last page on the back of the next client's first).
    """
    return pages % 2 if duplex else 0


def _blank_like(merged: pikepdf.Pdf) -> None:
    box = merged.pages[-1].mediabox
    width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
    merged.add_blank_page(page_size=(width, height))


def merge(batch_id: int, claim_id: str) -> str:
    """Worker body: one PDF of every printable client, in order, each on a fresh sheet. Commits.

    A client whose render failed is left out with the reason; the others print. With duplex a
    blank page follows each document that ends on a front page (``blanks_after``), so no two
    documents share a sheet: not two clients, nor a client's session sheet and plan.
    qpdf (pikepdf) copies each page with only the objects it uses and leaves the streams as
    they were compressed: it never parses a document's structure tree (the tagged PDF's
    hundreds of elements, which pypdf read in full for each client, most of a merge's time).
    """
    if not _claim(batch_id, MERGING, claim_id):
        log.info("print batch %s is not waiting to be merged; nothing to do", batch_id)
        return "skipped"
    with Heartbeat(PrintBatch, batch_id, claim_id, MERGING), ExitStack() as sources:
        batch = db.session.get(PrintBatch, batch_id)
        merged = sources.enter_context(pikepdf.Pdf.new())
        blanks = 0
        outcomes: dict[int, tuple[str, str | None, int | None]] = {}
        for item in batch.items:
            if item.status == LEFT_OUT:
                continue
            documents = _documents(item, batch.what)
            failed = [d for d in documents if d is None or d.status != DOC_READY]
            if failed:
                reason = "render failed"
                if failed[0] is not None and failed[0].error:
                    reason += f": {failed[0].error}"
                outcomes[item.id] = (LEFT_OUT, reason[:500], None)
                continue
            try:
                # Kept open until the merge is saved: their pages are copied then.
                parts = [sources.enter_context(_open_pdf(plans.pdf_bytes(d))) for d in documents]
            except (pikepdf.PdfError, ValueError) as exc:
                outcomes[item.id] = (LEFT_OUT, f"render failed: unreadable PDF ({exc})", None)
                continue
            pages = 0
            for part in parts:
                merged.pages.extend(part.pages)
                pages += len(part.pages)
                for _ in range(blanks_after(len(part.pages), batch.duplex)):
                    _blank_like(merged)
                    blanks += 1
            outcomes[item.id] = (PRINTED, None, pages)
        out = io.BytesIO()
        if len(merged.pages):
            # The documents' streams are copied as they are: nothing decoded, nothing recompressed.
            merged.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none)
        pdf = out.getvalue() or None
        page_count = len(merged.pages)
        db.session.commit()  # end the read transaction before the final write
    now = utcnow()
    result = db.session.execute(
        update(PrintBatch)
        .where(
            PrintBatch.id == batch_id,
            PrintBatch.status == MERGING,
            PrintBatch.claimed_by == claim_id,
        )
        .values(
            status=READY if pdf else FAILED,
            error=None if pdf else "No client could be printed: see the reasons below.",
            pdf=pdf,
            page_count=page_count,
            blank_pages=blanks,
            finished_at=now,
            expires_at=now + timedelta(hours=current_app.config["PRINT_KEEP_HOURS"]),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        log.warning("print batch %s was taken over by another worker; merge dropped", batch_id)
        return "superseded"
    for item_id, (status, reason, pages) in outcomes.items():
        db.session.execute(
            update(PrintItem)
            .where(PrintItem.id == item_id)
            .values(status=status, reason=reason, page_count=pages)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return "ready" if pdf else "failed"


def due_for_relay(now: datetime) -> tuple[list[int], list[int], list[int]]:
    """Batches to publish again: (to prepare, to advance, to merge). The caller commits.

    Queued ones still waiting after the relay delay (or whose preparing worker died), rendering
    ones whose documents have all settled (the advancing task died between), merging ones whose
    merge stopped beating. Also drops the PDFs of batches past their keeping time.
    """
    cutoff = relay_cutoff(now)
    stale = stale_before(now)
    prepare_ids = list(
        db.session.scalars(
            update(PrintBatch)
            .where(
                PrintBatch.status == QUEUED,
                PrintBatch.queued_at < cutoff,
                or_(PrintBatch.claimed_by.is_(None), PrintBatch.heartbeat_at < stale),
            )
            .values(queued_at=now, claimed_by=None)
            .returning(PrintBatch.id)
            .execution_options(synchronize_session=False)
        )
    )
    advance_ids = list(
        db.session.scalars(
            select(PrintBatch.id).where(
                PrintBatch.status == RENDERING, PrintBatch.queued_at < cutoff
            )
        )
    )
    merge_ids = list(
        db.session.scalars(
            update(PrintBatch)
            .where(
                PrintBatch.status == MERGING,
                or_(PrintBatch.heartbeat_at.is_(None), PrintBatch.heartbeat_at < stale),
            )
            .values(claimed_by=None, heartbeat_at=now)
            .returning(PrintBatch.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.execute(
        update(PrintBatch)
        .where(PrintBatch.status == READY, PrintBatch.expires_at < now)
        .values(status=EXPIRED, pdf=None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return prepare_ids, advance_ids, merge_ids


def _open_pdf(data: bytes | None) -> pikepdf.Pdf:
    """A stored document, opened strictly: a damaged file is refused, not half recovered.

    :raise pikepdf.PdfError: the bytes are not a whole PDF with at least one page.
    """
    pdf = pikepdf.Pdf.open(io.BytesIO(data or b""), attempt_recovery=False)
    if not len(pdf.pages):
        pdf.close()
        raise pikepdf.PdfError("no pages")
    return pdf


def pdf_of(batch: PrintBatch) -> bytes | None:
    """The merged PDF while it is kept."""
    if batch.status != READY or (batch.expires_at and batch.expires_at < utcnow()):
        return None
    return batch.pdf
