"""The session sheet's boxes fit each exercise: weight and reps for reps, seconds for holds (each
side for one-sided holds)."""

from __future__ import annotations

import re
from datetime import date

from trainer_app.accounts.models import Clinic
from trainer_app.extensions import db
from trainer_app.library.catalog import default_catalog
from trainer_app.plans.render import session_html
from trainer_app.plans.session import session_context
from trainer_app.programs import service as programs
from trainer_app.programs.models import ProgramVersion


def _rows(html: str) -> dict[str, str]:
    """Each exercise's row of the sheet, by exercise name."""
    body = html[html.index("<tbody>") :]
    return {
        re.search(r'<div class="name">\d+\. ([^<]+)</div>', row).group(1): row
        for row in body.split("<tr>")[1:]
    }


def _boxes(row: str) -> list[str]:
    """The labels of the boxes of the first set."""
    first = re.search(r'<div class="set">(.*?)</div>', row).group(1)
    return re.findall(r'<span class="box[^"]*">([^<]+)</span>', first)


def test_holds_get_seconds_boxes_and_one_sided_holds_one_per_side(app, factories):
    catalog = default_catalog()
    owner = factories.user()
    version_id = factories.program_version(owner)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        draft = programs.draft_of(version)
        kept = [i for i in draft.items if i.exercise_slug not in ("plank", "side_plank")]
        draft = draft.__class__(**{**draft.__dict__, "items": tuple(kept)})
        for slug in ("plank", "side_plank"):
            draft = programs.add_exercise(draft, catalog.exercises[slug], "Trunk endurance")
        new = programs.save_version(
            version.program, version.number, draft, note="Holds", user_id=owner.id
        )
        db.session.commit()
        context = session_context(
            new,
            clinic=db.session.get(Clinic, owner.clinic_id),
            catalog=catalog,
            day=date(2026, 12, 1),
            paper="A4",
        )
        db.session.rollback()
    rows = _rows(session_html(context))
    assert _boxes(rows["Plank"]) == ["seconds", "pain"]
    assert _boxes(rows["Side plank"]) == ["left s", "right s", "pain"]
    reps = next(i.name for i in draft.items if i.hold_seconds is None and not i.per_side)
    assert _boxes(rows[reps]) == ["kg", "reps", "pain"]
    assert len(re.findall(r'<div class="set">', rows["Side plank"])) == min(
        next(i.sets for i in draft.items if i.exercise_slug == "side_plank"), 5
    )


def _form_posts(page: str, marker: str) -> dict[str, list[str]]:
    """The fields of the first form in ``page`` whose button says ``marker``."""
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        if marker in form:
            action = re.search(r'action="([^"]+)"', form).group(1)
            fields: dict[str, list[str]] = {"_action": [action]}
            for name, value in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form
            ):
                fields.setdefault(name, []).append(value)
            return fields
    raise AssertionError(f"no form with {marker!r}")


def _print_one(browser, page: str, marker: str) -> str:
    """Press the page's single-client print button; the merged PDF's text."""
    import io

    from pypdf import PdfReader

    fields = _form_posts(page, marker)
    action = fields.pop("_action")[0]
    response = browser.post(action, data=fields)
    assert response.status_code == 302, response.text
    detail = response.headers["Location"]
    batch_id = int(detail.rstrip("/").rsplit("/", 1)[1])
    download = browser.get(f"/prints/{batch_id}/download")
    assert download.status_code == 200
    reader = PdfReader(io.BytesIO(download.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_one_clients_session_sheet_prints_from_the_client_page_and_the_day(
    app, client, auth, factories
):
    """The front desk prints one client's session sheet without the batch of the day."""
    from datetime import datetime

    from trainer_app.appointments.models import Appointment
    from trainer_app.timeutil import local_today

    auth.login()
    owner = auth.user
    maria = factories.client_record(owner, name="Maria Jensen")
    other = factories.client_record(owner, name="Oliver Smith")
    factories.program_version(owner, maria)
    factories.program_version(owner, other)
    with app.app_context():
        zone = db.session.get(Clinic, owner.clinic_id).time_zone
        today = local_today(zone)
        for who, hour, note in ((maria, 9, "Focus: hip hinge"), (other, 10, "")):
            db.session.add(
                Appointment(
                    clinic_id=owner.clinic_id,
                    client_id=who.id,
                    trainer_id=owner.id,
                    starts_at=datetime.combine(today, datetime.min.time()).replace(hour=hour),
                    ends_at=datetime.combine(today, datetime.min.time()).replace(hour=hour + 1),
                    note=note,
                )
            )
        db.session.commit()
    page = client.get(f"/clients/{maria.id}").text
    text = _print_one(client, page, "Print session sheet")
    assert "Session sheet · Maria Jensen" in text and "Focus: hip hinge" in text
    assert "Oliver Smith" not in text
    day = client.get(f"/appointments/?day={today.isoformat()}").text
    text = _print_one(client, day, 'Print sheet<span class="visually-hidden"> for Oliver Smith')
    assert "Session sheet · Oliver Smith" in text and "Maria Jensen" not in text


def test_the_sheet_prints_the_appointment_time_with_the_clinics_zone(app, factories):
    """A sheet read by the trainer says when the session is, in the clinic's zone, labelled."""
    from datetime import datetime

    from trainer_app.appointments.models import Appointment

    owner = factories.user()
    version_id = factories.program_version(owner)
    with app.app_context():
        clinic = db.session.get(Clinic, owner.clinic_id)
        clinic.time_zone = "Europe/Copenhagen"
        version = db.session.get(ProgramVersion, version_id)
        db.session.add(
            Appointment(
                clinic_id=owner.clinic_id,
                client_id=version.program.client_id,
                starts_at=datetime(2026, 12, 1, 8, 30),  # UTC: 09:30 in Copenhagen
                ends_at=datetime(2026, 12, 1, 9, 15),
                all_day=False,
            )
        )
        db.session.flush()
        context = session_context(
            version, clinic=clinic, catalog=default_catalog(), day=date(2026, 12, 1), paper="A4"
        )
        db.session.rollback()
    header = session_html(context).split("</header>")[0]
    assert "1 December 2026" in header and "09:30 CET" in header
