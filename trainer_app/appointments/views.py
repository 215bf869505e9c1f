"""The clinic's diary: day and week views, hand entry, and the .ics import with its review."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from trainer_app.appointments import ics, service
from trainer_app.appointments.forms import AppointmentForm, ImportForm, MatchForm, client_choices
from trainer_app.appointments.models import Appointment
from trainer_app.audit import service as audit
from trainer_app.audit.service import audited
from trainer_app.clients import service as clients
from trainer_app.clients.views import client_form
from trainer_app.extensions import db
from trainer_app.formutil import plausible_day, select_choices
from trainer_app.prints.forms import PrintForm
from trainer_app.tenancy import current_clinic_id, get_or_404
from trainer_app.timeutil import format_local, local_today, to_local

bp = Blueprint("appointments", __name__, url_prefix="/appointments")
MAX_ICS_BYTES = 2 * 1024 * 1024


def _record(appointment: Appointment, client_id: int | None = None) -> None:
    """An audit row naming the appointment's client (or ``client_id``) and when it is.

    Written by the view itself: the decorator finds the client before the view runs, which
    is none for an event being matched and the old one for a session moved to another client.
    """
    when = format_local(appointment.starts_at, _zone(), "datetime_zone")
    audit.record(
        "change",
        clinic_id=appointment.clinic_id,
        what=request.endpoint,
        client_id=client_id or appointment.client_id,
        detail=f"appointment {appointment.id} at {when}",
    )


def _client_of_appointment(values: dict) -> int | None:
    """The audit trail's subject: the client the appointment is with (None while unmatched)."""
    return db.session.scalar(
        select(Appointment.client_id).where(
            Appointment.id == values["appointment_id"],
            Appointment.clinic_id == current_clinic_id(),
        )
    )


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every member keeps the diary: front desk, trainers and the owner."""


def _zone() -> str:
    return current_user.clinic.time_zone


def _requested_day() -> date:
    """``?day=YYYY-MM-DD``, or today in the clinic's zone (a bad value is a 400, not a guess)."""
    raw = request.args.get("day")
    if not raw:
        return local_today(_zone())
    try:
        shown = date.fromisoformat(raw)
    except ValueError:
        abort(400)
    if not plausible_day(shown):
        abort(400)
    return shown


@bp.get("/")
def day():
    shown = _requested_day()
    return render_template(
        "appointments/day.html",
        day=shown,
        appointments=service.between(current_clinic_id(), _zone(), shown),
        unmatched_count=len(service.unmatched(current_clinic_id())),
        today=local_today(_zone()),
        prev_day=shown - timedelta(days=1),
        next_day=shown + timedelta(days=1),
        print_form=PrintForm.fresh(shown),
    )


@bp.get("/week")
def week():
    shown = _requested_day()
    monday = shown - timedelta(days=shown.weekday())
    appointments = service.between(current_clinic_id(), _zone(), monday, days=7)
    by_day: dict[date, list[Appointment]] = {monday + timedelta(days=i): [] for i in range(7)}
    for appointment in appointments:
        local_day = to_local(appointment.starts_at, _zone()).date()
        by_day.setdefault(local_day, []).append(appointment)
    return render_template(
        "appointments/week.html",
        monday=monday,
        by_day=by_day,
        today=local_today(_zone()),
        prev_week=monday - timedelta(days=7),
        next_week=monday + timedelta(days=7),
    )


def _form(appointment: Appointment | None = None) -> AppointmentForm:
    form = AppointmentForm(obj=appointment)
    clinic_id = current_clinic_id()
    form.client_id.choices = client_choices(service.client_choices(clinic_id))
    form.trainer_id.choices = select_choices(
        [(0, "No trainer yet"), *service.member_choices(clinic_id)]
    )
    if request.method == "GET":
        if appointment is not None:
            local = to_local(appointment.starts_at, _zone())
            form.day.data, form.start.data = local.date(), local.time().replace(second=0)
            form.minutes.data = max(
                5, int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)
            )
            form.trainer_id.data = appointment.trainer_id or 0
        else:
            form.day.data = _requested_day()
            if current_user.role != "front_desk":
                form.trainer_id.data = current_user.id
            if request.args.get("client_id", type=int):
                form.client_id.data = request.args.get("client_id", type=int)
    return form


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = _form()
    if form.validate_on_submit():
        appointment = Appointment(created_by_id=current_user.id)
        try:
            service.apply_form(appointment, form.data, current_user.clinic)
        except ValueError as exc:
            db.session.rollback()
            form.client_id.errors.append(str(exc))
        else:
            _record(appointment)
            db.session.commit()
            flash("Appointment added.", "success")
            return redirect(url_for("appointments.day", day=form.day.data.isoformat()))
    return render_template("appointments/form.html", form=form, appointment=None)


@bp.route("/<int:appointment_id>/edit", methods=["GET", "POST"])
@audited(resolve=_client_of_appointment)
def edit(appointment_id: int):
    appointment = get_or_404(Appointment, appointment_id)
    form = _form(appointment)
    if form.validate_on_submit():
        before = appointment.client_id
        try:
            service.apply_form(appointment, form.data, current_user.clinic)
        except ValueError as exc:
            db.session.rollback()
            form.client_id.errors.append(str(exc))
        else:
            # Moved to another client: the session leaves one trail and joins the other.
            _record(appointment)
            if before is not None and before != appointment.client_id:
                _record(appointment, client_id=before)
            db.session.commit()
            flash("Appointment saved.", "success")
            return redirect(url_for("appointments.day", day=form.day.data.isoformat()))
    return render_template("appointments/form.html", form=form, appointment=appointment)


@bp.post("/<int:appointment_id>/remove")
@audited(resolve=_client_of_appointment)
def remove(appointment_id: int):
    appointment = get_or_404(Appointment, appointment_id)
    shown = to_local(appointment.starts_at, _zone()).date()
    _record(appointment)
    db.session.delete(appointment)
    db.session.commit()
    flash("Appointment removed from the diary.", "info")
    return redirect(url_for("appointments.day", day=shown.isoformat()))


@bp.route("/import", methods=["GET", "POST"])
def import_calendar():
    form = ImportForm()
    if request.method == "GET":
        form.day.data = _requested_day()
    if form.validate_on_submit():
        with form.calendar.data.stream as stream:
            data = stream.read(MAX_ICS_BYTES + 1)
        if len(data) > MAX_ICS_BYTES:
            form.calendar.errors.append("The file is over 2 MB: export a shorter period.")
        else:
            try:
                result = service.import_calendar(
                    current_user.clinic, data, form.day.data, form.days.data, user=current_user
                )
            except ics.NotACalendar as exc:
                db.session.rollback()
                form.calendar.errors.append(str(exc))
            else:
                for appointment in result.changed:
                    _record(appointment)
                db.session.commit()
                _flash_import(result)
                if result.unmatched_ids:
                    flash(
                        f"{len(result.unmatched_ids)} event(s) matched no client: "
                        "choose the client for each below.",
                        "warning",
                    )
                    return redirect(url_for("appointments.review"))
                return redirect(url_for("appointments.day", day=result.first_day.isoformat()))
    again = request.args.get("again") == "1"
    return render_template("appointments/import.html", form=form, again=again)


def _days_label(first_day: date, days: int) -> str:
    label = format_local(first_day, _zone(), "date")
    if days == 1:
        return label
    return f"{label} to {format_local(first_day + timedelta(days=days - 1), _zone(), 'date')}"


SHOWN_DAYS = 4  # other days named in the import's message, each with its own import button


def _flash_import(result: service.ImportResult) -> None:
    """What the import did, which days it took, and the file's events on the other days."""
    imported = _days_label(result.first_day, result.days)
    if result.chosen_day is not None:
        chosen = _days_label(result.chosen_day, result.days)
        which = "next" if result.first_day > result.chosen_day else "last"
        flash(
            f"The file has no events on {chosen}, so its {which} day with events was imported "
            f"instead: {imported}.",
            "info",
        )
    flash(
        f"Imported {imported}: {result.added} new, {result.moved} moved, "
        f"{result.unchanged} already in the diary.",
        "success",
    )
    if not result.elsewhere:
        return
    total = sum(result.elsewhere.values())
    # The days after the imported ones first (the sessions to come), then the nearest before.
    after = [(d, n) for d, n in result.elsewhere.items() if d > result.first_day]
    before = [(d, n) for d, n in result.elsewhere.items() if d < result.first_day]
    shown = (after + before[::-1])[:SHOWN_DAYS]
    events = "event" if total == 1 else "events"
    if len(result.elsewhere) == 1:
        ((day, _),) = shown
        text = Markup("{} {} on {} {} not imported: only {} was chosen.").format(
            total,
            events,
            format_local(day, _zone(), "date"),
            "was" if total == 1 else "were",
            imported,
        )
    else:
        each = ", ".join(f"{n} on {format_local(d, _zone(), 'date')}" for d, n in shown)
        rest = result.elsewhere.keys() - {d for d, _ in shown}
        if rest:
            more = sum(result.elsewhere[d] for d in rest)
            each += f" and {more} on {len(rest)} more day{'s' if len(rest) != 1 else ''}"
        text = Markup("{} {} on other days {} not imported: {}.").format(
            total, events, "was" if total == 1 else "were", each
        )
    buttons = Markup(" ").join(
        Markup('<a class="btn btn-sm btn-outline-primary" href="{}">Import {}</a>').format(
            url_for("appointments.import_calendar", day=d.isoformat(), again=1),
            format_local(d, _zone(), "date"),
        )
        for d, _ in shown
    )
    flash(
        Markup(
            '{} <span class="d-inline-flex flex-wrap gap-1 align-middle">{}</span> '
            "(choose the same file again)."
        ).format(text, buttons),
        "info" if result.added or result.moved or result.unchanged else "warning",
    )


@bp.get("/review")
def review():
    rows = service.unmatched(current_clinic_id())
    choices = client_choices(service.client_choices(current_clinic_id()))
    return render_template("appointments/review.html", rows=rows, choices=choices, form=MatchForm())


def _event_label(appointment: Appointment) -> str:
    """How the review page names an imported event: its title and when it is."""
    if appointment.all_day:
        when = format_local(appointment.starts_at, _zone(), "date") + ", all day"
    else:
        when = format_local(appointment.starts_at, _zone(), "datetime")
    return f"“{appointment.title or 'Untitled event'}” ({when})"


def _after_matching(appointment: Appointment):
    """Back to the review while events wait there, else to the day the event is on."""
    if service.unmatched(current_clinic_id()):
        return redirect(url_for("appointments.review"))
    shown = to_local(appointment.starts_at, _zone()).date()
    return redirect(url_for("appointments.day", day=shown.isoformat()))


@bp.post("/<int:appointment_id>/match")
@audited(resolve=_client_of_appointment)
def match(appointment_id: int):
    appointment = get_or_404(Appointment, appointment_id)
    form = MatchForm()
    form.client_id.choices = client_choices(service.client_choices(current_clinic_id()))
    if not form.validate_on_submit():
        flash(
            f"Nothing was matched: choose the client {_event_label(appointment)} is about from "
            "the list, or add them as a new client.",
            "warning",
        )
        return redirect(url_for("appointments.review", _anchor=f"unmatched-{appointment.id}"))
    try:
        service.assign_client(appointment, form.client_id.data)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("appointments.review"))
    _record(appointment)  # the client it now names (it had none when the route began)
    db.session.commit()
    flash(f"Matched to {appointment.client.name}.", "success")
    return _after_matching(appointment)


@bp.route("/<int:appointment_id>/new-client", methods=["GET", "POST"])
@audited(resolve=_client_of_appointment)
def new_client(appointment_id: int):
    """Add the client an event is about (from its name and email) and book it to them.

    The client form is the clients' own, so the front desk adds contact details only. An
    appointment already booked (to the wrong person, say) moves to the new client, and both
    clients' trails show it, as when the edit page moves it.
    """
    appointment = get_or_404(Appointment, appointment_id)
    booked_to = appointment.client
    form = client_form()
    if request.method == "GET":
        form.name.data = (appointment.title or "").strip()[:120]
        form.email.data = appointment.attendee_email
        if appointment.trainer_id:
            form.primary_trainer_id.data = appointment.trainer_id
    if form.validate_on_submit():
        if booked_to is not None and _same_person(booked_to, form.data):
            # A second click of the same form: the client was added and booked the first time.
            flash(f"{booked_to.name} is already booked for {_event_label(appointment)}.", "info")
            return _after_matching(appointment)
        try:
            client = clients.create_client(current_clinic_id(), form.data)
            service.assign_client(appointment, client.id)
        except ValueError as exc:
            db.session.rollback()
            form.primary_trainer_id.errors.append(str(exc))
        else:
            _record(appointment)
            if booked_to is not None:
                _record(appointment, client_id=booked_to.id)
            db.session.commit()
            flash(f"{client.name} added and booked for {_event_label(appointment)}.", "success")
            return _after_matching(appointment)
    return render_template(
        "clients/form.html",
        form=form,
        client=None,
        event=_event_label(appointment),
        booked_to=booked_to,
    )


def _same_person(client, data: dict) -> bool:
    email = (data.get("email") or "").strip().lower() or None
    return client.name == (data.get("name") or "").strip() and client.email == email
