"""Record who looked at or changed a client's data; declare it next to the routes.

A view that shows or changes a client's data is wrapped with ``@audited(...)``; a view that
takes an id of clinic data but shows nothing of a client says so with ``@not_audited(reason)``.
``tests/audit/test_routes.py`` walks the URL map and fails for a route that does neither.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from trainer_app.audit.models import ACTIONS, AuditEvent
from trainer_app.extensions import db
from trainer_app.privacy.graph import client_paths

# URL parameters that name a row, and the table of that row. The client whose data a page
# shows is found by following the table's foreign keys to ``clients``.
SUBJECT_TABLES = {
    "client_id": "clients",
    "assessment_id": "assessments",
    "program_id": "programs",
    "version_id": "program_versions",
    "document_id": "plan_documents",
    "delivery_id": "deliveries",
    "export_id": "data_exports",
}
# Actions a GET can be; on any other route's GET (the erase form, say) the row says "view".
READ_ACTIONS = ("view", "download")
_ESCAPES = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}


def clean(text: str | None, limit: int) -> str:
    """``text`` on one line: CR, LF, tab and other control characters written as escapes."""
    out = []
    for ch in text or "":
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029\u0085":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)[:limit]


def request_address() -> str:
    """The client's address as this app sees it (after TRUSTED_PROXIES)."""
    return clean(request.remote_addr or "", 64) if has_request_context() else ""


def record(
    action: str,
    *,
    clinic_id: int,
    what: str,
    client_id: int | None = None,
    detail: str = "",
    user=None,
    system: bool = False,
) -> AuditEvent:
    """Add one audit row to the session (the caller commits with its own work).

    ``user`` defaults to the signed-in user; ``system`` records the worker's own action
    (a retention erasure), which no user asked for at that moment.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if system:
        user = None
    elif user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    event_row = AuditEvent(
        clinic_id=clinic_id,
        user_id=user.id if user else None,
        user_name=clean(user.name, 160) if user else "system (scheduled job)",
        role=clean(user.role, 20) if user else "system",
        action=action,
        what=clean(what, 80),
        detail=clean(detail, 300),
        client_id=client_id,
        address=request_address(),
    )
    db.session.add(event_row)
    if has_request_context():
        g.audit_recorded = True
    return event_row


def client_of(param: str, value: int, clinic_id: int) -> int | None:
    """The id of the client whose data the row named by a URL parameter is, in this clinic."""
    table_name = SUBJECT_TABLES[param]
    path = client_paths(db.metadata)[table_name]
    table = path.table
    stmt = path.joined(select(path.target_column).select_from(table))
    stmt = stmt.where(table.c.id == value, table.c.clinic_id == clinic_id)
    return db.session.scalar(stmt)


@dataclass(frozen=True)
class AuditSpec:
    """How a route is audited: the action and how to find the client it concerns."""

    action: str | None
    resolve: Callable[[dict], int | None] | None


def _default_resolver(values: dict) -> int | None:
    clinic_id = current_user.clinic_id
    for param in SUBJECT_TABLES:
        if param in values:
            return client_of(param, values[param], clinic_id)
    return None


def _detail(values: dict) -> str:
    return ", ".join(
        f"{name.removesuffix('_id').replace('_', ' ')} {value}" for name, value in values.items()
    )


@dataclass(frozen=True)
class _Pending:
    """What ``audited`` records for the request in progress."""

    action: str | None
    client_id: int | None
    values: dict
    view_name: str


def _record_pending() -> None:
    pending = g.audit_pending
    chosen = "view"  # a GET page, or a POST that wrote nothing (a form shown again)
    if request.method in ("GET", "HEAD"):
        chosen = pending.action if pending.action in READ_ACTIONS else "view"
    elif g.get("audit_wrote", False):
        chosen = pending.action or "change"
    record(
        chosen,
        clinic_id=current_user.clinic_id,
        what=request.endpoint or pending.view_name,
        client_id=pending.client_id,
        detail=_detail(pending.values),
    )


def record_before_commit() -> None:
    """Add the row ``audited`` would write after the view to the view's own transaction, just
    before the view commits (``audited`` then writes none): the same row, one commit fewer."""
    db.session.flush()  # what the view wrote so far decides between "view" and "change"
    _record_pending()


def audited(action: str | None = None, *, resolve: Callable[[dict], int | None] | None = None):
    """Record an audit row each time the view answers (a 404 or 403 raised inside records none).

    ``action`` defaults to "view" for reads and "change" for a request that wrote to the
    database. An explicit action ("email", "erase") names what a POST that wrote did; a GET
    is a "view" unless its action is one of READ_ACTIONS ("download"); a POST that wrote
    nothing (a form shown again) is a "view".
    """
    if action is not None and action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(**values):
            g.audit_wrote = g.audit_recorded = False
            # Found first: a view may delete the rows the client is found through (erasure).
            client_id = (resolve or _default_resolver)(values)
            g.audit_pending = _Pending(action, client_id, values, view.__name__)
            response = current_app.make_response(view(**values))
            if g.audit_recorded:  # the view wrote its own row, in its own transaction
                return response
            _record_pending()
            db.session.commit()
            return response

        wrapper.audit = AuditSpec(action, resolve)
        return wrapper

    return decorate


def not_audited(reason: str):
    """Declare that a route naming clinic data shows nothing of a client's, and why."""
    if not reason.strip():
        raise ValueError("say why the route is not audited")

    def decorate(view: Callable) -> Callable:
        view.audit_exempt = reason
        return view

    return decorate


def declaration(view: Callable) -> AuditSpec | str | None:
    """The audit declaration of a view function (an AuditSpec, an exemption reason, or None)."""
    return getattr(view, "audit", None) or getattr(view, "audit_exempt", None)


@event.listens_for(Session, "after_flush")
def _note_write(session, _flush_context) -> None:
    # Whether the request wrote anything decides between "view" and "change".
    if has_request_context() and any(
        not isinstance(obj, AuditEvent) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        g.audit_wrote = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_write(state) -> None:
    if has_request_context() and (state.is_update or state.is_delete or state.is_insert):
        g.audit_wrote = True
