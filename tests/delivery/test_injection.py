"""CVE-2024-6923: encoded words in names typed into the app's forms never add headers or a body.

The payload goes in through the real forms (sign-up: trainer and clinic name; client form;
team invitation), then every email the app sends (sign-up confirmation, plan, password
reset, invitation) is parsed as delivered, in outbox mode and over a loopback SMTP server.
"""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from tests.support import mailbox
from trainer_app.accounts.models import User
from trainer_app.clients.models import Client
from trainer_app.delivery import mailer
from trainer_app.delivery.models import Delivery
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument

PAYLOAD = "x\r\nBcc: evil@evil.example\r\nX-Injected: 1\r\n\r\nattacker body"
WORD = "=?utf-8?b?" + base64.b64encode(PAYLOAD.encode()).decode() + "?="
ALLOWED_HEADERS = {
    "from", "to", "reply-to", "subject", "date", "message-id", "mime-version", "content-type",
    "content-transfer-encoding",
}  # fmt: skip
PASSWORD = "a long enough password"


@pytest.fixture(params=["outbox", "smtp"])
def mail(request, app, make_app, start_smtp_server):
    """(app, smtp server or None): mail kept in local folders, or sent over loopback SMTP."""
    mailbox.clear(app)
    if request.param == "outbox":
        yield app, None
    else:
        server = start_smtp_server()
        yield make_app(SMTP_URL=f"smtp://{server.url_host}?timeout=5"), server
    mailbox.clear(app)


def delivered(app, server) -> list[tuple[list[str] | None, object]]:
    """(envelope recipients or None, parsed message) for every email sent so far."""
    if server is not None:
        return [(r.rcpt_tos, r.message()) for r in server.handler.received]
    return [(None, m) for m in mailbox.account_mail(app) + mailbox.clinic_outbox(app)]


def assert_clean(rcpts, message, *, to: str, attachments: int) -> None:
    names = {k.lower() for k in message}
    assert names <= ALLOWED_HEADERS, names - ALLOWED_HEADERS
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert [a.addr_spec for a in message["To"].addresses] == [to]
    if rcpts is not None:
        assert rcpts == [to]
    assert message["Message-ID"]
    assert "attacker body" not in message.get_body(("plain",)).get_content()
    assert len(list(message.iter_attachments())) == attachments


def sign_up_hostile(app, server) -> tuple[object, User]:
    """Sign up with the payload in the trainer's and the clinic's name, confirm, sign in."""
    browser = app.test_client()
    response = browser.post(
        "/account/sign-up",
        data={
            "name": f"Ana {WORD}",
            "clinic_name": f"Studio {WORD}",
            "email": "ana@clinic.example",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.headers["Location"] == "/account/sign-up/sent"
    [(rcpts, confirm)] = delivered(app, server)
    assert_clean(rcpts, confirm, to="ana@clinic.example", attachments=0)
    link = mailbox.link_in(confirm, "/account/confirm/")
    assert browser.post(link, data={"password": PASSWORD}).headers["Location"] == "/dashboard"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "ana@clinic.example"))
        db.session.expunge(user)
    assert user.name == f"Ana {WORD}"  # stored as typed; only mail headers neutralise it
    return browser, user


def hostile_plan(app, server, factories) -> tuple[object, int]:
    """A signed-in hostile trainer and a ready PDF for a hostile client: (browser, document id)."""
    browser, user = sign_up_hostile(app, server)
    created = browser.post(
        "/clients/new",
        data={
            "name": f"Maria {WORD}",
            "email": "maria@example.com",
            "primary_trainer_id": str(user.id),
            "email_consent": "y",
        },
    )
    assert created.status_code == 302
    with app.app_context():
        client = db.session.scalar(select(Client))
        db.session.expunge(client)
    version_id = factories.program_version(user, client)
    made = browser.post(
        f"/plans/versions/{version_id}/make", data={"paper": "A4", "request_key": "k" * 64}
    )
    assert made.status_code == 302
    with app.app_context():
        return browser, db.session.scalar(select(PlanDocument.id))


def send_plan(browser, document_id: int) -> None:
    sent = browser.post(
        f"/deliveries/documents/{document_id}/send", data={"idempotency_key": "s" * 64}
    )
    assert sent.status_code == 302


def test_plan_email_with_encoded_words_in_every_name(mail, factories):
    app, server = mail
    browser, document_id = hostile_plan(app, server, factories)
    send_plan(browser, document_id)
    rcpts, plan = delivered(app, server)[-1]
    assert_clean(rcpts, plan, to="maria@example.com", attachments=1)
    assert plan["To"].addresses[0].display_name == "Maria " + WORD.replace("=?", "= ?")
    assert plan["Reply-To"].addresses[0].addr_spec == "ana@clinic.example"
    with app.app_context():
        assert db.session.scalar(select(Delivery.status)) == "sent"


def test_a_message_that_parses_differently_is_refused_and_recorded(mail, factories, monkeypatch):
    """Should a name ever slip past the neutraliser, the check of the generated bytes holds."""
    app, server = mail
    browser, document_id = hostile_plan(app, server, factories)
    before = len(delivered(app, server))
    monkeypatch.setattr(mailer, "no_encoded_words", lambda value: value)
    send_plan(browser, document_id)
    assert len(delivered(app, server)) == before
    if server is not None:
        assert server.handler.rcpt_attempts == ["ana@clinic.example"]  # the confirmation only
    with app.app_context():
        delivery = db.session.scalar(select(Delivery))
        assert delivery.status == "failed"
        assert "no longer matched what was built" in delivery.last_error
        assert "unexpected bcc, x-injected" in delivery.last_error


def test_reset_and_invitation_emails_with_encoded_words_in_every_name(mail):
    app, server = mail
    browser, _user = sign_up_hostile(app, server)
    invited = browser.post("/clinic/team", data={"name": f"Ben {WORD}", "email": "ben@ex.example"})
    assert invited.status_code == 302
    rcpts, invitation = delivered(app, server)[-1]
    assert_clean(rcpts, invitation, to="ben@ex.example", attachments=0)
    assert invitation["Reply-To"].addresses[0].addr_spec == "ana@clinic.example"
    assert mailbox.link_in(invitation, "/account/welcome/")

    reset = app.test_client().post("/account/reset", data={"email": "ana@clinic.example"})
    assert reset.status_code == 302
    rcpts, message = delivered(app, server)[-1]
    assert_clean(rcpts, message, to="ana@clinic.example", attachments=0)
    assert mailbox.link_in(message, "/account/reset/")
