"""The clinic's time zone: chosen at sign-up and in settings, used for every shown time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.support.factories import ASSESSMENT_ANSWERS
from trainer_app.accounts.models import Clinic, User
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import result_to_dict, score
from trainer_app.extensions import db
from trainer_app.timeutil import format_local, local_today, valid_zone, zone_names

# Copenhagen's clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC on 29 March 2026,
# and back from 03:00 CEST to 02:00 CET at 01:00 UTC on 25 October 2026.
BEFORE_SPRING = datetime(2026, 3, 29, 0, 30)
AFTER_SPRING = datetime(2026, 3, 29, 1, 30)
LATE_EVENING_UTC = datetime(2026, 10, 24, 22, 30)


@pytest.mark.parametrize(
    ("moment", "zone", "style", "shown"),
    [
        (BEFORE_SPRING, "Europe/Copenhagen", "datetime", "29 Mar 2026, 01:30"),
        (AFTER_SPRING, "Europe/Copenhagen", "datetime", "29 Mar 2026, 03:30"),
        (datetime(2026, 10, 25, 0, 30), "Europe/Copenhagen", "time", "02:30"),
        (datetime(2026, 10, 25, 1, 30), "Europe/Copenhagen", "time", "02:30"),
        (LATE_EVENING_UTC, "Europe/Copenhagen", "date", "25 Oct 2026"),
        (LATE_EVENING_UTC, "UTC", "date", "24 Oct 2026"),
        (LATE_EVENING_UTC, "America/New_York", "datetime", "24 Oct 2026, 18:30"),
        (datetime(2026, 12, 31, 23, 30), "Europe/Copenhagen", "long_date", "1 January 2027"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Asia/Kolkata", "time", "07:00"),
        (date(1986, 4, 12), "Pacific/Kiritimati", "date", "12 Apr 1986"),
        (None, "UTC", "datetime", ""),
        (AFTER_SPRING, "No/Such_Zone", "time", "01:30"),
    ],
)
def test_format_local(moment, zone, style, shown):
    assert format_local(moment, zone, style) == shown


RESULT = result_to_dict(score(default_questionnaire(), ASSESSMENT_ANSWERS))


def test_zone_names_and_validation():
    names = zone_names()
    assert "Europe/Copenhagen" in names and "UTC" in names and list(names) == sorted(names)
    assert valid_zone("America/Argentina/Buenos_Aires")
    for bad in ("", "Mars/Olympus", "../../etc/passwd", " Europe/Copenhagen", "x" * 65, None):
        assert not valid_zone(bad)
    assert local_today("Pacific/Auckland", datetime(2026, 6, 30, 13, 0)) == date(2026, 7, 1)


def _set_zone(app, clinic_id: int, zone: str) -> None:
    with app.app_context():
        db.session.get(Clinic, clinic_id).time_zone = zone
        db.session.commit()


def _assess(app, user, client_id: int, when: datetime) -> int:
    with app.app_context():
        row = Assessment(
            clinic_id=user.clinic_id,
            client_id=client_id,
            trainer_id=user.id,
            questionnaire_version=RESULT["questionnaire_version"],
            answers=ASSESSMENT_ANSWERS,
            result=RESULT,
            created_at=when,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_pages_show_local_times_across_the_dst_change(app, client, auth, factories):
    auth.login()
    _set_zone(app, auth.user.clinic_id, "Europe/Copenhagen")
    maria = factories.client_record(auth.user, name="Maria Jensen")
    _assess(app, auth.user, maria.id, BEFORE_SPRING)
    _assess(app, auth.user, maria.id, AFTER_SPRING)
    late = _assess(app, auth.user, maria.id, LATE_EVENING_UTC)
    page = client.get(f"/clients/{maria.id}").get_data(as_text=True)
    # local: 01:30 (CET), 03:30 (CEST), 00:30 the next day; never the UTC 22:30 or 02:30
    assert "01:30" in page and "03:30" in page and "00:30" in page
    assert "22:30" not in page and "02:30" not in page
    assert "25 Oct 2026" in page and "24 Oct 2026" not in page
    detail = client.get(f"/assessments/{late}").get_data(as_text=True)
    assert "25 Oct 2026, 00:30" in detail and "UTC" not in detail
    listing = client.get("/clients/?sort=-assessed").get_data(as_text=True)
    assert "25 Oct 2026" in listing

    _set_zone(app, auth.user.clinic_id, "UTC")
    page = client.get(f"/clients/{maria.id}").get_data(as_text=True)
    assert "22:30" in page and "03:30" not in page and "24 Oct 2026" in page


def test_settings_change_the_zone_and_refuse_unknown_ones(app, client, auth):
    auth.login()
    form = client.get("/clinic/settings").get_data(as_text=True)
    assert '<option selected value="UTC">UTC</option>' in form
    assert '<option value="America/New_York">America/New York</option>' in form
    data = {"name": "Core", "contact": "", "accent_color": "#2f6f8f", "paper_size": "A4"}
    bad = client.post("/clinic/settings", data={**data, "time_zone": "Mars/Olympus"})
    assert bad.status_code == 200 and "Not a valid choice" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Clinic, auth.user.clinic_id).time_zone == "UTC"
    good = client.post("/clinic/settings", data={**data, "time_zone": "Europe/Copenhagen"})
    assert good.status_code == 302
    with app.app_context():
        assert db.session.get(Clinic, auth.user.clinic_id).time_zone == "Europe/Copenhagen"


def test_signup_records_the_chosen_zone(app, client):
    data = {
        "name": "Ana Trainer",
        "clinic_name": "Core Studio",
        "email": "ana@example.com",
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    page = client.get("/account/sign-up").get_data(as_text=True)
    assert "data-guess-time-zone" in page
    refused = client.post("/account/sign-up", data={**data, "time_zone": "Europe/Nowhere"})
    assert refused.status_code == 200
    assert (
        client.post("/account/sign-up", data={**data, "time_zone": "Asia/Tokyo"}).status_code == 302
    )
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.clinic.time_zone == "Asia/Tokyo"


def test_new_clinics_default_to_utc_and_the_demo_to_copenhagen(app, runner):
    from trainer_app.accounts.service import register_trainer

    with app.app_context():
        user = register_trainer(name="A", email="a@example.com", password="x" * 12, clinic_name="C")
        db.session.commit()
        assert user.clinic.time_zone == "UTC"
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        demo = db.session.scalar(select(User).where(User.email == "demo@example.com"))
        assert demo.clinic.time_zone == "Europe/Copenhagen"


def test_pdf_date_is_the_clinic_day(app, factories):
    from trainer_app.plans.models import PlanDocument
    from trainer_app.plans.service import document_context
    from trainer_app.programs.models import ProgramVersion

    user = factories.user()
    version_id = factories.program_version(user)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        version.created_at = datetime(2026, 12, 31, 23, 30)
        db.session.get(Clinic, user.clinic_id).time_zone = "Europe/Copenhagen"
        db.session.commit()
        document = PlanDocument(
            clinic_id=user.clinic_id, program_version=version, paper_size="A4", request_key="k"
        )
        assert document_context(document)["date"] == "1 January 2027"
        db.session.rollback()
