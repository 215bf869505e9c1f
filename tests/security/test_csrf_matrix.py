"""CSRF matrix: every state-changing route refuses a request without a token or with another
session's token, and nothing changes.

The routes come from ``app.url_map``, so a route added later is covered without editing this
file; ids are the signed-in clinic's own, so each request would otherwise have done its work.
"""

from __future__ import annotations

from tests.conftest import csrf_token_from
from tests.security.routes import (
    PROBE_FORM,
    STATE_CHANGING,
    methods,
    routes,
    sign_in,
    url_for_rule,
)
from tests.support.world import build_world, snapshot, state_changes


def test_every_state_changing_route_refuses_missing_and_foreign_tokens(app, make_app, factories):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    world = build_world(app, factories)
    browser = csrf_app.test_client()
    sign_in(browser, world.owner.email)
    someone_else = csrf_app.test_client()
    foreign = csrf_token_from(someone_else.get("/account/sign-in").get_data(as_text=True))
    before = snapshot(csrf_app)

    attempts = {
        "no token": ({}, {}),
        "another session's token in the form": ({"csrf_token": foreign}, {}),
        "another session's token in a header": ({}, {"X-CSRFToken": foreign}),
    }
    tried, accepted = [], []
    for rule in routes(csrf_app):
        for method in methods(rule):
            if method not in STATE_CHANGING:
                continue
            url = url_for_rule(csrf_app, rule, world, method)
            tried.append(f"{method} {rule.rule}")
            for label, (fields, headers) in attempts.items():
                response = browser.open(
                    url, method=method, data={**PROBE_FORM, **fields}, headers=headers
                )
                refused = response.status_code == 400 and "This form has expired" in (
                    response.get_data(as_text=True)
                )
                if not refused:
                    accepted.append(f"{method} {url} with {label}: {response.status_code}")

    assert accepted == [], "requests without a valid token were not refused:\n" + "\n".join(
        accepted
    )
    assert state_changes(before, snapshot(csrf_app)) == []
    assert len(tried) >= 20 and "POST /account/sign-out" in tried
    # Still signed in: the refusals were about the token, not a lost session.
    assert browser.get("/dashboard").status_code == 200
