"""Sign-up, sign-in, sign-out and passwords."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from trainer_app.accounts import emails, service
from trainer_app.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ResetPasswordForm,
    ResetRequestForm,
    SignInForm,
    SignUpForm,
)
from trainer_app.accounts.passwords import verify_password
from trainer_app.accounts.sessions import end_other_sessions, end_session, start_session
from trainer_app.extensions import db, limiter
from trainer_app.jobs import enqueue
from trainer_app.security import is_safe_next

bp = Blueprint("accounts", __name__, url_prefix="/account")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _personal_words(user) -> tuple[str, ...]:
    """What a user's password may not be: their name, email and clinic name."""
    return (user.name, user.email, user.clinic.name)


def _account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _address_and_email_key() -> str:
    """Guesses at one account from one address; never the account alone, so an attacker's
    failures cannot lock its owner out when the owner signs in from elsewhere."""
    email = service.normalise_email(request.form.get("email", ""))[:254]
    return f"login:{get_remote_address()}:{email}"


def _send(row) -> None:
    """Publish an account email recorded (and committed) by this request."""
    enqueue(emails.SEND_TASK, row.id, queue="email")


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = SignUpForm()
    if form.validate_on_submit():
        user, created = service.request_signup(
            name=form.name.data,
            email=form.email.data,
            password=form.password.data,
            clinic_name=form.clinic_name.data,
            time_zone=form.time_zone.data,
        )
        # A taken address gets a notice by email; the page says the same either way.
        row = emails.record(emails.CONFIRM if created else emails.SIGNUP_TAKEN, user=user)
        db.session.commit()
        _send(row)
        return redirect(url_for("accounts.signup_sent"))
    return render_template("accounts/signup.html", form=form)


@bp.get("/sign-up/sent")
def signup_sent():
    return render_template("accounts/signup_sent.html")


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def confirm_email(token: str):
    user = service.user_for_confirm_token(token, current_app.config["SECRET_KEY"])
    if user is None:
        flash("That link has expired or was already used. Sign in to get a new one.", "warning")
        return redirect(url_for("accounts.login"))
    # A button, not the GET itself: mail scanners open links, and must not sign anyone in.
    # The form asks for the sign-up's password: anyone can sign up with someone else's
    # address, and the link only proves the address, not who chose the password. Confirming
    # without it would hand the address's owner an account whose password a stranger knows.
    form = ConfirmForm()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.password.data):
            form.password.errors.append(
                "That is not the password this workspace was created with. If you did not "
                "create it, ignore the email, or sign up again to start afresh."
            )
            return render_template("accounts/confirm.html", form=form, user=user)
        service.confirm_email(user)
        start_session(user, remember=False)
        db.session.commit()
        flash(f"Welcome, {user.name}. Your workspace {user.clinic.name} is ready.", "success")
        return redirect(url_for("main.dashboard"))
    return render_template("accounts/confirm.html", form=form, user=user)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_address_and_email_key)
def login():
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(next_url if is_safe_next(next_url) else url_for("main.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None and service.signup_lapsed(user):
            user = None  # a lapsed sign-up is no account (signing up again replaces it)
        if user is None:
            form.password.errors.append("Email or password is not right.")
        elif user.email_confirmed_at is None:
            # Only someone who knows the password learns this, so it reveals nothing. The
            # link goes again at most every CONFIRM_RESEND_MINUTES, so sign-ins cannot flood
            # the address.
            if service.confirm_resend_due(user):
                row = emails.record(emails.CONFIRM, user=user)
                db.session.commit()
                _send(row)
            form.email.errors.append(
                "Confirm your email address first: use the link we sent to it (a new one goes "
                "out at most every few minutes)."
            )
        else:
            start_session(user, remember=form.remember.data)
            db.session.commit()
            return redirect(next_url if is_safe_next(next_url) else url_for("main.dashboard"))
    return render_template("accounts/login.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@login_required
def logout():
    end_session(current_user._get_current_object())
    db.session.commit()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    form.personal_words = _personal_words(current_user)
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            service.set_password(current_user, form.password.data)
            end_other_sessions(current_user)
            db.session.commit()
            flash("Password changed. Other devices have been signed out.", "success")
            return redirect(url_for("main.dashboard"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = service.find_user_by_email(form.email.data)
        if user is not None and user.is_active:
            # Recorded here, sent by a worker: the answer comes as fast for a missing account.
            row = emails.record(emails.RESET, user=user)
            db.session.commit()
            _send(row)
        # The same answer whether or not the account exists, so nobody can probe for accounts.
        flash("If an account uses that email, a reset link is on its way.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user = service.user_for_password_token(
        token, current_app.config["SECRET_KEY"], current_app.config["PASSWORD_RESET_MAX_AGE"]
    )
    if user is None:
        flash("That reset link has expired or was already used. Ask for a new one.", "warning")
        return redirect(url_for("accounts.reset_request"))
    form = ResetPasswordForm()
    form.personal_words = _personal_words(user)
    if form.validate_on_submit():
        service.reset_password(user, form.password.data)
        user.session_token = None
        end_other_sessions(user)
        db.session.commit()
        flash("Your password is set. Sign in with it now.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = service.invitation_for_token(token, current_app.config["SECRET_KEY"])
    if invitation is None:
        flash(
            "That invitation has expired or was already used. Ask your clinic for a new one.",
            "warning",
        )
        return redirect(url_for("accounts.login"))
    form = ResetPasswordForm()
    form.personal_words = (invitation.name, invitation.email, invitation.clinic.name)
    if form.validate_on_submit():
        try:
            user = service.accept_invitation(invitation, form.password.data)
        except service.EmailTaken as exc:
            form.password.errors.append(str(exc))
        else:
            start_session(user, remember=False)
            db.session.commit()
            flash(f"Welcome to {invitation.clinic.name}, {user.name}.", "success")
            return redirect(url_for("main.dashboard"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation)
