"""The owner invites trainers, who set their password from the email; deactivation ends access."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support import mailbox
from trainer_app.accounts.models import Invitation, User
from trainer_app.extensions import db


def invitation_link(app, address: str) -> str:
    *_, message = mailbox.mail_to(app, address)
    return mailbox.link_in(message, "/account/welcome/")


def test_owner_invites_a_trainer_who_joins_the_clinic(app, client, auth, factories):
    auth.login()
    factories.client_record(auth.user, name="Shared Client")
    response = client.post("/clinic/team", data={"name": "Ben Coach", "email": "ben@example.com"})
    assert response.status_code == 302
    waiting = client.get("/clinic/team").get_data(as_text=True)
    assert "Invitations waiting" in waiting and "ben@example.com" in waiting
    link = invitation_link(app, "ben@example.com")
    assert mailbox.clinic_outbox(app) == []  # account mail never lands in the clinic outbox

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


def test_invitation_validation(app, client, auth, factories):
    auth.login()
    bad = client.post("/clinic/team", data={"name": "", "email": "nope"}).get_data(as_text=True)
    assert "Enter the trainer&#39;s name." in bad and "it must contain exactly one @." in bad
    own = client.post("/clinic/team", data={"name": "Me", "email": auth.user.email})
    assert "is already on your team" in own.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Invitation)).all() == []


def test_inviting_a_taken_email_answers_the_same_and_tells_its_owner(app, client, auth, factories):
    auth.login()
    factories.user(email="taken@example.com", name="Tara Taken")
    mailbox.clear(app)
    taken = client.post("/clinic/team", data={"name": "X", "email": "Taken@example.com"})
    fresh = client.post("/clinic/team", data={"name": "Y", "email": "fresh@example.com"})
    assert (taken.status_code, taken.headers["Location"]) == (302, "/clinic/team")
    assert (fresh.status_code, fresh.headers["Location"]) == (302, "/clinic/team")
    page = client.get("/clinic/team").get_data(as_text=True)
    assert "already" not in page
    assert "taken@example.com" in page and "fresh@example.com" in page  # both wait alike
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 2
    [notice] = mailbox.mail_to(app, "taken@example.com")
    assert "tried to add you to" in notice["Subject"]
    assert "Tara Taken" in str(notice["To"])
    assert "/account/welcome/" not in notice.get_body(("plain",)).get_content()
    assert invitation_link(app, "fresh@example.com").startswith("/account/welcome/")


def test_withdrawn_invitation_link_stops_working(app, client, auth):
    auth.login()
    client.post("/clinic/team", data={"name": "Ben Coach", "email": "ben@example.com"})
    link = invitation_link(app, "ben@example.com")
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    withdrawn = client.post(f"/clinic/team/invitations/{invitation_id}/withdraw")
    assert withdrawn.status_code == 302
    assert app.test_client().get(link).status_code == 302
    assert "Invitations waiting" not in client.get("/clinic/team").get_data(as_text=True)


@pytest.fixture
def limiter_restored():
    """Flask-Limiter keeps "enabled" on its one shared object: put it back after the test."""
    from trainer_app.extensions import limiter

    enabled = limiter.enabled
    yield
    limiter.enabled = enabled


def test_invitations_are_rate_limited_per_owner(make_app, factories, limiter_restored):
    limited = make_app(RATELIMIT_ENABLED=True, INVITE_RATE_LIMIT="2 per hour")
    browsers = []
    for owner in (factories.user(), factories.user()):
        browser = limited.test_client()
        browser.post(
            "/account/sign-in", data={"email": owner.email, "password": factories.PASSWORD}
        )
        browsers.append(browser)
    first, second = browsers
    # A form error records nothing and costs nothing.
    assert first.post("/clinic/team", data={"name": "", "email": "x"}).status_code == 200
    for n in range(2):
        data = {"name": f"T{n}", "email": f"t{n}@example.com"}
        assert first.post("/clinic/team", data=data).status_code == 302
    blocked = first.post("/clinic/team", data={"name": "T3", "email": "t3@example.com"})
    assert blocked.status_code == 429
    other = second.post("/clinic/team", data={"name": "T4", "email": "t4@example.com"})
    assert other.status_code == 302
    with limited.app_context():
        emails = set(db.session.scalars(select(Invitation.email)).all())
    assert emails == {"t0@example.com", "t1@example.com", "t4@example.com"}


def test_other_clinics_members_answer_404(app, client, auth, factories):
    stranger = factories.user(name="Stranger")
    auth.login()
    for action in ("deactivate", "activate"):
        assert client.post(f"/clinic/team/{stranger.id}/{action}").status_code == 404
    assert "Stranger" not in client.get("/clinic/team").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, stranger.id).is_active_user is True
        theirs = Invitation(clinic_id=stranger.clinic_id, name="Their Pick", email="p@example.com")
        db.session.add(theirs)
        db.session.commit()
        theirs_id = theirs.id
    for action in ("resend", "withdraw"):
        response = client.post(f"/clinic/team/invitations/{theirs_id}/{action}")
        assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Invitation, theirs_id).withdrawn_at is None


def test_bad_invitation_link_is_refused(client):
    response = client.get("/account/welcome/forged-token")
    assert response.status_code == 302 and response.headers["Location"] == "/account/sign-in"


def test_invitation_can_be_sent_again(app, client, auth):
    auth.login()
    mailbox.clear(app)
    client.post("/clinic/team", data={"name": "Ben Coach", "email": "ben@example.com"})
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    again = client.post(f"/clinic/team/invitations/{invitation_id}/resend", follow_redirects=True)
    assert "A new invitation is on its way to ben@example.com." in again.get_data(as_text=True)
    first, second = mailbox.mail_to(app, "ben@example.com")
    assert first["Message-ID"] != second["Message-ID"]
    joined = app.test_client().post(
        mailbox.link_in(second, "/account/welcome/"),
        data={"password": "ben's own password", "confirm": "ben's own password"},
    )
    assert joined.headers["Location"] == "/dashboard"
    # Accepted: neither link works again, and the invitation is no longer waiting.
    assert app.test_client().get(mailbox.link_in(first, "/account/welcome/")).status_code == 302
    assert "Invitations waiting" not in client.get("/clinic/team").get_data(as_text=True)
