"""Tenancy matrix: every route that names clinic data, called with another clinic's ids, is a 404
and changes nothing.

The routes come from ``app.url_map``, so a route added later is covered without editing this
file; a route with a parameter nobody can fill fails in ``tests/support/world.py`` until a
factory for it is added there.
"""

from __future__ import annotations

import pytest

from tests.security.routes import (
    PROBE_FORM,
    STATE_CHANGING,
    methods,
    names_clinic_data,
    routes,
    sign_in,
    url_for_rule,
)
from tests.support.world import build_world, snapshot, state_changes


def test_every_route_with_another_clinics_ids_answers_404_and_changes_nothing(app, factories):
    victim = build_world(app, factories)
    attacker = build_world(app, factories)  # a clinic with rows of its own, signed in
    browser = app.test_client()
    sign_in(browser, attacker.owner.email)
    before = snapshot(app)

    tried, wrong = [], []
    for rule in routes(app):
        if not names_clinic_data(rule):
            continue
        for method in methods(rule):
            url = url_for_rule(app, rule, victim, method)
            data = PROBE_FORM if method in STATE_CHANGING else None
            response = browser.open(url, method=method, data=data)
            tried.append(f"{method} {rule.rule}")
            if response.status_code != 404:
                wrong.append(f"{method} {url} ({rule.endpoint}) answered {response.status_code}")

    assert wrong == [], "another clinic's data was reachable:\n" + "\n".join(wrong)
    assert state_changes(before, snapshot(app)) == []
    # The matrix really ran: every route family that names clinic data is in it.
    for family in ("/clients/", "/assessments/", "/programs/", "/plans/", "/deliveries/"):
        assert any(family in entry for entry in tried), family
    for family in ("/library/custom/", "/clinic/team/"):
        assert any(family in entry for entry in tried), family
    # The attacker's own rows answer normally, so a 404 above is tenancy, not a broken URL.
    detail = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == "clients.detail")
    assert browser.get(url_for_rule(app, detail, attacker, "GET")).status_code == 200


def test_a_route_whose_parameter_has_no_factory_fails_loudly(app, make_app, factories):
    extra = make_app()

    @extra.get("/widgets/<int:widget_id>")
    def widget(widget_id: int):
        return "a route added later"

    world = build_world(app, factories)
    rule = next(rule for rule in extra.url_map.iter_rules() if rule.endpoint == "widget")
    with pytest.raises(AssertionError, match="widget_id.*add a factory"):
        world.values_for(rule)
