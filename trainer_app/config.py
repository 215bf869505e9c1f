"""Settings from the environment, with embedded defaults that need no environment at all."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(instance_path: Path) -> str:
    """Read the instance secret key, creating it once (0600) on first start."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_config(instance_path: Path, environ: dict[str, str] | None = None) -> dict:
    """Build the Flask config from environment variables (see the README's table)."""
    env = os.environ if environ is None else environ
    production = env.get("TRAINER_ENV", "development") == "production"
    database_url = env.get("DATABASE_URL")
    secret_key = env.get("SECRET_KEY")
    if production:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not env.get(name)]
        if missing:
            raise ConfigError(
                "TRAINER_ENV=production needs " + " and ".join(missing) + " in the environment."
            )
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'trainer.sqlite3'}"
    elif database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    redis_url = env.get("REDIS_URL") or None
    broker_url = env.get("CELERY_BROKER_URL") or redis_url
    queue_folder = instance_path / "queue"
    return {
        "TRAINER_ENV": "production" if production else "development",
        "SECRET_KEY": secret_key or _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 4 * 1024 * 1024)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "PERMANENT_SESSION_LIFETIME": int(env.get("SESSION_LIFETIME_SECONDS", 12 * 3600)),
        "WTF_CSRF_TIME_LIMIT": None,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "CELERY_BROKER_URL": broker_url or "filesystem://",
        "CELERY_QUEUE_FOLDER": str(queue_folder),
        "CELERY_TASK_ALWAYS_EAGER": _bool(env.get("CELERY_TASK_ALWAYS_EAGER")),
        "SMTP_URL": env.get("SMTP_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "plans@trainer.invalid"),
        "OUTBOX_FOLDER": str(instance_path / "outbox"),
        "ACCOUNT_MAIL_FOLDER": str(instance_path / "account-mail"),
        "INVITE_RATE_LIMIT": env.get("INVITE_RATE_LIMIT", "20 per hour"),
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "PASSWORD_RESET_MAX_AGE": int(env.get("PASSWORD_RESET_MAX_AGE", 3600)),
        "RELAY_AFTER_SECONDS": int(env.get("RELAY_AFTER_SECONDS", 60)),
        "STALE_CLAIM_SECONDS": int(env.get("STALE_CLAIM_SECONDS", 600)),
        "PDF_RENDER_TIMEOUT": float(env.get("PDF_RENDER_TIMEOUT", 90)),
        "PDF_RENDER_MEMORY_MB": int(env.get("PDF_RENDER_MEMORY_MB", 1024)),
        "CELERY_VISIBILITY_TIMEOUT": int(env.get("CELERY_VISIBILITY_TIMEOUT", 3600)),
        "DELIVERY_RETRY_BASE_SECONDS": float(env.get("DELIVERY_RETRY_BASE_SECONDS", 30)),
        "DELIVERY_RETRY_MAX_SECONDS": float(env.get("DELIVERY_RETRY_MAX_SECONDS", 3600)),
        "DELIVERY_MAX_ATTEMPTS": int(env.get("DELIVERY_MAX_ATTEMPTS", 8)),
    }
