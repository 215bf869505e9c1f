"""The Celery app bound to Flask, and the one function the web uses to enqueue work.

Tasks live in ``worker/tasks.py``; the web refers to them by name only, so nothing in
``trainer_app`` imports ``worker``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app
from sqlalchemy import ColumnElement, and_, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from trainer_app.config import ConfigError
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

log = logging.getLogger(__name__)

# The Redis visibility timeout (CELERY_VISIBILITY_TIMEOUT, default 3600 s) must exceed the hard
# time limit, or a slow task is handed out twice.
SOFT_TIME_LIMIT = 120
HARD_TIME_LIMIT = 180

# How urgent a job is: a worker always takes the lowest number waiting first. One queue per kind
# of work ("pdf", "email") with broker priorities, so every worker command stays as it was:
# Redis keeps one list per priority step (0, 3, 6, 9) and a worker pops the lists in that order
# (across all its queues); the embedded queue names its files so the same order sorts first.
URGENT = 0  # someone is waiting for this job now: a clicked "Make PDF", every email
PRERENDER = 3  # a plan rendered ahead, in case it is asked for (plans/prerender.py)
BULK = 6  # many jobs at once that nobody waits on one by one: batch printing, re-branding
PRIORITIES = (URGENT, PRERENDER, BULK)


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app whose tasks run inside ``app``'s context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    broker_url = app.config["CELERY_BROKER_URL"]
    if app.config["CELERY_VISIBILITY_TIMEOUT"] <= HARD_TIME_LIMIT:
        raise ConfigError(
            f"CELERY_VISIBILITY_TIMEOUT must be longer than the tasks' hard time limit "
            f"({HARD_TIME_LIMIT} s), or a slow task would be handed to a second worker."
        )
    if app.config["STALE_CLAIM_SECONDS"] < 3 * app.config["JOB_HEARTBEAT_SECONDS"]:
        raise ConfigError(
            "STALE_CLAIM_SECONDS must be at least three times JOB_HEARTBEAT_SECONDS, or a job "
            "whose heartbeat is merely late would be handed to a second worker."
        )
    transport_options: dict = {"visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"]}
    broker_transport = None
    if broker_url.startswith("filesystem://"):
        folder = Path(app.config["CELERY_QUEUE_FOLDER"])
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)
        transport_options = {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        }
        # Kombu's filesystem transport with atomic publishing and bad files set aside.
        broker_transport = "trainer_app.broker:Transport"
    celery.conf.update(
        broker_url=broker_url,
        broker_transport=broker_transport,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=SOFT_TIME_LIMIT,
        task_time_limit=HARD_TIME_LIMIT,
        task_always_eager=app.config.get("CELERY_TASK_ALWAYS_EAGER", False),
        task_eager_propagates=True,
        task_default_queue="celery",
        # Renders and emails get their own queues, so a deployment can size workers per queue.
        task_routes={
            "plans.render": {"queue": "pdf"},
            "prints.prepare": {"queue": "pdf"},
            "prints.merge": {"queue": "pdf"},
            "delivery.send": {"queue": "email"},
            "accounts.send_email": {"queue": "email"},
        },
        beat_schedule_filename=str(Path(app.instance_path) / "celerybeat-schedule"),
        beat_schedule={
            "relay-queued-jobs": {
                "task": "trainer.relay",
                "schedule": float(app.config["RELAY_AFTER_SECONDS"]),
            },
            # Expired export zips dropped, clients past the retention period erased.
            "data-rights-housekeeping": {
                "task": "privacy.housekeeping",
                "schedule": float(app.config["DATA_RIGHTS_CHECK_SECONDS"]),
            },
        },
        worker_hijack_root_logger=False,
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def record_once(row, key_column) -> tuple[Any, bool]:
    """Add a job row whose unique key a concurrent request may have just used.

    Returns (row, True), or (the row that won the race, False); the caller commits.
    """
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        key = getattr(row, key_column.key)
        return db.session.scalar(select(key_column.class_).where(key_column == key)), False
    return row, True


def enqueue(
    task_name: str,
    *ids: int,
    queue: str,
    countdown: float | None = None,
    priority: int = URGENT,
) -> bool:
    """Publish a task by name with ids only; False (and a log line) when the broker is down.

    The caller has already committed the job row, so a failed publish loses nothing: the relay
    publishes it later. ``priority`` is one of ``PRIORITIES``: workers take every waiting
    ``URGENT`` job before a ``PRERENDER`` one, and those before ``BULK`` ones; a job already
    running is never interrupted, so an urgent job waits at most for the jobs in progress.
    """
    if priority not in PRIORITIES:
        raise ValueError(f"priority must be one of {PRIORITIES}, not {priority!r}")
    celery: Celery = current_app.extensions["celery"]
    if celery.conf.task_always_eager:
        # Tests and one-process setups: run the registered task inline.
        celery.tasks[task_name].apply(args=list(ids), throw=True)
        return True
    try:
        celery.send_task(
            task_name,
            args=list(ids),
            queue=queue,
            countdown=countdown,
            priority=priority,
            retry=False,
        )
    except Exception:  # the broker being down must never fail the request
        log.warning("broker unavailable; %s%s left for the relay", task_name, ids, exc_info=True)
        return False
    return True


class Heartbeat:
    """While a job runs, mark its claimed row alive every ``JOB_HEARTBEAT_SECONDS``.

    A thread with its own short transactions (one ``UPDATE`` each), so the task can block in a
    render or an SMTP exchange. The update matches only while the row is still ``status`` and
    claimed by ``claim_id``; once the claim is gone (the relay took it back) the thread stops.
    """

    def __init__(self, model, row_id: int, claim_id: str, status: str) -> None:
        self._engine = db.engine
        self._interval = float(current_app.config["JOB_HEARTBEAT_SECONDS"])
        self._stmt = (
            update(model.__table__)
            .where(
                model.__table__.c.id == row_id,
                model.__table__.c.status == status,
                model.__table__.c.claimed_by == claim_id,
            )
            .values(heartbeat_at=bindparam("beat"))
        )
        self._what = f"{model.__tablename__} {row_id}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {self._what}")
        self._thread.daemon = True

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                with self._engine.begin() as conn:
                    alive = conn.execute(self._stmt, {"beat": utcnow()}).rowcount == 1
            except SQLAlchemyError:
                # A database blip: try again next time; a long outage lets the claim go stale.
                log.warning("heartbeat of %s not written", self._what, exc_info=True)
                continue
            if not alive:
                log.warning("%s is no longer claimed by this task; heartbeat stopped", self._what)
                return


# A job row (plan document, referral letter, data export) waits in one status, is worked on in
# another, and carries ``claimed_by``, ``heartbeat_at``, ``queued_at``, ``started_at``,
# ``finished_at`` and ``attempts``. The three functions below are the whole claim protocol;
# each kind of job names its two statuses and any extra condition (``where``).


def stale_before(now: datetime) -> datetime:
    """Claims whose heartbeat is older than this belong to a worker that died."""
    return now - timedelta(seconds=current_app.config["STALE_CLAIM_SECONDS"])


def relay_cutoff(now: datetime) -> datetime:
    """Rows still waiting from before this were not taken by a worker: the relay publishes them."""
    return now - timedelta(seconds=current_app.config["RELAY_AFTER_SECONDS"])


def claim(
    model,
    row_id: int,
    claim_id: str,
    *,
    waiting: str,
    working: str,
    where: Iterable[ColumnElement[bool]] = (),
) -> bool:
    """Atomically move a waiting row to ``working`` for this task; commits so others see it.

    A redelivered message (same claim id) may take back its own claim; a claim whose heartbeat
    stopped (its worker died) may be taken over. The one ``UPDATE`` checks both, so two tasks
    never hold the same row at once.
    """
    now = utcnow()
    result = db.session.execute(
        update(model)
        .where(
            model.id == row_id,
            *where,
            or_(
                model.status == waiting,
                and_(
                    model.status == working,
                    or_(model.claimed_by == claim_id, model.heartbeat_at < stale_before(now)),
                ),
            ),
        )
        .values(
            status=working,
            claimed_by=claim_id,
            started_at=now,
            heartbeat_at=now,
            attempts=model.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def finish(model, row_id: int, claim_id: str, *, working: str, now: datetime, **values) -> bool:
    """Record the outcome if this task still holds the claim (one atomic ``UPDATE``).

    The caller commits. False when the claim was taken back meanwhile (the heartbeat stopped
    long enough for the relay to hand the row to another worker: that worker's outcome counts),
    or the row is gone.
    """
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == working, model.claimed_by == claim_id)
        .values(finished_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def take_due(
    model,
    now: datetime,
    *,
    waiting: str,
    working: str,
    where: Iterable[ColumnElement[bool]] = (),
    limit: int = 200,
) -> list[int]:
    """Rows still waiting after the relay delay, or claimed by a worker that died.

    Their ``queued_at`` moves to now so a second relay (or the next run) leaves them alone; on
    PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets two relays run without taking the same rows, and
    the ``UPDATE`` repeats the conditions, so a heartbeat written in between keeps its claim.
    The caller commits, then publishes.
    """
    due = and_(
        *where,
        or_(
            and_(model.status == waiting, model.queued_at < relay_cutoff(now)),
            and_(model.status == working, model.heartbeat_at < stale_before(now)),
        ),
    )
    stmt = select(model.id).where(due).order_by(model.queued_at).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    candidates = db.session.scalars(stmt).all()
    if not candidates:
        return []
    return list(
        db.session.scalars(
            update(model)
            .where(model.id.in_(candidates), due)
            .values(status=waiting, queued_at=now)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
    )


# Emails (plan deliveries, account emails) are sent, not rendered: a row is due in QUEUED or
# RETRYING once its ``next_attempt_at`` has come, and a failed send waits a growing delay.

# A retry published with a countdown may arrive a moment before its ``next_attempt_at``.
EARLY_TOLERANCE = timedelta(seconds=2)


def due_to_send(model, claim_id: str, now: datetime, *, waiting: Iterable[str], sending: str):
    """The condition under which a task may take an email row for sending.

    A due row, or one this same task held before its worker died (a redelivered message).
    """
    return or_(
        and_(
            model.status.in_(tuple(waiting)),
            or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now + EARLY_TOLERANCE),
        ),
        and_(model.status == sending, model.claimed_by == claim_id),
    )


def keep_claim(model, row_id: int, claim_id: str, *, working: str) -> bool:
    """True if this task still holds the claim (the relay takes back only silent claims).

    A task that outlived its claim (its database connection was cut) must not overwrite the
    outcome of the worker that took over. On PostgreSQL the row stays locked until the caller
    commits.
    """
    result = db.session.execute(
        update(model)
        .where(model.id == row_id, model.status == working, model.claimed_by == claim_id)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def retry_delay(attempt: int) -> float:
    """Seconds before the next try: exponential backoff with full jitter, capped."""
    base = current_app.config["DELIVERY_RETRY_BASE_SECONDS"]
    cap = current_app.config["DELIVERY_RETRY_MAX_SECONDS"]
    ceiling = min(cap, base * (2 ** (attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311  (jitter, not security)
