"""Clinic settings page."""

from __future__ import annotations

import base64

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from trainer_app.clinics.forms import ClinicSettingsForm
from trainer_app.clinics.service import LogoError, update_settings
from trainer_app.extensions import db

bp = Blueprint("clinics", __name__, url_prefix="/clinic")


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    if current_user.role != "owner":
        abort(404)
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
