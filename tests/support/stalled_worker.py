"""``celery -A tests.support.stalled_worker worker``: the real worker, whose renders stall.

A render claims its document, then waits (writing heartbeats) until the test kills the worker,
so "killed mid-render" is certain rather than a race with a two-second render.
"""

import threading

from trainer_app.plans import service
from worker.celery_app import celery  # noqa: F401  (the app `celery -A` looks for)


def _stalled_render(context, **limits):
    threading.Event().wait()  # until the process is killed
    raise AssertionError("unreachable")


service.render_plan = _stalled_render
