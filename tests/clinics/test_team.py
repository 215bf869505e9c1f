"""The owner invites trainers, who set their password from the email; deactivation ends access."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from sqlalchemy import select

from trainer_app.accounts.models import User
from trainer_app.extensions import db


def invitation_link(app, address: str) -> str:
    for path in Path(app.config["OUTBOX_FOLDER"]).rglob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in message["To"]:
            body = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"http://localhost(/account/welcome/\S+)", body).group(1)
    raise AssertionError(f"no invitation to {address} in the outbox")


def test_owner_invites_a_trainer_who_joins_the_clinic(app, client, auth, factories):
    auth.login()
    factories.client_record(auth.user, name="Shared Client")
    response = client.post("/clinic/team", data={"name": "Ben Coach", "email": "ben@example.com"})
    assert response.status_code == 302
    link = invitation_link(app, "ben@example.com")

    newcomer = app.test_client()
    page = newcomer.get(link)
    assert "Join" in page.get_data(as_text=True)
    joined = newcomer.post(
        link, data={"password": "ben's own password", "confirm": "ben's own password"}
    )
    assert joined.headers["Location"] == "/dashboard"
    assert "Shared Client" in newcomer.get("/clients/").get_data(as_text=True)
    assert newcomer.get(link).status_code == 302  # the link works once
    # A trainer does not manage the clinic: the pages do not exist for them.
    assert newcomer.get("/clinic/team").status_code == 404
    assert newcomer.get("/clinic/settings").status_code == 404
    # The new trainer can be chosen as a client's primary trainer.
    form = client.get("/clients/new").get_data(as_text=True)
    assert "Ben Coach" in form


def test_deactivated_trainer_is_signed_out_and_cannot_sign_in(app, client, auth, factories):
    auth.login()
    with app.app_context():
        from trainer_app.accounts.models import Clinic

        clinic = db.session.get(Clinic, auth.user.clinic_id)
    trainer = factories.user(clinic=clinic, name="Leaving Trainer", role="trainer")
    browser = app.test_client()
    creds = {"email": trainer.email, "password": factories.PASSWORD}
    browser.post("/account/sign-in", data=creds)
    assert browser.get("/clients/").status_code == 200
    client.post(f"/clinic/team/{trainer.id}/deactivate")
    assert browser.get("/clients/").status_code == 302
    again = browser.post("/account/sign-in", data=creds)
    assert "Email or password is not right." in again.get_data(as_text=True)
    client.post(f"/clinic/team/{trainer.id}/activate")
    assert browser.post("/account/sign-in", data=creds).status_code == 302


def test_owner_cannot_be_deactivated(app, client, auth):
    auth.login()
    response = client.post(f"/clinic/team/{auth.user.id}/deactivate", follow_redirects=True)
    assert "owner cannot be deactivated" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, auth.user.id).is_active_user is True


def test_invitation_validation_and_taken_email(app, client, auth, factories):
    auth.login()
    factories.user(email="taken@example.com")
    bad = client.post("/clinic/team", data={"name": "", "email": "nope"}).get_data(as_text=True)
    assert "Enter the trainer&#39;s name." in bad and "it must contain exactly one @." in bad
    taken = client.post("/clinic/team", data={"name": "X", "email": "Taken@example.com"})
    assert "already exists" in taken.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 2


def test_other_clinics_members_answer_404(app, client, auth, factories):
    stranger = factories.user(name="Stranger")
    auth.login()
    for action in ("deactivate", "activate", "invite"):
        assert client.post(f"/clinic/team/{stranger.id}/{action}").status_code == 404
    assert "Stranger" not in client.get("/clinic/team").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, stranger.id).is_active_user is True


def test_bad_invitation_link_is_refused(client):
    response = client.get("/account/welcome/forged-token")
    assert response.status_code == 302 and response.headers["Location"] == "/account/sign-in"
