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
