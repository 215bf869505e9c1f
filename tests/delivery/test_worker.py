"""Deliveries through a real worker process, real Redis and a real SMTP server on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.delivery.conftest import ScriptedHandler, free_port
from tests.support.factories import Factories
from tests.support.worker import wait_for
from trainer_app.delivery.models import Delivery, DeliveryAttempt
from trainer_app.extensions import db

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.postgres, pytest.mark.smtp]
FAST_RETRIES = {
    "DELIVERY_RETRY_BASE_SECONDS": "0.5",
    "DELIVERY_RETRY_MAX_SECONDS": "2",
    "DELIVERY_MAX_ATTEMPTS": "30",
}


class SlowFirstDataHandler(ScriptedHandler):
    """Stores the message, then holds the first reply so the test can kill the sender."""

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.data_attempts == 1:
            await asyncio.sleep(8)
        return reply


def smtp_on(port: int, handler: ScriptedHandler) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    return controller


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def setup(worker_app, smtp_port):
    """A signed-in trainer and a ready PDF for a consenting client; mail goes to ``smtp_port``."""
    worker_app.config.update(SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?timeout=5")
    for key, value in FAST_RETRIES.items():
        worker_app.config[key] = float(value) if "." in value else int(value)
    factories = Factories(worker_app)
    trainer = factories.user()
    client = factories.client_record(trainer, email="maria@example.com", email_consent=True)
    document_id = factories.ready_document(trainer, client, key="worker-document-01")
    browser = worker_app.test_client()
    browser.post("/account/sign-in", data={"email": trainer.email, "password": Factories.PASSWORD})
    return browser, document_id


def worker_for(start_worker, smtp_port, **extra):
    return start_worker(SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?timeout=5", **FAST_RETRIES, **extra)


def click(browser, document_id, key="worker-click-000001"):
    response = browser.post(
        f"/deliveries/documents/{document_id}/send", data={"idempotency_key": key}
    )
    assert response.status_code == 302


def delivery_row(app) -> Delivery:
    with app.app_context():
        db.session.expire_all()
        row = db.session.scalar(select(Delivery))
        db.session.expunge_all()
        db.session.remove()
        return row


def attempts(app) -> list[str]:
    with app.app_context():
        outcomes = db.session.scalars(
            select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)
        ).all()
        db.session.remove()
        return list(outcomes)


def test_451_twice_then_sent_through_the_worker(worker_app, setup, start_worker, smtp_port):
    handler = ScriptedHandler()
    handler.data_replies.extend(["451 4.3.0 greylisted", "451 4.3.0 greylisted"])
    controller = smtp_on(smtp_port, handler)
    try:
        worker_for(start_worker, smtp_port)
        browser, document_id = setup
        click(browser, document_id)
        wait_for(lambda: delivery_row(worker_app).status == "sent", timeout=60, what="sent")
    finally:
        controller.stop()
    assert len(handler.received) == 1
    assert attempts(worker_app) == ["retry", "retry", "sent"]


def test_smtp_down_then_up_is_sent_once(worker_app, setup, start_worker, smtp_port):
    worker_for(start_worker, smtp_port)
    browser, document_id = setup
    click(browser, document_id)
    wait_for(lambda: delivery_row(worker_app).status == "retrying", timeout=30, what="a retry")
    assert (
        "could not" in (delivery_row(worker_app).last_error or "").lower()
        or delivery_row(worker_app).last_error
    )
    handler = ScriptedHandler()
    controller = smtp_on(smtp_port, handler)
    try:
        wait_for(lambda: delivery_row(worker_app).status == "sent", timeout=60, what="sent")
    finally:
        controller.stop()
    assert len(handler.received) == 1
    outcomes = attempts(worker_app)
    assert outcomes[-1] == "sent" and set(outcomes[:-1]) == {"retry"}


def test_worker_killed_mid_send_completes_with_same_message_id(
    worker_app,
    setup,
    start_worker,
    smtp_port,
):
    handler = SlowFirstDataHandler()
    controller = smtp_on(smtp_port, handler)
    try:
        worker = worker_for(start_worker, smtp_port)
        browser, document_id = setup
        click(browser, document_id)
        # The server has the message but has not answered: kill the process that is sending.
        wait_for(lambda: len(handler.received) == 1, timeout=60, what="the first DATA")
        for pid in worker.children():
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: delivery_row(worker_app).status == "sent", timeout=90, what="sent")
    finally:
        controller.stop()
    row = delivery_row(worker_app)
    assert 1 <= len(handler.received) <= 2
    assert {r.message()["Message-ID"] for r in handler.received} == {row.message_id}


def test_redis_down_at_click_then_sent_after_it_returns(
    worker_app,
    setup,
    start_worker,
    redis_server,
    smtp_port,
):
    handler = ScriptedHandler()
    controller = smtp_on(smtp_port, handler)
    try:
        browser, document_id = setup
        redis_server.stop()
        started = time.monotonic()
        click(browser, document_id)
        assert time.monotonic() - started < 10, "the click must not hang on a dead broker"
        assert delivery_row(worker_app).status == "queued"
        redis_server.start()
        worker_for(start_worker, smtp_port)
        with worker_app.app_context():
            from worker.tasks import relay

            wait_for(lambda: relay.apply().get()["deliveries"] == 1, timeout=30, what="relay")
        wait_for(lambda: delivery_row(worker_app).status == "sent", timeout=60, what="sent")
    finally:
        controller.stop()
    assert len(handler.received) == 1


def test_password_reset_is_sent_by_the_worker(worker_app, start_worker, smtp_port):
    handler = ScriptedHandler()
    controller = smtp_on(smtp_port, handler)
    try:
        worker_app.config.update(SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?timeout=5")
        worker_for(start_worker, smtp_port)
        Factories(worker_app).user(email="reset.me@example.com")
        response = worker_app.test_client().post(
            "/account/reset", data={"email": "reset.me@example.com"}
        )
        assert response.status_code == 302
        wait_for(lambda: len(handler.received) == 1, timeout=60, what="the reset email")
    finally:
        controller.stop()
    [received] = handler.received
    assert received.rcpt_tos == ["reset.me@example.com"]
    assert "/account/reset/" in received.message().get_body(("plain",)).get_content()
