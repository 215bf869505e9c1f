"""The landing page and the signed-in dashboard."""

from flask import Blueprint, current_app, has_request_context, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from trainer_app import dashboard as attention
from trainer_app.accounts import roles
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.progress import service as progress
from trainer_app.progress.rules import RETEST_DUE
from trainer_app.tenancy import current_clinic_id, scoped
from trainer_app.timeutil import local_today, utcnow

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return render_template("main/index.html")


@bp.get("/dashboard")
@login_required
def dashboard():
    recent = db.session.scalars(
        scoped(Client)
        .where(Client.archived_at.is_(None))
        .order_by(Client.updated_at.desc())
        .limit(5)
    ).all()
    active_count = db.session.scalar(
        select(func.count(Client.id)).where(
            Client.clinic_id == current_clinic_id(), Client.archived_at.is_(None)
        )
    )
    clinic_id = current_clinic_id()
    if not roles.is_clinical(current_user):
        # Retests, failed renders and red flags lead to clinical pages the front desk
        # does not open.
        return render_template(
            "main/dashboard.html",
            recent=recent,
            active_count=active_count,
            holds=[],
            retests=[],
            failures=[],
            unprogrammed=[],
        )
    return render_template(
        "main/dashboard.html",
        recent=recent,
        active_count=active_count,
        holds=attention.red_flag_holds(clinic_id),
        retests=attention.retests_due(clinic_id, local_today(current_user.clinic.time_zone)),
        failures=attention.failed_jobs(clinic_id, utcnow()),
        unprogrammed=attention.assessed_without_program(clinic_id),
        needs=progress.needs_attention(clinic_id, except_codes={RETEST_DUE})
        if progress.can_see_progress(current_user)
        else [],
    )


@bp.get("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}


@bp.app_context_processor
def navigation() -> dict:
    """Menu entries for the base layout (the outbox only while mail is kept locally)."""
    if not has_request_context():
        return {}  # emails rendered by a worker have no page navigation
    account_items = [("accounts.change_password", "Change password")]
    if current_user.is_authenticated and current_user.role == "owner":
        account_items[:0] = [
            ("clinics.settings", "Clinic settings"),
            ("clinics.team", "Team"),
            ("privacy.index", "Data and privacy"),
            ("audit.index", "Audit trail"),
        ]
        local_mail = not current_app.config["SMTP_URL"]
        if current_app.config["TRAINER_ENV"] != "production" and local_mail:
            account_items.insert(2, ("delivery.outbox", "Outbox (development)"))
    return {
        "nav_items": [
            ("main.dashboard", "Dashboard"),
            ("appointments.day", "Appointments"),
            ("clients.index", "Clients"),
            ("library.index", "Exercise library"),
        ],
        "account_items": account_items,
    }
