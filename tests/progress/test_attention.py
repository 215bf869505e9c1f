"""Who needs attention, with the reason, on the dashboard and the client page; the front desk
sees no pain, no notes and no link."""

from __future__ import annotations

from datetime import timedelta

from tests.progress.conftest import make_world
from trainer_app.extensions import db


def _log(client, world, key: str, **fields):
    data = {"day": world.today.isoformat(), "request_key": f"{key:0<20}"}
    data.update(fields)
    response = client.post(world.path, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def _backdate(app, program_id: int, days: int):
    from trainer_app.programs.models import Program

    with app.app_context():
        program = db.session.get(Program, program_id)
        program.created_at -= timedelta(days=days)
        for version in program.versions:
            version.created_at -= timedelta(days=days)
        db.session.commit()


def _dashboard_item(page: str, name: str) -> str:
    start = page.index(name)
    return page[start : page.index("</li>\n", page.index("</ul>", start))]


def test_the_dashboard_names_each_client_to_check_on_with_the_reason(app, client, auth, factories):
    rising = make_world(app, factories)
    user = rising.user
    for n, pain in enumerate((2, 4, 6)):
        _log(client, rising, f"rise{n}", pain=str(pain), done=rising.slugs[:1])

    def another(name: str):
        person = factories.client_record(user, name=name)
        from trainer_app.clients.models import Client
        from trainer_app.programs.models import ProgramVersion
        from trainer_app.progress import service

        version_id = factories.program_version(user, person)
        with app.app_context():
            version = db.session.get(ProgramVersion, version_id)
            program_id = version.program_id
            link = service.ensure_link(db.session.get(Client, person.id), version.program)
            db.session.commit()
            path = service.link_url(link).removeprefix(app.config["PUBLIC_URL"])
        return person, program_id, path

    high, _, high_path = another("Hugo High")
    client.post(
        high_path,
        data={"day": rising.today.isoformat(), "pain": "8", "request_key": "high" * 5},
    )
    flagged, _, flagged_path = another("Fiona Flag")
    saved = client.post(
        flagged_path,
        data={"day": rising.today.isoformat(), "warning_sign": "y", "request_key": "flag" * 5},
        follow_redirects=True,
    )
    # the client is told what to do now, not only thanked
    assert "stop the exercises now" in saved.get_data(as_text=True)
    idle, idle_program, _ = another("Ivan Idle")
    _backdate(app, idle_program, 9)
    calm, _, calm_path = another("Carla Calm")
    client.post(
        calm_path,
        data={
            "day": rising.today.isoformat(),
            "pain": "2",
            "done": rising.slugs[:1],
            "request_key": "calm" * 5,
        },
    )
    stranger = factories.user()
    other = factories.client_record(stranger, name="Other Clinic Client")
    other_program = factories.program_version(stranger, other)
    with app.app_context():
        from trainer_app.programs.models import ProgramVersion

        _backdate(app, db.session.get(ProgramVersion, other_program).program_id, 9)

    auth.login(email=user.email)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Clients to check on" in page
    assert "Pain rising over the last three entries (2, 4, 6)" in _dashboard_item(
        page, "Ada Lovelace"
    )
    assert "Pain 8/10 on" in _dashboard_item(page, "Hugo High")
    assert "Reported a warning sign" in _dashboard_item(page, "Fiona Flag")
    assert "No session logged since the program started 9 days ago" in _dashboard_item(
        page, "Ivan Idle"
    )
    needs = page[page.index("Clients to check on") :]
    needs = needs[: needs.index("<h3", 1)]
    assert "Carla Calm" not in needs and "Other Clinic Client" not in page
    # the client page says the same, beside the charts
    detail = client.get(f"/clients/{rising.client_id}").get_data(as_text=True)
    assert "Needs attention" in detail and "Pain rising over the last three entries" in detail


def test_the_front_desk_sees_no_pain_no_notes_and_no_link(app, client, auth, factories):
    world = make_world(app, factories)
    _log(client, world, "desk", pain="8", note="Private note", done=world.slugs[:1])
    from trainer_app.accounts.models import Clinic

    with app.app_context():
        clinic = db.session.get(Clinic, world.user.clinic_id)
        db.session.expunge(clinic)
    desk = factories.user(clinic=clinic, role="front_desk")
    auth.login(email=desk.email)
    page = client.get(f"/clients/{world.client_id}").get_data(as_text=True)
    assert "Private note" not in page and "8/10" not in page and world.url not in page
    assert 'id="progress"' not in page
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Pain 8/10" not in dashboard and "Clients to check on" not in dashboard
    for action in ("log", "link", "revoke"):
        response = client.post(
            f"/clients/{world.client_id}/progress/{action}",
            data={"day": world.today.isoformat(), "pain": "1", "request_key": "d" * 20},
        )
        assert response.status_code == 403, action


def test_the_dashboards_short_reading_gives_the_same_reasons_as_every_entry(app, client, factories):
    """The attention list reads only the last session, three pain scores and warning; the client
    page reads every entry: both must name the same reasons."""
    from trainer_app.clients.models import Client
    from trainer_app.progress import service

    world = make_world(app, factories)
    _backdate(app, world.program_id, 12)
    today = world.today
    logs = [(11, "6", True, False), (10, "2", False, False), (9, None, True, True)]
    logs += [(9, "3", False, False), (4, "5", True, False), (4, "7", False, False)]
    for n, (ago, pain, done, warning) in enumerate(logs):
        data = {"day": (today - timedelta(days=ago)).isoformat(), "request_key": f"same{n:016d}"}
        if pain is not None:
            data["pain"] = pain
        if done:
            data["done"] = world.slugs[:1]
        if warning:
            data["warning_sign"] = "y"
        assert client.post(world.path, data=data).status_code == 302
    with app.app_context():
        full = service.progress_of(db.session.get(Client, world.client_id)).reasons
        (short,) = service.needs_attention(world.user.clinic_id)
    assert [r.code for r in full] == ["red_flag", "pain_high", "pain_rising"]
    assert short.reasons == full


def test_a_red_flag_is_named_in_a_few_words_on_the_dashboard(app, client, auth, factories):
    """Each flag by its question's short label, not the questions pasted together."""
    from tests.assessments.test_views import valid_answers
    from trainer_app.assessments import service as assessments
    from trainer_app.assessments.questionnaire import default_questionnaire, validate_answers
    from trainer_app.clients.models import Client

    world = make_world(app, factories)
    typed, errors = validate_answers(
        default_questionnaire(),
        valid_answers(constant_night_pain="yes", leg_pain_tingling="yes", onset_age="yes"),
    )
    assert not errors
    with app.app_context():
        person = db.session.get(Client, world.client_id)
        assessments.record_assessment(person, trainer_id=world.user.id, answers=typed)
        db.session.commit()
    auth.login(email=world.user.email)
    page = client.get("/dashboard").get_data(as_text=True)
    item = page[page.index('id="needs-heading"') :]
    # most urgent first: a first onset over 50 beside night pain is urgent like it
    assert (
        "Red flag: constant night pain; first back pain before 20 or after 50; "
        "pins and needles down a leg"
    ) in item
    assert "?;" not in page and "Constant pain at night or at rest" not in item
