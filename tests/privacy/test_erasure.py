"""Erasing a client: every row and stored file with their data goes; a tombstone stays."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import select

import worker.tasks  # noqa: F401  (registers the tasks the web runs eagerly in tests)
from tests.security.routes import sign_in
from tests.support.world import build_world
from trainer_app.audit.models import AuditEvent
from trainer_app.extensions import db
from trainer_app.privacy.graph import client_paths
from trainer_app.privacy.models import DataExport, ErasedClient

NAME, EMAIL = "Zelda Quistgaard", "zelda.quistgaard@example.org"


def _personalise(app, world) -> Path:
    """Give the world's client a findable name, a sent email with an outbox copy."""
    from trainer_app.clients.models import Client
    from trainer_app.delivery.mailer import outbox_filename
    from trainer_app.delivery.models import Delivery
    from trainer_app.mail import outbox_folder

    with app.app_context():
        client = db.session.get(Client, world.client_id)
        client.name, client.email = NAME, EMAIL
        client.notes = "Lower back pain since 2024; red flag cleared by GP."
        delivery = db.session.get(Delivery, world.delivery_id)
        delivery.to_name, delivery.to_email = NAME, EMAIL
        delivery.message_id = f"<erase-test-{world.client_id}@trainer.invalid>"
        db.session.commit()
        path = outbox_folder(world.owner.clinic_id) / outbox_filename(delivery.message_id)
        path.write_bytes(
            f"To: {NAME} <{EMAIL}>\r\nSubject: Your plan\r\n\r\nHello {NAME}\r\n".encode()
        )
        return path


def _erase(browser, client_id, typed=NAME, reason="client_request"):
    return browser.post(
        f"/privacy/clients/{client_id}/erase", data={"reason": reason, "confirm_name": typed}
    )


def _scan_rows(app, client_id: int) -> tuple[list[str], list[tuple[str, int]]]:
    """Values anywhere in the database holding the name or email; rows naming the id."""
    found, naming = [], []
    needles = (NAME.casefold(), EMAIL.casefold())
    with app.app_context():
        db.session.remove()
        id_columns = {fk.parent for fk in _client_keys()}
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                for row in conn.execute(select(table)).mappings():
                    for column in table.columns:
                        value = row[column]
                        text = (
                            value.decode("latin-1") if isinstance(value, bytes) else str(value)
                        ).casefold()
                        if any(needle in text for needle in needles):
                            found.append(f"{table.name}.{column.name}")
                        if value == client_id and (
                            column in id_columns or column.name == "client_id"
                        ):
                            naming.append((table.name, row[table.primary_key.columns[0]]))
    return found, naming


def _client_keys():
    return [
        fk
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "clients"
    ]


def _scan_files(app, database_url: str) -> list[str]:
    # Lower case: the search index holds the name folded.
    needles = (NAME.lower().encode(), EMAIL.lower().encode())
    folders = {Path(app.instance_path), Path(app.config["OUTBOX_FOLDER"])}
    if database_url.startswith("sqlite:///"):
        folders.add(Path(database_url.removeprefix("sqlite:///")).parent)
    hits = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and any(n in path.read_bytes().lower() for n in needles):
                hits.append(str(path))
    return hits


def test_after_erasure_only_the_tombstone_and_audit_rows_name_the_client(
    app, factories, database_url
):
    world = build_world(app, factories)
    outbox_copy = _personalise(app, world)
    neighbour = factories.client_record(world.owner, name="Kept Client")
    owner = app.test_client()
    sign_in(owner, world.owner.email)
    owner.get(f"/clients/{world.client_id}")
    owner.get(f"/plans/{world.document_id}/download")
    owner.post("/privacy/clinic/export", data={"request_key": "clinic-export-00000001"})
    assert _scan_rows(app, world.client_id)[0], "the scan finds the client before erasure"
    assert outbox_copy.exists()

    page = owner.get(f"/privacy/clients/{world.client_id}/erase").get_data(as_text=True)
    assert "assessments: 1" in page and "plan PDFs: 1" in page
    wrong = _erase(owner, world.client_id, typed="Zelda")
    assert wrong.status_code == 400
    assert "nothing was erased" in wrong.get_data(as_text=True)
    assert _erase(owner, world.client_id, typed="  zelda   QUISTGAARD ").status_code == 302

    found, naming = _scan_rows(app, world.client_id)
    assert found == []
    assert {table for table, _ in naming} == {"audit_events", "erased_clients"}
    assert not outbox_copy.exists()
    assert _scan_files(app, database_url) == []
    with app.app_context():
        tombstone = db.session.scalars(select(ErasedClient)).one()
        assert (tombstone.client_id, tombstone.reason, tombstone.erased_by_id) == (
            world.client_id,
            "client_request",
            world.owner.id,
        )
        audit = db.session.scalars(
            select(AuditEvent).where(AuditEvent.client_id == world.client_id)
        ).all()
        assert [row.action for row in audit][-1] == "erase"
        assert {"view", "download"} <= {row.action for row in audit}
        clinic_export = db.session.scalars(
            select(DataExport).where(DataExport.scope == "clinic")
        ).one()
        assert (clinic_export.status, clinic_export.zip) == ("expired", None)
        from trainer_app.programs.models import ProgramTemplate

        template = db.session.get(ProgramTemplate, world.template_id)
        assert template is not None and template.source_program_id is None

    trail = owner.get(f"/audit/?client={world.client_id}").get_data(as_text=True)
    assert f"Erased client E-{tombstone.id}" in trail and NAME not in trail
    assert owner.get(f"/clients/{world.client_id}").status_code == 404
    assert owner.get(f"/clients/{neighbour.id}").status_code == 200
    assert f"E-{tombstone.id}" in owner.get("/privacy/").get_data(as_text=True)


def test_an_erased_clients_id_is_never_given_to_a_new_client(app, factories):
    owner = factories.user()
    first = factories.client_record(owner)
    browser = app.test_client()
    sign_in(browser, owner.email)
    assert _erase(browser, first.id, typed=first.name).status_code == 302
    assert factories.client_record(owner).id > first.id


def test_only_the_owner_erases(app, factories):
    from trainer_app.accounts.models import Clinic

    owner = factories.user()
    patient = factories.client_record(owner)
    with app.app_context():
        clinic = db.session.get(Clinic, owner.clinic_id)
        db.session.expunge(clinic)
    trainer = factories.user(clinic=clinic, role="trainer")
    browser = app.test_client()
    sign_in(browser, trainer.email)
    assert browser.get(f"/privacy/clients/{patient.id}/erase").status_code == 403
    assert _erase(browser, patient.id, typed=patient.name).status_code == 403
    assert browser.get(f"/clients/{patient.id}").status_code == 200
    assert "Erase this client" not in browser.get(f"/clients/{patient.id}").get_data(as_text=True)


def test_the_whole_clinic_export_has_every_client_and_no_secrets(app, factories):
    world = build_world(app, factories)
    second = factories.client_record(world.owner, name="Second Person")
    owner = app.test_client()
    sign_in(owner, world.owner.email)
    owner.get(f"/clients/{second.id}")
    assert (
        owner.post(
            "/privacy/clinic/export", data={"request_key": "clinic-export-00000002"}
        ).status_code
        == 302
    )
    with app.app_context():
        export = db.session.scalars(select(DataExport).where(DataExport.scope == "clinic")).one()
        export_id = export.id
    data = owner.get(f"/privacy/exports/{export_id}/download").data
    root = f"clinic-{world.owner.clinic_id}"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = json.loads(archive.read(f"{root}/data.json"))
    tables = document["tables"]
    assert {c["id"] for c in tables["clients"]} == {world.client_id, second.id}
    assert tables["users"] and all("password_hash" not in u for u in tables["users"])
    assert "login_sessions" not in tables and "account_emails" not in tables
    assert set(client_paths(db.metadata)) - {"clients"} <= set(tables)
    assert [row["client_id"] for row in tables["audit_events"]] == [second.id]
