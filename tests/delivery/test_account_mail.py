"""Account emails are jobs: the request records an id and a worker sends (no timing tells)."""

from __future__ import annotations

from sqlalchemy import select

from tests.support import mailbox
from trainer_app.accounts import emails
from trainer_app.accounts.models import AccountEmail
from trainer_app.extensions import db


def test_reset_request_only_records_and_publishes_an_id(make_app, factories, start_smtp_server):
    """Account enumeration by timing: the request never talks to the mail server itself."""
    server = start_smtp_server()
    queued = make_app(
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_BROKER_URL="memory://",
        SMTP_URL=f"smtp://{server.url_host}?timeout=5",
    )
    published = []
    celery = queued.extensions["celery"]
    celery.send_task = lambda name, args, **options: published.append((name, args))
    user = factories.user(email="known@example.com")
    browser = queued.test_client()
    known = browser.post("/account/reset", data={"email": "known@example.com"})
    missing = browser.post("/account/reset", data={"email": "missing@example.com"})
    assert (known.status_code, known.headers["Location"]) == (
        missing.status_code,
        missing.headers["Location"],
    )
    assert server.handler.received == [] and server.handler.rcpt_attempts == []
    with queued.app_context():
        [row] = db.session.scalars(select(AccountEmail)).all()
        assert (row.status, row.user_id) == ("queued", user.id)
        assert published == [(emails.SEND_TASK, [row.id])]  # an id: no address, no link
        assert emails.send_account_email(row.id, "claim-in-test").status == "sent"
    [received] = server.handler.received
    assert received.rcpt_tos == ["known@example.com"]
    assert mailbox.link_in(received.message(), "/account/reset/")
