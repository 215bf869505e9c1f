"""Find the real services tests talk to, or skip with a clear reason (a failure in CI)."""

from __future__ import annotations

import atexit
import os
import socket

import pytest

REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _server_url(url: str) -> str:
    """The server part of a PostgreSQL URL, without a database name."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(_server_url(POSTGRES_URL) + "/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def fresh_postgres_database(name: str) -> str:
    """Drop and create our own test database ``name``; skip when PostgreSQL is not reachable."""
    if not postgres_available():
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} (set TEST_DATABASE_URL)")
    import psycopg

    # One database per test process, so parallel runs on one server never collide.
    dbname = f"{name}_{os.getpid()}"
    with psycopg.connect(_server_url(POSTGRES_URL) + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    atexit.register(_drop_database, dbname)
    return (
        _server_url(POSTGRES_URL).replace("postgresql://", "postgresql+psycopg://") + "/" + dbname
    )


def _drop_database(dbname: str) -> None:
    import psycopg

    try:
        with psycopg.connect(_server_url(POSTGRES_URL) + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    except Exception:  # the server may be gone at exit; the next run drops it anyway
        pass


def redis_available(url: str = REDIS_URL) -> bool:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return True
    except Exception:
        return False


def require_redis() -> str:
    if not redis_available():
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set TEST_REDIS_URL)")
    return REDIS_URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
