"""Referral letter pages: make one for a red-flag assessment, follow it, download, email it."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from trainer_app.accounts import roles
from trainer_app.assessments.models import Assessment
from trainer_app.audit.service import audited
from trainer_app.delivery import service as delivery_service
from trainer_app.extensions import db
from trainer_app.jobs import enqueue
from trainer_app.plans.models import READY
from trainer_app.referrals import service
from trainer_app.referrals.forms import EmailLetterForm, MakeLetterForm, fresh
from trainer_app.referrals.models import ReferralLetter
from trainer_app.tenancy import get_or_404
from trainer_app.text import file_slug

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


# A letter names the client's red flags: clinical, so not for the front desk.
roles.guard(bp, *roles.CLINICAL)


@bp.app_template_global()
def referral_section(assessment: Assessment) -> dict:
    """The assessment's letters and fresh forms, for the results page."""
    return {
        "letters": service.letters_of(assessment),
        "make_form": fresh(MakeLetterForm),
        "email_form": fresh(EmailLetterForm),
        "email_reason": delivery_service.cannot_email_reason(assessment.client, plan=False),
    }


@bp.app_template_global()
def make_letter_form() -> MakeLetterForm:
    """A "Make referral letter" form with its own key (one per button on a page)."""
    return fresh(MakeLetterForm)


@bp.app_template_global()
def make_letter_email_form() -> EmailLetterForm:
    """An "email the letter" form with its own key (one per button on a page)."""
    return fresh(EmailLetterForm)


@bp.app_template_global()
def letter_resend_form(delivery) -> EmailLetterForm | None:
    """A "Send again" form for a referral letter's email, or None when it cannot go again.

    It posts to the same "email the letter" action with its own key, so a send again is
    recorded before it is enqueued and a double click sends once.
    """
    letter = delivery.letter
    if letter is None or letter.status != READY or not roles.is_clinical(current_user):
        return None
    if delivery_service.cannot_email_reason(letter.client, plan=False):
        return None
    return fresh(EmailLetterForm)


def _back(assessment_id: int):
    return redirect(url_for("assessments.detail", assessment_id=assessment_id, _anchor="referral"))


def _letter_client(values: dict) -> int | None:
    """The client a letter is about (for the audit trail), within the signed-in clinic."""
    return db.session.scalar(
        select(ReferralLetter.client_id).where(
            ReferralLetter.id == values["letter_id"],
            ReferralLetter.clinic_id == current_user.clinic_id,
        )
    )


@bp.post("/assessments/<int:assessment_id>")
@audited()
def make(assessment_id: int):
    assessment = get_or_404(Assessment, assessment_id)
    form = MakeLetterForm()
    if not form.validate_on_submit():
        flash("Reload the page and try again; no letter was made.", "danger")
        return _back(assessment.id)
    try:
        letter, needs_render = service.request_letter(
            assessment, user=current_user, request_key=form.request_key.data
        )
    except service.ReferralRefused as exc:
        flash(str(exc), "warning")
        return _back(assessment.id)
    db.session.commit()
    if needs_render:
        enqueue(service.RENDER_TASK, letter.id, queue="pdf")
        flash("The referral letter is being prepared; it appears below when ready.", "info")
    else:
        flash("The referral letter is ready.", "success")
    return _back(assessment.id)


@bp.get("/<int:letter_id>/status")
@audited(resolve=_letter_client)
def status(letter_id: int):
    letter = get_or_404(ReferralLetter, letter_id)
    return render_template(
        "referrals/_letter_row.html",
        letter=letter,
        section={"email_form": fresh(EmailLetterForm), "email_reason": _email_reason(letter)},
    )


def _email_reason(letter: ReferralLetter) -> str | None:
    return delivery_service.cannot_email_reason(letter.client, plan=False)


@bp.get("/<int:letter_id>/download")
@audited("download", resolve=_letter_client)
def download(letter_id: int):
    letter = get_or_404(ReferralLetter, letter_id)
    pdf = service.pdf_bytes(letter)
    if pdf is None:
        abort(404)
    ascii_slug, unicode_slug = file_slug(letter.client.name, fallback="client")
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="referral-{ascii_slug}.pdf"; '
        f"filename*=UTF-8''{quote(f'referral-{unicode_slug}.pdf', safe='')}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:letter_id>/email")
@audited("email", resolve=_letter_client)
def email(letter_id: int):
    letter = get_or_404(ReferralLetter, letter_id)
    form = EmailLetterForm()
    if not form.validate_on_submit():
        flash("Reload the page and try again; nothing was sent.", "danger")
        return _back(letter.assessment_id)
    try:
        delivery, created = delivery_service.request_letter_delivery(
            letter, user=current_user, idempotency_key=form.request_key.data
        )
    except ValueError as exc:
        flash(f"Not sent: {exc}", "warning")
        return _back(letter.assessment_id)
    db.session.commit()
    if created:
        enqueue(delivery_service.SEND_TASK, delivery.id, queue="email")
        flash(f"The referral letter is on its way to {delivery.to_email}.", "success")
    return _back(letter.assessment_id)
