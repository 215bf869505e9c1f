"""The owner's view of the audit trail: who saw or changed which client's data, filterable."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from trainer_app.accounts.models import User
from trainer_app.audit.forms import TrailFilterForm
from trainer_app.audit.models import ACTIONS, AuditEvent
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.formutil import select_choices
from trainer_app.paging import requested_page
from trainer_app.privacy.access import require_owner
from trainer_app.privacy.models import ErasedClient
from trainer_app.tenancy import current_clinic_id

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50


@bp.before_request
@login_required
def _owner_only() -> None:
    """The trail shows every member's activity: the owner's page."""
    require_owner()


def trail_query(clinic_id: int, form: TrailFilterForm):
    """Rows of this clinic's trail matching the valid filters, newest first."""
    stmt = select(AuditEvent).where(AuditEvent.clinic_id == clinic_id)
    if form.user.data and not form.user.errors:
        if form.user.data == "system":
            stmt = stmt.where(AuditEvent.user_id.is_(None))
        else:
            stmt = stmt.where(AuditEvent.user_id == int(form.user.data))
    if form.action.data and not form.action.errors:
        stmt = stmt.where(AuditEvent.action == form.action.data)
    if form.client.data and not form.client.errors:
        stmt = stmt.where(AuditEvent.client_id == form.client.data)
    if form.since.data and not form.since.errors:
        stmt = stmt.where(AuditEvent.at >= datetime.combine(form.since.data, time.min))
    if form.until.data and not form.until.errors:
        end = datetime.combine(form.until.data, time.min) + timedelta(days=1)
        stmt = stmt.where(AuditEvent.at < end)
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def client_labels(clinic_id: int, client_ids: set[int | None]) -> dict[int, str]:
    """What the trail shows for each client id: the client's current name."""
    ids = {i for i in client_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Client.id, Client.name).where(Client.clinic_id == clinic_id, Client.id.in_(ids))
    ).all()
    return dict(rows)


def erased_labels(clinic_id: int, client_ids: set[int | None]) -> dict[int, str]:
    """For ids of erased clients, their tombstone in place of the name."""
    ids = {i for i in client_ids if i is not None}
    if not ids:
        return {}
    tombstones = db.session.scalars(
        select(ErasedClient).where(
            ErasedClient.clinic_id == clinic_id, ErasedClient.client_id.in_(ids)
        )
    ).all()
    return {t.client_id: t.label for t in tombstones}


@bp.get("/")
def index():
    clinic_id = current_clinic_id()
    members = db.session.scalars(
        select(User).where(User.clinic_id == clinic_id).order_by(User.name, User.id)
    ).all()
    form = TrailFilterForm(request.args)
    form.user.choices = select_choices(
        [("", "Everyone"), *((str(m.id), m.name) for m in members), ("system", "System")]
    )
    form.validate()
    page = db.paginate(
        trail_query(clinic_id, form), page=requested_page(), per_page=PER_PAGE, error_out=False
    )
    subjects = client_labels(clinic_id, {row.client_id for row in page.items})
    erased = erased_labels(clinic_id, {row.client_id for row in page.items} - set(subjects))
    args = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template(
        "audit/index.html",
        page=page,
        form=form,
        actions=ACTIONS,
        args=args,
        subjects=subjects,
        erased=erased,
        zone=current_user.clinic.time_zone,
    )
