"""The merged print is each client's own pages, unchanged and in order; a stored document that is
damaged leaves its client out instead of printing part of it."""

from __future__ import annotations

import io
from datetime import date

import pikepdf
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from trainer_app.accounts.models import User
from trainer_app.extensions import db
from trainer_app.plans import service as plans
from trainer_app.plans.models import SESSION, PlanDocument
from trainer_app.prints.models import PrintBatch
from trainer_app.prints.service import _open_pdf
from trainer_app.programs.models import ProgramVersion

DAY = date(2026, 12, 1)


def _print(client, people, *, what: str, key: str):
    response = client.post(
        "/prints/",
        data={
            "client_ids": [str(p.id) for p in people],
            "what": what,
            "duplex": "y",
            "day": DAY.isoformat(),
            "request_key": key,
        },
    )
    assert response.status_code == 302
    return response


def test_every_merged_page_is_its_clients_own_page_in_order_with_blanks_sized_alike(
    app, client, auth, factories
):
    auth.login()
    owner = auth.user
    people = [factories.client_record(owner, name=n) for n in ("Ada One", "Bea Two")]
    for person in people:
        factories.program_version(owner, person)
    _print(client, people, what="both", key="merged-pages-match-01")
    with app.app_context():
        batch = db.session.scalar(select(PrintBatch))
        assert batch.status == "ready"
        merged = PdfReader(io.BytesIO(batch.pdf))
        expected: list[tuple[str, tuple[float, float]] | None] = []
        for item in batch.items:
            assert item.status == "printed"
            pages = 0
            for document_id in (item.session_document_id, item.plan_document_id):
                source = PdfReader(
                    io.BytesIO(plans.pdf_bytes(db.session.get(PlanDocument, document_id)))
                )
                expected += [
                    (page.extract_text(), (float(page.mediabox.width), float(page.mediabox.height)))
                    for page in source.pages
                ]
                # Two-sided, each document starts on a fresh sheet.
                expected += [None] * (len(source.pages) % 2)
                pages += len(source.pages)
            assert item.page_count == pages
        blanks = batch.blank_pages
    assert len(merged.pages) == len(expected)
    assert blanks == expected.count(None) > 0  # the one-page session sheet has a blank back
    previous_size = None
    for page, want in zip(merged.pages, expected, strict=True):
        size = (float(page.mediabox.width), float(page.mediabox.height))
        if want is None:
            assert page.extract_text().strip() == "" and size == previous_size
        else:
            assert (page.extract_text(), size) == want
        previous_size = size
    assert "Ada One" in merged.pages[0].extract_text()


@pytest.mark.parametrize("damage", ["truncated", "not-a-pdf"])
def test_a_damaged_stored_document_leaves_its_client_out_and_the_others_print(
    app, client, auth, factories, damage
):
    auth.login()
    owner = auth.user
    people = [factories.client_record(owner, name=n) for n in ("Ada One", "Bea Two", "Cy Three")]
    versions = [factories.program_version(owner, person) for person in people]
    # Bea's sheet for the day is rendered ahead, then damaged in storage; the batch reuses it.
    with app.app_context():
        document, _ = plans.request_document(
            db.session.get(ProgramVersion, versions[1]),
            user=db.session.get(User, owner.id),
            paper="A4",
            large_print=False,
            request_key="damaged-ahead-0001",
            kind=SESSION,
            session_day=DAY,
        )
        db.session.commit()
        assert plans.render_document(document.id, claim_id="render-in-test") == "ready"
        stored = db.session.get(PlanDocument, document.id)
        stored.pdf = stored.pdf[: len(stored.pdf) // 2] if damage == "truncated" else b"%PDF-1.7"
        db.session.commit()
    response = _print(client, people, what="sessions", key=f"damaged-{damage}-print")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bea Two" in page and "render failed: unreadable PDF" in page
    with app.app_context():
        batch = db.session.scalar(select(PrintBatch))
        assert batch.status == "ready"
        outcome = [(i.client_id, i.status) for i in batch.items]
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(batch.pdf)).pages)
    assert outcome == [
        (people[0].id, "printed"),
        (people[1].id, "left_out"),
        (people[2].id, "printed"),
    ]
    assert "Ada One" in text and "Cy Three" in text and "Bea Two" not in text


def test_a_pdf_without_pages_is_refused():
    empty = io.BytesIO()
    with pikepdf.Pdf.new() as pdf:
        pdf.save(empty)
    with pytest.raises(pikepdf.PdfError):
        _open_pdf(empty.getvalue())
    with pytest.raises(pikepdf.PdfError):
        _open_pdf(None)
