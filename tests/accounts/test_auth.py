"""Sign-up, sign-in, sign-out, remember me, password change and reset."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from sqlalchemy import func, select

from trainer_app.accounts.models import Clinic, LoginSession, User
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


def test_signup_creates_clinic_and_signs_in(client, app):
    response = client.post("/account/sign-up", data=SIGNUP)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert b"Core Studio" in page.data
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "ana@example.com"
        assert user.clinic.name == "Core Studio"
        assert user.password_hash.startswith("$argon2id$")
        assert "a long enough password" not in user.password_hash


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


def test_signup_rejects_taken_email_case_insensitively(client, app, factories):
    factories.user(email="ana@example.com")
    response = client.post("/account/sign-up", data=SIGNUP)
    assert response.status_code == 200
    assert "already exists" in response.get_data(as_text=True)
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


def _outbox_messages(app) -> list[email.message.Message]:
    folder = Path(app.config["OUTBOX_FOLDER"])
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.rglob("*.eml"))
    ]


def _clear_outbox(app) -> None:
    for p in Path(app.config["OUTBOX_FOLDER"]).rglob("*.eml"):
        p.unlink()


def test_password_reset_by_email_through_the_outbox(app, client, factories):
    _clear_outbox(app)
    user = factories.user(email="reset.me@example.com")
    response = client.post("/account/reset", data={"email": "Reset.Me@example.com"})
    assert response.status_code == 302
    messages = _outbox_messages(app)
    assert len(messages) == 1
    assert messages[0]["To"].endswith("<reset.me@example.com>")
    body = messages[0].get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://localhost(/account/reset/\S+)", body).group(1)
    form = client.get(link)
    assert form.status_code == 200
    done = client.post(link, data={"password": "brand new secret", "confirm": "brand new secret"})
    assert done.status_code == 302
    # The link works once.
    assert client.get(link).status_code == 302
    ok = client.post("/account/sign-in", data={"email": user.email, "password": "brand new secret"})
    assert ok.headers["Location"] == "/dashboard"
    _clear_outbox(app)


def test_password_reset_does_not_reveal_accounts(app, client):
    _clear_outbox(app)
    response = client.post(
        "/account/reset", data={"email": "nobody@example.com"}, follow_redirects=True
    )
    assert "If an account uses that email" in response.get_data(as_text=True)
    assert _outbox_messages(app) == []


def test_bad_reset_token_is_refused(client):
    response = client.get("/account/reset/not-a-token")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/reset"
