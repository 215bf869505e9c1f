"""Read a booking system's ``.ics`` export: the events of a window of days, recurrences expanded.

Pure: bytes and a time zone in, plain dataclasses out (no Flask, no database). Times come out
as naive UTC, the way the database stores them; floating times (no zone in the file) and
all-day events are read in the clinic's zone.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

MAX_EVENTS = 2000
RAPID_FREQUENCIES = {"SECONDLY", "MINUTELY"}


class NotACalendar(ValueError):
    """The file is not an iCalendar file (or holds no calendar we can read)."""


@dataclass(frozen=True)
class CalendarEvent:
    """One occurrence of an event, as the import needs it."""

    key: str  # stable across imports: the UID (and the occurrence, for recurring events)
    uid: str
    starts_at: datetime  # naive UTC
    ends_at: datetime  # naive UTC
    all_day: bool
    summary: str
    description: str
    emails: tuple[str, ...]  # attendees' addresses, lower case
    names: tuple[str, ...]  # attendees' common names
    organizer_email: str | None


def _utc(value: datetime | date, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:  # floating time: the clinic's wall clock
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC).replace(tzinfo=None)


def _address(value) -> str | None:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower() or None


def _list(prop) -> list:
    if prop is None:
        return []
    return list(prop) if isinstance(prop, list) else [prop]


def parse(data: bytes, zone_name: str, first_day: date, days: int = 1) -> list[CalendarEvent]:
    """Events starting on ``first_day`` .. ``first_day + days - 1`` in the clinic's zone.

    :raise NotACalendar: the bytes are not an iCalendar file with a VCALENDAR in it.
    """
    return events(read(data), zone_name, first_day, days)


def read(data: bytes):
    """The calendar in the file, its repeat rules checked (nothing is expanded yet).

    :raise NotACalendar: the bytes are not an iCalendar file with a VCALENDAR in it.
    """
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise NotACalendar(
            "This file is not a calendar: choose the .ics file your booking system exports."
        ) from exc
    if getattr(calendar, "name", None) != "VCALENDAR":
        raise NotACalendar(
            "This file is not a calendar: choose the .ics file your booking system exports."
        )
    with _readable():
        _refuse_rapid_repeats(calendar)
    return calendar


def events(
    calendar, zone_name: str, first_day: date, days: int = 1, limit: int = MAX_EVENTS
) -> list[CalendarEvent]:
    """The calendar's events starting on those days in the clinic's zone, recurrences expanded.

    :raise NotACalendar: an event cannot be read.
    """
    with _readable():
        recurring = {str(e.get("UID")) for e in calendar.walk("VEVENT") if e.get("RRULE")}
        return _events(calendar, recurring, ZoneInfo(zone_name), first_day, days, limit)


@contextmanager
def _readable():
    """A broken event (no DTSTART, an unknown FREQ, a date past year 9999...) is the file's
    fault: say so rather than answer 500."""
    try:
        yield
    except NotACalendar:
        raise
    except (ValueError, KeyError, TypeError, OverflowError, AttributeError, IndexError) as exc:
        raise NotACalendar(
            "An event in this calendar cannot be read (a missing start, an unknown repeat rule "
            "or a date out of range). Export the calendar again from your booking system."
        ) from exc


def _refuse_rapid_repeats(calendar) -> None:
    """Refuse events repeating every second or minute before anything is expanded.

    Expanding them costs one object per occurrence (a FREQ=SECONDLY rule is 86,400 a day) and
    no booking system books sessions that way; hourly and slower stay (at most 24 a day).
    """
    for event in calendar.walk("VEVENT"):
        for rule in _list(event.get("RRULE")):
            freqs = {str(f).upper() for f in (rule.get("FREQ") or [])}
            if freqs & RAPID_FREQUENCIES:
                summary = str(event.get("SUMMARY") or "an event").strip()[:80]
                raise NotACalendar(
                    f"“{summary}” repeats every {'second' if 'SECONDLY' in freqs else 'minute'}: "
                    "a booking calendar repeats sessions hourly at most. Remove that event from "
                    "the file (or fix its repeat rule) and import again."
                )


def _events(calendar, recurring: set[str], zone: ZoneInfo, first_day: date, days: int, limit: int):
    # A day wider on each side, then cut to the clinic's own days (events carry their zones).
    window = recurring_ical_events.of(calendar).between(
        first_day - timedelta(days=1), first_day + timedelta(days=days + 1)
    )
    start_utc = _utc(first_day, zone)
    end_utc = _utc(first_day + timedelta(days=days), zone)
    events: list[CalendarEvent] = []
    for component in window:
        if len(events) >= limit:
            break
        raw_start = component.decoded("DTSTART")
        all_day = not isinstance(raw_start, datetime)
        starts_at = _utc(raw_start, zone)
        if not start_utc <= starts_at < end_utc:
            continue
        if "DTEND" in component:
            ends_at = _utc(component.decoded("DTEND"), zone)
        elif "DURATION" in component:
            ends_at = starts_at + component.decoded("DURATION")
        else:
            ends_at = starts_at + (timedelta(days=1) if all_day else timedelta(hours=1))
        uid = str(component.get("UID") or "").strip()
        if not uid:  # RFC 5545 requires one; without it the event has no identity to keep
            uid = hashlib.sha256(f"{starts_at}|{component.get('SUMMARY')}".encode()).hexdigest()
        key = f"{uid}|{starts_at.isoformat()}" if uid in recurring else uid
        attendees = _list(component.get("ATTENDEE"))
        events.append(
            CalendarEvent(
                key=key,
                uid=uid,
                starts_at=starts_at,
                ends_at=max(ends_at, starts_at),
                all_day=all_day,
                summary=str(component.get("SUMMARY") or "").strip(),
                description=str(component.get("DESCRIPTION") or "").strip(),
                emails=tuple(a for a in (_address(x) for x in attendees) if a),
                names=tuple(
                    str(x.params.get("CN")).strip()
                    for x in attendees
                    if getattr(x, "params", None) and x.params.get("CN")
                ),
                organizer_email=_address(component.get("ORGANIZER")),
            )
        )
    events.sort(key=lambda e: (e.starts_at, e.summary))
    return events
