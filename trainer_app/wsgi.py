"""WSGI entry point for gunicorn: ``gunicorn trainer_app.wsgi:app``."""

from trainer_app import create_app

app = create_app()
