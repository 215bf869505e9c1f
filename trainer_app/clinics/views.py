"""Clinic settings page."""

from __future__ import annotations

import base64

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from sqlalchemy import func, select

from trainer_app.accounts import emails, roles
from trainer_app.accounts import service as service_accounts
from trainer_app.accounts.models import Invitation, User
from trainer_app.audit import service as audit
from trainer_app.audit.service import not_audited
from trainer_app.clients.models import Client
from trainer_app.clinics.forms import AddTrainerForm, ClinicSettingsForm, ReassignForm, RoleForm
from trainer_app.clinics.service import LogoError, reassign_clients, update_settings
from trainer_app.extensions import db, limiter
from trainer_app.jobs import enqueue
from trainer_app.tenancy import current_clinic_id, get_or_404, scoped
from trainer_app.timeutil import utcnow

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


def _invite_limit() -> str:
    return current_app.config["INVITE_RATE_LIMIT"]


def _inviter_key() -> str:
    user_id = getattr(current_user, "id", None)
    return f"invites:{user_id}" if user_id is not None else f"invites:{get_remote_address()}"


# Invitations send email to any address: a limit per owner, shared by inviting and resending,
# counting only requests that recorded an email (a redirect).
_invite_rate = limiter.shared_limit(
    _invite_limit,
    scope="invites",
    key_func=_inviter_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 302,
)


def _send_invitation(invitation: Invitation) -> None:
    row = emails.record_invitation(invitation)
    db.session.commit()
    enqueue(emails.SEND_TASK, row.id, queue="email")


@bp.route("/team", methods=["GET", "POST"])
@_invite_rate
def team():
    form = AddTrainerForm()
    if form.validate_on_submit():
        try:
            invitation = service_accounts.invite_trainer(
                current_user.clinic,
                invited_by=current_user,
                name=form.name.data,
                email=form.email.data,
                role=form.role.data,
            )
        except service_accounts.AlreadyMember as exc:
            form.email.errors.append(str(exc))
        else:
            # The same answer whether or not the address has an account elsewhere: its owner
            # gets a notice by email instead of an invitation.
            name = invitation.name
            _send_invitation(invitation)
            flash(f"{name} is invited; the link in their email is valid for 7 days.", "success")
            return redirect(url_for("clinics.team"))
    members = db.session.scalars(scoped(User).order_by(User.name)).all()
    invitations = db.session.scalars(
        scoped(Invitation)
        .where(Invitation.accepted_at.is_(None), Invitation.withdrawn_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    client_counts = dict(
        db.session.execute(
            select(Client.primary_trainer_id, func.count(Client.id))
            .where(Client.clinic_id == current_clinic_id(), Client.archived_at.is_(None))
            .group_by(Client.primary_trainer_id)
        ).all()
    )
    takers = [m for m in members if m.is_active_user and m.role in roles.CLINICAL]
    return render_template(
        "clinics/team.html",
        form=form,
        members=members,
        invitations=invitations,
        client_counts=client_counts,
        takers=takers,
        now=utcnow(),
        role_form=RoleForm,
        reassign_form=ReassignForm,
    )


@bp.post("/team/<int:user_id>/role")
@not_audited("team management: a member's role, no client data")
def change_role(user_id: int):
    user = get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose a role from the list.", "warning")
        return redirect(url_for("clinics.team"))
    try:
        service_accounts.change_role(user, form.role.data)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(f"{user.name} is now {roles.LABELS[user.role].lower()}.", "success")
    return redirect(url_for("clinics.team"))


@bp.post("/team/<int:user_id>/reassign")
@not_audited("team management: each client it moves is recorded as a change of its own")
def reassign(user_id: int):
    user = get_or_404(User, user_id)
    form = ReassignForm()
    form.to_user_id.choices = [
        (m.id, m.name) for m in db.session.scalars(scoped(User)) if m.id != user.id
    ]
    if not form.validate_on_submit():
        flash("Choose who takes over the clients.", "warning")
        return redirect(url_for("clinics.team"))
    to_user = get_or_404(User, form.to_user_id.data)
    try:
        moved_ids = reassign_clients(user, to_user)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    else:
        for client_id in moved_ids:
            audit.record(
                "change",
                clinic_id=user.clinic_id,
                what="clinics.reassign",
                client_id=client_id,
                detail=f"primary trainer {user.id} -> {to_user.id}",
            )
        db.session.commit()
        moved = len(moved_ids)
        flash(
            f"{moved} client{'' if moved == 1 else 's'} of {user.name} now "
            f"{'has' if moved == 1 else 'have'} {to_user.name} as primary trainer.",
            "success",
        )
    return redirect(url_for("clinics.team"))


@bp.post("/team/invitations/<int:invitation_id>/resend")
@_invite_rate
@not_audited("team management: no client data")
def resend_invitation(invitation_id: int):
    invitation = get_or_404(Invitation, invitation_id)
    if not invitation.is_open:
        abort(404)
    invitation.created_at = utcnow()
    address = invitation.email
    _send_invitation(invitation)
    flash(f"A new invitation is on its way to {address}.", "success")
    return redirect(url_for("clinics.team"))


@bp.post("/team/invitations/<int:invitation_id>/withdraw")
@not_audited("team management: no client data")
def withdraw_invitation(invitation_id: int):
    invitation = get_or_404(Invitation, invitation_id)
    if invitation.is_open:
        invitation.withdrawn_at = utcnow()
        db.session.commit()
    flash(f"The invitation to {invitation.email} is withdrawn; its link no longer works.", "info")
    return redirect(url_for("clinics.team"))


@bp.post("/team/<int:user_id>/deactivate")
@not_audited("team management: no client data")
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
@not_audited("team management: no client data")
def activate(user_id: int):
    user = get_or_404(User, user_id)
    service_accounts.set_active(user, True)
    db.session.commit()
    flash(f"{user.name} can sign in again.", "success")
    return redirect(url_for("clinics.team"))
