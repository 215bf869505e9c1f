"""Progress pages: the client's phone page behind their personal link, and the trainer's
actions on the client page (issue or revoke the link, log a session)."""

from __future__ import annotations

import hashlib
import secrets

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
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from trainer_app.accounts import roles
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.service import clinical_hold, red_flag_advice
from trainer_app.audit.service import audited
from trainer_app.clients.models import Client
from trainer_app.extensions import db, limiter
from trainer_app.library.catalog import dose_text
from trainer_app.library.media import pictures
from trainer_app.library.service import clinic_catalog
from trainer_app.plans.context import NOT_MEDICAL_ADVICE, SAFETY_NOTE, version_stop_signs
from trainer_app.progress import service
from trainer_app.progress.forms import EntryForm
from trainer_app.progress.models import CLIENT, TRAINER
from trainer_app.tenancy import get_or_404

bp = Blueprint("progress", __name__)

PAGE_ENDPOINT = "progress.page"


def _address_limit() -> str:
    return current_app.config["PROGRESS_RATE_LIMIT"]


def _link_limit() -> str:
    return current_app.config["PROGRESS_LINK_RATE_LIMIT"]


def _link_key() -> str:
    token = (request.view_args or {}).get("token", "")
    return "progress-link:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _address_key() -> str:
    return "progress-address:" + get_remote_address()


@bp.after_app_request
def _link_page_headers(response):
    """The client's page: never stored, never named to another site, never indexed."""
    if request.endpoint == PAGE_ENDPOINT:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _new_key() -> str:
    return secrets.token_urlsafe(24)


def _entry_form(program, *, formdata=None, today=None) -> EntryForm:
    names = service.entry_labels(program)
    form = EntryForm(formdata=formdata)
    form.done.choices = list(names.items())
    if formdata is None:
        form.day.data = today
        form.request_key.data = _new_key()
    return form


def _entry_input(form: EntryForm) -> service.EntryInput:
    return service.EntryInput(
        day=form.day.data,
        exercises=tuple(form.done.data or ()),
        pain=form.pain.data,
        note=(form.note.data or "").strip(),
        warning_sign=bool(form.warning_sign.data),
    )


PAUSED = (
    "Your exercises are paused. {advice} Please do not do them until your trainer tells you "
    "to carry on."
)


# Shown to a client who ticks "I had one of the warning signs": what to do now, not later.
WARNING_SIGN_ADVICE = (
    "You told us you had a warning sign: stop the exercises now. If it is one of the emergency "
    "signs in the box below, go to an emergency department today or call emergency services; "
    "otherwise see your doctor within a few days and tell your trainer before you exercise again."
)


def _week_items(program, week: int, clinic_id: int) -> list[dict]:
    """This week's exercises as the client sees them: drawings, steps and dose."""
    draft = service.program_draft(program)
    catalog = clinic_catalog(clinic_id)
    pics = pictures(clinic_id, [item.exercise_slug for item in draft.items])
    items = []
    for item in draft.items:
        dose = next((w for w in item.weekly if w.week == week), None)
        exercise = catalog.exercises.get(item.exercise_slug)
        items.append(
            {
                "slug": item.exercise_slug,
                "name": item.name,
                "dose": dose_text(
                    dose.sets if dose else item.sets,
                    dose.reps if dose else item.reps,
                    dose.hold_seconds if dose else item.hold_seconds,
                    item.rest_seconds,
                    item.per_side,
                    item.side,
                ),
                "steps": list(exercise.steps) if exercise else [],
                "figures": pics[item.exercise_slug].figures,
                "notes": item.notes,
            }
        )
    return items


@bp.route("/p/<token>", methods=["GET", "POST"])
@limiter.limit(_address_limit, key_func=_address_key)
@limiter.limit(_link_limit, key_func=_link_key)
def page(token: str):
    """The client's own page: this week's exercises, log today, own history."""
    opened = service.open_link(token)
    if opened.problem is not None:
        return render_template("progress/closed.html", problem=opened.problem), (
            410 if opened.problem in (service.EXPIRED, service.REVOKED) else 404
        )
    link = opened.link
    client = db.session.get(Client, link.client_id)
    program = service.current_program(client.id)
    if program is None or client.is_archived:
        return render_template("progress/closed.html", problem=service.REVOKED), 410
    # an open red flag pauses the exercises: the client sees why, and when to seek help
    hold = clinical_hold(client.clinic_id, client.id)
    paused = (
        PAUSED.format(advice=red_flag_advice(db.session.get(Assessment, hold.assessment_id)))
        if hold is not None
        else None
    )
    progress = service.progress_of(client, program)
    form = _entry_form(
        program, formdata=request.form if request.method == "POST" else None, today=progress.today
    )
    error = None
    if request.method == "POST":
        if form.validate():
            try:
                _entry, created = service.record_entry(
                    client,
                    program,
                    _entry_input(form),
                    source=CLIENT,
                    request_key=form.request_key.data,
                )
            except service.EntryError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                db.session.commit()
                flash("Saved. Thank you!" if created else "Already saved.", "success")
                if form.warning_sign.data:
                    flash(WARNING_SIGN_ADVICE, "warning")
                return redirect(url_for(PAGE_ENDPOINT, token=token) + "#history")
        else:
            error = form.first_error
        # nothing was saved; the same key may be sent again once the error is fixed
    return render_template(
        "progress/page.html",
        client=client,
        clinic=client_clinic(client),
        program=program,
        progress=progress,
        week=progress.current_week,
        items=[] if paused else _week_items(program, progress.current_week, client.clinic_id),
        form=form,
        error=error,
        paused=paused,
        # The same box, in the same words, as the printed plan's "Stop and seek help if…".
        stop_signs=version_stop_signs(program.latest),
        stop_now=SAFETY_NOTE,
        not_medical_advice=NOT_MEDICAL_ADVICE,
        labels=service.entry_labels(program),
        history=list(reversed(progress.entries))[:30],
    ), (400 if error else 200)


def client_clinic(client: Client):
    from trainer_app.accounts.models import Clinic

    return db.session.get(Clinic, client.clinic_id)


# --------------------------------------------------------------------------- trainer actions


def _client_for_trainer(client_id: int) -> Client:
    client = get_or_404(Client, client_id)
    if not service.can_see_progress(current_user):
        abort(403, description=roles.CLINICAL_REFUSAL)
    return client


@bp.post("/clients/<int:client_id>/progress/link")
@login_required
@audited()
def issue_link(client_id: int):
    client = _client_for_trainer(client_id)
    if client.is_archived:
        flash(f"{client.name} is archived; restore them before giving them a link.", "warning")
        return redirect(url_for("clients.detail", client_id=client.id) + "#progress")
    service.ensure_link(client)
    db.session.commit()
    flash("The progress link is ready: send it or print the plan with its QR code.", "success")
    return redirect(url_for("clients.detail", client_id=client.id) + "#progress")


@bp.post("/clients/<int:client_id>/progress/revoke")
@login_required
@audited()
def revoke_link(client_id: int):
    client = _client_for_trainer(client_id)
    link = service.link_of(client.id)
    if link is not None and link.revoked_at is None:
        service.revoke_link(link)
        db.session.commit()
    flash("The progress link no longer opens. A new plan (or New link) gives a new one.", "info")
    return redirect(url_for("clients.detail", client_id=client.id) + "#progress")


@bp.post("/clients/<int:client_id>/progress/log")
@login_required
@audited()
def log(client_id: int):
    """The trainer logs a session (and pain) for the client during a visit."""
    client = _client_for_trainer(client_id)
    program = service.current_program(client.id)
    if program is None:
        abort(404)
    form = _entry_form(program, formdata=request.form)
    if form.validate():
        try:
            _entry, created = service.record_entry(
                client,
                program,
                _entry_input(form),
                source=TRAINER,
                request_key=form.request_key.data,
                user_id=current_user.id,
            )
        except service.EntryError as exc:
            db.session.rollback()
            flash(f"Nothing was saved: {exc}", "danger")
        else:
            db.session.commit()
            flash("Session logged." if created else "This session was already logged.", "success")
    else:
        flash(f"Nothing was saved: {form.first_error}", "danger")
    return redirect(url_for("clients.detail", client_id=client.id) + "#progress")


# --------------------------------------------------------------------------- client page section


@bp.app_template_global()
def client_progress(client: Client, assessments=(), programs=()) -> dict | None:
    """What the client page's progress section shows (None for a user who may not see it)."""
    from markupsafe import Markup

    from trainer_app.progress import charts

    if not service.can_see_progress(current_user):
        return None
    program = service.current_program(client.id)
    link = service.link_of(client.id)
    today = service.now_local_date(client.clinic_id)
    out: dict = {
        "program": program,
        "link": link,
        "link_active": service.link_is_active(link, today),
        "link_url": service.link_url(link) if service.link_is_active(link, today) else None,
        "today": today,
        "grace_days": service.GRACE_DAYS,
    }
    if program is None:
        return out
    progress = service.progress_of(client, program)
    form = _entry_form(program, today=today)
    out.update(
        progress=progress,
        form=form,
        labels=service.entry_labels(program),
        adherence_svg=Markup(charts.adherence_svg(progress.weeks)),  # noqa: S704 (numbers only)
        pain_svg=Markup(charts.pain_svg(progress.pain)),  # noqa: S704 (numbers only)
        adherence_text=charts.adherence_text(progress.weeks),
        pain_text=charts.pain_text(progress.pain),
        timeline=service.timeline(client, assessments, programs),
    )
    return out
