"""A day's print of 50 clients on real worker processes over real Redis: killed mid-batch, it
still finishes with each client once, in appointment order, the broken client listed."""

from __future__ import annotations

import io
import os
import signal
import time
from datetime import date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.support.factories import Factories
from tests.support.worker import wait_for
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument
from trainer_app.prints.models import PrintBatch

# Fifty real renders, a kill and a recovery: minutes on a busy two-core machine.
pytestmark = [
    pytest.mark.worker,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.timeout(900),
]
DAY = date(2026, 12, 1)
CLIENTS = 50
SETTINGS = {"JOB_HEARTBEAT_SECONDS": "1", "STALE_CLAIM_SECONDS": "4"}


def _batch(app) -> PrintBatch:
    with app.app_context():
        db.session.expire_all()
        batch = db.session.scalar(select(PrintBatch))
        batch.items  # noqa: B018 (loaded before the session closes)
        batch.pdf_copy = batch.pdf
        db.session.expunge_all()
        db.session.remove()
        return batch


def _settled(app) -> int:
    with app.app_context():
        db.session.expire_all()
        count = db.session.scalar(
            select(func.count()).where(PlanDocument.status.in_(("ready", "failed")))
        )
        db.session.remove()
        return count


def test_fifty_clients_print_once_each_in_order_after_a_worker_is_killed(
    worker_app, start_worker, monkeypatch
):
    from trainer_app.accounts.models import User
    from trainer_app.appointments.models import Appointment
    from trainer_app.plans import service as plans
    from trainer_app.plans.models import SESSION
    from trainer_app.programs.models import ProgramVersion
    from worker.tasks import relay

    for key, value in SETTINGS.items():
        monkeypatch.setitem(worker_app.config, key, float(value))
    factories = Factories(worker_app)
    owner = factories.user(name="Owner Olsen")
    names = [f"Client {n:02d}" for n in range(CLIENTS)]
    people = []
    for name in names:
        person = factories.client_record(owner, name=name)
        factories.program_version(owner, person)
        people.append(person)
    # Booked in reverse: the print must follow the times, not the order clients were made.
    with worker_app.app_context():
        for n, person in enumerate(reversed(people)):
            db.session.add(
                Appointment(
                    clinic_id=owner.clinic_id,
                    client_id=person.id,
                    trainer_id=owner.id,
                    starts_at=datetime(2026, 12, 1, 7) + timedelta(minutes=10 * n),
                    ends_at=datetime(2026, 12, 1, 7, 9) + timedelta(minutes=10 * n),
                )
            )
        db.session.commit()
        # One client's stored sheet is damaged: the batch reuses it and must leave them out.
        broken = people[10]
        version = db.session.scalar(
            select(ProgramVersion)
            .where(ProgramVersion.clinic_id == owner.clinic_id)
            .order_by(ProgramVersion.id)
            .offset(10)
            .limit(1)
        )
        assert version.program.client_id == broken.id
        document, _ = plans.request_document(
            version,
            user=db.session.get(User, owner.id),
            paper="A4",
            large_print=False,
            request_key="damaged-sheet-0001",
            kind=SESSION,
            session_day=DAY,
        )
        db.session.commit()
        assert plans.render_document(document.id, claim_id="test-render") == "ready"
        damaged = db.session.get(PlanDocument, document.id)
        damaged.pdf = b"%PDF-1.7\n this file was cut short"
        db.session.commit()
        db.session.remove()

    first = start_worker(concurrency=2, **SETTINGS)
    browser = worker_app.test_client()
    browser.post("/account/sign-in", data={"email": owner.email, "password": Factories.PASSWORD})
    with worker_app.app_context():
        ids = list(db.session.scalars(select(Appointment.id).order_by(Appointment.id)))
    form = {
        "appointment_ids": [str(i) for i in ids],
        "what": "sessions",
        "duplex": "y",
        "day": DAY.isoformat(),
        "request_key": "fifty-clients-0001",
    }
    response = browser.post("/prints/", data=form)
    assert response.status_code == 302
    # A double click makes no second batch.
    assert browser.post("/prints/", data=form).headers["Location"] == response.headers["Location"]

    # Kill the worker (and its pool) in the middle of the batch.
    wait_for(lambda: _settled(worker_app) >= 12, timeout=240, what="a dozen sheets")
    pool = first.children()
    for pid in pool:
        os.kill(pid, signal.SIGKILL)
    first.stop(signal.SIGKILL)
    assert _settled(worker_app) < CLIENTS + 1, "the batch was finished before the kill"
    start_worker(concurrency=2, **SETTINGS)

    def finished() -> bool:
        with worker_app.app_context():
            relay.apply()
        return _batch(worker_app).status == "ready"

    deadline = time.monotonic() + 300
    while not finished():
        assert time.monotonic() < deadline, "the batch did not finish after the worker was killed"
        time.sleep(2)

    batch = _batch(worker_app)
    printed = [item for item in batch.items if item.status == "printed"]
    left = [item for item in batch.items if item.status == "left_out"]
    assert [item.client_id for item in left] == [broken.id]
    assert left[0].reason.startswith("render failed")
    # Appointment order (booked in reverse), each client once.
    expected = [p.id for p in reversed(people) if p.id != broken.id]
    assert [item.client_id for item in printed] == expected
    with worker_app.app_context():
        per_client = {}
        for item in printed:
            per_client[item.client_id] = db.session.get(
                PlanDocument, item.session_document_id
            ).page_count
        sessions = db.session.scalar(
            select(func.count()).where(
                PlanDocument.kind == SESSION, PlanDocument.reused_from_id.is_(None)
            )
        )
    assert sessions == CLIENTS  # one render per client, however many tasks ran
    blanks = sum(pages % 2 for pages in per_client.values())
    reader = PdfReader(io.BytesIO(browser.get(f"/prints/{batch.id}/download").data))
    assert len(reader.pages) == sum(per_client.values()) + blanks == batch.page_count
    # Each client starts on a fresh sheet, in order: the first page of each names its client.
    page_index = 0
    for item in printed[:5]:
        name = next(p.name for p in people if p.id == item.client_id)
        assert name in reader.pages[page_index].extract_text()
        pages = per_client[item.client_id]
        page_index += pages + pages % 2
    page = browser.get(f"/prints/{batch.id}").get_data(as_text=True)
    assert f"{CLIENTS - 1} clients printed, 1 left out" in page
    assert "Client 10" in page and "render failed" in page
