"""Deliveries end to end in one process: real SMTP on loopback, tasks run inline."""

from __future__ import annotations

import email.policy
from email.parser import BytesParser

import pytest
from sqlalchemy import select

import worker.tasks  # noqa: F401  (registers the tasks the web runs inline in these tests)
from trainer_app.delivery import service
from trainer_app.delivery.models import Delivery, DeliveryAttempt
from trainer_app.extensions import db
from trainer_app.plans import service as plans
from trainer_app.plans.models import PlanDocument

pytestmark = pytest.mark.smtp


@pytest.fixture
def mail_app(app, make_app, smtp_server):
    return make_app(
        SMTP_URL=f"smtp://{smtp_server.url_host}?timeout=5",
        DELIVERY_RETRY_BASE_SECONDS=0.01,
        DELIVERY_RETRY_MAX_SECONDS=0.05,
        DELIVERY_MAX_ATTEMPTS=4,
    )


@pytest.fixture
def ready_document(mail_app, factories):
    """A rendered plan for a consenting client; returns (trainer, document id)."""
    trainer = factories.user(name="Ana Trainer", email="ana@clinic.example")
    client = factories.client_record(
        trainer, name="Maria Jensen", email="maria@example.com", email_consent=True
    )
    return trainer, factories.ready_document(trainer, client)


def signed_in(mail_app, trainer, factories):
    browser = mail_app.test_client()
    browser.post("/account/sign-in", data={"email": trainer.email, "password": factories.PASSWORD})
    return browser


def click_send(browser, document_id, key="click-key-000000001"):
    return browser.post(f"/deliveries/documents/{document_id}/send", data={"idempotency_key": key})


def rows(app, model):
    with app.app_context():
        return db.session.scalars(select(model).order_by(model.id)).all()


def test_success_sends_one_message_with_the_stored_pdf(
    mail_app, ready_document, factories, smtp_server
):
    trainer, document_id = ready_document
    browser = signed_in(mail_app, trainer, factories)
    response = click_send(browser, document_id)
    assert response.status_code == 302
    [delivery] = rows(mail_app, Delivery)
    assert delivery.status == "sent" and delivery.sent_at is not None
    [received] = smtp_server.handler.received
    assert received.rcpt_tos == ["maria@example.com"]
    message = received.message()
    assert message["Message-ID"] == delivery.message_id
    assert "Ana Trainer" in message["Reply-To"] and "ana@clinic.example" in message["Reply-To"]
    assert "Clinic" in message["From"]
    [attachment] = list(message.iter_attachments())
    with mail_app.app_context():
        stored = plans.pdf_bytes(db.session.get(PlanDocument, document_id))
    assert attachment.get_content() == stored
    assert attachment.get_filename().endswith(".pdf")
    page = browser.get("/clients/").get_data(as_text=True)
    assert page  # the list renders with deliveries present


def test_double_click_makes_one_delivery(mail_app, ready_document, factories, smtp_server):
    trainer, document_id = ready_document
    browser = signed_in(mail_app, trainer, factories)
    click_send(browser, document_id, key="same-click-00000001")
    click_send(browser, document_id, key="same-click-00000001")
    assert len(rows(mail_app, Delivery)) == 1
    assert len(smtp_server.handler.received) == 1


def test_451_twice_then_success_one_message_three_attempts(
    mail_app, ready_document, factories, smtp_server
):
    smtp_server.handler.data_replies.extend(["451 4.3.0 try later", "451 4.3.0 try later"])
    trainer, document_id = ready_document
    click_send(signed_in(mail_app, trainer, factories), document_id)
    [delivery] = rows(mail_app, Delivery)
    assert delivery.status == "sent"
    assert delivery.attempts == 3
    attempts = rows(mail_app, DeliveryAttempt)
    assert [a.outcome for a in attempts] == ["retry", "retry", "sent"]
    assert "451" in attempts[0].detail
    assert len(smtp_server.handler.received) == 1


def test_550_fails_at_once_with_the_reason(mail_app, ready_document, factories, smtp_server):
    smtp_server.handler.data_replies.append("550 5.1.1 mailbox unavailable")
    trainer, document_id = ready_document
    browser = signed_in(mail_app, trainer, factories)
    click_send(browser, document_id)
    [delivery] = rows(mail_app, Delivery)
    assert delivery.status == "failed" and delivery.attempts == 1
    assert "550" in delivery.last_error and "mailbox unavailable" in delivery.last_error
    assert smtp_server.handler.received == []
    with mail_app.app_context():
        program_id = db.session.get(PlanDocument, document_id).program_version.program_id
    page = browser.get(f"/programs/{program_id}").get_data(as_text=True)
    assert "Failed" in page and "mailbox unavailable" in page and "Send again" in page


def test_message_over_the_size_limit_fails_with_a_clear_reason(
    app, make_app, factories, start_smtp_server
):
    small = start_smtp_server(data_size_limit=20_000)
    mail_app = make_app(SMTP_URL=f"smtp://{small.url_host}")
    trainer = factories.user()
    client = factories.client_record(trainer, email="c@example.com", email_consent=True)
    document_id = factories.ready_document(trainer, client, key="document-key-size1")
    click_send(signed_in(mail_app, trainer, factories), document_id)
    [delivery] = rows(mail_app, Delivery)
    assert delivery.status == "failed"
    assert "accepts at most" in delivery.last_error
    assert small.handler.received == []


def test_smtp_down_then_up_sends_once(
    mail_app, ready_document, factories, start_smtp_server, monkeypatch
):
    from tests.delivery.conftest import free_port

    trainer, document_id = ready_document
    port = free_port()
    mail_app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}?timeout=3"
    monkeypatch.setattr("trainer_app.delivery.views.enqueue", lambda *a, **k: True)
    click_send(signed_in(mail_app, trainer, factories), document_id)
    [delivery] = rows(mail_app, Delivery)
    with mail_app.app_context():
        first = service.send_delivery(delivery.id, claim_id="task-a")
        assert first.status == "retrying" and first.retry_in is not None
    # The server comes back on the same address.
    from aiosmtpd.controller import Controller

    from tests.delivery.conftest import ScriptedHandler

    handler = ScriptedHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with mail_app.app_context():
            db.session.get(Delivery, delivery.id).next_attempt_at = None
            db.session.commit()
            assert service.send_delivery(delivery.id, claim_id="task-b").status == "sent"
            assert service.send_delivery(delivery.id, claim_id="task-c").status == "skipped"
    finally:
        controller.stop()
    assert len(handler.received) == 1
    assert [a.outcome for a in rows(mail_app, DeliveryAttempt)] == ["retry", "sent"]


def test_crlf_in_names_cannot_add_headers_or_recipients(app, make_app, factories, smtp_server):
    mail_app = make_app(SMTP_URL=f"smtp://{smtp_server.url_host}")
    trainer = factories.user(
        name="Evil\r\nBcc: spy@evil.example", clinic_name="Clinic\r\nX-Injected: yes"
    )
    client = factories.client_record(
        trainer,
        name="Maria\r\nBcc: other@evil.example\r\n\r\nbody",
        email="maria@example.com",
        email_consent=True,
    )
    document_id = factories.ready_document(trainer, client, key="document-key-crlf1")
    click_send(signed_in(mail_app, trainer, factories), document_id)
    [received] = smtp_server.handler.received
    assert received.rcpt_tos == ["maria@example.com"]
    parsed = BytesParser(policy=email.policy.default).parsebytes(received.data)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["maria@example.com"]
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == [trainer.email]
    assert parsed["To"].addresses[0].display_name == "Maria Bcc: other@evil.example body"
    header_block = received.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block and b"\r\nX-Injected:" not in header_block


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"email": None, "email_consent": False}, "Add the client&#39;s email address first."),
        ({"email": "c@example.com", "email_consent": False}, "has not agreed to receive email"),
    ],
)
def test_button_says_why_it_is_disabled_and_post_sends_nothing(
    mail_app, factories, smtp_server, fields, reason
):
    trainer = factories.user()
    client = factories.client_record(trainer, **fields)
    document_id = factories.ready_document(trainer, client, key="document-why01")
    browser = signed_in(mail_app, trainer, factories)
    with mail_app.app_context():
        program_id = db.session.get(PlanDocument, document_id).program_version.program_id
    page = browser.get(f"/programs/{program_id}").get_data(as_text=True)
    assert reason in page and "disabled" in page
    click_send(browser, document_id)
    assert rows(mail_app, Delivery) == []
    assert smtp_server.handler.received == []


def test_other_clinic_cannot_send_or_see(mail_app, ready_document, factories):
    _, document_id = ready_document
    stranger = factories.user()
    browser = signed_in(mail_app, stranger, factories)
    assert click_send(browser, document_id).status_code == 404
    assert rows(mail_app, Delivery) == []


# FOR UPDATE SKIP LOCKED is PostgreSQL's; the embedded SQLite default runs a single relay.
@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_relays_at_once_publish_each_delivery_once(backend, ready_document, mail_app):
    """Two relay transactions overlap: SKIP LOCKED keeps them from taking the same rows."""
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from trainer_app.timeutil import utcnow

    trainer, document_id = ready_document
    with mail_app.app_context():
        client_id = db.session.get(PlanDocument, document_id).program_version.program.client_id
        old = utcnow() - timedelta(minutes=10)
        for n in range(20):
            db.session.add(
                Delivery(
                    clinic_id=trainer.clinic_id,
                    client_id=client_id,
                    plan_document_id=document_id,
                    idempotency_key=f"relay-{n}",
                    to_name="Maria",
                    to_email="maria@example.com",
                    queued_at=old,
                )
            )
        db.session.commit()
        with Session(db.engine) as relay_a, Session(db.engine) as relay_b:
            a_ids = service.due_for_relay(utcnow(), session=relay_a)  # holds its row locks
            b_ids = service.due_for_relay(utcnow(), session=relay_b)  # runs meanwhile
            relay_b.commit()
            relay_a.commit()
            later = service.due_for_relay(utcnow(), session=relay_b)
            relay_b.commit()
    assert len(a_ids) == 20
    assert b_ids == [] and later == []


def _queued_delivery(mail_app, ready_document, factories, monkeypatch) -> int:
    trainer, document_id = ready_document
    monkeypatch.setattr("trainer_app.delivery.views.enqueue", lambda *a, **k: True)
    click_send(signed_in(mail_app, trainer, factories), document_id)
    [delivery] = rows(mail_app, Delivery)
    return delivery.id


def _age_heartbeat(app, delivery_id, seconds: float) -> None:
    from datetime import timedelta

    from trainer_app.timeutil import utcnow

    with app.app_context():
        delivery = db.session.get(Delivery, delivery_id)
        delivery.claimed_at = utcnow() - timedelta(hours=1)
        delivery.heartbeat_at = utcnow() - timedelta(seconds=seconds)
        db.session.commit()


def test_a_send_is_taken_back_only_after_its_heartbeat_stops(
    mail_app, ready_document, factories, smtp_server, monkeypatch
):
    from trainer_app.timeutil import utcnow

    delivery_id = _queued_delivery(mail_app, ready_document, factories, monkeypatch)
    stale = mail_app.config["STALE_CLAIM_SECONDS"]
    with mail_app.app_context():
        assert service.claim_for_send(delivery_id, "task-a") is not None
    # Claimed an hour ago, heartbeat recent: the worker is still at it.
    _age_heartbeat(mail_app, delivery_id, stale - 10)
    with mail_app.app_context():
        assert service.due_for_relay(utcnow()) == []
        db.session.commit()
    _age_heartbeat(mail_app, delivery_id, stale + 1)
    with mail_app.app_context():
        assert service.due_for_relay(utcnow()) == [delivery_id]
        db.session.commit()
        assert service.send_delivery(delivery_id, claim_id="task-b").status == "sent"
    assert len(smtp_server.handler.received) == 1
    assert [a.number for a in rows(mail_app, DeliveryAttempt)] == [1, 2]


def test_a_send_that_lost_its_claim_leaves_the_outcome_to_the_new_worker(
    mail_app, ready_document, factories, monkeypatch
):
    from trainer_app.timeutil import utcnow

    delivery_id = _queued_delivery(mail_app, ready_document, factories, monkeypatch)
    stale = mail_app.config["STALE_CLAIM_SECONDS"]

    class TakenOverMeanwhile:
        def send(self, message):
            _age_heartbeat(mail_app, delivery_id, stale + 1)
            with mail_app.app_context():
                assert service.due_for_relay(utcnow()) == [delivery_id]
                db.session.commit()
                assert service.claim_for_send(delivery_id, "task-b") is not None

    monkeypatch.setattr(service, "current_transport", lambda clinic_id: TakenOverMeanwhile())
    with mail_app.app_context():
        assert service.send_delivery(delivery_id, claim_id="task-a").status == "superseded"
    [delivery] = rows(mail_app, Delivery)
    assert delivery.status == "sending" and delivery.claimed_by == "task-b"
    assert delivery.sent_at is None
