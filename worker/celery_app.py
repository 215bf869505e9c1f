"""Entry point for ``celery -A worker.celery_app``: the Flask app's Celery app, tasks loaded."""

from trainer_app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.autodiscover_tasks(["worker"], related_name="tasks", force=True)
