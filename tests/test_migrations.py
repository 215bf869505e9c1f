"""Migrations build the schema from empty on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from trainer_app.extensions import db


def test_upgrade_from_empty_matches_models_and_downgrades(make_app, backend, tmp_path_factory):
    from tests.support import services

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('mig') / 'm.sqlite3'}"
    else:
        url = services.fresh_postgres_database("trainer_test_migrations")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        with db.engine.connect() as conn:
            tables = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()
