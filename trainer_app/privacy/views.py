"""Data rights: export a client's data (or the clinic's), erase a client, retention."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from trainer_app.audit.service import audited, not_audited, record
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.jobs import BULK, enqueue
from trainer_app.privacy import erasure, retention, service
from trainer_app.privacy.access import may_export, require_export_right, require_owner
from trainer_app.privacy.forms import (
    EraseForm,
    ExportForm,
    RetentionForm,
    RetentionPreviewForm,
)
from trainer_app.privacy.models import CLIENT, CLINIC, REASONS, DataExport, ErasedClient
from trainer_app.tenancy import current_clinic_id, get_or_404, scoped
from trainer_app.timeutil import utcnow

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every data-rights page needs a signed-in member; each view checks the role."""


@bp.app_template_global()
def data_rights_section(client: Client) -> dict:
    """The client page's "Data and privacy" card: exports of this client and what may be done."""
    exports = []
    if may_export(client):
        exports = db.session.scalars(
            scoped(DataExport)
            .where(DataExport.client_id == client.id)
            .order_by(DataExport.created_at.desc(), DataExport.id.desc())
            .limit(5)
        ).all()
    return {
        "may_export": may_export(client),
        "is_owner": current_user.role == "owner",
        "exports": exports,
        "form": ExportForm.fresh(),
        "now": utcnow(),
    }


def _check_export_access(export: DataExport) -> None:
    """A client's export: the owner or the client's trainer; the clinic's: the owner."""
    if export.scope == CLIENT:
        require_export_right(get_or_404(Client, export.client_id))
    else:
        require_owner()


def _back(export_or_client_id: int | None):
    if export_or_client_id is None:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("clients.detail", client_id=export_or_client_id, _anchor="data"))


@bp.post("/clients/<int:client_id>/export")
@audited("export")
def export_client(client_id: int):
    client = get_or_404(Client, client_id)
    require_export_right(client)
    form = ExportForm()
    if not form.validate_on_submit():
        flash("Reload the page and try again; no export was made.", "danger")
        return _back(client.id)
    export, created = service.request_export(
        client.clinic_id, client.id, user=current_user, request_key=form.request_key.data
    )
    db.session.commit()
    if created:
        enqueue(service.EXPORT_TASK, export.id, queue=service.EXPORT_QUEUE)
        flash("The export is being prepared; it appears below when ready.", "info")
    return _back(client.id)


@bp.get("/exports/<int:export_id>/status")
@not_audited("polled while an export is built: its status and size")
def status(export_id: int):
    export = get_or_404(DataExport, export_id)
    _check_export_access(export)
    return render_template("privacy/_export_row.html", export=export, now=utcnow())


@bp.get("/exports/<int:export_id>/download")
@audited("download")
def download(export_id: int):
    export = get_or_404(DataExport, export_id)
    _check_export_access(export)
    if not service.downloadable(export, utcnow()):
        abort(404)
    stamp = export.created_at.strftime("%Y%m%d-%H%M")
    if export.scope == CLIENT:
        name = f"client-{export.client_id}-data-{stamp}.zip"
    else:
        name = f"clinic-data-{stamp}.zip"
    response = Response(export.zip, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/clients/<int:client_id>/erase", methods=["GET", "POST"])
@audited("erase")
def erase_client(client_id: int):
    require_owner()
    client = get_or_404(Client, client_id)
    form = EraseForm()
    status = 200
    if form.validate_on_submit():
        if not erasure.names_match(form.confirm_name.data, client.name):
            form.confirm_name.errors.append(
                "That is not the client's name as recorded; nothing was erased."
            )
        else:
            try:
                tombstone = erasure.erase_client(client, reason=form.reason.data, user=current_user)
            except erasure.ErasureBlocked as exc:
                db.session.rollback()
                flash(str(exc), "warning")
                return _back(client_id)
            db.session.commit()
            flash(
                f"The client's data was erased. {tombstone.label} records when, by whom and why.",
                "success",
            )
            return redirect(url_for("clients.index"))
    if form.errors:
        status = 400
    return render_template(
        "privacy/erase.html", client=client, form=form, summary=erasure.summary(client)
    ), status


def _index_page(retention_form: RetentionForm, status: int = 200):
    clinic_id = current_clinic_id()
    preview = RetentionPreviewForm(request.args)
    saved = retention.months_for(clinic_id)
    if "months" in request.args and preview.validate():
        months = preview.chosen
    else:
        preview = RetentionPreviewForm(formdata=None, months=str(saved or ""))
        months = saved
    due = erasure.due_for_retention(clinic_id, months, utcnow()) if months else []
    exports = db.session.scalars(
        scoped(DataExport)
        .where(DataExport.scope == CLINIC)
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
        .limit(5)
    ).all()
    tombstones = db.session.scalars(
        scoped(ErasedClient).order_by(ErasedClient.erased_at.desc(), ErasedClient.id.desc())
    ).all()
    return render_template(
        "privacy/index.html",
        export_form=ExportForm.fresh(),
        exports=exports,
        retention_form=retention_form,
        preview=preview,
        previewed=months,
        saved=saved,
        due=due,
        tombstones=tombstones,
        reasons=REASONS,
        now=utcnow(),
    ), status


@bp.get("/")
def index():
    require_owner()
    saved = retention.months_for(current_clinic_id())
    return _index_page(RetentionForm(formdata=None, months=str(saved or "")))


@bp.post("/clinic/export")
@audited("export")
def export_clinic():
    require_owner()
    form = ExportForm()
    if not form.validate_on_submit():
        flash("Reload the page and try again; no export was made.", "danger")
        return redirect(url_for("privacy.index"))
    export, created = service.request_export(
        current_clinic_id(), None, user=current_user, request_key=form.request_key.data
    )
    db.session.commit()
    if created:
        # Large and not urgent: renders someone is waiting for go first.
        enqueue(service.EXPORT_TASK, export.id, queue=service.EXPORT_QUEUE, priority=BULK)
        flash("The clinic's export is being prepared; it appears below when ready.", "info")
    return redirect(url_for("privacy.index", _anchor="clinic-export"))


@bp.post("/retention")
@audited("retention")
def save_retention():
    require_owner()
    form = RetentionForm()
    if not form.validate_on_submit():
        return _index_page(form, 400)
    months = form.chosen
    retention.set_months(current_clinic_id(), months, user_id=current_user.id)
    record(
        "retention",
        clinic_id=current_clinic_id(),
        what="privacy.save_retention",
        detail=f"archived clients erased after {months} months" if months else "switched off",
    )
    db.session.commit()
    if months:
        flash(
            f"Archived clients are now erased {months} months after they were archived. "
            "The list below shows who the next run erases.",
            "success",
        )
    else:
        flash("Archived clients are kept until you erase them.", "success")
    return redirect(url_for("privacy.index", _anchor="retention"))
