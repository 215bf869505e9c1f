"""CSRF, headers, cookies, throttling, upload size, error pages."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token_from


@pytest.fixture
def csrf_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True)


def test_csrf_rejects_form_without_token(csrf_app, factories):
    browser = csrf_app.test_client()
    user = factories.user()
    response = browser.post(
        "/account/sign-in", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert browser.get("/clients/").status_code == 302


def test_csrf_accepts_form_with_token_and_protects_every_post(csrf_app, factories):
    browser = csrf_app.test_client()
    user = factories.user()
    token = csrf_token_from(browser.get("/account/sign-in").get_data(as_text=True))
    response = browser.post(
        "/account/sign-in",
        data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    record = factories.client_record(user)
    for url in (f"/clients/{record.id}/archive", "/account/sign-out"):
        assert browser.post(url).status_code == 400, url
    new_client = browser.post(
        "/clients/new", data={"name": "No Token", "primary_trainer_id": str(user.id)}
    )
    assert new_client.status_code == 400
    assert "No Token" not in browser.get("/clients/").get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/account/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in response.get_data(as_text=True)


def test_session_cookie_flags(client, factories):
    user = factories.user()
    response = client.post(
        "/account/sign-in", data={"email": user.email, "password": factories.PASSWORD}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookies_are_secure(make_app):
    prod = make_app(SESSION_COOKIE_SECURE=True)
    with prod.test_request_context():
        assert prod.config["SESSION_COOKIE_SECURE"] is True


def test_login_is_throttled(make_app, factories):
    limited = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    browser = limited.test_client()
    user = factories.user()
    statuses = [
        browser.post(
            "/account/sign-in", data={"email": user.email, "password": "wrong password"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert "Too many attempts" in browser.post("/account/sign-in", data={}).get_data(as_text=True)


def test_oversized_request_is_refused(client):
    response = client.post("/account/sign-in", data={"email": "x" * (5 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_404_page_in_house_style(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "Corrective Plans" in html


def test_500_page_in_house_style(make_app):
    broken = make_app(PROPAGATE_EXCEPTIONS=False, TESTING=False)

    @broken.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = broken.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html and "kaboom" not in html
