"""Client routes: list, search, paginate, create, edit, archive, restore; tenancy on each."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from trainer_app.clients.models import Client
from trainer_app.extensions import db


def client_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Client))


def form_data(user, **overrides) -> dict:
    data = {
        "name": "Maria Jensen",
        "email": "maria@example.com",
        "phone": "+45 12 34 56 78",
        "date_of_birth": "1986-04-12",
        "primary_trainer_id": str(user.id),
        "email_consent": "y",
        "notes": "Desk job",
    }
    data.update(overrides)
    return data


def test_empty_list_says_what_to_do(client, auth):
    auth.login()
    html = client.get("/clients/").get_data(as_text=True)
    assert "No clients yet" in html
    assert "Add your first client" in html


def test_create_client_records_consent_date(app, client, auth):
    auth.login()
    response = client.post("/clients/new", data=form_data(auth.user))
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(Client))
        assert row.clinic_id == auth.user.clinic_id
        assert row.email_consent is True
        assert row.email_consent_at is not None
        assert row.primary_trainer_id == auth.user.id
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Maria Jensen" in page
    assert "Given" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the client&#39;s name."),
        ("email", "not-an-email", "it must contain exactly one @."),
        ("date_of_birth", "2999-01-01", "Date of birth cannot be in the future."),
        ("date_of_birth", "12/31/yesterday", "Not a valid date value."),
        ("phone", "call me maybe", "Use digits, spaces and + ( ) - . / only."),
        ("name", "x" * 121, "Field cannot be longer than 120 characters."),
        ("notes", "x" * 5001, "Field cannot be longer than 5000 characters."),
        ("email", "jö@example.com", "non-ASCII characters before the @ are not supported."),
        ("name", "Maria\x00Jensen", "control character (U+0000)"),
        ("name", "Maria\u0085Jensen", "control character (U+0085)"),
        ("notes", "first line\r\nsecond\x1b[31m", "control character (U+001B)"),
        ("phone", "+45 1234\x7f", "control character (U+007F)"),
        ("name", "Maria \u202enesneJ", "formatting character (U+202E)"),
        ("name", "Maria\u2066Jensen", "formatting character (U+2066)"),
        ("name", "Maria\u2028Jensen", "formatting character (U+2028)"),
        ("name", "Maria\u2029Jensen", "formatting character (U+2029)"),
    ],
)
def test_create_client_validation(app, client, auth, field, value, message):
    auth.login()
    response = client.post("/clients/new", data=form_data(auth.user, **{field: value}))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert "invalid-feedback" in html
    assert client_count(app) == 0


def test_consent_needs_an_email(app, client, auth):
    auth.login()
    response = client.post("/clients/new", data=form_data(auth.user, email=""))
    assert "Add an email address before recording consent" in response.get_data(as_text=True)
    assert client_count(app) == 0


def test_primary_trainer_from_another_clinic_is_refused(app, client, auth, factories):
    auth.login()
    stranger = factories.user()
    response = client.post(
        "/clients/new", data=form_data(auth.user, primary_trainer_id=str(stranger.id))
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert client_count(app) == 0


def test_edit_client_and_withdraw_consent(app, client, auth, factories):
    auth.login()
    record = factories.client_record(auth.user, name="Old Name")
    data = form_data(auth.user, name="New Name")
    del data["email_consent"]
    response = client.post(f"/clients/{record.id}/edit", data=data)
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Client, record.id)
        assert row.name == "New Name"
        assert row.email_consent is False
        assert row.email_consent_at is None


def test_archive_and_restore(app, client, auth, factories):
    auth.login()
    record = factories.client_record(auth.user, name="Archie")
    client.post(f"/clients/{record.id}/archive", follow_redirects=True)
    assert "Archie" not in client.get("/clients/").get_data(as_text=True)
    assert "Archie" in client.get("/clients/?status=archived").get_data(as_text=True)
    client.post(f"/clients/{record.id}/restore")
    assert "Archie" in client.get("/clients/").get_data(as_text=True)


def test_search_by_name_or_email_and_sort(client, auth, factories):
    auth.login()
    factories.client_record(auth.user, name="Zed Adams", email="zed@example.com")
    factories.client_record(auth.user, name="Amy Brown", email="amy@sample.org")
    factories.client_record(auth.user, name="Bob 100% Real", email="bob@example.com")
    html = client.get("/clients/?q=sample").get_data(as_text=True)
    assert "Amy Brown" in html and "Zed Adams" not in html
    html = client.get("/clients/?q=ZED").get_data(as_text=True)
    assert "Zed Adams" in html and "Amy Brown" not in html
    html = client.get("/clients/?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert "Bob 100% Real" in html and "Amy Brown" not in html
    html = client.get("/clients/?sort=name").get_data(as_text=True)
    assert html.index("Amy Brown") < html.index("Bob 100% Real") < html.index("Zed Adams")
    html = client.get("/clients/?q=nomatch").get_data(as_text=True)
    assert "No client matches" in html


def test_pagination(client, auth, factories):
    auth.login()
    for i in range(25):
        factories.client_record(auth.user, name=f"Client {i:02d}")
    first = client.get("/clients/").get_data(as_text=True)
    assert "Client 00" in first and "Client 19" in first and "Client 20" not in first
    assert "1–20 of 25" in first
    second = client.get("/clients/?page=2").get_data(as_text=True)
    assert "Client 20" in second and "Client 24" in second and "Client 00" not in second


def test_list_shows_only_own_clinic(client, auth, factories):
    other = factories.user()
    factories.client_record(other, name="Secret Person")
    auth.login()
    assert "Secret Person" not in client.get("/clients/").get_data(as_text=True)
    assert "Secret Person" not in client.get("/clients/?q=Secret&status=all").get_data(as_text=True)
    assert "Secret Person" not in client.get("/dashboard").get_data(as_text=True)


CLIENT_ROUTES = [
    ("get", "/clients/{id}"),
    ("get", "/clients/{id}/edit"),
    ("post", "/clients/{id}/edit"),
    ("post", "/clients/{id}/archive"),
    ("post", "/clients/{id}/restore"),
]


@pytest.mark.parametrize(("method", "route"), CLIENT_ROUTES)
def test_other_clinics_client_answers_404(app, client, auth, factories, method, route):
    other = factories.user()
    theirs = factories.client_record(other, name="Their Client", notes="private")
    auth.login()
    response = getattr(client, method)(route.format(id=theirs.id), data=form_data(auth.user))
    assert response.status_code == 404
    assert "Their Client" not in response.get_data(as_text=True)
    with app.app_context():
        row = db.session.get(Client, theirs.id)
        assert row.name == "Their Client" and row.archived_at is None


@pytest.mark.parametrize(
    ("method", "route"), [*CLIENT_ROUTES, ("get", "/clients/"), ("get", "/clients/new")]
)
def test_client_routes_need_sign_in(client, factories, method, route):
    user = factories.user()
    record = factories.client_record(user)
    response = getattr(client, method)(route.format(id=record.id))
    assert response.status_code == 302
    assert "/account/sign-in" in response.headers["Location"]
