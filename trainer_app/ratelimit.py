"""Rate-limit counters in the app's database, shared by every web process without Redis.

Flask-Limiter keeps its counters in the storage named by ``RATELIMIT_STORAGE_URI``. Memory
storage lives in one process, so two gunicorn workers each allowed the full limit; with
``trainer-db://`` (the default when ``REDIS_URL`` is unset) the counters are rows of
``rate_limit_counters``, updated with one atomic upsert per hit, on SQLite and PostgreSQL alike.
Keys are stored as SHA-256 digests: the table never holds an address or an email.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from limits.storage import Storage
from sqlalchemy import String, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

# Expired windows are deleted in passing, once they are this old.
PURGE_AFTER = timedelta(hours=1)


class RateLimitCounter(db.Model):
    """Hits in the current fixed window of one limit and one key (address, address+email)."""

    __tablename__ = "rate_limit_counters"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _epoch(moment: datetime) -> float:
    return (moment - datetime(1970, 1, 1)).total_seconds()


class DatabaseStorage(Storage):
    """A ``limits`` storage (fixed windows) on the current Flask app's database."""

    STORAGE_SCHEME = ["trainer-db"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits on ``key``, starting a new window if the last one ended."""
        now = utcnow()
        table = RateLimitCounter.__table__
        dialect = db.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        ended = table.c.expires_at <= now
        stmt = (
            insert(table)
            .values(key_hash=_digest(key), hits=amount, expires_at=now + timedelta(seconds=expiry))
            .on_conflict_do_update(
                index_elements=[table.c.key_hash],
                set_={
                    "hits": case((ended, amount), else_=table.c.hits + amount),
                    "expires_at": case(
                        (ended, now + timedelta(seconds=expiry)), else_=table.c.expires_at
                    ),
                },
            )
            .returning(table.c.hits)
        )
        # Its own short transaction: a hit counts even if the request later rolls back.
        with db.engine.begin() as conn:
            hits = conn.execute(stmt).scalar_one()
            if hits == amount:  # a new window: a good moment to drop long-expired ones
                conn.execute(delete(table).where(table.c.expires_at < now - PURGE_AFTER))
        return hits

    def get(self, key: str) -> int:
        """Hits in the current window of ``key`` (0 when there is none)."""
        table = RateLimitCounter.__table__
        with db.engine.connect() as conn:
            hits = conn.scalar(
                select(table.c.hits).where(
                    table.c.key_hash == _digest(key), table.c.expires_at > utcnow()
                )
            )
        return hits or 0

    def get_expiry(self, key: str) -> float:
        """When the current window of ``key`` ends, in seconds since the epoch."""
        table = RateLimitCounter.__table__
        with db.engine.connect() as conn:
            expires = conn.scalar(
                select(table.c.expires_at).where(table.c.key_hash == _digest(key))
            )
        return _epoch(expires or utcnow())

    def check(self) -> bool:
        """True when the database answers."""
        try:
            with db.engine.connect() as conn:
                conn.scalar(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter."""
        with db.engine.begin() as conn:
            return conn.execute(delete(RateLimitCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        """Forget the counter of ``key``."""
        table = RateLimitCounter.__table__
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.key_hash == _digest(key)))
