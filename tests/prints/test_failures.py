"""A client whose render fails is listed with the reason; the rest of the day still prints."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from trainer_app.extensions import db
from trainer_app.plans import service as plans
from trainer_app.plans.render import RenderError, render_session
from trainer_app.prints.models import PrintBatch


def test_a_failed_render_leaves_that_client_out_and_the_others_print(
    app, client, auth, factories, monkeypatch
):
    auth.login()
    owner = auth.user
    people = [factories.client_record(owner, name=n) for n in ("Ada One", "Bea Two", "Cy Three")]
    for person in people:
        factories.program_version(owner, person)

    def fails_for_bea(context, **limits):
        if context["client"]["name"] == "Bea Two":
            raise RenderError("The PDF renderer stopped unexpectedly (signal 9)")
        return render_session(context, **limits)

    monkeypatch.setattr(plans, "render_session", fails_for_bea)
    response = client.post(
        "/prints/",
        data={
            "client_ids": [str(p.id) for p in people],
            "what": "sessions",
            "day": date(2026, 12, 1).isoformat(),
            "request_key": "one-failing-client-01",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bea Two" in page and "render failed: The PDF renderer stopped unexpectedly" in page
    with app.app_context():
        batch = db.session.scalar(select(PrintBatch))
        assert batch.status == "ready"
        printed = [i.client_id for i in batch.items if i.status == "printed"]
        assert printed == [people[0].id, people[2].id]  # the list's order, Bea left out
        reader = PdfReader(io.BytesIO(batch.pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Ada One" in text and "Cy Three" in text and "Bea Two" not in text


def test_when_every_client_is_left_out_the_status_says_nothing_printed(
    app, client, auth, factories, monkeypatch
):
    auth.login()
    owner = auth.user
    person = factories.client_record(owner, name="Bea Two")
    factories.program_version(owner, person)

    def fails(context, **limits):
        raise RenderError("The PDF renderer stopped unexpectedly (signal 9)")

    monkeypatch.setattr(plans, "render_session", fails)
    response = client.post(
        "/prints/",
        data={
            "client_ids": [str(person.id)],
            "what": "sessions",
            "day": date(2026, 12, 1).isoformat(),
            "request_key": "all-clients-failing-01",
        },
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No sheet printed: 1 left out" in page
    assert "client done" not in page and "clients done" not in page
    assert "Bea Two" in page and "render failed: The PDF renderer stopped unexpectedly" in page
