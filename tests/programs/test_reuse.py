"""Reusing programs: clinic templates, starting from one, copying to another client, restoring an
old version, and the re-test date; tenancy on each."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from trainer_app.accounts.models import Clinic
from trainer_app.extensions import db
from trainer_app.programs.models import Program, ProgramTemplate, ProgramVersion
from trainer_app.programs.service import RETEST_AFTER_DAYS
from trainer_app.timeutil import local_today


@pytest.fixture
def program(app, auth, factories):
    """A signed-in trainer's client Maria with a built program; returns the program id."""
    auth.login()
    maria = factories.client_record(auth.user, name="Maria Jensen")
    version_id = factories.program_version(auth.user, maria, title="Back-care program")
    with app.app_context():
        return db.session.get(ProgramVersion, version_id).program_id


def _versions(app, program_id: int) -> list[ProgramVersion]:
    with app.app_context():
        rows = db.session.scalars(
            select(ProgramVersion)
            .where(ProgramVersion.program_id == program_id)
            .order_by(ProgramVersion.number)
        ).all()
        db.session.expunge_all()
        return rows


def _items(version: ProgramVersion) -> list[dict]:
    return version.content["items"]


def test_save_template_start_client_program_from_it(app, client, auth, factories, program):
    with app.app_context():
        v1 = db.session.scalar(select(ProgramVersion).where(ProgramVersion.program_id == program))
        assert any(item["notes"] for item in v1.content["items"]), "fixture has client notes"
    response = client.post(f"/programs/{program}/template", data={"name": "Desk worker basics"})
    assert response.status_code == 302
    listing = client.get("/programs/templates").get_data(as_text=True)
    assert "Desk worker basics" in listing
    with app.app_context():
        template = db.session.scalar(select(ProgramTemplate))
        assert template.clinic_id == auth.user.clinic_id
        source = _items(db.session.get(ProgramVersion, v1.id))
        kept = template.content["items"]
        # exercises, doses and order kept; what was written for Maria is not
        assert [(i["exercise_slug"], i["sets"], i["reps"]) for i in kept] == [
            (i["exercise_slug"], i["sets"], i["reps"]) for i in source
        ]
        assert all(i["notes"] == "" for i in kept)
        assert all("Maria" not in i["reason"] for i in kept)
        template_id = template.id

    oliver = factories.client_record(auth.user, name="Oliver Smith")
    page = client.get(f"/clients/{oliver.id}").get_data(as_text=True)
    assert f"/programs/start/{oliver.id}" in page
    form = client.get(f"/programs/start/{oliver.id}").get_data(as_text=True)
    assert "Desk worker basics" in form
    response = client.post(f"/programs/start/{oliver.id}", data={"template_id": str(template_id)})
    assert response.status_code == 302
    with app.app_context():
        started = db.session.scalar(select(Program).where(Program.client_id == oliver.id))
        assert started.title == "Desk worker basics"
        assert started.assessment_id is None
        assert started.latest.number == 1
        assert started.latest.content["items"] == template.content["items"]
        assert "template “Desk worker basics”" in started.latest.change_note
        zone = db.session.get(Clinic, auth.user.clinic_id).time_zone
        assert started.retest_on == local_today(zone) + timedelta(days=RETEST_AFTER_DAYS)
        started_id = started.id
    detail = client.get(f"/programs/{started_id}").get_data(as_text=True)
    body = detail[: detail.index('id="reuse"')]
    assert "Oliver Smith" in body and "Maria" not in body


def test_template_names_are_unique_per_clinic(app, client, program):
    client.post(f"/programs/{program}/template", data={"name": "Desk worker basics"})
    again = client.post(f"/programs/{program}/template", data={"name": "desk WORKER basics"})
    assert again.status_code == 409
    assert "already has a template named" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgramTemplate)) == 1


def test_copy_program_to_another_client(app, client, auth, factories, program):
    oliver = factories.client_record(auth.user, name="Oliver Ørsted")
    archived = factories.client_record(
        auth.user, name="Old Client", archived_at=datetime(2026, 1, 1)
    )
    page = client.get(f"/programs/{program}").get_data(as_text=True)
    assert f'href="/programs/{program}/copy"' in page
    choose = client.get(f"/programs/{program}/copy").get_data(as_text=True)
    assert "Oliver Ørsted" in choose and "Old Client" not in choose
    assert 'id="copy-to-' in choose and "Maria Jensen</label>" not in choose
    found = client.get(f"/programs/{program}/copy?q=OLIVER orsted").get_data(as_text=True)
    assert f'value="{oliver.id}"' in found
    none = client.get(f"/programs/{program}/copy?q=nobody").get_data(as_text=True)
    assert "No other active client matches" in none

    response = client.post(
        f"/programs/{program}/copy", data={"client_id": str(oliver.id), "title": ""}
    )
    assert response.status_code == 302
    with app.app_context():
        copy = db.session.scalar(select(Program).where(Program.client_id == oliver.id))
        source = db.session.get(Program, program)
        assert response.headers["Location"] == f"/programs/{copy.id}"
        assert copy.title == source.title
        assert [i["exercise_slug"] for i in copy.latest.content["items"]] == [
            i["exercise_slug"] for i in source.latest.content["items"]
        ]
        assert all(i["notes"] == "" for i in copy.latest.content["items"])
        # the source client's measurements and cautions stay with them
        assert any(i["dose_reason"] for i in source.latest.content["items"])
        assert all(i["dose_reason"] == "" for i in copy.latest.content["items"])
        assert copy.latest.content["cautions"] == []
        assert "Copied from “Back-care program” (version 1) of Maria Jensen" in (
            copy.latest.change_note
        )
        own_client = source.client_id
    refused = client.post(f"/programs/{program}/copy", data={"client_id": str(archived.id)})
    assert refused.status_code == 409 and "is archived" in refused.get_data(as_text=True)
    itself = client.post(f"/programs/{program}/copy", data={"client_id": str(own_client)})
    assert itself.status_code == 409 and "Choose another client" in itself.get_data(as_text=True)
    missing = client.post(f"/programs/{program}/copy", data={"client_id": ""})
    assert missing.status_code == 400
    assert "Choose the client to copy the program to." in missing.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Program)) == 2


def test_restore_old_version_as_new_version(app, client, program):
    v1 = _versions(app, program)[0]
    first = _items(v1)[0]
    edit = {
        "base_version": "1",
        "change_note": "Fewer sets",
    }
    for n, item in enumerate(_items(v1)):
        prefix = f"items-{n}-"
        edit.update(
            {
                prefix + "exercise_slug": item["exercise_slug"],
                prefix + "sets": str(item["sets"] if n else 1 if item["sets"] != 1 else 2),
                prefix + "reps": "" if item["reps"] is None else str(item["reps"]),
                prefix + "hold_seconds": ""
                if item["hold_seconds"] is None
                else str(item["hold_seconds"]),
                prefix + "rest_seconds": str(item["rest_seconds"]),
                prefix + "position": str(n + 1),
                prefix + "notes": item["notes"],
            }
        )
    assert client.post(f"/programs/{program}/edit", data=edit).status_code == 302
    assert _items(_versions(app, program)[1])[0]["sets"] != first["sets"]

    page = client.get(f"/programs/{program}/versions/1").get_data(as_text=True)
    assert "Restore as version 3" in page
    response = client.post(f"/programs/{program}/versions/1/restore")
    assert response.status_code == 302
    versions = _versions(app, program)
    assert [v.number for v in versions] == [1, 2, 3]
    assert _items(versions[2]) == _items(versions[0])
    assert versions[2].change_note == "Restored version 1"

    same = client.post(f"/programs/{program}/versions/1/restore", follow_redirects=True)
    assert "there is nothing to restore" in same.get_data(as_text=True)
    assert len(_versions(app, program)) == 3
    assert client.post(f"/programs/{program}/versions/9/restore").status_code == 404


def test_retest_date_is_set_at_build_and_editable(app, client, auth, factories):
    from tests.programs.test_views import BUILD, make_assessment

    auth.login()
    maria = factories.client_record(auth.user, name="Maria Jensen")
    assessment_id = make_assessment(app, auth.user, maria.id)
    response = client.post(
        f"/programs/new/{assessment_id}", data={**BUILD, "equipment": ["mat", "none"]}
    )
    assert response.status_code == 302
    with app.app_context():
        program = db.session.scalar(select(Program))
        expected = local_today("UTC") + timedelta(days=RETEST_AFTER_DAYS)
        assert program.retest_on == expected
        program_id = program.id
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert f"re-test {expected.day} {expected:%b %Y}" in page

    later = local_today("UTC") + timedelta(days=60)
    response = client.post(f"/programs/{program_id}/retest", data={"retest_on": later.isoformat()})
    assert response.status_code == 302
    too_early = client.post(f"/programs/{program_id}/retest", data={"retest_on": "2020-01-01"})
    assert too_early.status_code == 400
    assert "on or after the day the program was built" in too_early.get_data(as_text=True)
    nonsense = client.post(f"/programs/{program_id}/retest", data={"retest_on": "soon"})
    assert nonsense.status_code == 400
    with app.app_context():
        assert db.session.get(Program, program_id).retest_on == later
    client.post(f"/programs/{program_id}/retest", data={"retest_on": ""})
    with app.app_context():
        assert db.session.get(Program, program_id).retest_on is None


def test_other_clinic_cannot_reuse(app, client, auth, factories):
    owner = factories.user()
    theirs = factories.program_version(owner, title="Their program")
    with app.app_context():
        their_program = db.session.get(ProgramVersion, theirs).program_id
        template = ProgramTemplate(
            clinic_id=owner.clinic_id,
            name="Theirs",
            content=db.session.get(ProgramVersion, theirs).content,
            catalog_version="x",
        )
        db.session.add(template)
        db.session.commit()
        template_id = template.id
        their_client = db.session.get(Program, their_program).client_id
    auth.login()
    mine = factories.client_record(auth.user)
    assert client.post(f"/programs/{their_program}/template", data={"name": "x"}).status_code == 404
    assert (
        client.post(f"/programs/{their_program}/copy", data={"client_id": mine.id}).status_code
        == 404
    )
    assert client.post(f"/programs/{their_program}/versions/1/restore").status_code == 404
    assert (
        client.post(f"/programs/{their_program}/retest", data={"retest_on": ""}).status_code == 404
    )
    assert client.post(f"/programs/templates/{template_id}/delete").status_code == 404
    assert client.get(f"/programs/start/{their_client}").status_code == 404
    # their template is not offered, and naming its id does not use it
    assert "Theirs" not in client.get(f"/programs/start/{mine.id}").get_data(as_text=True)
    response = client.post(f"/programs/start/{mine.id}", data={"template_id": str(template_id)})
    assert response.status_code == 200
    assert "Theirs" not in client.get("/programs/templates").get_data(as_text=True)
    # copying my program into their client is refused the same way
    my_version = factories.program_version(auth.user, mine)
    with app.app_context():
        my_program = db.session.get(ProgramVersion, my_version).program_id
    assert (
        client.post(f"/programs/{my_program}/copy", data={"client_id": their_client}).status_code
        == 404
    )
    offered = client.get(f"/programs/{my_program}/copy").get_data(as_text=True)
    assert f'value="{their_client}"' not in offered
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Program)) == 2
        assert db.session.scalar(select(func.count()).select_from(ProgramTemplate)) == 1


def test_delete_template_keeps_programs(app, client, auth, factories, program):
    client.post(f"/programs/{program}/template", data={"name": "Desk worker basics"})
    with app.app_context():
        template_id = db.session.scalar(select(ProgramTemplate.id))
    oliver = factories.client_record(auth.user)
    client.post(f"/programs/start/{oliver.id}", data={"template_id": str(template_id)})
    assert client.post(f"/programs/templates/{template_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgramTemplate)) == 0
        assert db.session.scalar(select(func.count()).select_from(Program)) == 2


def test_date_default_is_local(app):
    # 23:30 UTC on 31 Dec is already 1 Jan in Copenhagen: the re-test counts from the local day.
    from trainer_app.programs.service import default_retest_on

    now = datetime(2026, 12, 31, 23, 30)
    assert default_retest_on("Europe/Copenhagen", now) == date(2027, 1, 1) + timedelta(days=28)
    assert default_retest_on("UTC", now) == date(2026, 12, 31) + timedelta(days=28)


def _focus(app, program_id: int, audience: str) -> tuple[list[str], list[str]]:
    """The PDF's focus areas and (clinician copy) findings of a program's current version."""
    from trainer_app.library.catalog import default_catalog
    from trainer_app.plans.context import plan_context

    with app.app_context():
        version = db.session.get(Program, program_id).latest
        context = plan_context(
            version,
            clinic=db.session.get(Clinic, version.clinic_id),
            catalog=default_catalog(),
            previous=None,
            paper="A4",
            large_print=False,
            audience=audience,
        )
        return [f["name"] for f in context["focus"]], [f["name"] for f in context["findings"]]


def _works_on(page: str) -> str:
    start = page.find("What this program works on")
    return "" if start < 0 else page[start : page.index("</section>", start)]


@pytest.mark.parametrize("how", ["copy", "template"])
def test_a_reused_program_shows_the_new_clients_findings(
    app, client, auth, factories, program, how
):
    """Copied or started from a template, the program works on the new client's confirmed
    imbalances (page, plan and clinician copy), never on the source client's."""
    from tests.programs.test_views import make_assessment
    from trainer_app.plans.options import CLINICIAN_COPY

    source_focus, _ = _focus(app, program, CLINICIAN_COPY)
    assert "Weak upper back and overactive chest" in source_focus, "fixture works on upper back"
    oliver = factories.client_record(auth.user, name="Oliver Smith")
    make_assessment(app, auth.user, oliver.id, confirmed=("weak_core",))
    newcomer = factories.client_record(auth.user, name="Nina Newcomer")

    def reuse(target) -> int:
        if how == "copy":
            response = client.post(f"/programs/{program}/copy", data={"client_id": str(target.id)})
        else:
            client.post(f"/programs/{program}/template", data={"name": "Desk worker basics"})
            with app.app_context():
                template_id = db.session.scalar(select(ProgramTemplate.id))
            response = client.post(
                f"/programs/start/{target.id}", data={"template_id": str(template_id)}
            )
        assert response.status_code == 302, response.text
        return int(response.headers["Location"].rsplit("/", 1)[1])

    copied = reuse(oliver)
    core = "Weak core and increased lower back load"
    assert _focus(app, copied, "client") == ([core], [])
    assert _focus(app, copied, CLINICIAN_COPY) == ([core], [core])
    works_on = _works_on(client.get(f"/programs/{copied}").text)
    assert core in works_on and "Weak upper back" not in works_on and "glutes" not in works_on
    # a client never assessed: the program names no findings at all
    unassessed = reuse(newcomer)
    assert _focus(app, unassessed, CLINICIAN_COPY) == ([], [])
    assert _works_on(client.get(f"/programs/{unassessed}").text) == ""
