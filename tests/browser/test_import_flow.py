"""Importing tomorrow's .ics in the browser with the form's date left at today.

The result used to read "Imported: 0 new, 0 moved, 0 already in the diary" and nothing else.
Now the file's next day with events is imported and named, and the events of the other days
are counted by date, each day with a button that opens the import for it.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from tests.appointments.test_import import CPH, _sessions, calendar_file
from tests.support.factories import Factories
from trainer_app.appointments.models import Appointment
from trainer_app.extensions import db
from trainer_app.timeutil import format_local, local_today

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_tomorrows_file_with_todays_date_imports_tomorrow_and_offers_the_other_day(
    app, live_server, page, factories, tmp_path
):
    trainer = factories.user(name="Ana Trainer")
    with app.app_context():
        from trainer_app.accounts.models import Clinic

        clinic = db.session.get(Clinic, trainer.clinic_id)
        clinic.time_zone = str(CPH)
        db.session.commit()
        db.session.expunge(clinic)
    desk = factories.user(clinic=clinic, role="front_desk", name="Dee Desk")
    today = local_today(str(CPH))
    tomorrow, later = today + timedelta(days=1), today + timedelta(days=3)
    ics = tmp_path / "tomorrow.ics"
    ics.write_bytes(calendar_file(*_sessions(tomorrow, 5, "next"), *_sessions(later, 2, "later")))

    page.goto(live_server + "/account/sign-in")
    page.get_by_label("Email", exact=True).fill(desk.email)
    page.get_by_label("Password").fill(Factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/appointments/import")
    assert page.get_by_label("Import the events of").input_value() == today.isoformat()
    page.get_by_label("Calendar file (.ics)").set_input_files(str(ics))
    page.get_by_role("button", name="Import", exact=True).click()

    day = format_local(tomorrow, str(CPH), "date")
    other = format_local(later, str(CPH), "date")
    alerts = page.get_by_role("alert")
    alerts.first.wait_for()
    shown = " ".join(alerts.all_inner_texts())
    assert f"so its next day with events was imported instead: {day}." in shown
    assert f"Imported {day}: 5 new, 0 moved, 0 already in the diary." in shown
    assert f"2 events on {other} were not imported: only {day} was chosen." in shown
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "import-result.png"), full_page=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Appointment)) == 5

    page.get_by_role("link", name=f"Import {other}").click()
    assert page.get_by_label("Import the events of").input_value() == later.isoformat()
    assert page.get_by_text("Choose the same file again").is_visible()
    page.get_by_label("Calendar file (.ics)").set_input_files(str(ics))
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text(f"Imported {other}: 2 new").wait_for()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Appointment)) == 7
    assert page.console_errors == [], page.console_errors
