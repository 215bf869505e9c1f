"""Plan documents: record a request, render it in a worker, reuse unchanged renders, relay.

Domain functions flush; the caller (view or task) commits, except where a claim must be
visible to other workers before slow work starts (noted in place).
"""

from __future__ import annotations

import io
import logging
from datetime import date, datetime

from flask import current_app
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import case, delete, func, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.attributes import set_committed_value

from trainer_app.accounts.models import Clinic, User
from trainer_app.assessments.service import current_clearance, plan_hold
from trainer_app.extensions import db
from trainer_app.jobs import (
    URGENT,
    Heartbeat,
    claim,
    enqueue,
    finish,
    record_once,
    relay_cutoff,
    take_due,
)
from trainer_app.library import media
from trainer_app.library.service import clinic_catalog
from trainer_app.plans.context import plan_context
from trainer_app.plans.models import (
    CLICK,
    FAILED,
    PLAN,
    PRERENDER,
    QUEUED,
    READY,
    RENDERING,
    SESSION,
    PlanDocument,
)
from trainer_app.plans.options import AUDIENCES, CLIENT_COPY
from trainer_app.plans.render import RenderError, fingerprint, render_plan, render_session
from trainer_app.plans.session import session_context
from trainer_app.programs.builder import draft_from_dict
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.progress.service import active_link_url, ensure_link, plan_progress
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import format_local, utcnow

log = logging.getLogger(__name__)
RENDER_TASK = "plans.render"


def document_context(document: PlanDocument) -> dict:
    """The PDF context of a document (same data whether built in the web or the worker)."""
    version = document.program_version
    if document.kind == SESSION:
        context = session_context(
            version,
            clinic=db.session.get(Clinic, document.clinic_id),
            catalog=clinic_catalog(document.clinic_id),
            day=document.session_day,
            paper=document.paper_size,
        )
        # The client's personal progress link as a QR code, so they can log at home too.
        context["progress_url"] = active_link_url(version.program.client_id)
        return context
    previous = None
    loaded = sa_inspect(version.program).dict.get("versions")
    if version.number > 1 and loaded is not None:
        # already read for the progress link's end (``ensure_link``): no second query
        previous = next((v for v in loaded if v.number == version.number - 1), None)
    elif version.number > 1:
        previous = db.session.scalar(
            select(ProgramVersion).where(
                ProgramVersion.program_id == version.program_id,
                ProgramVersion.number == version.number - 1,
            )
        )
    slugs = [item.exercise_slug for item in draft_from_dict(version.content).items]
    context = plan_context(
        version,
        clinic=db.session.get(Clinic, document.clinic_id),
        catalog=clinic_catalog(document.clinic_id),
        previous=previous,
        paper=document.paper_size,
        large_print=document.large_print,
        audience=document.audience or CLIENT_COPY,
        pictures=media.pictures(document.clinic_id, slugs, with_photos=True),
    )
    # The client's personal link (as a QR code) and their progress so far.
    context["progress"] = plan_progress(version.program)
    # The client's latest medical clearance is printed on the plan (a new one makes a new PDF).
    clearance = current_clearance(document.clinic_id, version.program.client_id)
    context["clearance"] = {"line": clearance.line} if clearance else None
    return context


def _original(
    clinic_id: int,
    print_fingerprint: str,
    exclude_id: int | None,
    *,
    in_flight: bool,
    prerenders: bool = True,
) -> PlanDocument | None:
    """The document this clinic rendered (or, with ``in_flight``, is rendering) the same PDF as.

    A ready original is preferred; a failed one is never reused. Without ``prerenders``, rows
    rendered ahead that no click has adopted are left out (a click is never served by a row the
    trainer cannot see).
    """
    live = (QUEUED, RENDERING, READY) if in_flight else (READY,)
    stmt = select(PlanDocument).where(
        PlanDocument.clinic_id == clinic_id,
        PlanDocument.fingerprint == print_fingerprint,
        PlanDocument.status.in_(live),
        PlanDocument.reused_from_id.is_(None),
    )
    if exclude_id is not None:
        stmt = stmt.where(PlanDocument.id != exclude_id)
    if not prerenders:
        stmt = stmt.where(PlanDocument.origin == CLICK)
    ready_first = case((PlanDocument.status == READY, 0), else_=1)
    return db.session.scalar(stmt.order_by(ready_first, PlanDocument.id).limit(1))


def live_original(clinic_id: int, print_fingerprint: str) -> PlanDocument | None:
    """A document of this clinic that is, or will be, the same PDF (clicked or rendered ahead)."""
    return _original(clinic_id, print_fingerprint, None, in_flight=True)


def newer_version_exists(version: ProgramVersion) -> bool:
    """A later version of the program has been saved (only the latest is rendered ahead)."""
    return (
        db.session.scalar(
            select(ProgramVersion.id)
            .where(
                ProgramVersion.program_id == version.program_id,
                ProgramVersion.number > version.number,
            )
            .limit(1)
        )
        is not None
    )


def _adopt(document: PlanDocument, request_key: str, user: User) -> bool:
    """Make a row rendered ahead the trainer's own request (one ``UPDATE``; False if another
    request adopted it, or a later save deleted it, first)."""
    values = {
        "origin": CLICK,
        "request_key": request_key,
        "created_by_id": user.id,
        "created_at": utcnow(),
        "priority": URGENT,
    }
    # The row as updated comes back with the UPDATE (a worker may have moved it on since it was
    # read), instead of a second read.
    columns = [c for c in PlanDocument.__table__.columns if c.key != "pdf"]
    row = db.session.execute(
        update(PlanDocument)
        .where(PlanDocument.id == document.id, PlanDocument.origin == PRERENDER)
        .values(**values)
        .returning(*columns)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return False
    for column, value in zip(columns, row, strict=True):
        set_committed_value(document, column.key, value)
    return True


def _drop_prerender(document_id: int, claim_id: str) -> bool:
    """Delete a pre-render this task holds that nobody adopted; commits. False if adopted."""
    result = db.session.execute(
        delete(PlanDocument)
        .where(
            PlanDocument.id == document_id,
            PlanDocument.origin == PRERENDER,
            PlanDocument.claimed_by == claim_id,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _unwanted(document: PlanDocument, print_fingerprint: str) -> bool:
    """A pre-render nobody will ask for: superseded, archived, or the same PDF exists."""
    version = document.program_version
    return (
        version.program.client.is_archived
        or newer_version_exists(version)
        or _original(document.clinic_id, print_fingerprint, document.id, in_flight=True) is not None
    )


def forget_row(document: PlanDocument) -> None:
    """Drop a row that was built but is not to be stored."""
    if document in db.session:
        db.session.expunge(document)


def _mark_reused(document: PlanDocument, source: PlanDocument, now: datetime) -> None:
    document.status = READY
    document.reused_from_id = source.id
    document.size_bytes = source.size_bytes
    document.page_count = source.page_count
    document.finished_at = now
    document.error = None


def _settle_followers(document_id: int, values: dict, now: datetime) -> None:
    """Requests waiting for a document's render take its outcome (and its final source)."""
    source_id = values.get("reused_from_id") or document_id
    db.session.execute(
        update(PlanDocument)
        .where(PlanDocument.reused_from_id == document_id, PlanDocument.status == QUEUED)
        .values(
            status=values["status"],
            error=values.get("error"),
            size_bytes=values.get("size_bytes"),
            page_count=values.get("page_count"),
            finished_at=now,
            reused_from_id=source_id,
        )
        .execution_options(synchronize_session=False)
    )


def new_document(
    version: ProgramVersion,
    *,
    request_key: str,
    user_id: int | None,
    paper: str,
    large_print: bool,
    audience: str = CLIENT_COPY,
    kind: str = PLAN,
    session_day: date | None = None,
) -> PlanDocument:
    """A queued document of ``version`` with these print options (``PrintOptions.as_kwargs``)
    and its fingerprint; the row is not added to the session."""
    document = PlanDocument(
        clinic_id=version.clinic_id,
        program_version=version,
        request_key=request_key,
        paper_size=paper,
        large_print=large_print,
        audience=audience,
        kind=kind,
        session_day=session_day if kind == SESSION else None,
        status=QUEUED,
        created_by_id=user_id,
    )
    document.fingerprint = fingerprint(document_context(document))
    return document


def request_document(
    version: ProgramVersion,
    *,
    user: User,
    paper: str,
    large_print: bool,
    request_key: str,
    audience: str = CLIENT_COPY,
    kind: str = PLAN,
    session_day: date | None = None,
) -> tuple[PlanDocument, bool]:
    """Record a "Make PDF" request; return (document, needs_render).

    The same request key (a double click, a retried POST) returns the first document. A request
    for the same PDF as one already made or being made (same fingerprint: version, paper,
    print size, client or clinician copy, branding, pictures) is recorded as a request served
    by that original (``reused_from_id``): no second render, no second row in the listing. It
    is ready at once, or when the original finishes. A matching row rendered ahead
    (``plans/prerender.py``) is adopted instead: it becomes this request's document, published
    now if it still waits.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"Unknown copy {audience!r}.")
    key = clinic_key(version.clinic_id, request_key)
    existing = db.session.scalar(select(PlanDocument).where(PlanDocument.request_key == key))
    if existing is not None:
        return existing, False
    # Each new plan renews the client's progress link (or gives a revoked one a new URL).
    client = version.program.client
    if not client.is_archived:
        ensure_link(client, version.program)
    document = new_document(
        version,
        request_key=key,
        user_id=user.id,
        paper=paper,
        large_print=large_print,
        audience=audience,
        kind=kind,
        session_day=session_day,
    )
    source = _original(version.clinic_id, document.fingerprint, exclude_id=None, in_flight=True)
    if source is not None and source.origin == PRERENDER:
        if _adopt(source, key, user):
            forget_row(document)
            return source, source.status == QUEUED
        source = _original(
            version.clinic_id, document.fingerprint, None, in_flight=True, prerenders=False
        )
    if source is not None:
        document.reused_from_id = source.id
        if source.status == READY:
            _mark_reused(document, source, utcnow())
    document, created = record_once(document, PlanDocument.request_key)
    return document, created and document.reused_from_id is None and document.status == QUEUED


def claim_for_render(document_id: int, claim_id: str) -> bool:
    """Atomically move a queued document to rendering (see ``jobs.claim``); commits."""
    # a request served by another document waits for that one, it never renders
    return claim(
        PlanDocument,
        document_id,
        claim_id,
        waiting=QUEUED,
        working=RENDERING,
        where=[PlanDocument.reused_from_id.is_(None)],
    )


def _finish(document_id: int, claim_id: str, **values) -> bool:
    """Record the outcome if this task still holds the claim (see ``jobs.finish``); commits.

    Requests waiting on this document settle with it in the same transaction.
    """
    now = utcnow()
    done = finish(PlanDocument, document_id, claim_id, working=RENDERING, now=now, **values)
    if done:
        _settle_followers(document_id, values, now)
    db.session.commit()
    if not done:
        log.warning(
            "plan document %s was taken over by another worker; result dropped", document_id
        )
    return done


def page_count(pdf: bytes) -> int | None:
    """Pages in a rendered PDF (None, and a log line, if it cannot be read back)."""
    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except (PdfReadError, ValueError):
        log.warning("could not count the pages of a rendered PDF", exc_info=True)
        return None


def render_document(document_id: int, claim_id: str) -> str:
    """Worker body: claim, reuse an identical render or render, store; returns the outcome."""
    if not claim_for_render(document_id, claim_id):
        log.info("plan document %s is not queued (or is claimed); nothing to do", document_id)
        return "skipped"
    with Heartbeat(PlanDocument, document_id, claim_id, RENDERING):
        document = db.session.get(PlanDocument, document_id)
        hold = plan_hold(document.program_version)
        if hold is not None:
            # requested before a red flag was reported: it is not made until the clearance
            db.session.commit()
            done = _finish(document_id, claim_id, status=FAILED, error=f"Not made: {hold.reason}")
            return "refused" if done else "superseded"
        context = document_context(document)
        render = render_session if document.kind == SESSION else render_plan
        print_fingerprint = fingerprint(context)
        if (
            document.origin == PRERENDER
            and _unwanted(document, print_fingerprint)
            and _drop_prerender(document_id, claim_id)
        ):
            return "superseded"
        document = db.session.get(PlanDocument, document_id)
        # A click's document is never served by a pre-render nobody adopted (it is not listed).
        source = _original(
            document.clinic_id,
            print_fingerprint,
            document.id,
            in_flight=False,
            prerenders=document.origin == PRERENDER,
        )
        # End the read transaction: nothing may hold the database during a render.
        db.session.commit()
        if source is not None:
            done = _finish(
                document_id,
                claim_id,
                status=READY,
                fingerprint=print_fingerprint,
                reused_from_id=source.id,
                size_bytes=source.size_bytes,
                page_count=source.page_count,
                error=None,
            )
            return "reused" if done else "superseded"
        try:
            pdf = render(
                context,
                timeout_s=current_app.config["PDF_RENDER_TIMEOUT"],
                memory_mb=current_app.config["PDF_RENDER_MEMORY_MB"],
            )
        except RenderError as exc:
            log.warning("plan document %s failed: %s", document_id, exc)
            done = _finish(
                document_id, claim_id, status=FAILED, fingerprint=print_fingerprint, error=str(exc)
            )
            return "failed" if done else "superseded"
    done = _finish(
        document_id,
        claim_id,
        status=READY,
        fingerprint=print_fingerprint,
        pdf=pdf,
        size_bytes=len(pdf),
        page_count=page_count(pdf),
        error=None,
    )
    if done and _saved_over_while_rendering(document_id, claim_id):
        return "superseded"
    return "ready" if done else "superseded"


def _saved_over_while_rendering(document_id: int, claim_id: str) -> bool:
    """A pre-render whose program got a newer version during the render is not kept."""
    document = db.session.get(PlanDocument, document_id)
    if document is None or document.origin != PRERENDER:
        return False
    if not newer_version_exists(document.program_version):
        db.session.commit()
        return False
    return _drop_prerender(document_id, claim_id)


def publish(document_ids: list[int]) -> int:
    """Publish the render of committed rows, each at its own priority; returns how many went."""
    priorities = (
        dict(
            db.session.execute(
                select(PlanDocument.id, PlanDocument.priority).where(
                    PlanDocument.id.in_(document_ids)
                )
            ).all()
        )
        if document_ids
        else {}
    )
    return sum(
        enqueue(RENDER_TASK, document_id, queue="pdf", priority=priorities.get(document_id, URGENT))
        for document_id in document_ids
    )


def pdf_bytes(document: PlanDocument) -> bytes | None:
    """The PDF of a ready document (a reused document serves its source's bytes)."""
    if document.status != READY:
        return None
    if document.reused_from_id is not None:
        source = db.session.get(PlanDocument, document.reused_from_id)
        return source.pdf if source is not None else None
    return document.pdf


def due_for_relay(now: datetime) -> list[int]:
    """Documents to publish again (see ``jobs.take_due``); the caller commits, then publishes.

    Only originals are relayed: requests served by another document settle with it (and the
    ones that came in late are settled here).
    """
    relayed = take_due(
        PlanDocument,
        now,
        waiting=QUEUED,
        working=RENDERING,
        where=[PlanDocument.reused_from_id.is_(None)],
    )
    _settle_late_followers(relay_cutoff(now), now)
    db.session.flush()
    return relayed


def _settle_late_followers(cutoff: datetime, now: datetime) -> None:
    """Settle requests still waiting on an original that has finished.

    A request recorded while its original was rendering, and committed just after the render
    settled the others, would otherwise wait for good.
    """
    waiting = db.session.scalars(
        select(PlanDocument)
        .where(
            PlanDocument.reused_from_id.is_not(None),
            PlanDocument.status == QUEUED,
            PlanDocument.queued_at < cutoff,
        )
        .limit(200)
    ).all()
    for follower in waiting:
        source = db.session.get(PlanDocument, follower.reused_from_id)
        if source is None or source.status not in (READY, FAILED):
            continue
        follower.reused_from_id = source.reused_from_id or source.id
        follower.status = source.status
        follower.error = source.error
        follower.size_bytes = source.size_bytes
        follower.page_count = source.page_count
        follower.finished_at = now


def client_documents(client, limit: int = 10) -> list[PlanDocument]:
    """The client's ready plan PDFs, newest first (what the front desk prints and emails)."""
    return list(
        db.session.scalars(
            select(PlanDocument)
            .join(ProgramVersion, PlanDocument.program_version_id == ProgramVersion.id)
            .join(Program, ProgramVersion.program_id == Program.id)
            .where(
                PlanDocument.clinic_id == client.clinic_id,
                Program.client_id == client.id,
                PlanDocument.status == READY,
                PlanDocument.kind == PLAN,
                PlanDocument.reused_from_id.is_(None),
                PlanDocument.origin == CLICK,  # rendered ahead and never asked for: not a plan
            )
            .order_by(PlanDocument.created_at.desc(), PlanDocument.id.desc())
            .limit(limit)
        )
    )


# When the page checks a document that is not ready yet (``data-poll-in``, static/js/app.js).
FIRST_CHECK_MS = 250  # a queued document: most are claimed within a few milliseconds
TAIL_CHECK_MS = 100  # around the moment a render is expected to end
LONGEST_CHECK_MS = 3000
DEFAULT_RENDER_SECONDS = 1.5  # before the clinic has rendered anything


def typical_render_seconds(clinic_id: int) -> float:
    """A render of this clinic that goes well takes about this long (the lower quartile of the
    last 20), so the page checks a little early rather than late."""
    rows = db.session.execute(
        select(PlanDocument.started_at, PlanDocument.finished_at)
        .where(
            PlanDocument.clinic_id == clinic_id,
            PlanDocument.status == READY,
            PlanDocument.reused_from_id.is_(None),
            PlanDocument.started_at.is_not(None),
        )
        .order_by(PlanDocument.id.desc())
        .limit(20)
    ).all()
    took = sorted((done - began).total_seconds() for began, done in rows if done and began)
    return took[len(took) // 4] if took else DEFAULT_RENDER_SECONDS


def next_check_ms(document: PlanDocument, now: datetime | None = None) -> int | None:
    """Milliseconds until the page should ask again about a document being made (None: done).

    Polling, not a stream: gunicorn's sync workers would each be held by an open stream.
    A render in progress is checked when it should be about done, then every 100 ms, backing
    off gently once it is late; a queued one after 250 ms, backing off while it waits.
    """
    if document.is_done:
        return None
    now = now or utcnow()
    if document.status == RENDERING and document.started_at is not None:
        elapsed = (now - document.started_at).total_seconds()
        remaining = typical_render_seconds(document.clinic_id) - elapsed
        wait = remaining * 1000 if remaining > 0 else TAIL_CHECK_MS - 250 * remaining
        return int(min(max(wait, TAIL_CHECK_MS), LONGEST_CHECK_MS))
    waited = max((now - document.queued_at).total_seconds(), 0.0)
    return int(min(FIRST_CHECK_MS + 250 * waited, LONGEST_CHECK_MS))


def repeat_requests(document_ids: list[int]) -> dict[int, tuple[int, datetime]]:
    """For each original document, how many later requests it served and when the last was."""
    if not document_ids:
        return {}
    rows = db.session.execute(
        select(PlanDocument.reused_from_id, func.count(), func.max(PlanDocument.created_at))
        .where(PlanDocument.reused_from_id.in_(document_ids))
        .group_by(PlanDocument.reused_from_id)
    ).all()
    return {source_id: (count, last) for source_id, count, last in rows}


def document_notes(documents: list[PlanDocument], zone: str | None) -> dict[int, list[str]]:
    """What tells a program's PDFs apart beyond version, paper and status: the day's print that
    asked for one, and, among copies of the same version, paper and copy (newest first), which
    one to use and why an older one differs."""
    from trainer_app.prints.models import PrintBatch, PrintItem  # prints builds on plans

    notes: dict[int, list[str]] = {d.id: [] for d in documents}
    if notes:
        printed = db.session.execute(
            select(PrintItem.plan_document_id, PrintBatch.day)
            .join(PrintBatch, PrintItem.batch_id == PrintBatch.id)
            .where(PrintItem.plan_document_id.in_(list(notes)))
            .order_by(PrintBatch.day)
        )
        for document_id, day in printed:
            notes[document_id].append(f"For the day's print of {format_local(day, zone, 'date')}")
    newest: dict[tuple, PlanDocument] = {}
    older: set[tuple] = set()
    for document in documents:
        key = (
            document.program_version_id,
            document.paper_size,
            document.audience,
            document.large_print,
        )
        if key not in newest:
            newest[key] = document
            continue
        older.add(key)
        latest = newest[key]
        when = format_local(latest.created_at, zone, "datetime_zone")
        if None not in (latest.fingerprint, document.fingerprint) and (
            latest.fingerprint != document.fingerprint
        ):
            notes[document.id].append(
                f"Older copy: the one requested {when} has the progress or details changed since"
            )
        else:
            notes[document.id].append(f"Older copy of the one requested {when}")
    for key in older:
        notes[newest[key].id].insert(0, "Newest copy of this version and paper: use this one")
    return notes
