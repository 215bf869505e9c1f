"""Assessment routes: questionnaire, results, red-flag clearance, confirmation, history, compare."""

from __future__ import annotations

import html as html_lib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support.pages import shows_a_score
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.extensions import db
from trainer_app.timeutil import format_local, local_today

Q = default_questionnaire()


def valid_answers(**overrides) -> dict[str, str]:
    """Form data that passes validation: weak left glutes, mild rounded shoulders, no red flag."""
    questions = (*Q.screening.questions, *Q.red_flags.questions, *Q.health.questions)
    data = {question.id: "no" for question in questions}
    data.update(
        morning_stiffness="yes",
        pain_standing_sitting="yes",
        single_leg_bridge_hold_left="15",
        single_leg_bridge_hold_right="40",
        front_plank_hold="70",
        hamstring_bridge_reps_left="25",
        hamstring_bridge_reps_right="24",
        forward_head_shoulders="mild",
        notes="Desk job, runs twice a week.",
    )
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Assessment))


def load(app, assessment_id: int) -> Assessment:
    with app.app_context():
        row = db.session.get(Assessment, assessment_id)
        db.session.expunge(row)
        return row


def text(response) -> str:
    return html_lib.unescape(response.get_data(as_text=True))


@pytest.fixture
def signed_in(client, auth, factories):
    """A signed-in trainer and one of their clients."""
    auth.login()
    return auth.user, factories.client_record(auth.user, name="Maria Jensen")


def record(client, client_id: int, **overrides) -> int:
    response = client.post(f"/assessments/new/{client_id}", data=valid_answers(**overrides))
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])


# --------------------------------------------------------------------------- questionnaire


def test_form_shows_every_question_with_help_and_labels(client, signed_in):
    _, person = signed_in
    page = text(client.get(f"/assessments/new/{person.id}"))
    for question in (*Q.screening.questions, *Q.red_flags.questions, *Q.health.questions):
        assert question.text in page
        assert question.help in page
    for indicators in Q.indicators.values():
        for ind in indicators:
            assert ind.label in page
            assert ind.help in page
            for key in ind.answer_keys():
                assert f'name="{key}"' in page
    assert "Screening questions" in page and "Red flags" in page
    assert "Health and cautions" in page
    assert "re-assessments included" in page
    assert ">Emergency</span>" in page and ">Urgent</span>" in page
    # every test can be answered "not tested" or "unable (pain)"
    assert 'name="front_plank_hold__status" id="q-front_plank_hold__status-unable_pain"' in page
    assert 'name="hip_drop_left" id="q-hip_drop_left-unable_pain" value="unable_pain"' in page
    assert 'id="q-wall_angel-not_tested" value="not_tested"\n             checked' in page
    assert "Weak glutes and an overloaded lower back" in page
    assert 'id="q-single_leg_bridge_hold_left"' in page
    assert '<label class="form-label mb-1" for="q-single_leg_bridge_hold_left">' in page
    assert 'max="600"' in page
    assert 'name="csrf_token"' in page or "csrf_token" in page
    assert 'name="notes"' in page


def test_full_path_save_results_confirm(app, client, signed_in):
    user, person = signed_in
    response = client.post(f"/assessments/new/{person.id}", data=valid_answers())
    assert response.status_code == 302
    assessment_id = int(response.headers["Location"].partition("#")[0].rsplit("/", 1)[1])
    row = load(app, assessment_id)
    assert (row.clinic_id, row.client_id, row.trainer_id) == (
        user.clinic_id,
        person.id,
        user.id,
    )
    assert row.questionnaire_version == Q.version
    assert row.answers["single_leg_bridge_hold_left"] == 15
    assert row.answers["morning_stiffness"] is True
    assert row.result["screening"]["likely"] is True
    assert row.notes == "Desk job, runs twice a week."
    assert row.confirmed_imbalances is None

    page = text(client.get(f"/assessments/{assessment_id}"))
    assert (
        '<td data-label="Finding">Left single-leg bridge held 15 s</td>'
        '<td data-label="Severity">moderate</td><td data-label="Measured">15 s</td>'
    ) in page
    assert '<td data-label="Threshold">under 20 s</td>' in page and "Field rule of thumb" in page
    # a mild forward head alone is a note with its rule, not a weak upper back
    assert (
        "forward head and rounded shoulders observed: mild; on its own this does not flag the "
        "imbalance (Field rule of thumb: A mild forward head"
    ) in page
    assert 'value="upper_crossed" id="treat-upper_crossed" >' in page
    assert "Weaker side (measured): left" in page
    assert "region--weak" in page and "region--overactive" not in page  # nothing tested tight
    assert "commonly paired with this pattern, not tested" in page
    assert not shows_a_score(page)
    assert "Build program" not in page
    # Flagged imbalances are pre-ticked, most severe first.
    assert 'value="asymmetry" id="treat-asymmetry" checked' in page
    assert 'value="weak_glutes" id="treat-weak_glutes" checked' in page
    assert 'value="weak_core" id="treat-weak_core" >' in page
    assert page.index('id="finding-asymmetry"') < page.index('id="finding-weak_glutes"')

    response = client.post(
        f"/assessments/{assessment_id}/confirm", data={"imbalances": ["weak_glutes"]}
    )
    assert response.status_code == 302
    row = load(app, assessment_id)
    assert row.confirmed_imbalances == ["weak_glutes"]
    assert row.confirmed_at is not None
    page = text(client.get(f"/assessments/{assessment_id}"))
    assert "Build program" in page
    assert f'href="/programs/new/{assessment_id}"' in page


@pytest.mark.parametrize(
    ("yes", "likely"),
    [(["morning_stiffness"], False), (["morning_stiffness", "recurring_tightness"], True)],
)
def test_screening_rule_is_shown(client, signed_in, yes, likely):
    _, person = signed_in
    overrides = {q.id: ("yes" if q.id in yes else "no") for q in Q.screening.questions}
    assessment_id = record(client, person.id, **overrides)
    page = text(client.get(f"/assessments/{assessment_id}"))
    rule = Q.screening
    assert (rule.likely_message if likely else rule.unlikely_message) in page
    assert f"{len(yes)} of 4 answered yes" in page
    assert Q.screening.questions[0].text in page
    assert ("Imbalance likely" in page) is likely


def test_red_flag_blocks_confirmation_until_cleared(app, client, signed_in):
    _, person = signed_in
    assessment_id = record(client, person.id, leg_pain_tingling="yes")
    page = text(client.get(f"/assessments/{assessment_id}"))
    assert "Programming blocked: refer Maria Jensen first" in page
    assert Q.red_flags.levels["routine"].title in page
    assert Q.red_flags.levels["routine"].action in page
    assert "Pain, pins and needles or numbness spreading down one leg" in page
    # no "imbalance likely" banner and no findings while the red flag is open
    assert "Imbalance likely" not in page and 'id="h-findings"' not in page

    response = client.post(
        f"/assessments/{assessment_id}/confirm",
        data={"imbalances": ["weak_glutes"]},
        follow_redirects=True,
    )
    assert "record the clearance before confirming" in text(response)
    assert load(app, assessment_id).confirmed_imbalances is None

    today = local_today(None).isoformat()
    clearance = {
        "name": "Dr Anna Patel",
        "profession": "gp",
        "cleared_on": today,
        "restrictions": "No heavy lifting for six weeks",
    }
    response = client.post(
        f"/assessments/{assessment_id}/clearance", data={**clearance, "name": "   "}
    )
    assert response.status_code == 400
    assert "Name the doctor or physiotherapist who cleared the client." in text(response)
    assert "invalid-feedback" in text(response)
    assert load(app, assessment_id).cleared_at is None

    response = client.post(
        f"/assessments/{assessment_id}/clearance", data={**clearance, "restrictions": "x" * 501}
    )
    assert "Field cannot be longer than 500 characters." in text(response)
    response = client.post(
        f"/assessments/{assessment_id}/clearance", data={**clearance, "cleared_on": "2099-01-01"}
    )
    assert "cannot be in the future" in text(response)
    assert load(app, assessment_id).cleared_at is None

    response = client.post(f"/assessments/{assessment_id}/clearance", data=clearance)
    assert response.status_code == 302
    row = load(app, assessment_id)
    assert (row.clearance_name, row.clearance_profession) == ("Dr Anna Patel", "gp")
    assert row.clearance_restrictions == "No heavy lifting for six weeks"
    assert row.cleared_at is not None
    assert row.cleared_by_id == signed_in[0].id
    page = text(client.get(f"/assessments/{assessment_id}"))
    day = format_local(local_today(None), None, "date")
    assert (
        f"Cleared by Dr Anna Patel (GP) on {day} — restrictions: No heavy lifting for six weeks"
        in page
    )
    assert f"recorded by {signed_in[0].name}" in page
    assert "Medical clearance recorded" in page
    assert 'id="h-findings"' in page

    response = client.post(
        f"/assessments/{assessment_id}/confirm", data={"imbalances": ["weak_glutes"]}
    )
    assert response.status_code == 302
    assert load(app, assessment_id).confirmed_imbalances == ["weak_glutes"]


def test_clearance_without_red_flags_changes_nothing(app, client, signed_in):
    _, person = signed_in
    assessment_id = record(client, person.id)
    response = client.post(
        f"/assessments/{assessment_id}/clearance", data={"note": "Cleared"}, follow_redirects=True
    )
    assert "No clearance is needed" in text(response)
    assert load(app, assessment_id).cleared_at is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("single_leg_bridge_hold_left", "-5", "between 0 and 600"),
        ("neck_pain", None, "This answer is required. Answer yes or no."),
        ("front_plank_hold", "about a minute", "Enter a whole number of seconds between 0 and 600"),
        ("hamstring_bridge_reps_right", "101", "between 0 and 100"),
        ("single_leg_bridge_hold_right", None, "This answer is required."),
        ("morning_stiffness", None, "This answer is required. Answer yes or no."),
        ("forward_head_shoulders", "severe", "Choose one of: None, Mild, Marked, or not tested"),
        ("notes", "x" * 2001, "Field cannot be longer than 2000 characters."),
    ],
)
def test_bad_answers_show_errors_and_save_nothing(app, client, signed_in, field, value, message):
    _, person = signed_in
    response = client.post(f"/assessments/new/{person.id}", data=valid_answers(**{field: value}))
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert "Nothing was saved" in page
    assert "invalid-feedback" in page
    assert count(app) == 0
    # What was typed stays in the form.
    assert 'id="q-single_leg_bridge_hold_left" value="15"' in page or field == (
        "single_leg_bridge_hold_left"
    )
    if value and field != "notes" and field != "forward_head_shoulders":
        assert f'value="{value}"' in page
    if field != "notes":
        assert "Desk job, runs twice a week." in page


def test_error_is_next_to_its_field(client, signed_in):
    _, person = signed_in
    page = text(
        client.post(
            f"/assessments/new/{person.id}",
            data=valid_answers(single_leg_bridge_hold_left="-5"),
        )
    )
    assert 'id="err-single_leg_bridge_hold_left"' in page
    assert page.index('id="q-single_leg_bridge_hold_left"') < page.index(
        'id="err-single_leg_bridge_hold_left"'
    )


def test_override_is_saved_in_rank_order(app, client, signed_in):
    _, person = signed_in
    # Glutes moderate (15 s against 20 s), shoulders mild with a concordant sign (wall angel
    # not held), core clean (70 s plank).
    assessment_id = record(client, person.id, wall_angel="no")
    row = load(app, assessment_id)
    flagged = [i["slug"] for i in row.result["imbalances"] if i["flagged"]]
    assert flagged == ["asymmetry", "weak_glutes", "upper_crossed"]

    response = client.post(
        f"/assessments/{assessment_id}/confirm",
        data={"imbalances": ["weak_core", "upper_crossed", "weak_glutes"]},
    )
    assert response.status_code == 302
    expected = ["weak_glutes", "upper_crossed", "weak_core"]
    assert load(app, assessment_id).confirmed_imbalances == expected

    # Untick a suggested one, tick another.
    client.post(
        f"/assessments/{assessment_id}/confirm",
        data={"imbalances": ["weak_hamstrings", "weak_glutes"]},
    )
    assert load(app, assessment_id).confirmed_imbalances == ["weak_glutes", "weak_hamstrings"]


def test_confirm_needs_at_least_one(app, client, signed_in):
    _, person = signed_in
    assessment_id = record(client, person.id)
    response = client.post(f"/assessments/{assessment_id}/confirm", data={})
    assert response.status_code == 200
    assert "Choose at least one imbalance to treat." in text(response)
    assert load(app, assessment_id).confirmed_imbalances is None


def test_confirm_rejects_unknown_imbalance(app, client, signed_in):
    _, person = signed_in
    assessment_id = record(client, person.id)
    response = client.post(f"/assessments/{assessment_id}/confirm", data={"imbalances": "nope"})
    assert response.status_code == 200
    assert "not a valid choice" in text(response)
    assert load(app, assessment_id).confirmed_imbalances is None


# --------------------------------------------------------------------------- history, compare


def test_red_flags_are_asked_again_at_a_reassessment(app, client, signed_in):
    _, person = signed_in
    record(client, person.id)
    page = text(client.get(f"/assessments/new/{person.id}"))
    for flag in Q.red_flags.questions:
        assert flag.text in page
    data = valid_answers()
    del data["saddle_numbness"]
    response = client.post(f"/assessments/new/{person.id}", data=data)
    assert response.status_code == 200
    assert 'id="err-saddle_numbness"' in text(response)
    assert count(app) == 1


def test_the_results_page_names_the_article_it_cites(client, signed_in):
    from trainer_app.content import ARTICLE_TITLE

    _, person = signed_in
    page = text(client.get(f"/assessments/{record(client, person.id)}"))
    assert "by the article's rule" in page
    note = page[page.index('id="article-source"') :]
    assert f"“The article” on this page is “{ARTICLE_TITLE}”" in note
    assert 'href="/library/"' in note[:600]


def test_emergency_wording_comes_first_and_urgent_after(client, signed_in):
    _, person = signed_in
    assessment_id = record(client, person.id, cancer_history="yes", bladder_bowel_control="yes")
    page = text(client.get(f"/assessments/{assessment_id}"))
    emergency = page.index('id="red-flags-emergency"')
    urgent = page.index('id="red-flags-urgent"')
    assert emergency < urgent < page.index('id="h-screening"')
    assert "Emergency: same-day emergency care" in page
    assert "Urgent: see a doctor within days" in page
    assert 'class="alert alert-danger border-3 border-danger mb-3"' in page
    assert "Imbalance likely" not in page and "moderate" not in page


def test_not_tested_and_unable_pain_are_recorded_and_shown(app, client, signed_in):
    _, person = signed_in
    assessment_id = record(
        client,
        person.id,
        front_plank_hold=None,
        front_plank_hold__status="unable_pain",
        hamstring_bridge_reps_left=None,
        hamstring_bridge_reps_left__status="not_tested",
        hamstring_bridge_reps_right=None,
        hamstring_bridge_reps_right__status="not_tested",
        hip_drop_left="unable_pain",
    )
    row = load(app, assessment_id)
    assert row.answers["front_plank_hold"] == "unable_pain"
    assert row.answers["hamstring_bridge_reps_left"] == "not_tested"
    assert row.answers["side_plank_hold_left"] == "not_tested"  # left blank: never normal
    page = text(client.get(f"/assessments/{assessment_id}"))
    assert "Tests stopped by pain" in page
    assert "Front plank hold: unable (pain)" in page
    assert "Hip drop on single-leg stance (Trendelenburg) (left): unable (pain)" in page
    assert "Weak hamstrings and an overloaded lower back: not tested" in page
    # the body map draws untested muscles apart from normal ones
    assert 'class="region region--untested" data-region="hamstrings"' in page
    assert "Not tested (dashed outline, not normal): " in page
    core = page[page.index('id="finding-weak_core"') :]
    # the plank stopped by pain: a finding of its own, neither "not tested" nor "no finding"
    assert core.startswith(
        'id="finding-weak_core">Weak core and increased lower back load: stopped by pain'
    )


def test_a_number_with_a_no_result_status_is_refused(app, client, signed_in):
    _, person = signed_in
    response = client.post(
        f"/assessments/new/{person.id}",
        data=valid_answers(front_plank_hold="40", front_plank_hold__status="not_tested"),
    )
    assert response.status_code == 200
    assert "clear the number or choose measured" in text(response)
    assert count(app) == 0


def test_client_page_empty_state(client, signed_in):
    _, person = signed_in
    page = text(client.get(f"/clients/{person.id}"))
    assert "No assessment yet" in page
    assert "Record one to see which imbalances to treat." in page
    assert f'href="/assessments/new/{person.id}"' in page


def test_client_page_lists_history(app, client, signed_in):
    user, person = signed_in
    first = record(client, person.id)
    second = record(client, person.id, saddle_numbness="yes")
    page = text(client.get(f"/clients/{person.id}"))
    assert page.index(f'href="/assessments/{second}"') < page.index(f'href="/assessments/{first}"')
    assert user.name in page
    assert "imbalance likely (2 of 4 yes)" in page
    assert "Weak glutes and an overloaded lower back · moderate" in page
    assert "Findings not interpreted while a red flag is open" in page
    assert "Red flag: refer before programming" in page
    assert f'href="/assessments/{second}/compare"' in page
    assert f'href="/assessments/{first}/compare"' not in page
    assert "New assessment" in page


def test_compare_shows_before_and_after(app, client, signed_in):
    _, person = signed_in
    first = record(client, person.id)
    second = record(
        client, person.id, single_leg_bridge_hold_left="35", forward_head_shoulders="none"
    )
    # Same timestamp on both rows must still order by id.
    with app.app_context():
        rows = db.session.scalars(select(Assessment).order_by(Assessment.id)).all()
        rows[1].created_at = rows[0].created_at
        db.session.commit()
    page = text(client.get(f"/assessments/{second}/compare"))
    assert "Weak glutes and an overloaded lower back" in page
    row = page[page.index('id="test-single_leg_bridge_hold_left"') :]
    row = row[: row.index("</tr>")]
    assert "15 s" in row and "35 s" in row and "Improved" in row
    assert f'href="/assessments/{first}"' in page

    page = text(client.get(f"/assessments/{first}/compare"))
    assert "Nothing to compare yet" in page


def test_compare_direction_worse(client, signed_in):
    _, person = signed_in
    record(client, person.id, forward_head_shoulders="none")
    second = record(client, person.id, forward_head_shoulders="marked")
    page = text(client.get(f"/assessments/{second}/compare"))
    row = page[page.index('id="test-forward_head_shoulders"') :]
    row = row[: row.index("</tr>")]
    assert "None" in row and "Marked" in row and "Worse" in row


def test_compare_marks_tests_not_retested(client, signed_in):
    _, person = signed_in
    record(client, person.id, front_plank_hold="15")
    second = record(
        client,
        person.id,
        front_plank_hold=None,
        front_plank_hold__status="not_tested",
        single_leg_bridge_hold_left="16",
        single_leg_bridge_hold_right=None,
        single_leg_bridge_hold_right__status="not_tested",
    )
    page = text(client.get(f"/assessments/{second}/compare"))
    assert "A change is worked out only from tests done both times" in page

    def row(key):
        found = page[page.index(f'id="test-{key}"') :]
        return found[: found.index("</tr>")]

    # the plank was marked before and not done now: not retested, never "improved"
    assert "15 s" in row("front_plank_hold") and "Not retested" in row("front_plank_hold")
    assert "Improved" not in row("front_plank_hold")
    # each side of the bridge on its own: left compared (15 -> 16 s is within the noise)
    assert "Same" in row("single_leg_bridge_hold_left")
    assert "Not retested" in row("single_leg_bridge_hold_right")


def test_previous_is_by_created_at(app, client, signed_in):
    _, person = signed_in
    older = record(client, person.id)
    newer = record(client, person.id)
    with app.app_context():
        row = db.session.get(Assessment, older)
        row.created_at = row.created_at - timedelta(days=30)
        db.session.commit()
    page = text(client.get(f"/assessments/{newer}/compare"))
    assert f'href="/assessments/{older}"' in page


# --------------------------------------------------------------------------- archived, access


def test_archived_client_cannot_be_assessed(app, client, signed_in):
    _, person = signed_in
    client.post(f"/clients/{person.id}/archive")
    response = client.get(f"/assessments/new/{person.id}", follow_redirects=True)
    page = text(response)
    assert "is archived, so no new assessment can be recorded" in page
    response = client.post(
        f"/assessments/new/{person.id}", data=valid_answers(), follow_redirects=True
    )
    assert "restore the client to assess them again" in text(response)
    assert count(app) == 0
    page = text(client.get(f"/clients/{person.id}"))
    assert f'href="/assessments/new/{person.id}"' not in page
    assert "new assessments need the client to be restored first" in page


ROUTES = [
    ("get", "/assessments/new/{client}"),
    ("post", "/assessments/new/{client}"),
    ("get", "/assessments/{assessment}"),
    ("post", "/assessments/{assessment}/clearance"),
    ("post", "/assessments/{assessment}/confirm"),
    ("get", "/assessments/{assessment}/compare"),
]


@pytest.fixture
def other_clinic(app, client, auth, factories):
    """An assessment (with a red flag) in another clinic, then sign in to a fresh clinic."""
    owner = factories.user()
    person = factories.client_record(owner)
    auth.login(email=owner.email)
    client.post(f"/assessments/new/{person.id}", data=valid_answers(cancer_history="yes"))
    client.post("/account/sign-out")
    with app.app_context():
        assessment = db.session.scalar(select(Assessment))
        before = (assessment.cleared_at, assessment.confirmed_imbalances)
        assessment_id = assessment.id
    auth.login()
    return person.id, assessment_id, before


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_other_clinic_gets_404(app, client, other_clinic, method, url):
    person_id, assessment_id, before = other_clinic
    data = valid_answers(
        name="Dr X",
        profession="gp",
        cleared_on=local_today(None).isoformat(),
        imbalances=["weak_glutes"],
    )
    response = getattr(client, method)(
        url.format(client=person_id, assessment=assessment_id),
        data=data if method == "post" else None,
    )
    assert response.status_code == 404
    assert count(app) == 1
    row = load(app, assessment_id)
    assert (row.cleared_at, row.confirmed_imbalances) == before


@pytest.mark.parametrize(("method", "url"), ROUTES)
def test_sign_in_required(app, client, factories, method, url):
    owner = factories.user()
    person = factories.client_record(owner)
    response = getattr(client, method)(url.format(client=person.id, assessment=1))
    assert response.status_code == 302
    assert "/account/sign-in" in response.headers["Location"]
    assert count(app) == 0


# --------------------------------------------------------------------------- stored results


LEGACY_RESULT = {
    "schema": 1,
    "questionnaire_version": "2026.11.1",
    "screening": {"yes_count": 2, "likely": True, "message": "Likely.", "answered": [["Q", "yes"]]},
    "red_flags": [],
    "blocked": False,
    "message": "",
    "imbalances": [
        {
            "slug": "weak_glutes",
            "name": "Weak glutes and an overloaded lower back",
            "score": 100,
            "level": "likely",
            "reasons": ["Left single-leg bridge held 12 s, below 20 s"],
            "weak_side": "left",
        },
        {
            "slug": "weak_core",
            "name": "Weak core and increased lower back load",
            "score": 0,
            "level": "none",
            "reasons": [],
            "weak_side": None,
        },
    ],
    "measurements": [
        {
            "key": "single_leg_bridge_hold_left",
            "imbalance": "weak_glutes",
            "indicator": "single_leg_bridge_hold",
            "label": "Single-leg glute bridge hold (left)",
            "value": 12,
            "text": "12 s",
            "severity": 1.0,
        }
    ],
}


def test_an_assessment_stored_before_graded_findings_still_opens_and_builds(app, client, signed_in):
    user, person = signed_in
    with app.app_context():
        row = Assessment(
            clinic_id=user.clinic_id,
            client_id=person.id,
            trainer_id=user.id,
            questionnaire_version="2026.11.1",
            answers={"single_leg_bridge_hold_left": 12},
            result=LEGACY_RESULT,
        )
        db.session.add(row)
        db.session.commit()
        assessment_id = row.id
    page = text(client.get(f"/assessments/{assessment_id}"))
    assert "Left single-leg bridge held 12 s, below 20 s" in page
    assert "recorded before sources were kept" in page
    assert not shows_a_score(page)
    assert 'value="weak_glutes" id="treat-weak_glutes" checked' in page
    assert client.get(f"/clients/{person.id}").status_code == 200
    client.post(f"/assessments/{assessment_id}/confirm", data={"imbalances": ["weak_glutes"]})
    response = client.post(
        f"/programs/new/{assessment_id}",
        data={
            "level": "beginner",
            "sessions_per_week": 3,
            "weeks": 4,
            "max_exercises": 6,
            "equipment": ["mat", "bench", "none"],
        },
    )
    assert response.status_code == 302, text(response)
    program = text(client.get(response.headers["Location"]))
    assert "Glute bridge addresses: left single-leg bridge held 12 s, below 20 s" in program


def test_each_step_lands_on_the_next_action_without_contradicting_banners(client, signed_in):
    _, person = signed_in
    response = client.post(
        f"/assessments/new/{person.id}", data=valid_answers(leg_pain_tingling="yes")
    )
    assert response.headers["Location"].endswith("#clearance")
    page = text(client.get(response.headers["Location"]))
    # a blocked assessment is not asked to be confirmed in the same breath
    assert "Red flags were reported: refer the client" in page
    assert "Review the findings and confirm" not in page
    assert 'id="clearance"' in page

    response = client.post(f"/assessments/new/{person.id}", data=valid_answers())
    assert "#" not in response.headers["Location"]  # the findings head the page
    page = text(client.get(response.headers["Location"]))
    assert "Review the findings and confirm what to treat." in page
    assessment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    response = client.post(
        f"/assessments/{assessment_id}/confirm", data={"imbalances": ["weak_glutes"]}
    )
    # the confirmation and its "Build program" button head the section the page opens at
    assert response.headers["Location"].endswith(f"/assessments/{assessment_id}#confirm")
    page = text(client.get(response.headers["Location"]))
    confirm = page[page.index('id="confirm"') :]
    assert confirm.index("Build program") < confirm.index("Imbalances to treat")


# --------------------------------------------------------------------------- physiotherapist review


def _build(client, assessment_id: int, imbalances: list[str]) -> str:
    """Confirm these imbalances, build with the default options, and return the program page."""
    client.post(f"/assessments/{assessment_id}/confirm", data={"imbalances": imbalances})
    response = client.post(
        f"/programs/new/{assessment_id}",
        data={
            "level": "beginner",
            "sessions_per_week": 3,
            "weeks": 4,
            "max_exercises": 8,
            "equipment": ["mat", "bench", "none", "resistance_band", "dumbbells"],
        },
    )
    assert response.status_code == 302, text(response)
    return text(client.get(response.headers["Location"]))


def _item(page: str, element_id: str) -> str:
    found = page[page.index(f'id="{element_id}"') :]
    return found[: found.index("</li>")]


def test_a_glute_test_stopped_by_pain_is_a_finding_on_results_program_and_compare(
    client, signed_in
):
    _, person = signed_in
    first = record(client, person.id)  # left bridge 15 s: weak glutes
    pain = {
        "single_leg_bridge_hold_left": None,
        "single_leg_bridge_hold_left__status": "unable_pain",
        "single_leg_bridge_hold_right": None,
        "single_leg_bridge_hold_right__status": "unable_pain",
        "hip_drop_left": "no",
        "hip_drop_right": "no",
        "front_plank_hold": "20",
    }
    second = record(client, person.id, **pain)
    page = text(client.get(f"/assessments/{second}"))
    line = _item(page, "finding-weak_glutes")
    assert "lower back: stopped by pain" in line and "Unable (pain)</span>:" in line
    assert "Single-leg glute bridge hold (left), Single-leg glute bridge hold (right)." in line
    assert "A finding of its own, not a weak result" in line
    assert "no finding;" not in line.replace("showed no finding", "")
    assert "tested, no finding" not in line

    program = _build(client, second, ["weak_core"])
    assert "Tests stopped by pain:" in program
    assert "Single-leg glute bridge hold (left), Single-leg glute bridge hold (right)" in program

    compare = text(client.get(f"/assessments/{second}/compare"))
    section = compare[compare.index('id="change-weak_glutes"') :]
    header = section[: section.index("</h2>") + 200]
    assert "Unable (pain)" in header and "Not flagged" not in header
    assert first


def test_program_page_reads_tested_normal_hip_flexors_as_tested(client, signed_in):
    _, person = signed_in
    tested = record(client, person.id, thomas_test_left="no", thomas_test_right="no")
    program = _build(client, tested, ["weak_glutes"])
    assert "Hip flexors (tested, no finding)" in program
    assert "Hip flexors (commonly paired with this pattern, not tested)" not in program
    # the lower back has no test: it stays "commonly paired, not tested"
    assert "Lower back (commonly paired with this pattern, not tested)" in program


def test_a_test_measured_on_one_side_only_never_reads_as_normal_or_names_a_side(client, signed_in):
    _, person = signed_in
    one_side = {
        "hamstring_bridge_reps_right": None,
        "hamstring_bridge_reps_right__status": "not_tested",
    }
    normal = record(client, person.id, **one_side)  # left 25 reps, right not tested
    line = _item(text(client.get(f"/assessments/{normal}")), "finding-weak_hamstrings")
    assert "tested, no finding (Single-leg hamstring bridge repetitions (left))" in line
    assert "not tested: Single-leg hamstring bridge repetitions (right), not counted as normal" in (
        line
    )
    weak = record(client, person.id, hamstring_bridge_reps_left="12", **one_side)
    page = text(client.get(f"/assessments/{weak}"))
    card = page[page.index('id="finding-weak_hamstrings"') :]
    card = card[: card.index("</li>")]
    assert "Measured on one side only." in card
    assert "no weaker side is named until both sides are measured" in card
    assert "Weaker side (measured)" not in card


def test_compare_says_not_retested_and_sets_left_and_right_side_by_side(client, signed_in):
    _, person = signed_in
    record(client, person.id, front_plank_hold="12")  # marked weak core, left glutes 15/40
    second = record(
        client,
        person.id,
        front_plank_hold=None,
        front_plank_hold__status="not_tested",
        single_leg_bridge_hold_left="36",
    )
    page = text(client.get(f"/assessments/{second}/compare"))
    core = page[page.index('id="change-weak_core"') :]
    core = core[: core.index("</h2>") + 300]
    assert "Marked" in core and "Not retested" in core and "Not flagged" not in core
    sides = page[page.index('id="change-asymmetry"') :]
    row = sides[sides.index('id="test-single_leg_bridge_hold_sides"') :]
    row = row[: row.index("</tr>")]
    assert "left 15 s, right 40 s" in row and "left 36 s, right 40 s" in row
    assert "Improved" in row


def _client_map(app) -> dict:
    """The body map of the client's plan of the only program (what the PDF draws)."""
    from trainer_app.accounts.models import Clinic
    from trainer_app.library.service import clinic_catalog
    from trainer_app.plans.context import plan_context
    from trainer_app.programs.models import ProgramVersion

    with app.app_context():
        version = db.session.scalars(select(ProgramVersion)).one()
        context = plan_context(
            version,
            clinic=db.session.get(Clinic, version.clinic_id),
            catalog=clinic_catalog(version.clinic_id),
            previous=None,
            paper="A4",
            large_print=False,
        )
        return context["body_map"]


def test_the_client_map_says_loosen_only_for_muscles_a_test_found_tight(app, client, signed_in):
    _, person = signed_in
    assessment_id = record(client, person.id, thomas_test_left="yes", thomas_test_right="no")
    _build(client, assessment_id, ["weak_glutes"])
    # the hip flexors tested tight; the lower back (no test) is never one "to loosen"; only
    # the left single-leg bridge was weak (15 s against 40 s), so only the left glutes
    assert _client_map(app) == {"weak": ["glutes:left"], "overactive": ["hip_flexors"]}


def test_the_client_map_marks_nothing_to_loosen_when_no_test_found_tightness(
    app, client, signed_in
):
    _, person = signed_in
    assessment_id = record(client, person.id, front_plank_hold="12")
    _build(client, assessment_id, ["weak_core", "weak_glutes"])
    body_map = _client_map(app)
    assert body_map["overactive"] == []
    assert "glutes:left" in body_map["weak"] and "abdominals" in body_map["weak"]


def test_compare_says_left_right_not_measured_when_no_test_had_both_sides(client, signed_in):
    # physiotherapist review: "Not flagged" read as "the sides were equal" when the later
    # assessment measured no test on both sides
    _, person = signed_in
    record(client, person.id)  # left bridge 15 s, right 40 s: a marked difference
    right_not_tested: dict[str, str | None] = {}
    for group in Q.indicators.values():
        for ind in (i for i in group if i.bilateral):
            key = f"{ind.id}_right"
            if ind.measured:
                right_not_tested.update({key: None, f"{key}__status": "not_tested"})
            else:
                right_not_tested[key] = "not_tested"
    second = record(client, person.id, **right_not_tested)
    page = text(client.get(f"/assessments/{second}/compare"))
    sides = page[page.index('id="change-asymmetry"') :]
    sides = sides[: sides.index("</section>")]
    header = sides[: sides.index("</h2>") + 300]
    assert "Marked" in header and "Not measured" in header and "Not flagged" not in header
    assert "No test was measured on both sides in this assessment" in sides

    third = record(client, person.id, **right_not_tested)
    page = text(client.get(f"/assessments/{third}/compare"))
    sides = page[page.index('id="change-asymmetry"') :]
    sides = sides[: sides.index("</section>")]
    assert sides.count("Not measured</span>") == 2 and "Not flagged" not in sides
    assert "No test was measured on both sides in either assessment" in sides
