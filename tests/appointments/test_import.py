"""Importing a booking system's .ics export: real calendar files made here with icalendar."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import func, select

from trainer_app.accounts.models import Clinic
from trainer_app.appointments.models import Appointment
from trainer_app.extensions import db

DAY = date(2026, 12, 1)  # a Tuesday
CPH = ZoneInfo("Europe/Copenhagen")
NEW_YORK = ZoneInfo("America/New_York")


def calendar_file(*events: dict) -> bytes:
    """A calendar as a booking system writes it: zoned, UTC, floating and all-day events."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Booking system//Test//EN")
    cal.add("version", "2.0")
    for spec in events:
        event = icalendar.Event()
        event.add("uid", spec["uid"])
        event.add("dtstamp", datetime(2026, 11, 20, 8, 0, tzinfo=ZoneInfo("UTC")))
        event.add("summary", spec.get("summary", "Session"))
        event.add("dtstart", spec["start"])
        if "end" in spec:
            event.add("dtend", spec["end"])
        if "rrule" in spec:
            event.add("rrule", spec["rrule"])
        for address, name in spec.get("attendees", ()):
            attendee = icalendar.vCalAddress(f"mailto:{address}")
            attendee.params["cn"] = icalendar.vText(name)
            event.add("attendee", attendee, encode=0)
        if "description" in spec:
            event.add("description", spec["description"])
        cal.add_component(event)
    return cal.to_ical()


def upload(client, data: bytes, day: date = DAY, days: int = 1, name: str = "diary.ics"):
    return client.post(
        "/appointments/import",
        data={"calendar": (io.BytesIO(data), name), "day": day.isoformat(), "days": str(days)},
        content_type="multipart/form-data",
    )


def set_zone(app, clinic_id: int, zone: str) -> None:
    with app.app_context():
        db.session.get(Clinic, clinic_id).time_zone = zone
        db.session.commit()


def rows(app) -> list[Appointment]:
    with app.app_context():
        found = db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
        db.session.expunge_all()
        return found


def test_import_matches_by_email_then_name_expands_recurrences_and_keeps_zones(
    app, client, auth, factories
):
    auth.login()
    owner = auth.user
    set_zone(app, owner.clinic_id, "Europe/Copenhagen")
    anna = factories.client_record(owner, name="Anna Berg", email="anna@example.com")
    bo = factories.client_record(owner, name="Bo Ørsted", email=None)
    data = calendar_file(
        # Weekly on Tuesdays since November, 09:00 Copenhagen: one occurrence falls on DAY.
        {
            "uid": "weekly-anna@booking",
            "summary": "PT session",
            "start": datetime(2026, 11, 3, 9, 0, tzinfo=CPH),
            "end": datetime(2026, 11, 3, 10, 0, tzinfo=CPH),
            "rrule": {"freq": "weekly", "byday": "TU"},
            "attendees": [("ANNA@example.com", "A. Berg")],
        },
        # Booked in New York time: 08:30 there is 14:30 in Copenhagen.
        {
            "uid": "bo-ny@booking",
            "summary": "Bo Orsted – follow-up",
            "start": datetime(2026, 12, 1, 8, 30, tzinfo=NEW_YORK),
            "end": datetime(2026, 12, 1, 9, 15, tzinfo=NEW_YORK),
            "description": "Bring the new shoes",
        },
        # An all-day event and a stranger: both wait for a person to match them.
        {"uid": "allday@booking", "summary": "Open day", "start": DAY, "end": DAY + timedelta(1)},
        {
            "uid": "stranger@booking",
            "summary": "Walk-in",
            "start": datetime(2026, 12, 1, 16, 0, tzinfo=ZoneInfo("UTC")),
            "end": datetime(2026, 12, 1, 16, 30, tzinfo=ZoneInfo("UTC")),
            "attendees": [("nobody@example.com", "Nobody Known")],
        },
        # The next day: outside the chosen day, not imported.
        {
            "uid": "tomorrow@booking",
            "summary": "Anna Berg",
            "start": datetime(2026, 12, 2, 9, 0, tzinfo=CPH),
            "end": datetime(2026, 12, 2, 10, 0, tzinfo=CPH),
        },
    )
    response = upload(client, data)
    assert response.status_code == 302 and response.headers["Location"] == "/appointments/review"

    found = rows(app)
    assert len(found) == 4
    by_title = {a.title: a for a in found}
    weekly = by_title["PT session"]
    assert weekly.client_id == anna.id and weekly.starts_at == datetime(2026, 12, 1, 8, 0)
    assert weekly.trainer_id == owner.id  # the client's primary trainer
    ny = by_title["Bo Orsted – follow-up"]
    assert ny.client_id == bo.id and ny.starts_at == datetime(2026, 12, 1, 13, 30)
    assert ny.note == "Bring the new shoes"
    allday = by_title["Open day"]
    assert allday.all_day and allday.client_id is None
    assert allday.starts_at == datetime(2026, 11, 30, 23, 0)  # Copenhagen midnight in UTC
    assert by_title["Walk-in"].client_id is None

    day_page = client.get("/appointments/?day=2026-12-01").get_data(as_text=True)
    assert "09:00–10:00" in day_page and "14:30–15:15" in day_page and "All day" in day_page
    assert "2 imported events matched no client" in day_page
    week_page = client.get("/appointments/week?day=2026-12-03").get_data(as_text=True)
    assert "Anna Berg" in week_page and "Monday 30 Nov 2026" in week_page

    # Review: the front desk picks the client for the walk-in.
    review = client.get("/appointments/review").get_data(as_text=True)
    assert "Walk-in" in review and "nobody@example.com" in review
    walk_in = by_title["Walk-in"]
    assert (
        client.post(f"/appointments/{walk_in.id}/match", data={"client_id": anna.id}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Appointment, walk_in.id).client_id == anna.id

    # The same file again: nothing added, nothing changed (the review's choice stays).
    before = [(a.id, a.client_id, a.starts_at, a.note) for a in rows(app)]
    again = upload(client, data)
    assert again.status_code == 302
    assert [(a.id, a.client_id, a.starts_at, a.note) for a in rows(app)] == before
    flashed = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "0 new, 0 moved, 4 already in the diary" in flashed

    # The following Tuesday: the recurring event gives that week's occurrence, a new row.
    upload(client, data, day=DAY + timedelta(days=7))
    with app.app_context():
        weekly_rows = db.session.scalar(
            select(func.count()).where(Appointment.title == "PT session")
        )
    assert weekly_rows == 2


def test_a_file_that_is_not_a_calendar_is_refused_clearly_and_saves_nothing(app, client, auth):
    auth.login()
    for data in (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nnot a calendar", b"Name,Date\nAnna,2026-12-01\n"):
        response = upload(client, data, name="export.ics")
        assert response.status_code == 200
        assert "This file is not a calendar" in response.get_data(as_text=True)
    assert rows(app) == []


def test_appointments_by_hand_in_the_clinics_zone_by_the_front_desk(app, client, auth, factories):
    auth.login()
    owner = auth.user
    set_zone(app, owner.clinic_id, "America/New_York")
    with app.app_context():
        clinic = db.session.get(Clinic, owner.clinic_id)
        db.session.expunge(clinic)
    desk = factories.user(clinic=clinic, role="front_desk")
    anna = factories.client_record(owner, name="Anna Berg")
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": desk.email, "password": factories.PASSWORD})
    form = {
        "client_id": anna.id,
        "trainer_id": owner.id,
        "day": "2026-12-01",
        "start": "07:30",
        "minutes": "45",
        "note": "Knee check",
    }
    assert browser.post("/appointments/new", data=form).status_code == 302
    (appointment,) = rows(app)
    assert appointment.starts_at == datetime(2026, 12, 1, 12, 30)  # 07:30 in New York, in UTC
    page = browser.get("/appointments/?day=2026-12-01").get_data(as_text=True)
    assert "07:30–08:15" in page and "Knee check" in page and "Anna Berg" in page
    # Bad input: a clear message and nothing saved.
    bad = browser.post("/appointments/new", data={**form, "minutes": "0", "start": ""})
    assert "Between 5 and 600 minutes." in bad.get_data(as_text=True)
    assert len(rows(app)) == 1
    edited = browser.post(f"/appointments/{appointment.id}/edit", data={**form, "start": "08:00"})
    assert edited.status_code == 302
    assert rows(app)[0].starts_at == datetime(2026, 12, 1, 13, 0)


def _sessions(day: date, count: int, prefix: str) -> list[dict]:
    """``count`` 45-minute sessions from 09:00 Copenhagen on ``day``, one an hour."""
    return [
        {
            "uid": f"{prefix}-{n}@booking",
            "summary": f"Stranger {prefix} {n}",
            "start": datetime(day.year, day.month, day.day, 9 + n, 0, tzinfo=CPH),
            "end": datetime(day.year, day.month, day.day, 9 + n, 45, tzinfo=CPH),
        }
        for n in range(count)
    ]


def test_a_file_for_tomorrow_imported_with_todays_date_imports_tomorrow_and_says_so(
    app, client, auth
):
    auth.login()
    set_zone(app, auth.user.clinic_id, "Europe/Copenhagen")
    tomorrow = DAY + timedelta(days=1)
    response = upload(client, calendar_file(*_sessions(tomorrow, 5, "wed")), day=DAY)
    assert response.status_code == 302 and response.headers["Location"] == "/appointments/review"
    found = rows(app)
    assert len(found) == 5
    assert {a.starts_at.date() for a in found} == {tomorrow}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "The file has no events on 1 Dec 2026, so its next day with events was imported "
        "instead: 2 Dec 2026." in page
    )
    assert "Imported 2 Dec 2026: 5 new, 0 moved, 0 already in the diary." in page
    assert "not imported" not in page  # every event of the file is in the diary


def test_events_on_other_days_are_counted_by_date_with_a_way_to_import_each(app, client, auth):
    auth.login()
    set_zone(app, auth.user.clinic_id, "Europe/Copenhagen")
    wednesday, friday = DAY + timedelta(days=1), DAY + timedelta(days=3)
    data = calendar_file(
        *_sessions(DAY, 2, "tue"), *_sessions(wednesday, 3, "wed"), *_sessions(friday, 1, "fri")
    )
    response = upload(client, data, day=DAY)
    assert len(rows(app)) == 2
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported 1 Dec 2026: 2 new, 0 moved, 0 already in the diary." in page
    assert "4 events on other days were not imported: 3 on 2 Dec 2026, 1 on 4 Dec 2026." in page
    assert 'href="/appointments/import?day=2026-12-02&amp;again=1">Import 2 Dec 2026</a>' in page
    assert 'href="/appointments/import?day=2026-12-04&amp;again=1">Import 4 Dec 2026</a>' in page
    # The button opens the import with that day chosen, asking for the same file again.
    form = client.get("/appointments/import?day=2026-12-02&again=1").get_data(as_text=True)
    assert 'value="2026-12-02"' in form
    assert "Choose the same file again: its events of 2 Dec 2026 will be imported." in form
    again = upload(client, data, day=wednesday)
    assert len(rows(app)) == 5
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Imported 2 Dec 2026: 3 new" in page
    # Tuesday's events are in the diary already: only Friday's is still to import.
    assert "1 event on 4 Dec 2026 was not imported: only 2 Dec 2026 was chosen." in page
    assert "on 1 Dec 2026" not in page

    # One other day: named on its own.
    only = calendar_file(*_sessions(DAY, 1, "one"), *_sessions(wednesday, 5, "five"))
    single = client.get(upload(client, only, day=DAY).headers["Location"]).get_data(as_text=True)
    assert "5 events on 2 Dec 2026 were not imported: only 1 Dec 2026 was chosen." in single
