"""Library pages: browse and filters, detail, clinic exercises (create, edit, delete), tenancy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from trainer_app.extensions import db
from trainer_app.library.models import ClinicExercise
from trainer_app.library.service import clinic_catalog


def exercise_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ClinicExercise))


def form_data(**overrides) -> dict:
    data = {
        "name": "Wall angel",
        "kind": "strength",
        "imbalances": ["upper_crossed"],
        "summary": "Back against a wall, slide the arms up and down.",
        "steps": "Stand with your back against a wall.\nRaise the arms.\nSlide them up and down.",
        "cues": "Ribs down.\nKeep contact with the wall.",
        "mistakes": "Arching the lower back.",
        "target_muscles": ["mid_back", "rear_deltoids"],
        "equipment": ["wall"],
        "sets": "2",
        "reps": "10",
        "hold_seconds": "",
        "rest_seconds": "45",
        "easier": "",
        "harder": "face_pull",
        "level": "beginner",
    }
    data.update(overrides)
    return data


def create(client, **overrides):
    return client.post("/library/custom/new", data=form_data(**overrides))


def only_row(app) -> ClinicExercise:
    with app.app_context():
        row = db.session.scalar(select(ClinicExercise))
        db.session.expunge(row)
        return row


def card_names(html: str) -> list[str]:
    return re.findall(r'href="/library/([a-z0-9_]+)"', html)


# --------------------------------------------------------------------------- browse


def test_browse_lists_every_exercise_with_badges(client, auth):
    auth.login()
    html = client.get("/library/").get_data(as_text=True)
    assert "Exercise library" in html
    assert "Hip thrust" in html and "Doorway chest stretch" in html
    assert "From the article" in html
    assert "3 x 10 reps, rest 90 s" in html  # hip thrust's dose
    assert "Imbalances at a glance" in html
    assert 'data-region="glutes"' in html  # overview body maps
    assert "Weak glutes and an overloaded lower back" in html


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("q=bridge", ["glute_bridge", "single_leg_glute_bridge"], ["plank", "face_pull"]),
        ("imbalance=upper_crossed", ["face_pull", "doorway_chest_stretch"], ["hip_thrust"]),
        ("muscle=hamstrings", ["nordic_curl", "romanian_deadlift"], ["face_pull", "plank"]),
        ("equipment=foam_roller", ["foam_roll_quadriceps"], ["hip_thrust", "plank"]),
        ("kind=release", ["childs_pose", "cat_cow"], ["hip_thrust", "plank"]),
        ("kind=strength", ["hip_thrust", "plank"], ["childs_pose", "cat_cow"]),
        ("source=builtin", ["hip_thrust"], []),
    ],
)
def test_browse_filters(client, auth, query, present, absent):
    auth.login()
    html = client.get(f"/library/?{query}").get_data(as_text=True)
    links = card_names(html)
    for slug in present:
        assert slug in links
    for slug in absent:
        assert slug not in links
    assert "Imbalances at a glance" not in html  # overview only without filters


def test_browse_table_view(client, auth):
    auth.login()
    html = client.get("/library/?view=table&imbalance=weak_core").get_data(as_text=True)
    assert "<table" in html
    assert "Plank" in html and "Dead bug" in html


def test_browse_source_filter_clinic_only(client, auth):
    auth.login()
    html = client.get("/library/?source=clinic").get_data(as_text=True)
    assert "No clinic exercises yet" in html
    create(client)
    html = client.get("/library/?source=clinic").get_data(as_text=True)
    assert "Wall angel" in html
    assert "hip_thrust" not in card_names(html)


def test_browse_empty_state(client, auth):
    auth.login()
    html = client.get("/library/?q=nothing-like-this").get_data(as_text=True)
    assert "No exercise matches these filters" in html
    assert "Show all exercises" in html


def test_browse_ignores_unknown_filter_values(client, auth):
    auth.login()
    response = client.get("/library/?imbalance=nope&kind=<script>&view=weird")
    assert response.status_code == 200
    assert "hip_thrust" in card_names(response.get_data(as_text=True))


# --------------------------------------------------------------------------- detail


def test_detail_of_article_exercise(client, auth):
    auth.login()
    html = client.get("/library/hip_thrust").get_data(as_text=True)
    steps = re.findall(r'<li class="list-group-item px-0">(.*?)</li>', html)
    assert len(steps) == 5
    assert steps[0].startswith("Sit on the floor with the bottom of your shoulder blades")
    assert steps[-1].startswith("Lower your hips slowly")
    assert "3 x 10 reps, rest 90 s" in html
    assert "Key form cues" in html and "Common mistakes" in html
    assert "Glutes, Hamstrings" in html
    assert "Bench" in html and "Barbell" not in html  # a bench or a sofa is enough
    nordic = client.get("/library/nordic_curl").get_data(as_text=True)
    assert 'id="cautions"' in nordic and "Hamstring strain in the last three months" in nordic
    assert "From the article" in html
    assert "When the glute muscles" in html  # the imbalance's problem statement
    assert "<svg" in html
    assert re.search(r'class="region region--weak" data-region="glutes"', html)
    assert 'href="/library/glute_bridge"' in html  # easier
    assert 'href="/library/single_leg_hip_thrust"' in html  # harder
    assert "/library/custom/" not in html  # built-ins have no edit or delete


def test_detail_of_release_work_marks_overactive(client, auth):
    auth.login()
    html = client.get("/library/doorway_chest_stretch").get_data(as_text=True)
    assert re.search(r'class="region region--overactive" data-region="chest"', html)
    assert 'region--weak"' not in html


def test_detail_unknown_slug_is_404(client, auth):
    auth.login()
    assert client.get("/library/no_such_exercise").status_code == 404


# --------------------------------------------------------------------------- create


def test_create_form_renders(client, auth):
    auth.login()
    html = client.get("/library/custom/new").get_data(as_text=True)
    assert "New clinic exercise" in html
    assert 'value="glutes"' in html and 'value="foam_roller"' in html


def test_create_clinic_exercise(app, client, auth):
    auth.login()
    response = create(client)
    assert response.status_code == 302
    row = only_row(app)
    assert row.clinic_id == auth.user.clinic_id
    assert row.slug == f"clinic_{auth.user.clinic_id}_wall_angel"
    assert response.headers["Location"].endswith(f"/library/{row.slug}")
    detail = client.get(f"/library/{row.slug}").get_data(as_text=True)
    assert "Wall angel" in detail
    assert 'text-success-emphasis border border-success-subtle">Clinic</span>' in detail
    assert "2 x 10 reps, rest 45 s" in detail
    assert 'href="/library/face_pull"' in detail
    assert f"/library/custom/{row.id}/edit" in detail
    assert f'action="/library/custom/{row.id}/delete"' in detail and "data-confirm=" in detail
    assert row.slug in card_names(client.get("/library/").get_data(as_text=True))
    with app.app_context():
        exercise = clinic_catalog(auth.user.clinic_id).exercise(row.slug)
    assert exercise.source == "clinic"
    assert exercise.steps[1] == "Raise the arms."
    assert exercise.dose.reps == 10 and exercise.dose.hold_seconds is None


def test_same_name_gets_numbered_slug(app, client, auth):
    auth.login()
    create(client)
    create(client)
    with app.app_context():
        slugs = sorted(db.session.scalars(select(ClinicExercise.slug)))
    cid = auth.user.clinic_id
    assert slugs == [f"clinic_{cid}_wall_angel", f"clinic_{cid}_wall_angel_2"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 81}, "Use at most 80 characters."),
        ({"hold_seconds": "30"}, "Give reps or a hold time, not both."),
        ({"reps": ""}, "Give reps or a hold time."),
        ({"sets": "0"}, "Enter a whole number of at least 1."),
        ({"sets": "11"}, "Enter at most 10."),
        ({"sets": "three"}, "Not a valid integer value."),
        ({"rest_seconds": ""}, "This field is required."),
        ({"steps": "\n".join(f"Step {i}" for i in range(11))}, "Give at most 10 (you gave 11)."),
        ({"steps": ""}, "Give at least one."),
        ({"target_muscles": []}, "Give at least one."),
        ({"summary": "y" * 201}, "Use at most 200 characters."),
        ({"harder": "made_up"}, "Not a valid choice."),
        ({"easier": "face_pull"}, "Choose a different exercise from the easier one."),
    ],
)
def test_create_validation(app, client, auth, overrides, message):
    auth.login()
    response = create(client, **overrides)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert "invalid-feedback" in html
    assert "Nothing was saved" in html
    assert exercise_count(app) == 0


def test_create_reports_several_fields_at_once(app, client, auth):
    auth.login()
    html = create(client, name="", sets="0", equipment=[]).get_data(as_text=True)
    assert "This field is required." in html
    assert "Enter a whole number of at least 1." in html
    assert "Give at least one." in html
    assert exercise_count(app) == 0


# --------------------------------------------------------------------------- edit and delete


def test_edit_shows_values_and_saves(app, client, auth):
    auth.login()
    create(client)
    row = only_row(app)
    html = client.get(f"/library/custom/{row.id}/edit").get_data(as_text=True)
    assert 'value="Wall angel"' in html
    assert "Raise the arms." in html
    response = client.post(
        f"/library/custom/{row.id}/edit",
        data=form_data(name="Wall slide", reps="", hold_seconds="20", kind="release"),
    )
    assert response.status_code == 302
    saved = only_row(app)
    assert saved.slug == row.slug  # stable, so links keep working
    assert saved.data["name"] == "Wall slide"
    assert saved.data["dose"]["hold_seconds"] == 20 and saved.data["dose"]["reps"] is None
    assert "Wall slide" in client.get(f"/library/{row.slug}").get_data(as_text=True)


def test_edit_validation_changes_nothing(app, client, auth):
    auth.login()
    create(client)
    row = only_row(app)
    response = client.post(f"/library/custom/{row.id}/edit", data=form_data(name="", sets="0"))
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert only_row(app).data == row.data


def test_edit_cannot_link_to_itself(app, client, auth):
    auth.login()
    create(client)
    row = only_row(app)
    response = client.post(f"/library/custom/{row.id}/edit", data=form_data(easier=row.slug))
    assert "Not a valid choice." in response.get_data(as_text=True)
    assert only_row(app).data == row.data


def test_delete_clinic_exercise_unlinks_others(app, client, auth):
    auth.login()
    create(client)
    first = only_row(app)
    create(client, name="Banded wall angel", easier=first.slug)
    response = client.post(f"/library/custom/{first.id}/delete")
    assert response.status_code == 302
    assert exercise_count(app) == 1
    assert client.get(f"/library/{first.slug}").status_code == 404
    with app.app_context():
        remaining = db.session.scalar(select(ClinicExercise))
        assert remaining.data["easier"] is None
        assert first.slug not in clinic_catalog(auth.user.clinic_id).exercises
    assert client.get("/library/").status_code == 200


def test_builtin_has_no_edit_route(client, auth):
    auth.login()
    # Edit and delete take a ClinicExercise id; a built-in slug is not even a valid URL.
    assert client.get("/library/custom/hip_thrust/edit").status_code == 404
    assert client.post("/library/custom/hip_thrust/delete").status_code == 404
    assert client.get("/library/custom/999/edit").status_code == 404


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/library/"),
        ("get", "/library/hip_thrust"),
        ("get", "/library/custom/new"),
        ("post", "/library/custom/new"),
        ("get", "/library/custom/1/edit"),
        ("post", "/library/custom/1/edit"),
        ("post", "/library/custom/1/delete"),
    ],
)
def test_sign_in_required(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/account/sign-in" in response.headers["Location"]


def test_other_clinics_exercise_is_404_everywhere(app, client, auth, factories):
    auth.login()
    create(client)
    theirs = only_row(app)
    auth.logout()
    auth.login()  # a trainer in another clinic
    assert client.get(f"/library/{theirs.slug}").status_code == 404
    assert client.get(f"/library/custom/{theirs.id}/edit").status_code == 404
    response = client.post(f"/library/custom/{theirs.id}/edit", data=form_data(name="Mine now"))
    assert response.status_code == 404
    assert client.post(f"/library/custom/{theirs.id}/delete").status_code == 404
    assert theirs.slug not in card_names(client.get("/library/").get_data(as_text=True))
    assert only_row(app).data == theirs.data
    linked = create(client, name="Linked", harder=theirs.slug)  # not in this clinic's choices
    assert "Not a valid choice." in linked.get_data(as_text=True)
    assert exercise_count(app) == 1
    with app.app_context():
        assert theirs.slug not in clinic_catalog(auth.user.clinic_id).exercises
