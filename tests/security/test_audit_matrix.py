"""Audit matrix: every route that names clinic data declares whether it is audited, and the
audited ones record who saw which client. The routes come from ``app.url_map``, so a route added
later fails here until it says ``@audited(...)`` or ``@not_audited(reason)`` next to it."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.security.routes import (
    PROBE_FORM,
    STATE_CHANGING,
    methods,
    names_clinic_data,
    routes,
    sign_in,
    url_for_rule,
)
from tests.support.world import build_world
from trainer_app.audit.models import AuditEvent
from trainer_app.audit.service import READ_ACTIONS, SUBJECT_TABLES, AuditSpec, declaration
from trainer_app.extensions import db


def undeclared(app) -> list[str]:
    """Routes that take an id of clinic data but neither audit nor say why not."""
    return [
        f"{rule.rule} ({rule.endpoint})"
        for rule in routes(app)
        if names_clinic_data(rule) and declaration(app.view_functions[rule.endpoint]) is None
    ]


def test_every_route_naming_clinic_data_is_audited_or_exempt_with_a_reason(app):
    assert undeclared(app) == [], (
        "routes taking an id of clinic data must say whether they show a client's data: add "
        "@audited() (trainer_app.audit.service) under the @bp.route line, or "
        "@not_audited('why it shows no client data')"
    )
    reasons = [
        declaration(app.view_functions[rule.endpoint])
        for rule in routes(app)
        if isinstance(declaration(app.view_functions[rule.endpoint]), str)
    ]
    assert reasons and all(len(reason) > 10 for reason in reasons)


def test_a_new_route_with_a_client_id_and_no_declaration_is_caught(make_app):
    extra = make_app()

    @extra.get("/clients/<int:client_id>/secret-notes")
    def secret_notes(client_id: int):
        return "health data nobody audits"

    assert undeclared(extra) == ["/clients/<int:client_id>/secret-notes (secret_notes)"]


def _rows(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows


def test_each_audited_route_records_who_saw_which_client(app, factories):
    world = build_world(app, factories)
    browser = app.test_client()
    sign_in(browser, world.owner.email)
    checked = []
    for rule in routes(app):
        spec = declaration(app.view_functions[rule.endpoint])
        if not isinstance(spec, AuditSpec):
            continue
        for method in methods(rule):
            seen = len(_rows(app))
            url = url_for_rule(app, rule, world, method)
            data = PROBE_FORM if method in STATE_CHANGING else None
            response = browser.open(url, method=method, data=data)
            assert response.status_code < 500, url
            new = _rows(app)[seen:]
            if method == "GET":
                assert response.status_code == 200, url
            if response.status_code >= 400 and not new:
                continue  # refused by an abort (a probe form no page could send): nothing shown
            assert len(new) == 1, f"{method} {url} recorded {len(new)} rows"
            row = new[0]
            assert (row.clinic_id, row.user_id, row.role) == (
                world.owner.clinic_id,
                world.owner.id,
                "owner",
            )
            assert row.what == rule.endpoint and row.address == "127.0.0.1"
            if set(rule.arguments) & set(SUBJECT_TABLES):
                assert row.client_id == world.client_id, url
            if method == "GET":
                assert row.action == (spec.action if spec.action in READ_ACTIONS else "view"), url
            else:
                assert row.action in ("view", "change", spec.action), url
            checked.append((method, rule.endpoint, row.action))
    endpoints = {endpoint for _, endpoint, _ in checked}
    for endpoint in ("clients.detail", "assessments.detail", "plans.download", "delivery.send"):
        assert endpoint in endpoints
    assert ("GET", "plans.download", "download") in checked
    assert ("POST", "delivery.send", "email") in checked
    assert ("POST", "clients.edit", "change") in checked


def test_another_clinics_ids_record_nothing(app, factories):
    victim = build_world(app, factories)
    attacker = factories.user()
    browser = app.test_client()
    sign_in(browser, attacker.email)
    assert browser.get(f"/clients/{victim.client_id}").status_code == 404
    assert browser.get(f"/plans/{victim.document_id}/download").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_every_table_holding_client_data_has_an_export_and_erasure_policy():
    from trainer_app import models  # noqa: F401  (every table on the metadata)
    from trainer_app.privacy.graph import client_paths
    from trainer_app.privacy.tables import CLIENT_TABLES, missing_policies

    assert missing_policies(db.metadata) == [], (
        "these tables reach clients by foreign keys: say in CLIENT_TABLES "
        "(trainer_app/privacy/tables.py) whether their rows are the client's (owned: exported "
        "and erased with them) or a clinic's row pointing at theirs (detached, with the reason)"
    )
    assert set(client_paths(db.metadata)) == set(CLIENT_TABLES), "a stale CLIENT_TABLES entry"
