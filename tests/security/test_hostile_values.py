"""Hostile values in query strings and forms are a 400 or a form error, never a server error.

Found by an attack probe: "²" passes ``str.isdigit`` but not ``int()``; 9999-12-31 plus a day
leaves Python's date range; 2**63 overflows SQLite's integer; a calendar event repeating every
second ties up a web worker while it is expanded.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.security.routes import routes, sign_in
from tests.support.world import build_world, snapshot, state_changes
from trainer_app.appointments import ics

# Every query parameter a page reads as a number or a date, with values that broke one of them.
HOSTILE_QUERIES = [
    "again=%C2%B2&template=%C2%B2&months=%C2%B2&client=%C2%B2&day=%C2%B2",
    f"again={2**64}&template={2**64}&months={2**64}&client={2**64}",
    "day=9999-12-31&since=9999-12-31&until=9999-12-31",
    "day=0001-01-01&since=0001-01-01&until=0001-01-01",
]


def test_hostile_query_values_never_answer_a_server_error_on_any_page(app, factories):
    world = build_world(app, factories)
    browser = app.test_client()
    sign_in(browser, world.owner.email)
    wrong, tried = [], 0
    for rule in routes(app):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = app.url_map.bind("localhost").build(rule.endpoint, world.values_for(rule))
        for query in HOSTILE_QUERIES:
            response = browser.get(f"{url}?{query}")
            response.close()
            tried += 1
            if response.status_code >= 500:
                wrong.append(f"GET {url}?{query} answered {response.status_code}")
    assert wrong == []
    assert tried > 100


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_day_outside_any_calendar_is_a_bad_request(client, auth, day):
    auth.login()
    assert client.get(f"/appointments/?day={day}").status_code == 400
    assert client.get(f"/appointments/week?day={day}").status_code == 400


def test_an_audit_filter_past_year_2999_is_a_form_error(client, auth):
    auth.login()
    response = client.get("/audit/?until=9999-12-31")
    assert response.status_code == 200
    assert "Enter a date between 1900 and 2999." in response.get_data(as_text=True)


def test_numbers_past_a_database_integer_in_program_forms_change_nothing(app, factories):
    world = build_world(app, factories)
    browser = app.test_client()
    sign_in(browser, world.owner.email)
    before = snapshot(app)
    copy = browser.post(
        f"/programs/{world.program_id}/copy", data={"client_id": str(2**63), "title": ""}
    )
    edit = browser.post(
        f"/programs/{world.program_id}/edit", data={"base_version": str(2**64), "save": "Save"}
    )
    assert copy.status_code < 500 and edit.status_code < 500
    # the attempts are audited (who tried what); nothing else changes
    assert state_changes(before, snapshot(app)) in ([], ["audit_events"])


def _calendar(event_lines: str) -> bytes:
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//probe//EN\r\n{event_lines}END:VCALENDAR\r\n"
    ).encode()


def test_an_event_repeating_every_second_is_refused_before_it_is_expanded():
    data = _calendar(
        "BEGIN:VEVENT\r\nUID:flood@probe\r\nSUMMARY:Flood\r\n"
        "DTSTART:20261202T080000Z\r\nDTEND:20261202T090000Z\r\nRRULE:FREQ=SECONDLY\r\n"
        "END:VEVENT\r\n"
    )
    with pytest.raises(ics.NotACalendar, match="repeats every second"):
        ics.parse(data, "Europe/Copenhagen", date(2026, 12, 2), days=7)


@pytest.mark.parametrize(
    "event",
    [
        "BEGIN:VEVENT\r\nUID:nostart@probe\r\nSUMMARY:No start\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:bogus@probe\r\nDTSTART:20261202T080000Z\r\n"
        "RRULE:FREQ=BOGUS\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:long@probe\r\nDTSTART:20261202T080000Z\r\n"
        "DURATION:P999999999D\r\nEND:VEVENT\r\n",
    ],
    ids=["no-start", "unknown-frequency", "endless-duration"],
)
def test_an_unreadable_event_is_a_clear_refusal(event):
    with pytest.raises(ics.NotACalendar):
        ics.parse(_calendar(event), "Europe/Copenhagen", date(2026, 12, 2))
