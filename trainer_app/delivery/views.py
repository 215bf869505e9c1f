"""Email delivery of plans, its history, and the development outbox."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from trainer_app.assessments.hold import flash_hold
from trainer_app.assessments.service import ClinicalHold, plan_hold
from trainer_app.audit.service import audited, not_audited
from trainer_app.delivery import outbox_files, service
from trainer_app.delivery.forms import SendPlanForm
from trainer_app.delivery.mailer import outbox_filename
from trainer_app.delivery.models import Delivery
from trainer_app.extensions import db
from trainer_app.jobs import enqueue
from trainer_app.mail import outbox_folder
from trainer_app.plans.access import check_may_email
from trainer_app.plans.models import PlanDocument
from trainer_app.programs.models import ProgramVersion
from trainer_app.security import CONTENT_SECURITY_POLICY, id_or_none
from trainer_app.tenancy import current_clinic_id, get_or_404, scoped

bp = Blueprint("delivery", __name__, url_prefix="/deliveries")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every delivery page needs a signed-in member of the clinic."""


@bp.app_template_global()
def email_plan_state(document: PlanDocument, hold: ClinicalHold | None | bool = False) -> dict:
    """What the "Email plan to client" button shows for a document: a form, or why not.

    :param hold: the version's hold when the caller has just checked it (False: look it up).
    """
    client = document.program_version.program.client
    if hold is False:
        hold = plan_hold(document.program_version)
    return {
        "reason": service.cannot_email_reason(client, document, hold=hold),
        "hold": hold,
        "form": SendPlanForm.fresh(),
        "client": client,
    }


@bp.app_template_global()
def deliveries_for(*, client_id: int | None = None, program_id: int | None = None) -> list:
    """Deliveries of a client or of a program's documents, newest first."""
    stmt = scoped(Delivery)
    if client_id is not None:
        stmt = stmt.where(Delivery.client_id == client_id)
    if program_id is not None:
        stmt = (
            stmt.join(PlanDocument, Delivery.plan_document_id == PlanDocument.id)
            .join(ProgramVersion, PlanDocument.program_version_id == ProgramVersion.id)
            .where(ProgramVersion.program_id == program_id)
        )
    return db.session.scalars(stmt.order_by(Delivery.created_at.desc(), Delivery.id.desc())).all()


def _back_to(document: PlanDocument):
    program_id = document.program_version.program_id
    return redirect(url_for("programs.detail", program_id=program_id, _anchor="deliveries"))


# The preview shows the email's own HTML in a sandboxed srcdoc frame, which inherits this
# page's policy: its inline styles need 'unsafe-inline' for styles (scripts stay forbidden).
PREVIEW_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def _compose_page(document: PlanDocument, form: SendPlanForm, status: int = 200):
    client = document.program_version.program.client
    reason = service.cannot_email_reason(client, document)
    preview = None
    if reason is None:
        preview = service.plan_email(
            document,
            to_name=client.name,
            to_email=client.email,
            note=form.personal_note.data or "",
            pdf=None,
        )
    response = current_app.make_response(
        (
            render_template(
                "delivery/compose.html",
                document=document,
                client=client,
                form=form,
                reason=reason,
                preview=preview,
                size_bytes=document.size_bytes,
            ),
            status,
        )
    )
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return response


@bp.get("/documents/<int:document_id>/compose")
@audited()
def compose(document_id: int):
    """The email as the client will get it, with an optional note, before anything is sent."""
    document = get_or_404(PlanDocument, document_id)
    check_may_email(document)
    note = ""
    again = id_or_none(request.args.get("again"))
    if again is not None:
        earlier = get_or_404(Delivery, again)
        note = earlier.personal_note or ""
    return _compose_page(document, SendPlanForm.fresh(note))


@bp.post("/documents/<int:document_id>/preview")
@audited()
def preview(document_id: int):
    """Show the email again with the note as typed (nothing is recorded or sent)."""
    document = get_or_404(PlanDocument, document_id)
    check_may_email(document)
    form = SendPlanForm()
    if not form.validate_on_submit():
        return _compose_page(document, form, 400)
    return _compose_page(document, form)


@bp.post("/documents/<int:document_id>/send")
@audited("email")
def send(document_id: int):
    document = get_or_404(PlanDocument, document_id)
    check_may_email(document)
    hold = plan_hold(document.program_version)
    if hold is not None:
        flash_hold(hold, "Nothing was sent.")
        return _back_to(document)
    form = SendPlanForm()
    if not form.validate_on_submit():
        if form.personal_note.errors:
            return _compose_page(document, form, 400)
        flash("Reload the page and try again; nothing was sent.", "danger")
        return _back_to(document)
    try:
        delivery, created = service.request_delivery(
            document,
            user=current_user,
            idempotency_key=form.idempotency_key.data,
            note=form.personal_note.data or "",
        )
    except ValueError as exc:
        flash(f"Not sent: {exc}", "warning")
        return _back_to(document)
    db.session.commit()
    if created:
        enqueue(service.SEND_TASK, delivery.id, queue="email")
        flash(f"The plan is on its way to {delivery.to_email}.", "success")
    return _back_to(document)


@bp.get("/<int:delivery_id>/status")
@not_audited("polled while an email is sent: the delivery's status")
def status(delivery_id: int):
    delivery = get_or_404(Delivery, delivery_id)
    return render_template("delivery/_delivery_row.html", delivery=delivery)


def _outbox_enabled() -> bool:
    config = current_app.config
    return config["TRAINER_ENV"] != "production" and not config.get("SMTP_URL")


def _check_outbox_access() -> None:
    """The outbox holds clients' plan emails: only while mail stays local, only for the owner."""
    if not _outbox_enabled():
        abort(404)
    if current_user.role != "owner":
        abort(403)


@bp.get("/outbox")
def outbox():
    _check_outbox_access()
    messages = outbox_files.list_messages(outbox_folder(current_clinic_id()))
    return render_template("delivery/outbox.html", messages=messages)


def _outbox_client(values: dict) -> int | None:
    """The client an outbox file was sent to (its name comes from the delivery's Message-ID)."""
    rows = db.session.execute(
        scoped(Delivery)
        .with_only_columns(Delivery.client_id, Delivery.message_id)
        .where(Delivery.message_id.is_not(None))
    ).all()
    return next(
        (client_id for client_id, mid in rows if outbox_filename(mid) == values["name"]), None
    )


@bp.get("/outbox/<path:name>")
@audited(resolve=_outbox_client)
def outbox_message(name: str):
    _check_outbox_access()
    try:
        message = outbox_files.read_message(outbox_folder(current_clinic_id()), name)
    except FileNotFoundError:
        abort(404)
    return render_template("delivery/outbox_message.html", message=message, name=name)
