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


def test_error_pages_for_signed_in_users_are_never_stored(client, auth):
    auth.login()
    for url, status in (
        ("/no-such-page", 404),
        ("/clients/999999", 404),
        ("/clients/?page=x", 400),
    ):
        response = client.get(url)
        assert response.status_code == status
        assert response.headers["Cache-Control"] == "no-store", url
    static = client.get("/static/css/app.css")
    static.close()
    assert static.headers.get("Cache-Control") != "no-store"  # found static files may be cached


def _sign_in_failures(app, count, *, remote, forwarded=None, email="owner@example.com"):
    browser = app.test_client()
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return [
        browser.post(
            "/account/sign-in",
            data={"email": email, "password": "not the password"},
            headers=headers,
            environ_base={"REMOTE_ADDR": remote},
        ).status_code
        for _ in range(count)
    ]


def test_an_attackers_failures_never_lock_the_owner_out_from_another_address(make_app, factories):
    limited = make_app(
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="50 per minute",
        LOGIN_ACCOUNT_RATE_LIMIT="3 per hour",
    )
    owner = factories.user(email="owner@example.com")
    assert _sign_in_failures(limited, 4, remote="198.51.100.7") == [200, 200, 200, 429]
    browser = limited.test_client()
    response = browser.post(
        "/account/sign-in",
        data={"email": owner.email, "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.20"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")


def test_many_accounts_from_one_address_hit_the_address_limit(make_app, factories):
    limited = make_app(
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="3 per minute",
        LOGIN_ACCOUNT_RATE_LIMIT="9 per hour",
    )
    factories.user()
    statuses = [
        _sign_in_failures(limited, 1, remote="198.51.100.8", email=f"guess{n}@example.com")[0]
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(make_app, factories):
    limited = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=0)
    factories.user()
    statuses = [
        _sign_in_failures(
            limited, 1, remote="198.51.100.9", forwarded=f"192.0.2.{n}", email=f"g{n}@example.com"
        )[0]
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_one_trusted_proxy_passes_on_the_clients_address(make_app, factories):
    limited = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=1)
    factories.user()
    proxy = "10.0.0.2"
    # Four trainers behind the proxy: each has a limit of its own.
    for n in range(4):
        assert _sign_in_failures(
            limited, 1, remote=proxy, forwarded=f"192.0.2.{n}", email=f"t{n}@example.com"
        ) == [200]
    # One address behind the proxy is limited, even if it prepends a forged address.
    statuses = [
        _sign_in_failures(
            limited, 1, remote=proxy, forwarded=f"203.0.113.{n}, 192.0.2.50", email=f"x{n}@e.com"
        )[0]
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
