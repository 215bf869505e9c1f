"""No clinic member can read another member's account email: the reset takeover is closed."""

from __future__ import annotations

from pathlib import Path

from tests.support import mailbox
from trainer_app.accounts.models import Clinic
from trainer_app.extensions import db


def signed_in(app, user, password):
    browser = app.test_client()
    response = browser.post("/account/sign-in", data={"email": user.email, "password": password})
    assert response.status_code == 302
    return browser


def test_a_trainer_cannot_take_over_the_owner_through_a_reset_email(app, factories):
    owner = factories.user(email="owner@example.com", name="Olga Owner")
    with app.app_context():
        clinic = db.session.get(Clinic, owner.clinic_id)
    trainer = factories.user(clinic=clinic, role="trainer", email="trainer@example.com")
    mailbox.clear(app)
    attacker = signed_in(app, trainer, factories.PASSWORD)

    asked = attacker.post("/account/reset", data={"email": "owner@example.com"})
    assert asked.status_code == 302
    [message] = mailbox.account_mail(app)
    token = mailbox.link_in(message, "/account/reset/").rsplit("/", 1)[1]
    assert mailbox.clinic_outbox(app) == []

    # The outbox is the owner's, and the email is not in it.
    refused = attacker.get("/deliveries/outbox")
    assert refused.status_code == 403
    assert "Only the clinic's owner can open this page" in refused.get_data(as_text=True)
    for name in [p.name for p in Path(app.config["ACCOUNT_MAIL_FOLDER"]).glob("*.eml")]:
        assert attacker.get(f"/deliveries/outbox/{name}").status_code in (403, 404)
    # No page the trainer can open shows it.
    pages = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith("/static")
    ]
    assert "/deliveries/outbox" in pages and "/dashboard" in pages
    for page in pages:
        assert token.encode() not in attacker.get(page).data, page
    owner_browser = signed_in(app, owner, factories.PASSWORD)
    assert owner_browser.get("/deliveries/outbox").status_code == 200
    for page in pages:
        assert token.encode() not in owner_browser.get(page).data, page

    # Without the link the trainer cannot become the owner; the owner's password still works.
    guess = app.test_client().post(
        "/account/sign-in", data={"email": "owner@example.com", "password": "a new password!"}
    )
    assert guess.status_code == 200 and "Email or password is not right." in guess.get_data(
        as_text=True
    )
    signed_in(app, owner, factories.PASSWORD)


def test_account_mail_folder_is_for_the_server_user_only(app, factories):
    user = factories.user()
    mailbox.clear(app)
    app.test_client().post("/account/reset", data={"email": user.email})
    folder = Path(app.config["ACCOUNT_MAIL_FOLDER"])
    [path] = folder.glob("*.eml")
    assert folder.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600


def test_account_mail_link_is_in_the_development_log(app, factories, caplog):
    user = factories.user()
    with caplog.at_level("INFO", logger="trainer_app.accounts.emails"):
        app.test_client().post("/account/reset", data={"email": user.email})
    [message] = mailbox.mail_to(app, user.email)
    link = mailbox.link_in(message, "/account/reset/")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert link in logged and app.config["ACCOUNT_MAIL_FOLDER"] in logged
    mailbox.clear(app)
