"""The password rule: shown before the first error, common and personal passwords refused on
sign-up, password change, reset and invitation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from trainer_app.accounts.models import User
from trainer_app.accounts.passwords import RULE, common_passwords, password_problem
from trainer_app.accounts.service import RESET_SALT, make_password_token
from trainer_app.extensions import db

PERSONAL = ("Ana Jensen", "ana.jensen@example.com", "Core Studio")


@pytest.mark.parametrize(
    "password",
    [
        "password123",
        "PASSWORD123",
        "Password2024!",
        "!!Welcome2025",
        "qwertyuiop",
        "1234567890",
        "1234567890!",
        "  iloveyou123 ",
        "aaaaaaaaaaaa",
        "abababababab",
        "P@ssw0rd12345",
    ],
)
def test_common_passwords_are_refused_whatever_the_case(password):
    assert "most common" in password_problem(password, PERSONAL)


@pytest.mark.parametrize(
    "password",
    [
        "Ana Jensen",
        "anajensen",
        "ANA.JENSEN@EXAMPLE.COM",
        "ana.jensen",
        "Core Studio!!",
        "corestudio2026",
    ],
)
def test_own_name_email_and_clinic_are_refused(password):
    assert "your name" in password_problem(password, PERSONAL)


@pytest.mark.parametrize(
    "password",
    ["correct horse battery", "a long enough password", "demo-password-1", "Ana runs 5 km daily"],
)
def test_good_passwords_pass(password):
    assert password_problem(password, PERSONAL) is None


def test_the_list_is_shipped_lower_case_without_comments():
    common = common_passwords()
    assert len(common) > 150
    assert "password" in common and "1234567890" in common
    assert all(word == word.casefold().strip() and not word.startswith("#") for word in common)


SIGNUP = {
    "name": "Ana Jensen",
    "clinic_name": "Core Studio",
    "email": "ana.jensen@example.com",
    "time_zone": "UTC",
}


def _users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_signup_shows_the_rule_up_front(client):
    page = client.get("/account/sign-up").get_data(as_text=True)
    assert "At least 10 characters, and not a common password" in page
    assert RULE.startswith("At least 10 characters")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", "most common"),
        ("Ana.Jensen@example.com", "your name, your email"),
        ("short", "Use between 10 and 128 characters."),
    ],
)
def test_signup_refuses_weak_passwords(app, client, password, message):
    response = client.post(
        "/account/sign-up", data={**SIGNUP, "password": password, "confirm": password}
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _users(app) == 0


def test_change_password_refuses_common_and_own_words(app, client, auth, factories):
    auth.login(name="Ben Olsen")
    assert "At least 10 characters" in client.get("/account/password").get_data(as_text=True)
    for password, message in (("Password123", "most common"), ("BEN OLSEN", "your name")):
        response = client.post(
            "/account/password",
            data={"current": factories.PASSWORD, "password": password, "confirm": password},
        )
        assert response.status_code == 200
        assert message in response.get_data(as_text=True)
    with app.app_context():
        from trainer_app.accounts.passwords import verify_password

        user = db.session.get(User, auth.user.id)
        assert verify_password(user.password_hash, factories.PASSWORD)


def test_reset_and_invitation_refuse_common_passwords(app, client, factories):
    user = factories.user(name="Cleo Berg", email="cleo@example.com")
    with app.app_context():
        token = make_password_token(db.session.get(User, user.id), "test-secret-key", RESET_SALT)
    page = client.get(f"/account/reset/{token}").get_data(as_text=True)
    assert "At least 10 characters" in page
    weak = {"password": "letmein2024", "confirm": "letmein2024"}
    assert "most common" in client.post(f"/account/reset/{token}", data=weak).get_data(as_text=True)
    mine = {"password": "cleo@example.com", "confirm": "cleo@example.com"}
    assert "your name" in client.post(f"/account/reset/{token}", data=mine).get_data(as_text=True)
    good = {"password": "four unrelated words here", "confirm": "four unrelated words here"}
    assert client.post(f"/account/reset/{token}", data=good).status_code == 302


def test_invitation_refuses_the_invitees_name(app, client, factories):
    from trainer_app.accounts.models import Clinic, User
    from trainer_app.accounts.service import invite_trainer, make_invitation_token

    owner = factories.user(clinic_name="Core Studio")
    with app.app_context():
        invitation = invite_trainer(
            db.session.get(Clinic, owner.clinic_id),
            invited_by=db.session.get(User, owner.id),
            name="Dan Holm",
            email="dan@example.com",
        )
        db.session.commit()
        token = make_invitation_token(invitation, "test-secret-key")
    page = client.get(f"/account/welcome/{token}").get_data(as_text=True)
    assert "At least 10 characters" in page
    for password, message in (
        ("dan holm 2026", "your name"),
        ("Core Studio 1", "your name"),
        ("DAN@example.com", "your name"),
        ("welcome12345", "most common"),
    ):
        response = client.post(
            f"/account/welcome/{token}", data={"password": password, "confirm": password}
        )
        assert response.status_code == 200, password
        assert message in response.get_data(as_text=True), password
    ok = {"password": "four unrelated words here", "confirm": "four unrelated words here"}
    assert client.post(f"/account/welcome/{token}", data=ok).status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", "most common ones"),
        ("short", "Use between 10 and 128 characters."),
        ("Core Studio", "clinic's name"),
    ],
)
def test_create_user_cli_applies_the_sign_up_rule(app, runner, password, message):
    args = ["create-user", "--name", "Ana Jensen", "--email", "ana.jensen@example.com"]
    args += ["--clinic", "Core Studio", "--password", password]
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_user_cli_accepts_a_good_password(app, runner):
    args = ["create-user", "--name", "Ana Jensen", "--email", "ana.jensen@example.com"]
    args += ["--clinic", "Core Studio", "--password", "a long enough password"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
