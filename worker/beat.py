"""The relay schedule (celery beat), exactly one per deployment.

Two schedulers would publish every relay twice, and a beat orphaned by a killed worker kept
publishing forever. The scheduler takes a lock before it opens its schedule and holds it while
it runs: a file lock in the embedded queue folder (released by the kernel when the process dies,
however it dies), or a Redis lock with an expiry that the scheduler renews on every tick when
the broker is Redis (so schedulers on several machines exclude each other). A second scheduler
refuses to start, saying which lock is held.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path

import redis
from celery.beat import PersistentScheduler

log = logging.getLogger(__name__)

REDIS_LOCK_KEY = "trainer:scheduler-lock"
# Beat wakes at least this often (beat_max_loop_interval) and renews the Redis lock each time;
# a scheduler killed outright frees the lock after REDIS_LOCK_SECONDS.
MAX_LOOP_INTERVAL = 15
REDIS_LOCK_SECONDS = 60


class SchedulerAlreadyRunning(SystemExit):
    """Another scheduler holds the lock; beat exits with this message (exit code 1)."""


class _FileLock:
    def __init__(self, path: Path) -> None:
        self.name = str(path)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self._fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(self._fd)
            raise SchedulerAlreadyRunning(
                f"Another scheduler (celery beat, process {holder}) is already running for this "
                f"deployment: it holds {path}. Only one may run; this one is not starting."
            ) from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, str(os.getpid()).encode())

    def renew(self) -> None:
        """Nothing to do: the kernel holds the lock until the process ends."""

    def release(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


class _RedisLock:
    def __init__(self, url: str) -> None:
        self.name = f"{REDIS_LOCK_KEY} on {url.rpartition('@')[2]}"
        self._lock = redis.Redis.from_url(url).lock(
            REDIS_LOCK_KEY, timeout=REDIS_LOCK_SECONDS, blocking=False, thread_local=False
        )
        if not self._lock.acquire():
            raise SchedulerAlreadyRunning(
                f"Another scheduler (celery beat) is already running for this deployment: it "
                f"holds the Redis lock {self.name}. Only one may run; this one is not starting. "
                f"(A scheduler that was killed frees it within {REDIS_LOCK_SECONDS} s.)"
            )

    def renew(self) -> None:
        try:
            self._lock.reacquire()
        except redis.exceptions.LockError as exc:
            # Someone else took over (this process stalled past the expiry): step aside.
            raise SchedulerAlreadyRunning(
                f"The scheduler lost its Redis lock {self.name}; stopping."
            ) from exc

    def release(self) -> None:
        with contextlib.suppress(redis.exceptions.RedisError):
            self._lock.release()


def scheduler_lock(app, schedule_filename: str):
    """The lock for this deployment: Redis when the broker is Redis, else a file."""
    broker_url = app.conf.broker_url or ""
    if broker_url.startswith(("redis://", "rediss://")):
        return _RedisLock(broker_url)
    queue_folder = (app.conf.broker_transport_options or {}).get("data_folder_in")
    path = Path(queue_folder) / "scheduler.lock" if queue_folder else None
    return _FileLock(path or Path(f"{schedule_filename}.lock"))


class SingleScheduler(PersistentScheduler):
    """Celery's persistent scheduler that runs only while it holds the deployment's lock."""

    _lock = None

    def setup_schedule(self) -> None:
        self._lock = scheduler_lock(self.app, self.schedule_filename)
        log.info("scheduler lock %s taken", self._lock.name)
        super().setup_schedule()

    def tick(self, *args, **kwargs) -> float:
        self._lock.renew()
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._lock is not None:
                self._lock.release()
