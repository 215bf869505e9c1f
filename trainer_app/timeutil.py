"""Time helpers: the database stores naive UTC; people read local time in the clinic's zone."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "UTC"
# Formats read the same in every clinic: day first, month as a word (never 03/04 ambiguity),
# 24-hour clock. "%-d" (no leading zero) is glibc, like the rest of the product's formats.
FORMATS = {
    "datetime": "%-d %b %Y, %H:%M",
    "date": "%-d %b %Y",
    "long_date": "%-d %B %Y",
    "time": "%H:%M",
    # on pages a trainer in another zone could misread: the zone's abbreviation, e.g. "CET"
    "datetime_zone": "%-d %b %Y, %H:%M %Z",
    "time_zone": "%H:%M %Z",
}


def utcnow() -> datetime:
    """Current UTC time without tzinfo (portable across SQLite and PostgreSQL columns)."""
    return datetime.now(UTC).replace(tzinfo=None)


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (legacy aliases like "US/..." left out)."""
    names = {
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    }
    return tuple(sorted(names | {DEFAULT_ZONE}))


def valid_zone(name: str | None) -> bool:
    """True when ``name`` is an IANA time zone zoneinfo can load."""
    if not name or name != name.strip() or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.cache
def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        # A zone removed from the system's database must not break every page: show UTC.
        return ZoneInfo(DEFAULT_ZONE)


def to_local(moment: datetime, zone: str | None) -> datetime:
    """A stored time (naive means UTC) as an aware datetime in ``zone``."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(_zone(zone))


def local_today(zone: str | None, now: datetime | None = None) -> date:
    """The calendar date it is now in ``zone``."""
    return to_local(now or utcnow(), zone).date()


def format_local(value: datetime | date | None, zone: str | None, style: str = "datetime") -> str:
    """A stored time in the clinic's zone as people read it, e.g. "25 Nov 2026, 14:05".

    Plain dates (a date of birth, a re-test date) are not moved between zones.
    """
    if value is None:
        return ""
    pattern = FORMATS[style]
    if isinstance(value, datetime):
        return to_local(value, zone).strftime(pattern)
    if style.startswith("time"):
        return ""
    return value.strftime(pattern)


def zone_info(name: str | None) -> ZoneInfo:
    """The ZoneInfo of a clinic's zone name (UTC when the name is unknown here)."""
    return _zone(name)
