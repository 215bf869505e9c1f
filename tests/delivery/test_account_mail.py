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


def _reset_email(app, factories) -> int:
    from trainer_app.accounts.models import User

    user = factories.user()
    with app.app_context():
        row = emails.record(emails.RESET, user=db.session.get(User, user.id))
        db.session.commit()
        return row.id


def _silent_for(app, email_id: int, seconds: float) -> None:
    from datetime import timedelta

    from trainer_app.timeutil import utcnow

    with app.app_context():
        row = db.session.get(AccountEmail, email_id)
        row.claimed_at = utcnow() - timedelta(hours=1)
        row.heartbeat_at = utcnow() - timedelta(seconds=seconds)
        db.session.commit()


def test_an_account_email_is_taken_back_only_after_its_heartbeat_stops(app, factories):
    from trainer_app.timeutil import utcnow

    email_id = _reset_email(app, factories)
    stale = app.config["STALE_CLAIM_SECONDS"]
    with app.app_context():
        assert emails._claim(email_id, "task-a")
    _silent_for(app, email_id, stale - 10)  # claimed long ago, but still beating
    with app.app_context():
        assert emails.due_for_relay(utcnow()) == []
        db.session.commit()
    _silent_for(app, email_id, stale + 1)
    with app.app_context():
        assert emails.due_for_relay(utcnow()) == [email_id]
        db.session.commit()
        assert db.session.get(AccountEmail, email_id).status == "retrying"
        assert emails.send_account_email(email_id, "task-b").status == "sent"


def test_an_account_email_that_lost_its_claim_leaves_the_outcome_to_the_new_worker(
    app, factories, monkeypatch
):
    from trainer_app.timeutil import utcnow

    email_id = _reset_email(app, factories)

    class TakenOverMeanwhile:
        def send(self, message):
            _silent_for(app, email_id, app.config["STALE_CLAIM_SECONDS"] + 1)
            with app.app_context():
                assert emails.due_for_relay(utcnow()) == [email_id]
                db.session.commit()
                assert emails._claim(email_id, "task-b")

    monkeypatch.setattr(emails, "account_transport", TakenOverMeanwhile)
    with app.app_context():
        assert emails.send_account_email(email_id, "task-a").status == "superseded"
        db.session.expire_all()
        row = db.session.get(AccountEmail, email_id)
        assert (row.status, row.claimed_by, row.sent_at) == ("sending", "task-b", None)
