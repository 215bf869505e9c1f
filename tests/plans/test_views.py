"""Make PDF, follow its status, download it; tenancy on every plan route."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from sqlalchemy import select

import worker.tasks  # noqa: F401  (registers the tasks the web runs eagerly in tests)
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument
from trainer_app.programs.models import ProgramVersion


@pytest.fixture
def signed_in_version(auth, factories):
    auth.login()
    return factories.program_version(auth.user)


def _make(client, version_id, key="r" * 22, **extra):
    data = {"paper": "A4", "request_key": key}
    data.update(extra)
    return client.post(f"/plans/versions/{version_id}/make", data=data)


def test_make_pdf_then_download(app, client, signed_in_version):
    response = _make(client, signed_in_version)
    assert response.status_code == 302
    with app.app_context():
        doc = db.session.scalar(select(PlanDocument))
        assert doc.status == "ready"
        doc_id = doc.id
    download = client.get(f"/plans/{doc_id}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF")
    assert download.headers["Cache-Control"] == "no-store"
    assert "attachment" in download.headers["Content-Disposition"]
    status = client.get(f"/plans/{doc_id}/status").get_data(as_text=True)
    assert "Ready" in status and "data-poll-url" not in status


def test_double_click_makes_one_document(app, client, signed_in_version):
    _make(client, signed_in_version, key="same-key-123456789")
    _make(client, signed_in_version, key="same-key-123456789")
    with app.app_context():
        assert len(db.session.scalars(select(PlanDocument)).all()) == 1


def test_queued_document_row_polls(app, client, signed_in_version, monkeypatch):
    from trainer_app.plans import views

    monkeypatch.setattr(views, "enqueue", lambda *a, **k: True)
    _make(client, signed_in_version)
    with app.app_context():
        doc_id = db.session.scalar(select(PlanDocument.id))
    row = client.get(f"/plans/{doc_id}/status").get_data(as_text=True)
    assert "Queued" in row and f'data-poll-url="/plans/{doc_id}/status"' in row
    assert client.get(f"/plans/{doc_id}/download").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("paper", "A3", "Not a valid choice"), ("request_key", "x", "Reload the page")],
)
def test_bad_request_makes_nothing(app, client, signed_in_version, field, value, message):
    response = _make(client, signed_in_version, **{field: value})
    assert response.status_code == 302
    follow = client.get(response.headers["Location"])
    assert message in follow.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(PlanDocument)).all() == []


def test_other_clinic_gets_404_everywhere(app, client, auth, factories):
    owner = factories.user()
    their_version = factories.program_version(owner)
    with app.app_context():
        version = db.session.get(ProgramVersion, their_version)
        doc = PlanDocument(
            clinic_id=owner.clinic_id,
            program_version_id=version.id,
            request_key="x:1",
            paper_size="A4",
            status="ready",
            pdf=b"%PDF-secret",
        )
        db.session.add(doc)
        db.session.commit()
        doc_id = doc.id
    auth.login()
    assert _make(client, their_version).status_code == 404
    assert client.get(f"/plans/{doc_id}/status").status_code == 404
    download = client.get(f"/plans/{doc_id}/download")
    assert download.status_code == 404 and b"secret" not in download.data
    with app.app_context():
        assert len(db.session.scalars(select(PlanDocument)).all()) == 1


@pytest.mark.parametrize("route", ["/plans/1/status", "/plans/1/download"])
def test_plan_routes_need_sign_in(client, route):
    response = client.get(route)
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


@pytest.mark.parametrize(
    ("name", "ascii_name", "encoded"),
    [
        (
            "Łukasiewicz Ærø",
            "Lukasiewicz AEro - Corrective program.pdf",
            "%C5%81ukasiewicz%20%C3%86r%C3%B8%20-%20Corrective%20program.pdf",
        ),
        ("王芳", "Corrective program.pdf", "%E7%8E%8B%E8%8A%B3%20-%20Corrective%20program.pdf"),
        (
            "\u202eevil\u202d fdp.exe",
            "evil fdp.exe - Corrective program.pdf",
            "evil%20fdp.exe%20-%20Corrective%20program.pdf",
        ),
    ],
)
def test_download_is_named_as_the_email_attachment(
    app, client, auth, factories, name, ascii_name, encoded
):
    from werkzeug.http import parse_options_header

    from trainer_app.delivery.service import attachment_name

    auth.login()
    version_id = factories.program_version(auth.user, factories.client_record(auth.user, name=name))
    _make(client, version_id)
    with app.app_context():
        doc_id = db.session.scalar(select(PlanDocument.id))
    header = client.get(f"/plans/{doc_id}/download").headers["Content-Disposition"]
    assert header == f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
    kind, options = parse_options_header(header)
    assert kind == "attachment"
    # the same name the emailed plan's attachment carries
    assert unquote(encoded) == attachment_name(name, "Corrective program")
    assert "\u202e" not in options["filename"] and options["filename"].endswith(".pdf")


def test_copies_of_one_version_and_paper_say_which_to_use(app, client, signed_in_version):
    """Two ready A4 copies of v1 from two print runs: the page says which is newest, why the
    older one differs, when each was made and how long it is, and which day's print asked."""
    import html
    from datetime import date, timedelta

    from trainer_app.prints.models import PrintBatch, PrintItem
    from trainer_app.timeutil import format_local, utcnow

    with app.app_context():
        version = db.session.get(ProgramVersion, signed_in_version)
        made = utcnow() - timedelta(hours=3)
        ids = []
        for n, fingerprint in enumerate(("before-progress", "after-progress")):
            document = PlanDocument(
                clinic_id=version.clinic_id,
                program_version_id=version.id,
                request_key=f"print-run-{n}".ljust(22, "x"),
                paper_size="A4",
                status="ready",
                fingerprint=fingerprint,
                page_count=6 + n,
                size_bytes=1000,
                created_at=made + timedelta(hours=n),
                finished_at=made + timedelta(hours=n, minutes=1),
            )
            db.session.add(document)
            db.session.flush()
            ids.append(document.id)
        batch = PrintBatch(
            clinic_id=version.clinic_id,
            request_key="print-batch-1".ljust(22, "x"),
            what="plans",
            day=date(2026, 11, 30),
            paper_size="A4",
        )
        db.session.add(batch)
        db.session.flush()
        db.session.add(
            PrintItem(
                batch_id=batch.id,
                clinic_id=version.clinic_id,
                position=0,
                client_id=version.program.client_id,
                plan_document_id=ids[1],
            )
        )
        db.session.commit()
        newer_requested = format_local(made + timedelta(hours=1), None, "datetime_zone")
        made_times = [
            format_local(made + timedelta(hours=n, minutes=1), None, "time") for n in (0, 1)
        ]
        program_id = version.program_id
    page = html.unescape(client.get(f"/programs/{program_id}").get_data(as_text=True))
    older = page[page.index(f'id="document-{ids[0]}"') :]
    older = older[: older.index("</tr>")]
    newer = page[page.index(f'id="document-{ids[1]}"') :]
    newer = newer[: newer.index("</tr>")]
    assert "Newest copy of this version and paper: use this one" in newer
    assert "For the day's print of 30 Nov 2026" in newer
    assert f"made {made_times[1]}, 7 pages" in newer
    assert (
        f"Older copy: the one requested {newer_requested} has the progress or details changed"
        in older
    )
    assert f"made {made_times[0]}, 6 pages" in older and "Newest copy" not in older
