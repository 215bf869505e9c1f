"""``celery -A tests.support.slow_worker worker``: the real worker, whose renders take longer.

Each render waits ``SLOW_RENDER_SECONDS`` (heartbeats running) before rendering for real, so a
test can break something (restart the database) while a render is certainly in progress.
"""

import os
import time

from trainer_app.plans import service
from worker.celery_app import celery  # noqa: F401  (the app `celery -A` looks for)

_real_render = service.render_plan


def _slow_render(context, **limits):
    time.sleep(float(os.environ.get("SLOW_RENDER_SECONDS", "8")))
    return _real_render(context, **limits)


service.render_plan = _slow_render
