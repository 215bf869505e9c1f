"""Sign-up, sign-in, sign-out, remember me, password change and reset."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.support import mailbox
from trainer_app.accounts.models import AccountEmail, Clinic, LoginSession, User
from trainer_app.extensions import db

SIGNUP = {
    "name": "Ana Trainer",
    "clinic_name": "Core Studio",
    "email": "Ana@Example.com",
    "password": "a long enough password",
    "confirm": "a long enough password",
}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_signup_confirms_the_address_then_signs_in(client, app):
    mailbox.clear(app)
    response = client.post("/account/sign-up", data=SIGNUP)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sign-up/sent"
    assert "Check your email" in client.get("/account/sign-up/sent").get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # not signed in before confirming
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "ana@example.com"
        assert user.clinic.name == "Core Studio"
        assert user.email_confirmed_at is None
        assert user.password_hash.startswith("$argon2id$")
        assert "a long enough password" not in user.password_hash
    # Signing in before confirming says so; the link went minutes ago, so it is not re-sent.
    early = client.post(
        "/account/sign-in", data={"email": "ana@example.com", "password": SIGNUP["password"]}
    )
    assert "Confirm your email address first" in early.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302
    [first] = mailbox.mail_to(app, "ana@example.com")
    assert first["Subject"] == "Confirm your email to finish creating Core Studio"
    link = mailbox.link_in(first, "/account/confirm/")
    assert "Confirm and sign in" in client.get(link).get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # opening the link alone signs nobody in
    done = client.post(link, data={"password": SIGNUP["password"]})
    assert done.headers["Location"] == "/dashboard"
    assert "Core Studio" in client.get("/dashboard").get_data(as_text=True)
    assert client.get(mailbox.link_in(first, "/account/confirm/")).status_code == 302  # used
    assert mailbox.clinic_outbox(app) == []


def test_signup_with_a_taken_email_answers_the_same_and_tells_its_owner(client, app, factories):
    factories.user(email="ana@example.com", name="Ana Original", clinic_name="First Clinic")
    mailbox.clear(app)
    taken = client.post("/account/sign-up", data=SIGNUP)
    fresh = app.test_client().post("/account/sign-up", data=dict(SIGNUP, email="new@example.com"))
    assert (taken.status_code, taken.headers["Location"]) == (
        fresh.status_code,
        fresh.headers["Location"],
    )
    page = client.get(taken.headers["Location"]).get_data(as_text=True)
    assert "already" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Clinic)) == 2
        original = db.session.scalar(select(User).where(User.email == "ana@example.com"))
        assert original.name == "Ana Original" and original.clinic.name == "First Clinic"
    [notice] = mailbox.mail_to(app, "ana@example.com")
    assert notice["Subject"] == "Someone tried to create an account with your email"
    assert "Ana Original" in str(notice["To"])
    assert mailbox.link_in(notice, "/account/reset") == "/account/reset"  # no token in it
    assert "/account/confirm/" not in notice.get_body(("plain",)).get_content()


def test_signup_validation_errors_save_nothing(client, app):
    bad = dict(SIGNUP, email="not-an-email", password="short", confirm="different", name="")
    response = client.post("/account/sign-up", data=bad)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Enter your name." in html
    assert "it must contain exactly one @." in html
    assert "Use between 10 and 128 characters." in html
    assert "Passwords differ." in html
    assert count(app, User) == 0
    assert count(app, Clinic) == 0


def test_signup_with_a_taken_email_in_other_case_makes_no_account(client, app, factories):
    factories.user(email="ana@example.com")
    response = client.post("/account/sign-up", data=SIGNUP)
    assert response.headers["Location"] == "/account/sign-up/sent"
    assert count(app, User) == 1


def test_signup_rejects_overlong_name(client, app):
    response = client.post("/account/sign-up", data=dict(SIGNUP, name="x" * 121))
    assert response.status_code == 200
    assert "Field cannot be longer than 120 characters." in response.get_data(as_text=True)
    assert count(app, User) == 0


def test_login_and_logout(client, auth):
    assert client.get("/clients/").status_code == 302
    response = auth.login()
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 200
    auth.logout()
    response = client.get("/clients/")
    assert response.status_code == 302
    assert "/account/sign-in" in response.headers["Location"]


def test_login_wrong_password_shows_message(client, auth, factories):
    user = factories.user()
    response = auth.login(email=user.email, password="wrong password!")
    assert response.status_code == 200
    assert "Email or password is not right." in response.get_data(as_text=True)
    assert client.get("/clients/").status_code == 302


def test_login_unknown_email_same_message(client, auth):
    response = auth.login(email="nobody@example.com", password="whatever password")
    assert "Email or password is not right." in response.get_data(as_text=True)


def test_login_redirects_to_safe_next_only(client, factories):
    user = factories.user()
    data = {"email": user.email, "password": factories.PASSWORD}
    ok = client.post("/account/sign-in?next=/clients/", data=data)
    assert ok.headers["Location"] == "/clients/"
    client.post("/account/sign-out")
    for evil in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        response = client.post("/account/sign-in", query_string={"next": evil}, data=data)
        assert response.headers["Location"] == "/dashboard", evil
        client.post("/account/sign-out")


def test_logout_really_ends_the_session(app, client, auth):
    auth.login()
    stolen_cookie = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen_cookie)
    assert thief.get("/clients/").status_code == 302
    assert count(app, LoginSession) == 0


def test_login_starts_a_new_session(app, client, factories):
    user = factories.user()
    with client.session_transaction() as sess:
        sess["planted"] = "by attacker"
    client.post("/account/sign-in", data={"email": user.email, "password": factories.PASSWORD})
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_remember_me_survives_browser_restart_until_logout(app, client, factories):
    user = factories.user()
    client.post(
        "/account/sign-in",
        data={"email": user.email, "password": factories.PASSWORD, "remember": "y"},
    )
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.http_only
    restarted = app.test_client()
    restarted.set_cookie("remember_token", remember.value)
    assert restarted.get("/clients/").status_code == 200
    client.post("/account/sign-out")
    again = app.test_client()
    again.set_cookie("remember_token", remember.value)
    assert again.get("/clients/").status_code == 302


def test_change_password_signs_out_other_devices(app, client, factories):
    user = factories.user()
    creds = {"email": user.email, "password": factories.PASSWORD}
    other = app.test_client()
    other.post("/account/sign-in", data=creds)
    client.post("/account/sign-in", data=creds)
    wrong = client.post(
        "/account/password",
        data={
            "current": "not it at all",
            "password": "new password 123",
            "confirm": "new password 123",
        },
    )
    assert "That is not your current password." in wrong.get_data(as_text=True)
    response = client.post(
        "/account/password",
        data={
            "current": factories.PASSWORD,
            "password": "new password 123",
            "confirm": "new password 123",
        },
    )
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 200
    assert other.get("/clients/").status_code == 302
    client.post("/account/sign-out")
    fresh = client.post(
        "/account/sign-in", data={"email": user.email, "password": "new password 123"}
    )
    assert fresh.status_code == 302


def test_password_reset_by_email_through_the_account_mail_folder(app, client, factories):
    mailbox.clear(app)
    user = factories.user(email="reset.me@example.com")
    response = client.post("/account/reset", data={"email": "Reset.Me@example.com"})
    assert response.status_code == 302
    [message] = mailbox.account_mail(app)
    assert message["To"].addresses[0].addr_spec == "reset.me@example.com"
    assert mailbox.clinic_outbox(app) == []  # never where clinic members can read it
    link = mailbox.link_in(message, "/account/reset/")
    form = client.get(link)
    assert form.status_code == 200
    done = client.post(link, data={"password": "brand new secret", "confirm": "brand new secret"})
    assert done.status_code == 302
    # The link works once.
    assert client.get(link).status_code == 302
    ok = client.post("/account/sign-in", data={"email": user.email, "password": "brand new secret"})
    assert ok.headers["Location"] == "/dashboard"
    with app.app_context():
        [row] = db.session.scalars(select(AccountEmail)).all()
        assert (row.kind, row.status, row.user_id) == ("password_reset", "sent", user.id)


def test_password_reset_does_not_reveal_accounts(app, client):
    mailbox.clear(app)
    response = client.post(
        "/account/reset", data={"email": "nobody@example.com"}, follow_redirects=True
    )
    assert "If an account uses that email" in response.get_data(as_text=True)
    assert mailbox.account_mail(app) == []
    assert count(app, AccountEmail) == 0


def test_bad_reset_token_is_refused(client):
    response = client.get("/account/reset/not-a-token")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/reset"
