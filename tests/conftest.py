"""Shared fixtures: the app on SQLite and on PostgreSQL, a test client, auth helpers, factories.

Set TEST_DATABASE_URL to a PostgreSQL server URL (default postgresql://postgres@127.0.0.1:5432)
to run every web test on PostgreSQL as well. With REQUIRE_SERVICES=1 (as .ci/run sets it) a
test that would be skipped for a missing service fails instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

import worker.tasks  # noqa: F401  (registers the tasks that eager mode runs inside requests)
from tests.support import mailbox, services
from tests.support.factories import Factories

BACKENDS = ["sqlite", "postgresql"]
# Worker fixtures (private Redis, Celery worker processes) for tests/worker and tests/delivery.
pytest_plugins = ["tests.support.worker"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under REQUIRE_SERVICES=1 a skip is a failure: CI must exercise every service."""
    outcome = yield
    report = outcome.get_result()
    if services.REQUIRED and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped while REQUIRE_SERVICES=1: {reason}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    """The database engine the app runs on in this test."""
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    return services.fresh_postgres_database("trainer_test_web")


def _make_app(database_url: str, instance: Path, **overrides):
    from trainer_app import create_app

    os.environ["TRAINER_INSTANCE_PATH"] = str(instance)
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "OUTBOX_FOLDER": str(instance / "outbox"),
        "SMTP_URL": None,
        "CELERY_TASK_ALWAYS_EAGER": True,
        "PUBLIC_URL": "http://localhost",
        "PDF_RENDER_TIMEOUT": 120,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    """The app with its schema built by the migrations (which tests them on each backend)."""
    from flask_migrate import upgrade

    app = _make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
    yield app
    from trainer_app.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an extra app with config overrides (same database), e.g. with rate limiting on."""

    built = []

    def build(**overrides):
        # No connection pool: a connection closes when it is handed back. An extra app may be
        # reached after its test (a task bound to the newest app, a request thread finishing
        # late); a pooled connection it opened then would stay open until the garbage
        # collector found it, and the unclosed-connection warning would fail a later test.
        overrides.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"poolclass": NullPool})
        built.append(_make_app(database_url, tmp_path / "instance", **overrides))
        return built[-1]

    yield build
    from trainer_app.extensions import db

    for extra in built:
        with extra.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table and mail folder after a test that used the app.

    Tests never see each other's rows or emails, whatever order they run in.
    """
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    mailbox.clear(app)
    from trainer_app.audit.models import SQLITE_TRIGGER_NAMES, SQLITE_TRIGGERS
    from trainer_app.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            # The audit trail refuses deletion by the app; the harness, as the database's
            # superuser, lifts that for its clean-up only.
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in SQLITE_TRIGGER_NAMES:
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))
                for statement in SQLITE_TRIGGERS:
                    conn.execute(text(statement))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def factories(app) -> Factories:
    return Factories(app)


class AuthActions:
    """Sign in and out through the real forms."""

    def __init__(self, client, factories: Factories) -> None:
        self._client = client
        self._factories = factories
        self.user = None

    def login(self, email: str | None = None, password: str = Factories.PASSWORD, **kwargs):
        if email is None:
            self.user = self._factories.user(**kwargs)
            email = self.user.email
        return self._client.post(
            "/account/sign-in", data={"email": email, "password": password}, follow_redirects=False
        )

    def logout(self):
        return self._client.post("/account/sign-out")


@pytest.fixture
def auth(client, factories) -> AuthActions:
    return AuthActions(client, factories)


def csrf_token_from(html: str) -> str:
    """The CSRF token a rendered form carries."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no csrf_token in the page"
    return match.group(1)
