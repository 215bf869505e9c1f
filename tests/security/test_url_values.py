"""Values no page can have (ids past a database integer, absurd page numbers) are a 404 or a 400,
never a server error. The routes come from ``app.url_map``."""

from __future__ import annotations

import pytest

from tests.security.routes import PROBE_FORM, STATE_CHANGING, methods, routes, sign_in
from tests.support.world import build_world, snapshot, state_changes

TOO_LARGE = [str(2**63), str(2**64), "1" + "0" * 30, "9" * 5000]


def _int_arguments(rule) -> list[str]:
    return [name for name, converter in rule._converters.items() if converter.regex == r"\d+"]


def test_ids_past_a_database_integer_are_not_found_on_every_route(app, factories):
    world = build_world(app, factories)
    browser = app.test_client()
    sign_in(browser, world.owner.email)
    before = snapshot(app)
    tried, wrong = 0, []
    for rule in routes(app):
        for name in _int_arguments(rule):
            for method in methods(rule):
                values = world.values_for(rule)
                base = app.url_map.bind("localhost").build(rule.endpoint, values, method=method)
                for number in TOO_LARGE:
                    url = base.replace(f"/{values[name]}", f"/{number}", 1)
                    data = PROBE_FORM if method in STATE_CHANGING else None
                    response = browser.open(url, method=method, data=data)
                    tried += 1
                    if response.status_code != 404:
                        wrong.append(f"{method} {url[:80]} answered {response.status_code}")
    assert wrong == []
    assert tried > 100
    assert state_changes(before, snapshot(app)) == []


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "99999999999999999999", "２"])
def test_a_page_number_no_list_can_have_is_a_bad_request(client, auth, page):
    auth.login()
    response = client.get(f"/clients/?page={page}")
    assert response.status_code == 400
    assert "could not be understood" in response.get_data(as_text=True)


def test_a_page_number_is_never_a_server_error_on_any_page(app, factories):
    world = build_world(app, factories)
    browser = app.test_client()
    sign_in(browser, world.owner.email)
    for rule in routes(app):
        if "GET" not in rule.methods:
            continue
        url = app.url_map.bind("localhost").build(rule.endpoint, world.values_for(rule))
        for page in ("abc", str(2**64)):
            response = browser.get(f"{url}?page={page}")
            response.close()  # static files are streamed from an open file
            assert response.status_code < 500, url


def test_pages_of_the_client_list_still_work(client, auth, factories):
    auth.login()
    for n in range(25):
        factories.client_record(auth.user, name=f"Listed {n:02d}")
    assert "Listed 00" in client.get("/clients/?page=1").get_data(as_text=True)
    second = client.get("/clients/?page=2").get_data(as_text=True)
    assert "Listed 24" in second and "Listed 00" not in second
