"""Render the clinic's default print of a saved program version before anyone asks for it.

Hooked into the database session, not into each place a version is saved (build, edit, add,
restore, copy, template): when a web request's transaction that added a ``ProgramVersion`` commits,
the same transaction has recorded a pre-render row (``PlanDocument`` with ``origin="prerender"``)
of the program's latest version, with the options a fresh "Make PDF" form starts with
(``PrintOptions.clinic_default``). After the commit a short task is published with a countdown of
``PRERENDER_QUIET_SECONDS``; when it fires and the row is still wanted, it publishes the render at
``jobs.PRERENDER`` priority. A burst of saves renders once: each new row deletes the waiting row of
the version it replaces, so only the last one's task finds its row.

Pre-render rows follow the rules of every render (recorded before publish, claimed, relayed,
reused by fingerprint) and are never listed: a "Make PDF" for the same PDF adopts the row
(``service.request_document``), so the trainer sees one document, ready at once. Rows of
superseded versions are deleted, and a failed pre-render stays out of sight: the next click
renders as it would have without pre-rendering.

A branding change (name, contact, colour, logo, paper size, time zone) publishes one
``plans.rebrand`` task that re-records, at ``jobs.BULK`` priority, the latest version of each
of the clinic's programs that has been printed or pre-rendered before. ``PRERENDER_PLANS=0``
turns all of this off; it is off too when tasks run eagerly (tests), which would render inside
the save request.
"""

from __future__ import annotations

import logging
import secrets

from flask import current_app, has_request_context
from sqlalchemy import delete, event, func, inspect, select
from sqlalchemy.orm import Session, aliased

from trainer_app.accounts.models import Clinic
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.jobs import BULK, PRERENDER, enqueue
from trainer_app.plans import service
from trainer_app.plans.models import FAILED, QUEUED, RENDERING, PlanDocument
from trainer_app.plans.models import PRERENDER as ORIGIN_PRERENDER
from trainer_app.plans.options import PrintOptions
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.progress.service import ensure_link, link_of
from trainer_app.tenancy import clinic_key

log = logging.getLogger(__name__)

PRERENDER_TASK = "plans.prerender"
REBRAND_TASK = "plans.rebrand"
# Clinic columns that shape every plan of the clinic (see plans/context.py).
BRANDING = ("name", "contact", "accent_color", "logo", "logo_mime", "paper_size", "time_zone")

_SAVED = "prerender.saved_versions"  # program id -> newest version id added in the transaction
_REBRANDED = "prerender.rebranded_clinics"
_PUBLISH = "prerender.publish"  # what to publish once the transaction has committed


def enabled() -> bool:
    """Pre-rendering is on (``PRERENDER_PLANS``) and tasks really run in a worker."""
    celery = current_app.extensions["celery"]
    return bool(current_app.config["PRERENDER_PLANS"]) and not celery.conf.task_always_eager


def init_app(app) -> None:
    """Listen to the session once per process (every app shares ``db.session``)."""
    if not event.contains(db.session, "after_flush", _collect):
        event.listen(db.session, "after_flush", _collect)
        event.listen(db.session, "before_commit", _record)
        event.listen(db.session, "after_commit", _publish)
        event.listen(db.session, "after_rollback", _forget)


def _collect(session: Session, _flush_context) -> None:
    """Note new versions and branding changes (the history is still there after a flush)."""
    saved = session.info.setdefault(_SAVED, {})
    for obj in session.new:
        if isinstance(obj, ProgramVersion):
            newest = saved.get(obj.program_id)
            if newest is None or newest[0] < obj.number:
                saved[obj.program_id] = (obj.number, obj.id)
    for obj in session.dirty:
        if isinstance(obj, Clinic) and any(
            inspect(obj).attrs[name].history.has_changes() for name in BRANDING
        ):
            session.info.setdefault(_REBRANDED, set()).add(obj.id)


def _record(session: Session) -> None:
    """Before the commit: record a pre-render row for each program given a new version."""
    if any(isinstance(obj, ProgramVersion | Clinic) for obj in (*session.new, *session.dirty)):
        session.flush()  # commit() flushes after this hook; the rows must be seen first
    saved = session.info.pop(_SAVED, {})
    rebranded = session.info.pop(_REBRANDED, set())
    # Saves by trainers only: seeding or importing thousands of programs renders nothing ahead.
    if not (saved or rebranded) or not has_request_context() or not enabled():
        return
    publish = session.info.setdefault(_PUBLISH, [])
    for _number, version_id in saved.values():
        try:
            document_id = record_version(db.session.get(ProgramVersion, version_id), PRERENDER)
        except Exception:  # a pre-render must never cost the trainer their save
            log.exception("no pre-render of program version %s", version_id)
            continue
        if document_id is not None:
            publish.append((PRERENDER_TASK, document_id))
    publish.extend((REBRAND_TASK, clinic_id) for clinic_id in rebranded)


def _publish(session: Session) -> None:
    """After the commit: the quiet-period tasks (a lost one leaves its row to the relay)."""
    for task, row_id in session.info.pop(_PUBLISH, []):
        countdown = current_app.config["PRERENDER_QUIET_SECONDS"]
        priority = PRERENDER if task == PRERENDER_TASK else BULK
        enqueue(task, row_id, queue="pdf", countdown=countdown, priority=priority)


def _forget(session: Session) -> None:
    for key in (_SAVED, _REBRANDED, _PUBLISH):
        session.info.pop(key, None)


def record_version(version: ProgramVersion, priority: int) -> int | None:
    """Record the default print of ``version`` as a pre-render row; flushes, returns its id.

    None when there is nothing to do: the client is archived, the version is not the latest, the
    client's progress link was revoked (a click renews it, so its plan differs), or the same PDF
    is already made or being made. Like a click, it gives the client a progress link or extends
    it (``progress.service.ensure_link``). Waiting or finished pre-renders of the program's
    other versions (and of this one with older branding) are deleted; one being rendered is
    deleted by its task when it finishes.
    """
    program = version.program
    if program.client.is_archived or service.newer_version_exists(version):
        return None
    link = link_of(program.client_id)
    if link is not None and link.revoked_at is not None:
        return None  # only a trainer's click gives a revoked link a new URL
    # As "Make PDF" does, so the plan carries the same link and its fingerprint matches.
    ensure_link(program.client, program)
    clinic = db.session.get(Clinic, version.clinic_id)
    document = service.new_document(
        version,
        request_key=clinic_key(version.clinic_id, f"prerender-{secrets.token_urlsafe(16)}"),
        user_id=version.created_by_id,
        **PrintOptions.clinic_default(clinic).as_kwargs(),
    )
    document.origin, document.priority = ORIGIN_PRERENDER, priority
    versions = select(ProgramVersion.id).where(ProgramVersion.program_id == program.id)
    db.session.execute(
        delete(PlanDocument)
        .where(
            PlanDocument.program_version_id.in_(versions),
            PlanDocument.origin == ORIGIN_PRERENDER,
            PlanDocument.status != RENDERING,
        )
        .execution_options(synchronize_session=False)
    )
    if service.live_original(version.clinic_id, document.fingerprint) is not None:
        service.forget_row(document)
        return None
    db.session.add(document)
    db.session.flush()
    return document.id


def publish_when_quiet(document_id: int) -> str:
    """Task body after the quiet period: publish the render if its row still waits."""
    document = db.session.get(PlanDocument, document_id)
    if document is None:
        return "superseded"  # a later save (or branding change) replaced it
    if document.origin != ORIGIN_PRERENDER or document.status != QUEUED:
        return "skipped"  # adopted by a click (published then) or already taken
    enqueue(service.RENDER_TASK, document.id, queue="pdf", priority=document.priority)
    return "published"


def rebrand(clinic_id: int) -> list[int]:
    """Task body: record (at ``BULK``) the default print, with the new branding, of the latest
    version of each program of the clinic that was printed before; returns the rows' ids.

    The caller commits, then publishes ``service.RENDER_TASK`` for each row recorded.
    """
    other = aliased(ProgramVersion)
    latest = (
        select(func.max(other.number))
        .where(other.program_id == ProgramVersion.program_id)
        .scalar_subquery()
    )
    printed = select(PlanDocument.id).where(
        PlanDocument.program_version_id == ProgramVersion.id, PlanDocument.status != FAILED
    )
    versions = db.session.scalars(
        select(ProgramVersion)
        .join(Program, ProgramVersion.program_id == Program.id)
        .join(Client, Program.client_id == Client.id)
        .where(
            Program.clinic_id == clinic_id,
            Client.archived_at.is_(None),
            ProgramVersion.number == latest,
            printed.exists(),
        )
        .order_by(ProgramVersion.id)
    ).all()
    return [
        document_id
        for version in versions
        if (document_id := record_version(version, BULK)) is not None
    ]
