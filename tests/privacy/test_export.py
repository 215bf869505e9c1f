"""Exporting one client's data: built by the worker's rules, complete, for the right people."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select, update

import worker.tasks  # noqa: F401  (registers the tasks the web runs eagerly in tests)
from tests.security.routes import sign_in
from tests.support.world import build_world
from trainer_app.extensions import db
from trainer_app.privacy import service
from trainer_app.privacy.models import DataExport
from trainer_app.privacy.tables import CLIENT_TABLES, OWNED
from trainer_app.timeutil import utcnow


def _export(browser, client_id, key="export-key-0000000001"):
    return browser.post(f"/privacy/clients/{client_id}/export", data={"request_key": key})


def _latest(app) -> DataExport:
    with app.app_context():
        export = db.session.scalars(select(DataExport).order_by(DataExport.id.desc())).first()
        db.session.expunge(export)
        return export


@pytest.fixture
def world(app, factories):
    return build_world(app, factories)


@pytest.fixture
def owner(app, world):
    browser = app.test_client()
    sign_in(browser, world.owner.email)
    return browser


def test_the_export_holds_every_client_table_of_the_models(app, world, owner):
    from trainer_app.clients.models import Client
    from trainer_app.plans.models import PlanDocument

    with app.app_context():
        db.session.get(Client, world.client_id).notes = '=HYPERLINK("http://evil")\nknee pain'
        db.session.commit()
        stored_pdf = db.session.get(PlanDocument, world.document_id).pdf
    owner.get(f"/clients/{world.client_id}")  # leaves a row in the access log
    assert _export(owner, world.client_id).status_code == 302
    export = _latest(app)
    assert export.status == "ready" and export.client_id == world.client_id
    response = owner.get(f"/privacy/exports/{export.id}/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"

    root = f"client-{world.client_id}"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        document = json.loads(archive.read(f"{root}/data.json"))
        names = archive.namelist()
        clients_csv = archive.read(f"{root}/csv/clients.csv").decode()
        pdfs = [archive.read(n) for n in names if n.endswith(".pdf")]
    owned = {name for name, policy in CLIENT_TABLES.items() if policy.kind == OWNED}
    assert set(document["tables"]) == owned | {"audit_events"}
    assert {f"{root}/csv/{name}.csv" for name in owned} <= set(names)
    tables = document["tables"]
    assert tables["clients"][0]["email"] == "world@example.com"
    assert "search_text" not in tables["clients"][0]
    assert tables["assessments"][0]["answers"] and tables["assessments"][0]["result"]
    assert [v["id"] for v in tables["program_versions"]] == [world.version_id]
    assert tables["deliveries"][0]["to_email"] == "world@example.com"
    assert tables["plan_documents"][0]["pdf"]["file"].endswith(".pdf")
    # The plan's PDF and the referral letter's, each under the name its row gives.
    assert stored_pdf in pdfs
    named = [row["pdf"]["file"] for row in tables["plan_documents"] + tables["referral_letters"]]
    assert len(pdfs) == len(named) == 2
    assert [row["what"] for row in tables["audit_events"]] == ["clients.detail"]
    assert '"\'=HYPERLINK(""http://evil"")\nknee pain"' in clients_csv


def test_another_clients_and_another_clinics_data_stay_out(app, factories, world, owner):
    other = build_world(app, factories)
    neighbour = factories.client_record(world.owner, name="Neighbour Nielsen")
    _export(owner, world.client_id)
    data = owner.get(f"/privacy/exports/{_latest(app).id}/download").data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = b"".join(archive.read(n) for n in archive.namelist())
    assert b"Neighbour Nielsen" not in text and neighbour.email.encode() not in text
    assert f"invited{other.owner.clinic_id}@".encode() not in text


def test_only_the_owner_and_the_clients_own_trainer_may_export(app, factories, world):
    from trainer_app.accounts.models import Clinic

    with app.app_context():
        clinic = db.session.get(Clinic, world.owner.clinic_id)
        db.session.expunge(clinic)
    colleague = factories.user(clinic=clinic, role="trainer")
    own_trainer = factories.user(clinic=clinic, role="trainer")
    own_client = factories.client_record(own_trainer, name="Trained By Them")
    browser = app.test_client()
    sign_in(browser, colleague.email)
    assert _export(browser, world.client_id).status_code == 403
    assert browser.get(f"/privacy/exports/{world.export_id}/download").status_code == 403
    assert browser.get(f"/privacy/exports/{world.export_id}/status").status_code == 403
    page = browser.get(f"/clients/{world.client_id}").get_data(as_text=True)
    assert "Export this client" not in page
    browser = app.test_client()
    sign_in(browser, own_trainer.email)
    assert _export(browser, own_client.id).status_code == 302
    assert browser.get(f"/privacy/exports/{_latest(app).id}/download").status_code == 200


def test_a_double_click_makes_one_export_and_expired_zips_are_gone(app, world, owner):
    _export(owner, world.client_id, key="same-key-000000000001")
    _export(owner, world.client_id, key="same-key-000000000001")
    export = _latest(app)
    with app.app_context():
        assert len(db.session.scalars(select(DataExport)).all()) == 2  # the world's and this
        db.session.execute(
            update(DataExport)
            .where(DataExport.id == export.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    assert owner.get(f"/privacy/exports/{export.id}/download").status_code == 404
    with app.app_context():
        assert service.expire_exports(utcnow()) == 1
        db.session.commit()
        row = db.session.get(DataExport, export.id)
        assert (row.status, row.zip) == ("expired", None)
    page = owner.get(f"/clients/{world.client_id}").get_data(as_text=True)
    assert "Expired" in page


def test_an_export_left_queued_is_relayed_and_built_once(app, world, owner, monkeypatch):
    from trainer_app.privacy import views

    monkeypatch.setattr(views, "enqueue", lambda *a, **k: False)  # the broker is down
    _export(owner, world.client_id)
    export = _latest(app)
    assert export.status == "queued"
    row = owner.get(f"/privacy/exports/{export.id}/status").get_data(as_text=True)
    assert "Queued" in row and "data-poll-url" in row
    with app.app_context():
        app.config["RELAY_AFTER_SECONDS"] = 0
        try:
            assert service.due_for_relay(utcnow() + timedelta(seconds=1)) == [export.id]
            db.session.commit()
            assert service.build_export(export.id, claim_id="first") == "ready"
            assert service.build_export(export.id, claim_id="second") == "skipped"
            assert service.due_for_relay(utcnow() + timedelta(seconds=1)) == []
        finally:
            app.config["RELAY_AFTER_SECONDS"] = 60
    assert _latest(app).attempts == 1
