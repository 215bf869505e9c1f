"""Trainer app: corrective-exercise programs from muscle-imbalance assessments."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from flask import Flask, render_template

from trainer_app.config import load_config, prepare_instance_folder, protect_sqlite_file
from trainer_app.extensions import csrf, db, limiter, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_FOLDER = PROJECT_ROOT / "templates"
MIGRATIONS_FOLDER = PROJECT_ROOT / "migrations"


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app: config from the environment, then overrides from ``config``."""
    instance_path = os.environ.get("TRAINER_INSTANCE_PATH") or str(PROJECT_ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(TEMPLATE_FOLDER),
    )
    prepare_instance_folder(Path(app.instance_path))
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    protect_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # WeasyPrint narrates every render step at INFO; keep its warnings only.
    for noisy in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from trainer_app.security import init_request_handling

    # Before any blueprint adds its rules: the bounded int converter and the strict request body.
    init_request_handling(app)
    db.init_app(app)
    _overwrite_deleted_rows(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_FOLDER), render_as_batch=True)
    csrf.init_app(app)
    from trainer_app import ratelimit  # noqa: F401  (the trainer-db:// limiter storage)

    limiter.init_app(app)
    login_manager.init_app(app)

    from flask_bootstrap import Bootstrap5

    Bootstrap5(app)

    _check_content()

    from trainer_app.jobs import celery_init_app

    celery_init_app(app)
    from trainer_app.plans import prerender

    # Saving a program version records its pre-render (a session hook: plans/prerender.py).
    prerender.init_app(app)

    from trainer_app import models  # noqa: F401  (registers every table on db.metadata)
    from trainer_app.security import init_security

    init_security(app)
    _register_template_helpers(app)
    _register_blueprints(app)
    _register_errors(app)

    from trainer_app.cli import register_commands

    register_commands(app)
    return app


def _overwrite_deleted_rows(app: Flask) -> None:
    """SQLite: zero deleted rows in the file (``secure_delete``), so an erased client's data
    does not linger in free pages of the database file."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _secure_delete(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()


def _check_content() -> None:
    """Load the reviewed content files now, so a broken edit stops start-up with its reason."""
    from trainer_app.assessments.questionnaire import default_questionnaire
    from trainer_app.library.catalog import default_catalog
    from trainer_app.library.figures import check_default

    check_default(default_catalog().exercises)
    default_questionnaire()


def _register_blueprints(app: Flask) -> None:
    from trainer_app.accounts.views import bp as accounts_bp
    from trainer_app.appointments.views import bp as appointments_bp
    from trainer_app.assessments.views import bp as assessments_bp
    from trainer_app.audit.views import bp as audit_bp
    from trainer_app.clients.views import bp as clients_bp
    from trainer_app.clinics.views import bp as clinics_bp
    from trainer_app.delivery.views import bp as delivery_bp
    from trainer_app.library.views import bp as library_bp
    from trainer_app.main import bp as main_bp
    from trainer_app.plans.views import bp as plans_bp
    from trainer_app.prints.views import bp as prints_bp
    from trainer_app.privacy.views import bp as privacy_bp
    from trainer_app.programs.views import bp as programs_bp
    from trainer_app.progress.views import bp as progress_bp
    from trainer_app.referrals.views import bp as referrals_bp

    for blueprint in (
        main_bp,
        accounts_bp,
        clients_bp,
        appointments_bp,
        library_bp,
        assessments_bp,
        programs_bp,
        plans_bp,
        prints_bp,
        clinics_bp,
        delivery_bp,
        progress_bp,
        audit_bp,
        referrals_bp,
        privacy_bp,
    ):
        app.register_blueprint(blueprint)


def _register_template_helpers(app: Flask) -> None:
    from flask import has_request_context
    from flask_login import current_user
    from markupsafe import Markup

    from trainer_app.library.bodymap import body_map_svg
    from trainer_app.timeutil import format_local

    @app.template_filter("local")
    def local(value, style: str = "datetime", zone: str | None = None) -> str:
        """A stored UTC time in the clinic's zone, e.g. "25 Nov 2026, 14:05", one format everywhere.

        Pages use the signed-in clinic's zone; emails and PDFs rendered by a worker pass ``zone``.
        """
        if zone is None and has_request_context() and current_user.is_authenticated:
            zone = current_user.clinic.time_zone
        return format_local(value, zone, style)

    from trainer_app.accounts.roles import LABELS, is_clinical

    app.add_template_global(is_clinical)
    app.add_template_global(LABELS, "role_labels")
    from trainer_app.content import ARTICLE_CITATION

    app.add_template_global(ARTICLE_CITATION, "article_citation")

    @functools.lru_cache(maxsize=256)
    def drawn_body_map(weak: tuple, overactive: tuple, options: tuple) -> str:
        return body_map_svg(weak, overactive, **dict(options))

    @app.template_global()
    def body_map(weak=(), overactive=(), **kwargs) -> Markup:
        """The project's SVG body map (drawn from fixed shapes; no user text inside).

        Drawn once per process for each set of regions and options: a program or assessment
        page otherwise spent about 10 ms smoothing the same outlines on every view.
        """
        options = tuple(
            sorted((k, tuple(v) if isinstance(v, (list, set)) else v) for k, v in kwargs.items())
        )
        return Markup(drawn_body_map(tuple(weak), tuple(overactive), options))  # noqa: S704


def _register_errors(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(400)
    def bad_request(_error):
        return render_template("errors/400.html"), 400

    @app.errorhandler(403)
    def forbidden(error):
        from werkzeug.exceptions import Forbidden

        # A role refusal says why (abort(403, description=...)); the generic text is not shown.
        reason = error.description if error.description != Forbidden.description else None
        return render_template("errors/403.html", reason=reason), 403

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("errors/413.html"), 413

    @app.errorhandler(429)
    def too_many(_error):
        return render_template("errors/429.html"), 429

    @app.errorhandler(500)
    def server_error(_error):
        db.session.rollback()
        return render_template("errors/500.html"), 500
