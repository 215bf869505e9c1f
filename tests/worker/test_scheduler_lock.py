"""One scheduler per deployment: the lock a second beat cannot take (file, or Redis)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from worker.beat import SchedulerAlreadyRunning, scheduler_lock


def _celery(broker_url: str, queue_folder=None) -> SimpleNamespace:
    options = {"data_folder_in": str(queue_folder)} if queue_folder else {}
    return SimpleNamespace(
        conf=SimpleNamespace(broker_url=broker_url, broker_transport_options=options)
    )


def test_the_embedded_lock_is_a_file_in_the_queue_folder(tmp_path):
    app = _celery("filesystem://", tmp_path)
    first = scheduler_lock(app, str(tmp_path / "schedule"))
    try:
        with pytest.raises(SchedulerAlreadyRunning, match="already running.*scheduler.lock"):
            scheduler_lock(app, str(tmp_path / "another-schedule"))
    finally:
        first.release()
    scheduler_lock(app, str(tmp_path / "schedule")).release()  # free again once released


@pytest.mark.redis
def test_on_a_redis_broker_the_lock_is_in_redis_and_renewed(redis_server, tmp_path):
    import redis

    app = _celery(redis_server.url)
    first = scheduler_lock(app, str(tmp_path / "schedule-a"))
    try:
        # Another machine, another schedule file: the same broker, so the same lock.
        with pytest.raises(SchedulerAlreadyRunning, match="Redis lock"):
            scheduler_lock(app, str(tmp_path / "schedule-b"))
        client = redis.Redis.from_url(redis_server.url)
        client.pexpire("trainer:scheduler-lock", 5000)
        first.renew()
        assert client.pttl("trainer:scheduler-lock") > 5000
        # A lock taken over by someone else (this scheduler stalled past the expiry) stops it.
        client.set("trainer:scheduler-lock", "someone else")
        with pytest.raises(SchedulerAlreadyRunning, match="lost"):
            first.renew()
        client.delete("trainer:scheduler-lock")
    finally:
        first.release()
    scheduler_lock(app, str(tmp_path / "schedule-b")).release()
