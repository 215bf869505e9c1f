"""Plan documents: make a PDF of a program version, follow its progress, download it."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from trainer_app.extensions import db
from trainer_app.jobs import enqueue
from trainer_app.plans import service
from trainer_app.plans.forms import MakePdfForm
from trainer_app.plans.models import PlanDocument
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.tenancy import get_or_404, scoped

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every plan page needs a signed-in member of the clinic."""


@bp.app_template_global()
def plan_section(program: Program, version: ProgramVersion) -> dict:
    """Documents of a program and a fresh "Make PDF" form, for the program page."""
    documents = db.session.scalars(
        scoped(PlanDocument)
        .join(ProgramVersion, PlanDocument.program_version_id == ProgramVersion.id)
        .where(ProgramVersion.program_id == program.id)
        .order_by(PlanDocument.created_at.desc(), PlanDocument.id.desc())
    ).all()
    return {"documents": documents, "form": MakePdfForm.fresh(current_user.clinic.paper_size)}


@bp.post("/versions/<int:version_id>/make")
def make(version_id: int):
    version = get_or_404(ProgramVersion, version_id)
    form = MakePdfForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(url_for("programs.detail", program_id=version.program_id))
    document, needs_render = service.request_document(
        version,
        user=current_user,
        paper=form.paper.data,
        large_print=form.large_print.data,
        request_key=form.request_key.data,
    )
    db.session.commit()
    if needs_render:
        enqueue(service.RENDER_TASK, document.id, queue="pdf")
        flash("The PDF is being prepared; it appears below when ready.", "info")
    elif document.status == "ready":
        flash("The PDF is ready.", "success")
    return redirect(url_for("programs.detail", program_id=version.program_id, _anchor="documents"))


@bp.get("/<int:document_id>/status")
def status(document_id: int):
    document = get_or_404(PlanDocument, document_id)
    return render_template("plans/_document_row.html", document=document)


def _download_name(document: PlanDocument) -> str:
    client_name = document.program_version.program.client.name
    ascii_name = re.sub(r"[^A-Za-z0-9]+", "-", client_name).strip("-").lower() or "client"
    return f"plan-{ascii_name}-v{document.program_version.number}.pdf"


@bp.get("/<int:document_id>/download")
def download(document_id: int):
    document = get_or_404(PlanDocument, document_id)
    pdf = service.pdf_bytes(document)
    if pdf is None:
        abort(404)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{_download_name(document)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
