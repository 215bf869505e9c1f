"""The client list: accent-insensitive search, a fixed number of queries, assessment and program
columns, sorting by them, and the search index on PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from tests.support.factories import ASSESSMENT_ANSWERS
from trainer_app.accounts.models import Clinic
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import result_to_dict, score
from trainer_app.clients.models import Client
from trainer_app.clients.search import fold
from trainer_app.extensions import db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("lukasiewicz", "Zoë Łukasiewicz"),
        ("ZOE", "Zoë Łukasiewicz"),
        ("tomas alvarez", "Tomás Álvarez"),
        ("Soren", "Søren Ørsted"),
        ("strasse", "Anna Straße"),
        ("aeble", "Ærø Æble"),
        ("łukasiewicz", "Zoe Lukasiewicz"),
    ],
)
def test_fold_ignores_case_accents_and_special_letters(typed, stored):
    assert fold(typed) in fold(stored)


RESULT = result_to_dict(score(default_questionnaire(), ASSESSMENT_ANSWERS))


def test_fold_keeps_what_differs():
    assert fold("  Maria   JENSEN ") == "maria jensen"
    assert fold("Zoë Łukasiewicz") == "zoe lukasiewicz"
    assert fold("mia") not in fold("Maria")


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/clients/\d+">([^<]+)</a>', html)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lukasiewicz", ["Zoë Łukasiewicz"]),
        ("LUKASIEWICZ", ["Zoë Łukasiewicz"]),
        ("zoe", ["Zoë Łukasiewicz"]),
        ("álvarez", ["Tomás Álvarez"]),
        ("alvarez", ["Tomás Álvarez"]),
        ("Søren", ["Søren Ørsted"]),
        ("orsted", ["Søren Ørsted"]),
        ("MARIA@EXAMPLE", ["Maria Jensen"]),
        ("50%", []),
        ("_", []),
    ],
)
def test_search_ignores_case_and_accents(client, auth, factories, query, expected):
    auth.login()
    for name, email in [
        ("Zoë Łukasiewicz", "zoe@example.com"),
        ("Tomás Álvarez", "tomas@example.com"),
        ("Søren Ørsted", "soren@example.com"),
        ("Maria Jensen", "maria@example.com"),
    ]:
        factories.client_record(auth.user, name=name, email=email)
    html = client.get("/clients/", query_string={"q": query}).get_data(as_text=True)
    assert _names(html) == expected


def test_search_follows_edits(client, auth, factories):
    auth.login()
    row = factories.client_record(auth.user, name="Ana Lopez", email="bea@example.com")
    client.post(
        f"/clients/{row.id}/edit",
        data={
            "name": "Bea Łopez-Ødegård",
            "email": "bea@example.com",
            "primary_trainer_id": str(auth.user.id),
        },
    )
    html = client.get("/clients/", query_string={"q": "lopez-odegard"}).get_data(as_text=True)
    assert _names(html) == ["Bea Łopez-Ødegård"]
    assert _names(client.get("/clients/?q=ana").get_data(as_text=True)) == []


def test_search_stays_in_the_clinic(client, auth, factories):
    other = factories.user()
    factories.client_record(other, name="Zoë Łukasiewicz")
    auth.login()
    html = client.get("/clients/?q=lukasiewicz").get_data(as_text=True)
    assert "No client matches" in html


@contextmanager
def count_statements(app):
    statements: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _client_list_statements(app, client, auth, factories, trainers: int) -> list[str]:
    auth.login()
    with app.app_context():
        clinic = db.session.get(Clinic, auth.user.clinic_id)
    team = [auth.user] + [
        factories.user(clinic=clinic, role="trainer") for _ in range(trainers - 1)
    ]
    for n in range(20):
        owner = team[n % len(team)]
        row = factories.client_record(owner, name=f"Client {n:02d}")
        if n % 3 == 0:
            factories.program_version(owner, row)
    client.get("/clients/")  # warm the session and caches the same way for both runs
    with count_statements(app) as statements:
        html = client.get("/clients/").get_data(as_text=True)
    assert html.count('<a href="/clients/') == 20
    return statements


def test_client_list_query_count_does_not_grow_with_trainers(app, client, auth, factories):
    one = _client_list_statements(app, client, auth, factories, trainers=1)
    client.post("/account/sign-out")
    with app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
    twenty = _client_list_statements(app, client, auth, factories, trainers=20)
    assert len(one) == len(twenty), (one, twenty)
    # sign-in session, user, clinic, count, page with trainers, assessments, programs
    assert len(twenty) <= 8, twenty


def test_list_shows_last_assessment_and_current_program(app, client, auth, factories):
    auth.login()
    with_program = factories.client_record(auth.user, name="Maria Jensen")
    factories.program_version(auth.user, with_program, title="Back-care program")
    factories.client_record(auth.user, name="Oliver Smith")
    html = client.get("/clients/").get_data(as_text=True)
    maria = html[html.index("Maria Jensen") : html.index("Oliver Smith")]
    assert "Back-care program" in maria and "v1" in maria
    oliver = html[html.index("Oliver Smith") :]
    assert "Not assessed" in oliver and "No program" in oliver


def _assess(app, user, client_id: int, when: datetime) -> None:
    with app.app_context():
        db.session.add(
            Assessment(
                clinic_id=user.clinic_id,
                client_id=client_id,
                trainer_id=user.id,
                questionnaire_version=RESULT["questionnaire_version"],
                answers=ASSESSMENT_ANSWERS,
                result=RESULT,
                created_at=when,
            )
        )
        db.session.commit()


def test_sort_by_last_assessment_and_program(app, client, auth, factories):
    auth.login()
    never = factories.client_record(auth.user, name="Anna Never")
    old = factories.client_record(auth.user, name="Bo Old")
    recent = factories.client_record(auth.user, name="Cy Recent")
    _assess(app, auth.user, old.id, datetime(2026, 1, 5, 9, 0))
    _assess(app, auth.user, recent.id, datetime(2026, 11, 20, 9, 0))
    _assess(app, auth.user, recent.id, datetime(2025, 3, 1, 9, 0))

    def order(sort: str) -> list[str]:
        return _names(client.get("/clients/", query_string={"sort": sort}).get_data(as_text=True))

    assert order("-assessed") == ["Cy Recent", "Bo Old", "Anna Never"]
    assert order("assessed") == ["Anna Never", "Bo Old", "Cy Recent"]
    factories.program_version(auth.user, old, title="Glute program")
    assert order("-program")[0] == "Bo Old"
    assert order("-program")[-1] in {never.name, recent.name}
    page = client.get("/clients/?sort=-assessed").get_data(as_text=True)
    assert 'aria-sort="descending"' in page
    assert "sorted by assessed most recently" in page


def test_name_sort_ignores_accents_and_case(client, auth, factories):
    auth.login()
    for name in ["zoe Adams", "Émile Zola", "Ærø Bakke", "Adam Berg"]:
        factories.client_record(auth.user, name=name)
    html = client.get("/clients/?sort=name").get_data(as_text=True)
    assert _names(html) == ["Adam Berg", "Ærø Bakke", "Émile Zola", "zoe Adams"]


def test_search_among_10000_clients_uses_the_trigram_index(app, backend, factories):
    """10,000 clients in one clinic: the search finds the one, from the trigram index on PG."""
    user = factories.user()

    def token(n: int, length: int) -> str:
        return hashlib.sha256(str(n).encode()).hexdigest()[:length]

    with app.app_context():
        db.session.execute(
            Client.__table__.insert(),
            [
                {
                    "clinic_id": user.clinic_id,
                    "name": f"{token(n, 8)} {token(-n, 10)}",
                    "search_text": f"{token(n, 8)} {token(-n, 10)} {token(n, 6)}@example.com",
                    "notes": "",
                    "email_consent": False,
                    "created_at": datetime(2026, 1, 1),
                    "updated_at": datetime(2026, 1, 1),
                }
                for n in range(10_000)
            ],
        )
        db.session.commit()
        from trainer_app.clients.service import client_query

        wanted = token(4242, 8)
        stmt = client_query(user.clinic_id, q=wanted.upper())
        assert [c.name.split()[0] for c in db.session.scalars(stmt)] == [wanted]
        if backend == "postgresql":
            # What autovacuum does on a live server: flush GIN's pending list, gather statistics.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE clients")
            compiled = stmt.compile(db.engine)
            plan = "\n".join(
                row[0]
                for row in db.session.connection().exec_driver_sql(
                    f"EXPLAIN {compiled}", compiled.params
                )
            )
            assert "Bitmap Index Scan on ix_clients_search_text_trgm" in plan, plan
        db.session.rollback()


def _revision_before_search_column() -> str:
    """The down_revision of the migration that adds clients.search_text."""
    versions = Path(__file__).resolve().parents[2] / "migrations" / "versions"
    [path] = versions.glob("*_9531a7c94100_*.py")
    return re.search(r'^down_revision = "(\w+)"', path.read_text(), re.M).group(1)


def test_migration_fills_the_search_column(make_app, backend, tmp_path_factory):
    """Clients recorded before the search column existed are found after the upgrade."""
    from flask_migrate import downgrade, upgrade

    from tests.support import services

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('mig') / 'm.sqlite3'}"
    else:
        url = services.fresh_postgres_database("trainer_test_h11_search")
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision=_revision_before_search_column())
        db.session.execute(
            text(
                "INSERT INTO clinics (id, name, contact, accent_color, paper_size, created_at) "
                "VALUES (1, 'C', '', '#000000', 'A4', '2026-01-01')"
            )
        )
        db.session.execute(
            text(
                "INSERT INTO clients (id, clinic_id, name, email, notes, email_consent, "
                "created_at, updated_at) VALUES (1, 1, 'Zoë Łukasiewicz', 'ZOE@example.com', '', "
                "false, '2026-01-01', '2026-01-01')"
            )
        )
        db.session.commit()
        upgrade()
        row = db.session.execute(text("SELECT search_text FROM clients")).scalar_one()
        zone = db.session.execute(text("SELECT time_zone FROM clinics")).scalar_one()
        assert row == "zoe lukasiewicz zoe@example.com"
        assert zone == "UTC"
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_search_column_never_lags(app, factories):
    user = factories.user()
    row = factories.client_record(user, name="Øre Ås", email=None)
    with app.app_context():
        stored = db.session.scalar(select(Client.search_text).where(Client.id == row.id))
    assert stored == "ore as"


def test_recently_updated_follows_program_changes(app, client, auth, factories):
    """Editing a client's program makes the client the most recently updated one."""
    from tests.programs.test_views import edit_data
    from trainer_app.programs.builder import draft_from_dict
    from trainer_app.programs.models import ProgramVersion

    auth.login()
    maria = factories.client_record(auth.user, name="Maria Jensen")
    version_id = factories.program_version(auth.user, maria)
    oliver = factories.client_record(auth.user, name="Oliver Smith")
    with app.app_context():
        db.session.get(Client, maria.id).updated_at = datetime(2026, 1, 1)
        db.session.get(Client, oliver.id).updated_at = datetime(2026, 2, 1)
        db.session.commit()
        version = db.session.get(ProgramVersion, version_id)
        program_id, items = version.program_id, draft_from_dict(version.content).items

    def order() -> list[str]:
        return _names(client.get("/clients/?sort=-updated").get_data(as_text=True))

    assert order() == ["Oliver Smith", "Maria Jensen"]
    first = items[0].exercise_slug
    data = edit_data(items, note="One set less", **{first: {"sets": items[0].sets - 1}})
    assert client.post(f"/programs/{program_id}/edit", data=data).status_code == 302
    assert order() == ["Maria Jensen", "Oliver Smith"]
    dashboard = client.get("/dashboard").get_data(as_text=True)
    recent = dashboard[dashboard.index("Recently updated clients") :]
    assert recent.index("Maria Jensen") < recent.index("Oliver Smith")


@pytest.mark.parametrize("sort", ["-assessed", "assessed", "-program", "name", "-updated"])
def test_pages_walk_the_whole_list_in_order_across_never_assessed_clients(
    app, auth, factories, sort
):
    """A page is read from the clients with a value in the sort column and those without, so
    a page that straddles the two, and every page after, continues the list exactly."""
    from trainer_app.clients.service import client_page, client_query

    auth.login()
    clients = [factories.client_record(auth.user, name=f"Client {n}") for n in range(8)]
    for n, c in enumerate(clients[:5]):
        _assess(app, auth.user, c.id, datetime(2026, 1 + n % 3, 10 + n, 9, 0))
    factories.program_version(auth.user, clients[1], title="Glute program")
    factories.program_version(auth.user, clients[6], title="Back program")
    with app.app_context():
        whole = [c.id for c in db.session.scalars(client_query(auth.user.clinic_id, sort=sort))]
        walked = []
        for number in range(1, 5):
            page = client_page(auth.user.clinic_id, page=number, per_page=3, sort=sort)
            assert page.total == len(clients)
            walked += [c.id for c in page.items]
        never = {
            c.id
            for c in db.session.scalars(select(Client).where(Client.last_assessed_at.is_(None)))
        }
    assert walked == whole
    assert sorted(whole) == sorted(c.id for c in clients)
    assert 0 < len(never) < len(clients) - 3
    if sort == "-assessed":
        assert set(whole[-len(never) :]) == never
    if sort == "assessed":
        assert set(whole[: len(never)]) == never


def test_sort_columns_follow_assessments_and_versions(app, auth, factories):
    """The list's sort keys move with each new assessment and program version, never back."""
    from trainer_app.programs.models import ProgramVersion

    auth.login()
    maria = factories.client_record(auth.user, name="Maria Jensen")
    _assess(app, auth.user, maria.id, datetime(2026, 5, 1, 9, 0))
    _assess(app, auth.user, maria.id, datetime(2026, 2, 1, 9, 0))  # recorded later, dated earlier
    with app.app_context():
        row = db.session.get(Client, maria.id)
        assert row.last_assessed_at == datetime(2026, 5, 1, 9, 0)
        assert row.program_changed_at is None
    factories.program_version(auth.user, maria, title="Back-care program")
    with app.app_context():
        row = db.session.get(Client, maria.id)
        assert row.program_changed_at == db.session.scalar(
            select(db.func.max(ProgramVersion.created_at))
        )
        assert row.last_assessed_at == db.session.scalar(select(db.func.max(Assessment.created_at)))
