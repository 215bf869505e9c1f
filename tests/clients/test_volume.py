"""A clinic of 10,000 clients costs its pages no more SQL statements than one of 10."""

from __future__ import annotations

import contextlib

from sqlalchemy import event, select

from trainer_app.extensions import db

SMALL, LARGE = 10, 10_000


@contextlib.contextmanager
def counting_statements(app):
    """Count the SQL statements the app's engine sends while the block runs."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _seed(app, owner, count: int) -> None:
    from trainer_app.accounts.models import User
    from trainer_app.volume import seed_clients

    with app.app_context():
        seed_clients(db.session.get(User, owner.id), count)
        db.session.commit()


def _statements_per_page(app, client, pages: list[str]) -> dict[str, int]:
    counts = {}
    for url in pages:
        with counting_statements(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(statements)
    return counts


def test_pages_issue_as_many_statements_with_10_000_clients_as_with_10(app, client, auth):
    from trainer_app.clients.models import Client
    from trainer_app.programs.models import Program

    auth.login()
    _seed(app, auth.user, SMALL)
    with app.app_context():
        program = db.session.scalars(select(Program).order_by(Program.id)).first()
        page_of_clients = db.session.scalar(select(db.func.count(Client.id)))
        pages = [
            "/clients/",
            "/clients/?sort=-assessed",
            "/clients/?sort=-program",
            "/clients/?q=lukasiewicz",
            f"/clients/{program.client_id}",
            f"/programs/{program.id}",
            "/dashboard",
        ]
    assert page_of_clients == SMALL
    small = _statements_per_page(app, client, pages)

    _seed(app, auth.user, LARGE - SMALL)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Client.id))) == LARGE
    large = _statements_per_page(app, client, pages)
    assert large == small
    # the large list really shows a full page and the dashboard has a full list to show
    assert client.get("/clients/?page=2").status_code == 200
