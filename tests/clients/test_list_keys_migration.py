"""The migrations that add the client list's sort keys, the assessments' blocked flag and the
versions' weeks fill them in for rows recorded before, on both databases."""

from __future__ import annotations

import json

from sqlalchemy import text

from trainer_app.extensions import db

BEFORE = "2b7e9c4d5a18"  # the revision before the sort keys


def test_upgrade_fills_sort_keys_blocked_flags_and_weeks(make_app, backend, tmp_path_factory):
    from flask_migrate import downgrade, upgrade

    from tests.support import services

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('keys') / 'k.sqlite3'}"
    else:
        url = services.fresh_postgres_database("trainer_test_list_keys")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision=BEFORE)
        run = db.session.execute
        run(
            text(
                "INSERT INTO clinics (id, name, contact, accent_color, paper_size, time_zone,"
                " created_at) VALUES (1, 'C', '', '#000000', 'A4', 'UTC', '2026-01-01')"
            )
        )
        for client_id in (1, 2):
            run(
                text(
                    "INSERT INTO clients (id, clinic_id, name, notes, email_consent, created_at,"
                    " updated_at, search_text) VALUES (:id, 1, 'N', '', false, '2026-01-01',"
                    " '2026-01-01', 'n')"
                ),
                {"id": client_id},
            )
        for assessment_id, at, blocked in ((1, "2026-02-01", True), (2, "2026-03-01", False)):
            run(
                text(
                    "INSERT INTO assessments (id, clinic_id, client_id, questionnaire_version,"
                    " answers, result, notes, created_at) VALUES (:id, 1, 1, 'q', '{}', :result,"
                    " '', :at)"
                ),
                {"id": assessment_id, "at": at, "result": json.dumps({"blocked": blocked})},
            )
        run(
            text(
                "INSERT INTO programs (id, clinic_id, client_id, title, created_at)"
                " VALUES (1, 1, 1, 'P', '2026-03-02')"
            )
        )
        for number, at, weeks in ((1, "2026-03-02", 6), (2, "2026-03-09", None)):
            run(
                text(
                    "INSERT INTO program_versions (clinic_id, program_id, number, content,"
                    " catalog_version, change_note, created_at)"
                    " VALUES (1, 1, :n, :content, 'c', '', :at)"
                ),
                {"n": number, "at": at, "content": json.dumps({"weeks": weeks})},
            )
        db.session.commit()
        upgrade()
        keys = run(
            text("SELECT id, last_assessed_at, program_changed_at FROM clients ORDER BY id")
        ).all()
        blocked = run(text("SELECT id, blocked FROM assessments ORDER BY id")).all()
        weeks = run(text("SELECT number, weeks FROM program_versions ORDER BY number")).all()
        assert [(k[0], str(k[1])[:10], str(k[2])[:10]) for k in keys] == [
            (1, "2026-03-01", "2026-03-09"),
            (2, "None", "None"),
        ]
        assert [(a, bool(b)) for a, b in blocked] == [(1, True), (2, False)]
        assert weeks == [(1, 6), (2, 1)]
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
