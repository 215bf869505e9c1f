"""Logging progress: by the client through the link, by the trainer on the client page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import csrf_token_from
from tests.progress.conftest import entries, make_world

KEY = "k" * 24


def _form(world, **fields):
    data = {
        "day": world.today.isoformat(),
        "done": world.slugs[:2],
        "pain": "4",
        "note": "Knees a bit sore",
        "request_key": KEY,
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_the_client_ticks_exercises_and_records_pain_once_however_often_they_tap(
    app, client, world
):
    first = client.post(world.path, data=_form(world))
    again = client.post(world.path, data=_form(world))  # a double tap: the same form twice
    assert first.status_code == again.status_code == 302
    (entry,) = entries(app, world.client_id)
    assert entry.source == "client" and entry.session and entry.pain == 4
    assert entry.exercises == world.slugs[:2] and entry.note == "Knees a bit sore"
    history = client.get(world.path).get_data(as_text=True)
    assert "2 exercises done, pain 4/10" in history and "Knees a bit sore" in history


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pain": "11"}, "Pain is a number from 0 (none) to 10"),
        ({"pain": "-1"}, "Pain is a number from 0 (none) to 10"),
        ({"pain": "lots"}, "Pain is a number from 0 (none) to 10"),
        ({"day": "tomorrow"}, None),
        ({"note": "x" * 201}, "Keep the note to 200 characters."),
        ({"done": [], "pain": None, "note": ""}, "Tick what you did, or give your pain score"),
        ({"done": ["not-in-the-program"]}, "Tick only exercises from your current program."),
    ],
)
def test_bad_entries_are_refused_with_a_clear_message(app, client, world, fields, message):
    if fields.get("day") == "tomorrow":
        fields = {"day": (world.today + timedelta(days=1)).isoformat()}
        message = "a session cannot be logged ahead"
    response = client.post(world.path, data=_form(world, **fields))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was saved." in html and message in html.replace("&#39;", "'")
    assert entries(app, world.client_id) == []


def test_a_day_before_the_program_is_refused(app, client, world):
    response = client.post(
        world.path, data=_form(world, day=(world.today - timedelta(days=1)).isoformat())
    )
    assert response.status_code == 400
    assert "that is when this program started" in response.get_data(as_text=True)
    assert entries(app, world.client_id) == []


def test_the_trainer_logs_a_session_and_sees_it_in_the_chart(app, client, auth, world):
    auth.login(email=world.user.email)
    response = client.post(
        f"/clients/{world.client_id}/progress/log",
        data=_form(world, pain="6", note="Seen in clinic"),
    )
    assert response.status_code == 302
    (entry,) = entries(app, world.client_id)
    assert entry.source == "trainer" and entry.created_by_id == world.user.id and entry.session
    page = client.get(f"/clients/{world.client_id}").get_data(as_text=True)
    assert f'data-day="{world.today.isoformat()}" data-pain="6"' in page
    assert 'data-week="1" data-done="1"' in page
    assert "Logged by the trainer: 2 exercises done, pain 6/10" in page


def test_a_trainers_bad_entry_saves_nothing_and_says_why(app, client, auth, world):
    auth.login(email=world.user.email)
    response = client.post(
        f"/clients/{world.client_id}/progress/log",
        data=_form(world, pain="12"),
        follow_redirects=True,
    )
    assert "Nothing was saved: Pain is a number from 0" in response.get_data(as_text=True)
    assert entries(app, world.client_id) == []


def test_the_link_page_refuses_a_post_without_its_csrf_token(app, make_app, factories):
    world = make_world(app, factories)
    browser = make_app(WTF_CSRF_ENABLED=True).test_client()
    refused = browser.post(world.path, data=_form(world))
    assert refused.status_code == 400
    assert entries(app, world.client_id) == []
    token = csrf_token_from(browser.get(world.path).get_data(as_text=True))
    accepted = browser.post(world.path, data={**_form(world), "csrf_token": token})
    assert accepted.status_code == 302 and len(entries(app, world.client_id)) == 1


def test_link_pages_are_rate_limited_per_link_and_per_address(app, make_app, factories):
    world = make_world(app, factories)
    per_link = make_app(RATELIMIT_ENABLED=True, PROGRESS_LINK_RATE_LIMIT="3 per minute")
    browser = per_link.test_client()
    assert [browser.get(world.path).status_code for _ in range(4)] == [200, 200, 200, 429]
    # another address still reaches its own link, but not this one
    other = per_link.test_client()
    assert other.get(world.path, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 429

    per_address = make_app(RATELIMIT_ENABLED=True, PROGRESS_RATE_LIMIT="3 per minute")
    guesser = per_address.test_client()
    codes = [
        guesser.get(f"/p/guess-{n}", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code
        for n in range(4)
    ]
    assert codes == [404, 404, 404, 429]
