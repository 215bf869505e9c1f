"""Account emails say when their link stops working in the clinic's time, with its zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support import mailbox
from trainer_app.accounts.models import Clinic
from trainer_app.extensions import db

WHEN = r"(\d{1,2} \w{3} \d{4}, \d{2}:\d{2}) (CET|CEST)"


def _copenhagen(app, user) -> None:
    with app.app_context():
        db.session.get(Clinic, user.clinic_id).time_zone = "Europe/Copenhagen"
        db.session.commit()


def _expiry(message, sentence: str) -> datetime:
    """The labelled local time after ``sentence`` in both bodies, as UTC (naive)."""
    times = []
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,)).get_content()
        match = re.search(re.escape(sentence) + r"[^(]*\((?:at )?" + WHEN + r"\)", body)
        assert match, f"no labelled time after {sentence!r} in the {kind} body:\n{body}"
        times.append(match.group(1))
    assert times[0] == times[1]
    local = datetime.strptime(times[0], "%d %b %Y, %H:%M").replace(
        tzinfo=ZoneInfo("Europe/Copenhagen")
    )
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def test_reset_and_invitation_emails_name_the_expiry_in_the_clinics_zone(
    app, client, auth, factories
):
    from trainer_app.timeutil import utcnow

    auth.login()
    _copenhagen(app, auth.user)
    mailbox.clear(app)
    before = utcnow().replace(second=0, microsecond=0)
    assert (
        client.post("/clinic/team", data={"name": "Ben", "email": "ben@x.test"}).status_code == 302
    )
    [invite] = mailbox.mail_to(app, "ben@x.test")
    expires = _expiry(invite, "expires in 7 days")
    assert before + timedelta(days=7) <= expires <= utcnow() + timedelta(days=7)

    client.post("/account/sign-out")
    assert client.post("/account/reset", data={"email": auth.user.email}).status_code == 302
    [reset] = mailbox.mail_to(app, auth.user.email)
    minutes = app.config["PASSWORD_RESET_MAX_AGE"] // 60
    expires = _expiry(reset, f"expires in {minutes} minutes")
    window = timedelta(seconds=app.config["PASSWORD_RESET_MAX_AGE"])
    assert before + window <= expires <= utcnow() + window


def test_sign_up_confirmation_names_the_expiry_in_the_chosen_zone(app, client):
    from trainer_app.timeutil import utcnow

    mailbox.clear(app)
    before = utcnow().replace(second=0, microsecond=0)
    signup = {
        "name": "Ana Trainer",
        "clinic_name": "Core Studio",
        "email": "ana@x.test",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "time_zone": "Europe/Copenhagen",
    }
    assert client.post("/account/sign-up", data=signup).status_code == 302
    [message] = mailbox.mail_to(app, "ana@x.test")
    hours = round(app.config["SIGNUP_CONFIRM_HOURS"])
    expires = _expiry(message, f"expires in {hours} hours")
    assert before + timedelta(hours=hours) <= expires <= utcnow() + timedelta(hours=hours)
