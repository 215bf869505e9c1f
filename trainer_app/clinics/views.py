"""Clinic settings page."""

from __future__ import annotations

import base64

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from trainer_app.accounts import emails
from trainer_app.accounts import service as service_accounts
from trainer_app.accounts.models import User
from trainer_app.clinics.forms import AddTrainerForm, ClinicSettingsForm
from trainer_app.clinics.service import LogoError, update_settings
from trainer_app.extensions import db
from trainer_app.mail import MailNotSent
from trainer_app.tenancy import get_or_404, scoped

bp = Blueprint("clinics", __name__, url_prefix="/clinic")


@bp.before_request
@login_required
def _owner_only() -> None:
    """Clinic settings and the team are the owner's; to anyone else they do not exist."""
    if current_user.role != "owner":
        abort(404)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    clinic = current_user.clinic
    form = ClinicSettingsForm(obj=clinic)
    if form.validate_on_submit():
        upload = None
        if form.logo_file.data:
            with form.logo_file.data.stream as stream:
                upload = stream.read()
        try:
            update_settings(clinic, form.data, upload)
        except LogoError as exc:
            db.session.rollback()
            form.logo_file.errors = [str(exc)]
        else:
            db.session.commit()
            flash("Clinic settings saved. New PDFs use them.", "success")
            return redirect(url_for("clinics.settings"))
    logo_uri = None
    if clinic.logo:
        logo_uri = f"data:{clinic.logo_mime};base64," + base64.b64encode(clinic.logo).decode()
    return render_template("clinics/settings.html", form=form, clinic=clinic, logo_uri=logo_uri)


def _send_invitation(user: User) -> bool:
    try:
        emails.send_invitation(user, invited_by=current_user)
    except MailNotSent as exc:
        flash(f"The invitation email could not be sent: {exc.reason} Try again later.", "warning")
        return False
    return True


@bp.route("/team", methods=["GET", "POST"])
def team():
    form = AddTrainerForm()
    if form.validate_on_submit():
        try:
            user = service_accounts.add_trainer(
                current_user.clinic, name=form.name.data, email=form.email.data
            )
        except service_accounts.EmailTaken as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            if _send_invitation(user):
                flash(
                    f"{user.name} is invited; the link in their email is valid for 7 days.",
                    "success",
                )
            return redirect(url_for("clinics.team"))
    members = db.session.scalars(scoped(User).order_by(User.name)).all()
    return render_template("clinics/team.html", form=form, members=members)


@bp.post("/team/<int:user_id>/invite")
def resend_invitation(user_id: int):
    user = get_or_404(User, user_id)
    if _send_invitation(user):
        flash(f"A new invitation is on its way to {user.email}.", "success")
    return redirect(url_for("clinics.team"))


@bp.post("/team/<int:user_id>/deactivate")
def deactivate(user_id: int):
    user = get_or_404(User, user_id)
    try:
        service_accounts.set_active(user, False)
    except ValueError as exc:
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(f"{user.name} can no longer sign in; their clients stay with the clinic.", "info")
    return redirect(url_for("clinics.team"))


@bp.post("/team/<int:user_id>/activate")
def activate(user_id: int):
    user = get_or_404(User, user_id)
    service_accounts.set_active(user, True)
    db.session.commit()
    flash(f"{user.name} can sign in again.", "success")
    return redirect(url_for("clinics.team"))
