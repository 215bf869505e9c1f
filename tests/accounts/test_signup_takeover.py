"""A stranger's sign-up with someone else's address never gives the stranger that account."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.support import mailbox
from trainer_app.accounts.models import AccountEmail, Clinic, User
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

VICTIM = "vera@example.com"
ATTACKER_PASSWORD = "mallory knows this one"
VICTIM_PASSWORD = "vera picks her own secret"


def sign_up(client, password, clinic="Mallory Fitness"):
    data = {"name": "Vera", "clinic_name": clinic, "email": VICTIM,
            "password": password, "confirm": password}  # fmt: skip
    response = client.post("/account/sign-up", data=data)
    assert response.headers["Location"] == "/account/sign-up/sent"


def sign_in(app, password):
    return app.test_client().post("/account/sign-in", data={"email": VICTIM, "password": password})


def users(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_the_address_owner_confirming_a_strangers_signup_does_not_let_the_stranger_in(app):
    mailbox.clear(app)
    sign_up(app.test_client(), ATTACKER_PASSWORD)
    [mail] = mailbox.mail_to(app, VICTIM)
    link = mailbox.link_in(mail, "/account/confirm/")

    # The victim opens the real link and clicks the button without the stranger's password.
    victim = app.test_client()
    page = victim.get(link).get_data(as_text=True)
    assert "Password you chose when signing up" in page
    refused = victim.post(link, data={"password": ""})
    assert refused.status_code == 200 and victim.get("/dashboard").status_code == 302
    wrong = victim.post(link, data={"password": VICTIM_PASSWORD})
    assert "not the password this workspace was created with" in wrong.get_data(as_text=True)
    assert victim.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User)).email_confirmed_at is None
    # So the stranger still cannot sign in ...
    assert "Confirm your email address first" in sign_in(app, ATTACKER_PASSWORD).get_data(
        as_text=True
    )
    # ... and the victim's own sign-up replaces the stranger's, without saying it existed.
    mailbox.clear(app)
    sign_up(victim, VICTIM_PASSWORD, clinic="Vera Physio")
    [fresh] = mailbox.mail_to(app, VICTIM)
    assert "/account/confirm/" in fresh.get_body(("plain",)).get_content()
    assert users(app) == 1
    assert app.test_client().get(link).status_code == 302  # the stranger's link is void
    done = victim.post(mailbox.link_in(fresh, "/account/confirm/"),
                       data={"password": VICTIM_PASSWORD})  # fmt: skip
    assert done.headers["Location"] == "/dashboard"
    assert "Vera Physio" in victim.get("/dashboard").get_data(as_text=True)
    assert "Email or password is not right." in sign_in(app, ATTACKER_PASSWORD).get_data(
        as_text=True
    )
    assert sign_in(app, VICTIM_PASSWORD).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Clinic)) == 1


def test_sign_ins_do_not_flood_the_address_with_confirmation_mail(app):
    mailbox.clear(app)
    sign_up(app.test_client(), ATTACKER_PASSWORD)
    for _ in range(3):
        assert "Confirm your email address first" in sign_in(app, ATTACKER_PASSWORD).get_data(
            as_text=True
        )
    assert len(mailbox.mail_to(app, VICTIM)) == 1
    with app.app_context():  # once the resend period has passed, one more goes out
        for row in db.session.scalars(select(AccountEmail)):
            row.created_at = utcnow() - timedelta(hours=1)
        db.session.commit()
    sign_in(app, ATTACKER_PASSWORD)
    sign_in(app, ATTACKER_PASSWORD)
    assert len(mailbox.mail_to(app, VICTIM)) == 2


def test_an_unconfirmed_signup_lapses(app):
    mailbox.clear(app)
    sign_up(app.test_client(), ATTACKER_PASSWORD)
    [mail] = mailbox.mail_to(app, VICTIM)
    link = mailbox.link_in(mail, "/account/confirm/")
    with app.app_context():
        user = db.session.scalar(select(User))
        user.created_at = utcnow() - timedelta(hours=app.config["SIGNUP_CONFIRM_HOURS"] + 1)
        db.session.commit()
    client = app.test_client()
    assert client.get(link).status_code == 302
    assert client.post(link, data={"password": ATTACKER_PASSWORD}).status_code == 302
    assert client.get("/dashboard").status_code == 302
    lapsed = sign_in(app, ATTACKER_PASSWORD).get_data(as_text=True)
    assert "Email or password is not right." in lapsed
    assert len(mailbox.mail_to(app, VICTIM)) == 1  # nothing re-sent for a lapsed sign-up


def test_an_invitation_replaces_an_unconfirmed_signup(app, factories):
    owner = factories.user(email="owner@example.com")
    mailbox.clear(app)
    sign_up(app.test_client(), ATTACKER_PASSWORD)
    boss = app.test_client()
    signed_in = boss.post(
        "/account/sign-in", data={"email": owner.email, "password": factories.PASSWORD}
    )
    assert signed_in.status_code == 302
    invited = boss.post("/clinic/team", data={"name": "Vera", "email": VICTIM, "role": "trainer"})
    assert invited.status_code == 302, invited.get_data(as_text=True)
    *_, invitation = mailbox.mail_to(app, VICTIM)
    link = mailbox.link_in(invitation, "/account/welcome/")
    vera = app.test_client()
    accepted = vera.post(link, data={"password": VICTIM_PASSWORD, "confirm": VICTIM_PASSWORD})
    assert accepted.headers["Location"] == "/dashboard"
    with app.app_context():
        [user] = db.session.scalars(select(User).where(User.email == VICTIM))
        assert user.clinic_id == owner.clinic_id and user.email_confirmed_at is not None
    assert "Email or password is not right." in sign_in(app, ATTACKER_PASSWORD).get_data(
        as_text=True
    )
