"""Plan documents: make a PDF of a program version, follow its progress, download it."""

from __future__ import annotations

import secrets
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, undefer

from trainer_app.accounts import roles
from trainer_app.assessments.hold import flash_hold
from trainer_app.assessments.service import plan_hold
from trainer_app.audit.service import audited, not_audited, record_before_commit
from trainer_app.delivery.service import attachment_name
from trainer_app.extensions import db
from trainer_app.jobs import URGENT, enqueue
from trainer_app.plans import service
from trainer_app.plans.access import check_may_open
from trainer_app.plans.forms import MakePdfForm
from trainer_app.plans.models import CLICK, FAILED, PLAN, PRERENDER, READY, PlanDocument
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
    ``ahead`` says the version shown is being (or has been) rendered ahead: the page's script
    then sends "Make PDF" itself and shows the row it gets back, without loading the page again.
    """
    rows = db.session.scalars(
        scoped(PlanDocument)
        .join(ProgramVersion, PlanDocument.program_version_id == ProgramVersion.id)
        .where(
            ProgramVersion.program_id == program.id,
            PlanDocument.reused_from_id.is_(None),
            PlanDocument.kind == PLAN,
        )
        .order_by(PlanDocument.created_at.desc(), PlanDocument.id.desc())
    ).all()
    # Rows rendered ahead are listed once a click adopts them (their origin becomes CLICK).
    documents = [d for d in rows if d.origin == CLICK]
    ahead = any(
        d.origin == PRERENDER and d.program_version_id == version.id and d.status != FAILED
        for d in rows
    )
    return {
        "documents": documents,
        "ahead": ahead,
        "repeats": service.repeat_requests([d.id for d in documents]),
        "notes": service.document_notes(documents, current_user.clinic.time_zone),
        "form": MakePdfForm.fresh(PrintOptions.clinic_default(current_user.clinic)),
    }


@bp.app_template_global()
def plan_next_check_ms(document: PlanDocument) -> int | None:
    """When the page asks again about a document being made (``data-poll-in``)."""
    return service.next_check_ms(document)


def _in_place() -> bool:
    """The page's script sent "Make PDF" and shows the answer itself (``static/js/app.js``)."""
    return request.headers.get("X-Requested-With") == "fetch"


def _to_page(url: str):
    """Go to ``url`` with the flashed messages: a redirect, or for the page's script the URL to
    load (it follows a redirect only by loading the page)."""
    return jsonify(location=url) if _in_place() else redirect(url)


def _version(version_id: int) -> ProgramVersion | None:
    """The clinic's program version with its program and client (the hold and the plan read
    both), read once a request: the audit trail's resolver asks for it first."""
    found = g.get("plan_version")
    if found is None or found.id != version_id:
        found = db.session.scalar(
            scoped(ProgramVersion)
            .where(ProgramVersion.id == version_id)
            .options(joinedload(ProgramVersion.program).joinedload(Program.client))
        )
        g.plan_version = found
    return found


def _version_client(values: dict) -> int | None:
    """The audit trail's subject of "Make PDF": the version's client."""
    version = _version(values["version_id"])
    return version.program.client_id if version is not None else None


@bp.post("/versions/<int:version_id>/make")
@audited(resolve=_version_client)
@roles.allowed(*roles.CLINICAL)
def make(version_id: int):
    """Record "Make PDF" and go to the program page; the page's script gets the new row instead
    (ready at once when the version was rendered ahead) and a fresh request key for the form."""
    version = _version(version_id)
    if version is None:
        abort(404)
    program_url = url_for("programs.detail", program_id=version.program_id)
    hold = plan_hold(version)
    if hold is not None:
        flash_hold(hold, "No PDF was made.")
        return _to_page(program_url)
    form = MakePdfForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "danger")
        return _to_page(program_url)
    # Loaded once and held for the request: the fingerprint's context and the row's times use it.
    clinic = current_user.clinic
    document, needs_render = service.request_document(
        version,
        user=current_user,
        request_key=form.request_key.data,
        **form.options().as_kwargs(),
    )
    answer = None
    if _in_place() and document.reused_from_id is None and document.status != FAILED:
        # Drawn before the commit, which would expire what the row shows (no reloads); the
        # hold was checked above.
        answer = {
            "row": render_template(
                "plans/_document_row.html",
                document=document,
                repeats=service.repeat_requests([document.id]),
                row_hold=None,
            ),
            "message": _made_message(document),
            "request_key": secrets.token_urlsafe(16),
        }
    record_before_commit()
    db.session.commit()
    if needs_render:
        enqueue(service.RENDER_TASK, document.id, queue="pdf", priority=URGENT)
    if answer is not None:
        return jsonify(answer)
    anchor = "documents"
    if document.reused_from_id is not None:
        original = db.session.get(PlanDocument, document.reused_from_id)
        when = format_local(original.created_at, clinic.time_zone, "datetime_zone")
        flash(
            f"Nothing changed since the PDF of version {version.number} requested {when}: "
            "that PDF is highlighted below, no new copy was made.",
            "info",
        )
        anchor = f"document-{original.id}"
    else:
        flash(_made_message(document), "success" if document.status == READY else "info")
    return _to_page(f"{program_url}#{anchor}")


def _made_message(document: PlanDocument) -> str:
    if document.status == READY:
        return "The PDF is ready."
    return "The PDF is being prepared; it appears below when ready."


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


def _download(document_id: int) -> PlanDocument | None:
    """The clinic's document with its PDF and what the hold and the file name read (version,
    program, client): one query a request, which the audit trail's resolver makes first."""
    found = g.get("plan_download")
    if found is None or found.id != document_id:
        found = db.session.scalar(
            scoped(PlanDocument)
            .where(PlanDocument.id == document_id)
            .options(
                joinedload(PlanDocument.program_version)
                .joinedload(ProgramVersion.program)
                .joinedload(Program.client),
                undefer(PlanDocument.pdf),
            )
        )
        g.plan_download = found
    return found


def _download_client(values: dict) -> int | None:
    """The audit trail's subject of a download: the document's client."""
    document = _download(values["document_id"])
    return document.program_version.program.client_id if document is not None else None


@bp.get("/<int:document_id>/download")
@audited("download", resolve=_download_client)
def download(document_id: int):
    document = _download(document_id)
    if document is None:
        abort(404)
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
