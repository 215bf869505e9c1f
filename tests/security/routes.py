"""Routes of the app's URL map, for the matrices that must cover routes added later."""

from __future__ import annotations

from collections.abc import Iterator

from tests.conftest import csrf_token_from
from tests.support.factories import Factories
from tests.support.world import NOT_CLINIC_DATA, ClinicWorld

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A form that would pass most of the app's forms, so a missing check would show as a change.
PROBE_FORM = {
    "name": "Changed by a probe",
    "email": "probe@example.com",
    "email_consent": "y",
    "notes": "probe",
    "clinic_name": "Probe clinic",
    "password": "probe password 123",
    "confirm": "probe password 123",
    "current": Factories.PASSWORD,
    "request_key": "probe-request-key-0001",
    "idempotency_key": "probe-idempotency-0001",
    "paper": "A4",
    "role": "trainer",
}


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def routes(app) -> Iterator:
    """Every rule of the app, in a stable order."""
    return iter(sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)))


def names_clinic_data(rule) -> bool:
    return any(name not in NOT_CLINIC_DATA for name in rule.arguments)


def url_for_rule(app, rule, world: ClinicWorld, method: str, **overrides) -> str:
    """The URL of ``rule`` with ``world``'s values (and ``overrides``) filled in."""
    values = {**world.values_for(rule), **overrides}
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=method)


def sign_in(browser, email: str, password: str = Factories.PASSWORD) -> None:
    """Sign in through the real form (with its CSRF token when the app checks tokens)."""
    page = browser.get("/account/sign-in").get_data(as_text=True)
    data = {"email": email, "password": password}
    if 'name="csrf_token"' in page:
        data["csrf_token"] = csrf_token_from(page)
    response = browser.post("/account/sign-in", data=data)
    assert response.status_code == 302, "sign-in failed"
