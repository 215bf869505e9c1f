"""Appointments of a clinic: the day and week lists, hand entry, and the calendar import.

Functions flush; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from trainer_app.accounts.models import Clinic, User
from trainer_app.accounts.roles import CLINICAL
from trainer_app.appointments import ics
from trainer_app.appointments.models import Appointment
from trainer_app.clients.models import Client
from trainer_app.clients.search import fold
from trainer_app.extensions import db
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import to_local
from trainer_app.timeutil import zone_info as _zone

NOTE_MAX = 1000
# The days around the chosen ones an import looks at to say which other days have events.
LOOK_BEHIND, LOOK_AHEAD = 7, 35
MAX_NEARBY = 5000  # events of those days looked at (a busy clinic books about 40 a day)


def local_midnight_utc(day: date, zone: str) -> datetime:
    """The UTC moment the clinic's ``day`` starts (naive, as stored)."""
    return datetime.combine(day, time.min, tzinfo=_zone(zone)).astimezone(UTC).replace(tzinfo=None)


def between(clinic_id: int, zone: str, first_day: date, days: int = 1) -> list[Appointment]:
    """The clinic's appointments starting on those local days, in time order."""
    start = local_midnight_utc(first_day, zone)
    end = local_midnight_utc(first_day + timedelta(days=days), zone)
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.clinic_id == clinic_id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
            .options(joinedload(Appointment.client), joinedload(Appointment.trainer))
            .order_by(Appointment.starts_at, Appointment.id)
        ).unique()
    )


def unmatched(clinic_id: int) -> list[Appointment]:
    """Imported appointments no client was matched to yet, soonest first."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(Appointment.clinic_id == clinic_id, Appointment.client_id.is_(None))
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def member_choices(clinic_id: int) -> list[tuple[int, str]]:
    """Active trainers (and the owner) who can run a session."""
    users = db.session.scalars(
        select(User)
        .where(User.clinic_id == clinic_id, User.is_active_user.is_(True), User.role.in_(CLINICAL))
        .order_by(User.name)
    )
    return [(u.id, u.name) for u in users]


def client_choices(clinic_id: int) -> list[tuple[int, str]]:
    """Active clients of the clinic, by name."""
    rows = db.session.execute(
        select(Client.id, Client.name)
        .where(Client.clinic_id == clinic_id, Client.archived_at.is_(None))
        .order_by(Client.search_text, Client.id)
    )
    return [(i, n) for i, n in rows]


def apply_form(appointment: Appointment, data: dict, clinic: Clinic) -> None:
    """Copy a validated form onto ``appointment`` (local date and time -> UTC).

    :raise ValueError: the client or trainer is not this clinic's.
    """
    if data["client_id"] not in {i for i, _ in client_choices(clinic.id)}:
        raise ValueError("Choose one of the clinic's active clients.")
    trainer_id = data.get("trainer_id") or None
    if trainer_id is not None and trainer_id not in {i for i, _ in member_choices(clinic.id)}:
        raise ValueError("Choose one of the clinic's trainers.")
    local_start = datetime.combine(data["day"], data["start"], tzinfo=_zone(clinic.time_zone))
    starts_at = local_start.astimezone(UTC).replace(tzinfo=None)
    appointment.clinic_id = clinic.id
    appointment.client_id = data["client_id"]
    appointment.trainer_id = trainer_id
    appointment.starts_at = starts_at
    appointment.ends_at = starts_at + timedelta(minutes=data["minutes"])
    appointment.all_day = False
    appointment.note = (data.get("note") or "").strip()[:NOTE_MAX]
    db.session.add(appointment)
    db.session.flush()


@dataclass
class ImportResult:
    """What an import did, for the page that follows it."""

    added: int = 0
    moved: int = 0
    unchanged: int = 0
    unmatched_ids: list[int] = field(default_factory=list)
    # added or moved and naming a client: each is a change to that client's diary (audited)
    changed: list[Appointment] = field(default_factory=list)
    first_day: date | None = None  # the days imported: the chosen ones, or the nearest with events
    days: int = 1
    chosen_day: date | None = None  # set when the chosen days had no events and others were taken
    # events on other days near the chosen ones, not imported: {local day: how many}
    elsewhere: dict[date, int] = field(default_factory=dict)


def _words(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9]+", " ", fold(text)).strip() + " "


class _Matcher:
    """Finds the one client (and trainer) an event is about, or none when in doubt."""

    def __init__(self, clinic_id: int) -> None:
        clients = db.session.execute(
            select(
                Client.id, Client.name, func.lower(Client.email), Client.primary_trainer_id
            ).where(Client.clinic_id == clinic_id, Client.archived_at.is_(None))
        ).all()
        self.by_email: dict[str, set[int]] = {}
        self.names: list[tuple[str, int]] = []
        self.primary: dict[int, int | None] = {}
        for client_id, name, email, trainer_id in clients:
            if email:
                self.by_email.setdefault(email, set()).add(client_id)
            words = _words(name)
            if words.strip():
                self.names.append((words, client_id))
            self.primary[client_id] = trainer_id
        members = db.session.execute(
            select(func.lower(User.email), User.id).where(
                User.clinic_id == clinic_id,
                User.is_active_user.is_(True),
                User.role.in_(CLINICAL),
            )
        ).all()
        self.members = dict(members)

    def client(self, event: ics.CalendarEvent) -> int | None:
        by_email = set().union(*(self.by_email.get(e, set()) for e in event.emails))
        if len(by_email) == 1:
            return next(iter(by_email))
        if by_email:
            return None  # two clients share the address: a person decides
        texts = [_words(n) for n in event.names] + [_words(event.summary)]
        found = {cid for words, cid in self.names if any(words in text for text in texts)}
        return next(iter(found)) if len(found) == 1 else None

    def trainer(self, event: ics.CalendarEvent, client_id: int | None) -> int | None:
        for address in (event.organizer_email, *event.emails):
            if address and address in self.members:
                return self.members[address]
        return self.primary.get(client_id) if client_id is not None else None


def _within(day: date, first_day: date, days: int) -> bool:
    return first_day <= day < first_day + timedelta(days=days)


def _nearest_day(days: list[date], chosen: date) -> date:
    """The first of ``days`` after the chosen one, else the last one before it."""
    later = [d for d in days if d >= chosen]
    return min(later) if later else max(days)


def _known_keys(clinic_id: int, events: list[ics.CalendarEvent]) -> set[str]:
    """The source keys of these events that the clinic's diary already has."""
    keys = [clinic_key(clinic_id, "ics:" + e.key) for e in events]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known.update(
            db.session.scalars(
                select(Appointment.source_key).where(
                    Appointment.source_key.in_(keys[start : start + 500])
                )
            )
        )
    return known


def import_calendar(
    clinic: Clinic, data: bytes, first_day: date, days: int, *, user: User
) -> ImportResult:
    """Add the calendar's events of those days; the same file imported again changes nothing.

    Each event is known by its UID (and occurrence): one seen before keeps its client,
    trainer and note, and only follows the calendar if the booking moved.
    When the chosen days hold no event of the file but days near them have events the diary
    lacks (the form offers today, the export is often for tomorrow), the same number of days
    from the first such day after them (else the last before) is imported instead, and
    ``chosen_day`` says so. The result counts, by day, the events of the other days from a week
    before to five weeks after that the diary does not have yet.
    :raise ics.NotACalendar: the file is not a calendar (nothing is saved).
    """
    calendar = ics.read(data)
    zone = clinic.time_zone
    look_from = first_day - timedelta(days=LOOK_BEHIND)
    nearby = ics.events(calendar, zone, look_from, LOOK_BEHIND + LOOK_AHEAD, limit=MAX_NEARBY)
    in_diary = _known_keys(clinic.id, nearby)
    # Days with events the diary does not have yet: {local day: how many}
    waiting: dict[date, int] = {}
    for event in nearby:
        if clinic_key(clinic.id, "ics:" + event.key) not in in_diary:
            day = to_local(event.starts_at, zone).date()
            waiting[day] = waiting.get(day, 0) + 1
    result = ImportResult(first_day=first_day, days=days)
    window_empty = not any(
        _within(to_local(e.starts_at, zone).date(), first_day, days) for e in nearby
    )
    if window_empty and waiting:
        result.chosen_day = first_day
        first_day = result.first_day = _nearest_day(sorted(waiting), first_day)
    result.elsewhere = {d: n for d, n in sorted(waiting.items()) if not _within(d, first_day, days)}
    events = ics.events(calendar, zone, first_day, days)
    matcher = _Matcher(clinic.id)
    keys = {clinic_key(clinic.id, "ics:" + e.key): e for e in events}
    known = {
        a.source_key: a
        for a in db.session.scalars(
            select(Appointment).where(Appointment.source_key.in_(list(keys)))
        )
    }
    for key, event in keys.items():
        existing = known.get(key)
        if existing is not None:
            if existing.clinic_id != clinic.id:
                continue  # cannot happen: keys are per clinic
            if (existing.starts_at, existing.ends_at, existing.all_day) != (
                event.starts_at,
                event.ends_at,
                event.all_day,
            ):
                existing.starts_at, existing.ends_at = event.starts_at, event.ends_at
                existing.all_day = event.all_day
                result.moved += 1
                if existing.client_id is not None:
                    result.changed.append(existing)
            else:
                result.unchanged += 1
            continue
        client_id = matcher.client(event)
        appointment = Appointment(
            clinic_id=clinic.id,
            client_id=client_id,
            trainer_id=matcher.trainer(event, client_id),
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            all_day=event.all_day,
            note=event.description[:NOTE_MAX],
            title=event.summary[:200],
            attendee_email=(event.emails[0][:254] if event.emails else None),
            source_key=key,
            created_by_id=user.id,
        )
        db.session.add(appointment)
        db.session.flush()
        result.added += 1
        if client_id is None:
            result.unmatched_ids.append(appointment.id)
        else:
            result.changed.append(appointment)
    db.session.flush()
    return result


def assign_client(appointment: Appointment, client_id: int) -> None:
    """The review step: the client an unmatched event is about (the trainer follows them).

    :raise ValueError: not one of the clinic's active clients.
    """
    client = db.session.scalar(
        select(Client).where(
            Client.id == client_id,
            Client.clinic_id == appointment.clinic_id,
            Client.archived_at.is_(None),
        )
    )
    if client is None:
        raise ValueError("Choose one of the clinic's active clients.")
    appointment.client_id = client.id
    if appointment.trainer_id is None:
        appointment.trainer_id = client.primary_trainer_id
    db.session.flush()
