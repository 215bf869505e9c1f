"""Time helpers: the database stores naive UTC."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current UTC time without tzinfo (portable across SQLite and PostgreSQL columns)."""
    return datetime.now(UTC).replace(tzinfo=None)
