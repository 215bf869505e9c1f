"""Settings from the environment, with embedded defaults that need no environment at all."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def prepare_instance_folder(instance_path: Path) -> None:
    """Create the instance folder readable by its owner only (0700), tightening an old one.

    It holds the secret key, the SQLite database, queued jobs and the mail outbox: nothing in
    it is for other users of the machine.
    """
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if instance_path.stat().st_mode & 0o077:
        instance_path.chmod(0o700)


def protect_sqlite_file(database_uri: str) -> None:
    """Create the SQLite database file 0600 before SQLite does (it would use the umask).

    SQLite gives its journal and WAL files the mode of the database file, so they follow.
    An existing file readable by others is tightened.
    """
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if url.database.startswith("file:"):
        return  # a URI filename names its own options; the operator owns that choice
    path = Path(url.database)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)


def _count(env, name: str, default: int) -> int:
    """A whole number of zero or more from the environment, or a ConfigError naming it."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"{name} must be a whole number of 0 or more, not {raw!r}.")
    return value


def _secret_key(instance_path: Path) -> str:
    """Read the instance secret key, creating it once (0600) on first start."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    prepare_instance_folder(instance_path)
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
        # Counters shared by every web process: Redis when there is one, else the database.
        "RATELIMIT_STORAGE_URI": redis_url or "trainer-db://",
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "LOGIN_ACCOUNT_RATE_LIMIT": env.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute;20 per hour"),
        "TRUSTED_PROXIES": _count(env, "TRUSTED_PROXIES", 0),
        "CELERY_BROKER_URL": broker_url or "filesystem://",
        "CELERY_QUEUE_FOLDER": str(queue_folder),
        "CELERY_TASK_ALWAYS_EAGER": _bool(env.get("CELERY_TASK_ALWAYS_EAGER")),
        "SMTP_URL": env.get("SMTP_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "plans@trainer.invalid"),
        "OUTBOX_FOLDER": str(instance_path / "outbox"),
        "ACCOUNT_MAIL_FOLDER": str(instance_path / "account-mail"),
        "INVITE_RATE_LIMIT": env.get("INVITE_RATE_LIMIT", "20 per hour"),
        # An unconfirmed sign-up lapses after this; then a new sign-up or invitation replaces it.
        "SIGNUP_CONFIRM_HOURS": float(env.get("SIGNUP_CONFIRM_HOURS", 48)),
        # Signing in to an unconfirmed account re-sends the link at most this often.
        "CONFIRM_RESEND_MINUTES": float(env.get("CONFIRM_RESEND_MINUTES", 10)),
        "PROGRESS_RATE_LIMIT": env.get("PROGRESS_RATE_LIMIT", "60 per minute;600 per hour"),
        "PROGRESS_LINK_RATE_LIMIT": env.get(
            "PROGRESS_LINK_RATE_LIMIT", "20 per minute;120 per hour"
        ),
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        "PASSWORD_RESET_MAX_AGE": int(env.get("PASSWORD_RESET_MAX_AGE", 3600)),
        "RELAY_AFTER_SECONDS": int(env.get("RELAY_AFTER_SECONDS", 60)),
        "PRINT_KEEP_HOURS": float(env.get("PRINT_KEEP_HOURS", 12)),
        "JOB_HEARTBEAT_SECONDS": float(env.get("JOB_HEARTBEAT_SECONDS", 10)),
        "STALE_CLAIM_SECONDS": float(env.get("STALE_CLAIM_SECONDS", 60)),
        "PDF_RENDER_TIMEOUT": float(env.get("PDF_RENDER_TIMEOUT", 90)),
        "PDF_RENDER_MEMORY_MB": int(env.get("PDF_RENDER_MEMORY_MB", 1024)),
        "PRERENDER_PLANS": _bool(env.get("PRERENDER_PLANS"), True),
        "PRERENDER_QUIET_SECONDS": float(env.get("PRERENDER_QUIET_SECONDS", 2)),
        "CELERY_VISIBILITY_TIMEOUT": int(env.get("CELERY_VISIBILITY_TIMEOUT", 3600)),
        "DELIVERY_RETRY_BASE_SECONDS": float(env.get("DELIVERY_RETRY_BASE_SECONDS", 30)),
        "DELIVERY_RETRY_MAX_SECONDS": float(env.get("DELIVERY_RETRY_MAX_SECONDS", 3600)),
        "DELIVERY_MAX_ATTEMPTS": int(env.get("DELIVERY_MAX_ATTEMPTS", 8)),
        "EXPORT_AVAILABLE_HOURS": float(env.get("EXPORT_AVAILABLE_HOURS", 24)),
        "DATA_RIGHTS_CHECK_SECONDS": float(env.get("DATA_RIGHTS_CHECK_SECONDS", 3600)),
    }
