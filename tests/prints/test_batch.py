"""The day's print in one process (tasks run inline): order, reasons, duplex, reuse, keeping."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import func, select

from trainer_app.accounts.models import Clinic
from trainer_app.appointments.models import Appointment
from trainer_app.assessments.models import Assessment
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument
from trainer_app.prints.models import PrintBatch
from trainer_app.timeutil import utcnow

DAY = date(2026, 12, 1)


def _clinic(app, user):
    with app.app_context():
        clinic = db.session.get(Clinic, user.clinic_id)
        db.session.expunge(clinic)
        return clinic


def _book(app, user, client, hour: int, note: str = "") -> int:
    with app.app_context():
        appointment = Appointment(
            clinic_id=user.clinic_id,
            client_id=client.id,
            trainer_id=user.id,
            starts_at=datetime(2026, 12, 1, hour),
            ends_at=datetime(2026, 12, 1, hour, 45),
            note=note,
        )
        db.session.add(appointment)
        db.session.commit()
        return appointment.id


def _batch(app) -> PrintBatch:
    with app.app_context():
        batch = db.session.scalars(select(PrintBatch).order_by(PrintBatch.id.desc())).first()
        batch.items  # noqa: B018 (load while the session is open)
        pdf = batch.pdf
        db.session.expunge_all()
        batch.pdf_bytes = pdf
        return batch


def test_front_desk_prints_the_day_in_appointment_order_with_reasons(app, client, auth, factories):
    auth.login()
    owner = auth.user
    desk = factories.user(clinic=_clinic(app, owner), role="front_desk")
    late = factories.client_record(owner, name="Late Lena")
    early = factories.client_record(owner, name="Early Emil")
    none = factories.client_record(owner, name="No Program Nora")
    flagged = factories.client_record(owner, name="Flagged Frank")
    factories.program_version(owner, late)
    factories.program_version(owner, early)
    factories.program_version(owner, flagged)
    with app.app_context():
        assessment = db.session.scalar(select(Assessment).where(Assessment.client_id == flagged.id))
        answers = dict(assessment.answers)
        from trainer_app.assessments.questionnaire import default_questionnaire

        flag = default_questionnaire().red_flag_questions[0]
        answers[flag.id] = True
        from trainer_app.assessments.scoring import result_to_dict, score

        assessment.answers = answers
        assessment.result = result_to_dict(score(default_questionnaire(), answers))
        db.session.commit()
    ids = [
        _book(app, owner, late, 15, "Focus: slow eccentric squats"),
        _book(app, owner, early, 9),
        _book(app, owner, none, 11),
        _book(app, owner, flagged, 12),
    ]
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": desk.email, "password": factories.PASSWORD})
    day_page = browser.get("/appointments/?day=2026-12-01").get_data(as_text=True)
    assert 'name="appointment_ids"' in day_page and "Print the ticked appointments" in day_page
    form = {
        "appointment_ids": [str(i) for i in ids],
        "what": "both",
        "duplex": "y",
        "day": DAY.isoformat(),
        "request_key": "front-desk-print-0001",
    }
    response = browser.post("/prints/", data=form)
    assert response.status_code == 302
    # A double click: the same batch, nothing new.
    assert browser.post("/prints/", data=form).headers["Location"] == response.headers["Location"]
    batch = _batch(app)
    assert batch.status == "ready"
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    # Counted as printed or left out, never "4 of 4 done" with two clients left out.
    assert "2 clients printed, 2 left out</strong> (why is listed below)" in page
    assert " of 4" not in page and "clients done" not in page
    assert "No Program Nora" in page and "no current program" in page
    assert "Flagged Frank" in page and "red flag not cleared" in page
    printed = [i for i in batch.items if i.status == "printed"]
    assert [i.client_id for i in printed] == [early.id, late.id]  # 09:00 before 15:00
    with app.app_context():
        documents = db.session.scalars(select(PlanDocument).order_by(PlanDocument.id)).all()
        # Each printed client's documents in stapling order: (kind, pages).
        parts = [
            (doc.kind, doc.page_count)
            for item in printed
            for doc in (
                db.session.get(PlanDocument, item.session_document_id),
                db.session.get(PlanDocument, item.plan_document_id),
            )
        ]
        assert {d.kind for d in documents} == {"plan", "session"}
    # Two-sided: every document (each session sheet, each plan) starts on a fresh sheet, so the
    # plan is never printed on the back of the trainer's session sheet.
    blanks = sum(pages % 2 for _, pages in parts)
    assert any(pages % 2 for kind, pages in parts if kind == "session")  # a blank is needed
    download = browser.get(f"/prints/{batch.id}/download")
    reader = PdfReader(io.BytesIO(download.data))
    assert len(reader.pages) == sum(pages for _, pages in parts) + blanks == batch.page_count
    assert batch.blank_pages == blanks
    texts = [page.extract_text() for page in reader.pages]
    first_pages, index = [], 0
    for _, pages in parts:
        first_pages.append(index)
        assert index % 2 == 0, "a document starts on the back of a sheet"
        if pages % 2:
            assert texts[index + pages].strip() == ""  # the added blank back
        index += pages + pages % 2
    (early_sheet, early_plan, late_sheet, late_plan) = (texts[i] for i in first_pages)
    assert "Session sheet" in early_sheet and "Early Emil" in early_sheet
    assert "Session sheet" not in early_plan and "Early Emil" in early_plan
    assert "Late Lena" in late_sheet and "Session sheet" in late_sheet
    assert "slow eccentric squats" in late_sheet  # the trainer's focus note from the diary
    assert "Session sheet" not in late_plan and "Late Lena" in late_plan

    # The same day again: every document is reused, none is rendered twice.
    with app.app_context():
        before = db.session.scalar(
            select(func.count()).where(PlanDocument.reused_from_id.is_(None))
        )
    browser.post("/prints/", data={**form, "request_key": "front-desk-print-0002"})
    with app.app_context():
        after = db.session.scalar(select(func.count()).where(PlanDocument.reused_from_id.is_(None)))
    assert after == before
    assert _batch(app).status == "ready"

    # Kept for a while, then removed by the relay.
    with app.app_context():
        row = db.session.get(PrintBatch, batch.id)
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        from worker.tasks import relay

        relay.apply()
        assert db.session.get(PrintBatch, batch.id).status == "expired"
    assert browser.get(f"/prints/{batch.id}/download").status_code == 404


def test_nothing_chosen_is_refused_and_saves_nothing(app, client, auth):
    auth.login()
    response = client.post(
        "/prints/",
        data={"what": "plans", "day": "2026-12-01", "request_key": "nothing-chosen-0001"},
        follow_redirects=True,
    )
    assert "Choose at least one appointment or client" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PrintBatch)) == 0
