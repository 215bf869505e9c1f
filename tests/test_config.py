"""Configuration from the environment and the embedded defaults."""

from __future__ import annotations

import pytest

from trainer_app.config import ConfigError, load_config


def test_embedded_default_needs_no_environment(tmp_path):
    config = load_config(tmp_path, environ={})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'trainer.sqlite3'}"
    assert config["CELERY_BROKER_URL"] == "filesystem://"
    assert config["SMTP_URL"] is None
    assert config["SESSION_COOKIE_SECURE"] is False
    assert len(config["SECRET_KEY"]) == 64


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_config(tmp_path, environ={})["SECRET_KEY"]
    second = load_config(tmp_path, environ={})["SECRET_KEY"]
    assert first == second
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without_settings(tmp_path, missing):
    env = {"TRAINER_ENV": "production", "SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://db/x"}
    del env[missing]
    with pytest.raises(ConfigError, match=missing):
        load_config(tmp_path, environ=env)


def test_production_settings(tmp_path):
    env = {
        "TRAINER_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": "postgres://u@db/trainer",
        "REDIS_URL": "redis://redis:6379/0",
    }
    config = load_config(tmp_path, environ=env)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/trainer"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert not (tmp_path / "secret_key").exists()


def test_top_level_templates_folder_is_found(app):
    assert app.jinja_loader.searchpath[0].endswith("/templates")
    with app.app_context():
        assert app.jinja_env.get_template("base.html") is not None


def test_cli_demo_is_safe_to_rerun(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "demo@example.com" in first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    from sqlalchemy import func, select

    from trainer_app.clients.models import Client
    from trainer_app.extensions import db

    with runner.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Client)) == 5
        from trainer_app.programs.models import Program

        # One client is assessed and programmed so a newcomer can click through at once.
        assert db.session.scalar(select(func.count()).select_from(Program)) == 1


def test_visibility_timeout_must_exceed_the_hard_time_limit(make_app):
    from trainer_app.config import ConfigError

    with pytest.raises(ConfigError, match="CELERY_VISIBILITY_TIMEOUT"):
        make_app(CELERY_VISIBILITY_TIMEOUT=60)


def test_broken_content_file_stops_start_up(make_app, monkeypatch, tmp_path):
    from trainer_app.library import catalog

    (tmp_path / "exercises.yaml").write_text("version: '2026.11.1'\nexercises: [{slug: 'x'}]\n")
    monkeypatch.setattr(catalog, "DATA_DIR", tmp_path)
    catalog.default_catalog.cache_clear()
    try:
        with pytest.raises(catalog.CatalogError):
            make_app()
    finally:
        monkeypatch.undo()
        catalog.default_catalog.cache_clear()


def test_instance_folder_and_sqlite_database_are_private(tmp_path, monkeypatch):
    import os

    from sqlalchemy import text

    from trainer_app import create_app
    from trainer_app.extensions import db

    instance = tmp_path / "instance"
    monkeypatch.setenv("TRAINER_INSTANCE_PATH", str(instance))
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    old_umask = os.umask(0o022)  # the usual umask: files 0644, folders 0755
    try:
        app = create_app({"TESTING": True})
        with app.app_context():
            db.session.execute(text("CREATE TABLE probe (x INTEGER)"))
            db.session.commit()
            db.engine.dispose()
        assert instance.stat().st_mode & 0o777 == 0o700
        assert (instance / "trainer.sqlite3").stat().st_mode & 0o777 == 0o600
        assert (instance / "queue").stat().st_mode & 0o777 == 0o700
        # An instance made by an older version is tightened on the next start.
        instance.chmod(0o755)
        (instance / "trainer.sqlite3").chmod(0o644)
        app = create_app({"TESTING": True})
        assert instance.stat().st_mode & 0o777 == 0o700
        assert (instance / "trainer.sqlite3").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old_umask)


def test_trusted_proxies_must_be_a_count(tmp_path):
    assert load_config(tmp_path, environ={})["TRUSTED_PROXIES"] == 0
    assert load_config(tmp_path, environ={"TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config(tmp_path, environ={"TRUSTED_PROXIES": "yes"})


def test_a_claim_cannot_go_stale_between_two_heartbeats(make_app):
    with pytest.raises(ConfigError, match="STALE_CLAIM_SECONDS"):
        make_app(STALE_CLAIM_SECONDS=20, JOB_HEARTBEAT_SECONDS=10)


def test_the_image_runs_gunicorn_with_the_apps_config_and_compose_passes_trusted_proxies():
    """The web service runs the image's CMD; that CMD must load gunicorn_conf (Server header)."""
    import json
    from pathlib import Path

    import yaml

    root = Path(__file__).parents[1]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    command = web.get("command")
    if command is None:
        cmd_line = next(
            line
            for line in (root / "Dockerfile").read_text().splitlines()
            if line.startswith("CMD ")
        )
        command = " ".join(json.loads(cmd_line.removeprefix("CMD ")))
    assert "-c python:trainer_app.gunicorn_conf" in command
    # Caddy is the one proxy in front of gunicorn in compose.
    assert web["environment"]["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-1}"
