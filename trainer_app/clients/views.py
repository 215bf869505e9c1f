"""Client pages: list, create, detail, edit, archive and restore."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from trainer_app.accounts import roles
from trainer_app.assessments.models import Assessment
from trainer_app.audit.service import audited
from trainer_app.clients import service
from trainer_app.clients.forms import ClientForm, SearchForm
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.formutil import select_choices
from trainer_app.paging import requested_page
from trainer_app.plans import service as plan_service
from trainer_app.plans.access import may_open
from trainer_app.prints.forms import PrintForm
from trainer_app.programs.models import Program
from trainer_app.tenancy import current_clinic_id, get_or_404, scoped
from trainer_app.timeutil import local_today

bp = Blueprint("clients", __name__, url_prefix="/clients")
PER_PAGE = 20


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every client page needs a signed-in trainer."""


@bp.get("/")
def index():
    search = SearchForm(request.args)
    search.validate()
    q = "" if search.q.errors else (search.q.data or "")
    mine = search.mine.data == "1"
    sort = search.sort.data if search.sort.data in service.SORTS else "name"
    status = search.status.data if search.status.data in ("active", "archived", "all") else "active"
    page = service.client_page(
        current_clinic_id(),
        page=requested_page(),
        per_page=PER_PAGE,
        q=q,
        status=status,
        sort=sort,
        trainer_id=current_user.id if mine else None,
    )
    return render_template(
        "clients/index.html",
        page=page,
        rows=service.list_rows(current_clinic_id(), page.items),
        search=search,
        q=q,
        sort=sort,
        sort_label={c.value: c.label for c in search.sort.choices}[sort],
        status=status,
        mine=mine,
        print_form=PrintForm.fresh(local_today(current_user.clinic.time_zone)),
    )


def client_form(client: Client | None = None) -> ClientForm:
    """The client form for the signed-in member: the front desk's has no clinical notes."""
    form = ClientForm(obj=client)
    if not roles.is_clinical(current_user):
        # Clinical notes are not the front desk's: not shown, not changed.
        del form.notes
    form.primary_trainer_id.choices = select_choices(service.trainer_choices(current_clinic_id()))
    if client is None and request.method == "GET":
        form.primary_trainer_id.data = current_user.id
    return form


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = client_form()
    if form.validate_on_submit():
        client = service.create_client(current_clinic_id(), form.data)
        db.session.commit()
        flash(f"{client.name} added.", "success")
        return redirect(url_for("clients.detail", client_id=client.id))
    return render_template("clients/form.html", form=form, client=None)


@bp.get("/<int:client_id>")
@audited()
def detail(client_id: int):
    client = get_or_404(Client, client_id)
    assessments = db.session.scalars(
        scoped(Assessment)
        .where(Assessment.client_id == client.id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
    ).all()
    programs = db.session.scalars(
        scoped(Program)
        .where(Program.client_id == client.id)
        .order_by(Program.created_at.desc(), Program.id.desc())
    ).all()
    return render_template(
        "clients/detail.html",
        client=client,
        assessments=assessments,
        programs=programs,
        plan_documents=[d for d in plan_service.client_documents(client) if may_open(d)],
        print_form=PrintForm.fresh(local_today(current_user.clinic.time_zone)),
    )


@bp.route("/<int:client_id>/edit", methods=["GET", "POST"])
@audited()
def edit(client_id: int):
    client = get_or_404(Client, client_id)
    form = client_form(client)
    if form.validate_on_submit():
        service.apply_form(client, form.data, clinic_id=current_clinic_id())
        db.session.commit()
        flash("Changes saved.", "success")
        return redirect(url_for("clients.detail", client_id=client.id))
    return render_template("clients/form.html", form=form, client=client)


@bp.post("/<int:client_id>/archive")
@audited()
def archive(client_id: int):
    client = get_or_404(Client, client_id)
    service.archive(client)
    db.session.commit()
    flash(f"{client.name} archived. You can restore them from the archived list.", "info")
    return redirect(url_for("clients.detail", client_id=client.id))


@bp.post("/<int:client_id>/restore")
@audited()
def restore(client_id: int):
    client = get_or_404(Client, client_id)
    service.restore(client)
    db.session.commit()
    flash(f"{client.name} restored.", "success")
    return redirect(url_for("clients.detail", client_id=client.id))
