"""Plan documents: make a PDF of a program version, follow its progress, download it."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from trainer_app.accounts import roles
from trainer_app.assessments.hold import flash_hold
from trainer_app.assessments.service import plan_hold
from trainer_app.audit.service import audited, not_audited
from trainer_app.delivery.service import attachment_name
from trainer_app.extensions import db
from trainer_app.jobs import URGENT, enqueue
from trainer_app.plans import service
from trainer_app.plans.access import check_may_open
from trainer_app.plans.forms import MakePdfForm
from trainer_app.plans.models import CLICK, PLAN, READY, PlanDocument
from trainer_app.plans.options import PrintOptions
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.tenancy import get_or_404, scoped
from trainer_app.text import ascii_file_name
from trainer_app.timeutil import format_local

bp = Blueprint("plans", __name__, url_prefix="/plans")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every plan page needs a signed-in member of the clinic."""


@bp.app_template_global()
def plan_section(program: Program, version: ProgramVersion) -> dict:
    """Documents of a program and a fresh "Make PDF" form, for the program page.

    Each PDF is one row; later requests it served are counted on its row, not listed apart.
    """
    documents = db.session.scalars(
        scoped(PlanDocument)
        .join(ProgramVersion, PlanDocument.program_version_id == ProgramVersion.id)
        .where(
            ProgramVersion.program_id == program.id,
            PlanDocument.reused_from_id.is_(None),
            PlanDocument.origin == CLICK,  # rows rendered ahead show once a click adopts them
            PlanDocument.kind == PLAN,
        )
        .order_by(PlanDocument.created_at.desc(), PlanDocument.id.desc())
    ).all()
    return {
        "documents": documents,
        "repeats": service.repeat_requests([d.id for d in documents]),
        "form": MakePdfForm.fresh(PrintOptions.clinic_default(current_user.clinic)),
    }


@bp.app_template_global()
def plan_next_check_ms(document: PlanDocument) -> int | None:
    """When the page asks again about a document being made (``data-poll-in``)."""
    return service.next_check_ms(document)


@bp.post("/versions/<int:version_id>/make")
@audited()
@roles.allowed(*roles.CLINICAL)
def make(version_id: int):
    version = get_or_404(ProgramVersion, version_id)
    hold = plan_hold(version)
    if hold is not None:
        flash_hold(hold, "No PDF was made.")
        return redirect(url_for("programs.detail", program_id=version.program_id))
    form = MakePdfForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return redirect(url_for("programs.detail", program_id=version.program_id))
    document, needs_render = service.request_document(
        version,
        user=current_user,
        request_key=form.request_key.data,
        **form.options().as_kwargs(),
    )
    db.session.commit()
    anchor = "documents"
    if needs_render:
        enqueue(service.RENDER_TASK, document.id, queue="pdf", priority=URGENT)
    if document.reused_from_id is not None:
        original = db.session.get(PlanDocument, document.reused_from_id)
        when = format_local(original.created_at, current_user.clinic.time_zone, "datetime_zone")
        flash(
            f"Nothing changed since the PDF of version {version.number} requested {when}: "
            "that PDF is highlighted below, no new copy was made.",
            "info",
        )
        anchor = f"document-{original.id}"
    elif document.status == READY:
        flash("The PDF is ready.", "success")
    else:
        flash("The PDF is being prepared; it appears below when ready.", "info")
    return redirect(url_for("programs.detail", program_id=version.program_id, _anchor=anchor))


@bp.get("/<int:document_id>/status")
@not_audited("polled while a PDF renders: the job's status and size, no health data")
def status(document_id: int):
    document = get_or_404(PlanDocument, document_id)
    check_may_open(document)
    return render_template(
        "plans/_document_row.html",
        document=document,
        repeats=service.repeat_requests([document.id]),
    )


def _content_disposition(document: PlanDocument) -> str:
    """``attachment`` named as the emailed plan is ("Maria Jensen - Back-care program.pdf").

    RFC 6266: browsers that read ``filename*`` (all current ones) keep the client's name as
    written; older ones get the ASCII ``filename`` ("Lukasiewicz - Plan.pdf").
    """
    program = document.program_version.program
    name = attachment_name(program.client.name, program.title)
    fallback = ascii_file_name(name, fallback="Exercise plan.pdf")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.get("/<int:document_id>/download")
@audited("download")
def download(document_id: int):
    document = get_or_404(PlanDocument, document_id)
    check_may_open(document)
    program = document.program_version.program
    hold = plan_hold(document.program_version)
    if hold is not None:
        # a plan already made is not handed out either while the red flag is open
        flash_hold(hold, "The plan cannot be downloaded.")
        return redirect(url_for("programs.detail", program_id=program.id, _anchor="documents"))
    pdf = service.pdf_bytes(document)
    if pdf is None:
        abort(404)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = _content_disposition(document)
    response.headers["Cache-Control"] = "no-store"
    return response
