"""The day's print: choose clients, follow the workers' progress, download one PDF."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from trainer_app.audit.service import not_audited
from trainer_app.extensions import db
from trainer_app.jobs import enqueue
from trainer_app.prints import service
from trainer_app.prints.forms import PrintForm, chosen_ids
from trainer_app.prints.models import LEFT_OUT, PrintBatch
from trainer_app.tenancy import get_or_404
from trainer_app.timeutil import local_today

bp = Blueprint("prints", __name__, url_prefix="/prints")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Printing plans already made is everyone's: front desk, trainers and the owner."""


@bp.post("/")
def create():
    form = PrintForm()
    appointment_ids = chosen_ids("appointment_ids")
    client_ids = chosen_ids("client_ids")
    back = url_for("appointments.day") if appointment_ids else url_for("clients.index")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(back)
    try:
        batch, created = service.create_batch(
            current_user.clinic,
            current_user,
            appointment_ids=appointment_ids,
            client_ids=client_ids,
            what=form.what.data,
            duplex=form.duplex.data,
            day=form.day.data,
            request_key=form.request_key.data,
        )
    except service.BatchError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(back)
    db.session.commit()
    if created:
        enqueue(service.PREPARE_TASK, batch.id, queue="pdf")
    return redirect(url_for("prints.detail", batch_id=batch.id))


def _view(batch: PrintBatch) -> dict:
    """The page's figures: clients left out are neither printed nor still to print."""
    done, total = service.counts(batch)
    left_out = [item for item in batch.items if item.status == LEFT_OUT]
    return {
        "batch": batch,
        "left": left_out,
        "printed": done - len(left_out),  # settled and not left out: rendered or merged
        "to_print": total - len(left_out),
        "total": total,
    }


@bp.get("/<int:batch_id>")
@not_audited("a print batch's progress: client names only, each PDF's download is its own page")
def detail(batch_id: int):
    batch = get_or_404(PrintBatch, batch_id)
    return render_template("prints/detail.html", **_view(batch))


@bp.get("/<int:batch_id>/status")
@not_audited("the progress part of the batch page, polled by the browser")
def status(batch_id: int):
    batch = get_or_404(PrintBatch, batch_id)
    return render_template("prints/_progress.html", **_view(batch))


@bp.get("/<int:batch_id>/download")
@not_audited("the merged print of several clients; each client's plan is audited when made")
def download(batch_id: int):
    batch = get_or_404(PrintBatch, batch_id)
    pdf = service.pdf_of(batch)
    if pdf is None:
        abort(404)
    day = batch.day.isoformat() if batch.day else local_today(current_user.clinic.time_zone)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="print-{day}-{batch.id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
