"""Entry point for ``celery -A worker.celery_app``: the Flask app's Celery app, tasks loaded."""

from trainer_app import create_app
from worker import beat

flask_app = create_app()
celery = flask_app.extensions["celery"]
celery.autodiscover_tasks(["worker"], related_name="tasks", force=True)
# `celery beat` runs only while it holds the deployment's scheduler lock (worker/beat.py).
celery.conf.beat_scheduler = "worker.beat:SingleScheduler"
celery.conf.beat_max_loop_interval = beat.MAX_LOOP_INTERVAL
