"""The program page's body map shades what the results page shades (physiotherapist review)."""

from __future__ import annotations

from tests.programs.test_views import BUILD, equipment
from tests.support.factories import baseline_answers
from trainer_app.accounts.models import User
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import result_to_dict, score
from trainer_app.extensions import db
from trainer_app.plans import service as plans
from trainer_app.programs.models import Program
from trainer_app.timeutil import utcnow

# A weak front plank (abdominals) with both side planks tested and normal (obliques), the left
# single-leg bridge weak and the right one normal.
ONE_SIDED_CORE = {
    "single_leg_bridge_hold_left": 8,
    "single_leg_bridge_hold_right": 30,
    "front_plank_hold": 15,
    "side_plank_hold_left": 60,
    "side_plank_hold_right": 60,
}


def _map(page: str, prefix: str) -> str:
    svg = page[page.index(f'id="{prefix}"') :]
    return svg[: svg.index("</svg>")]


def _shaded(svg: str, region: str) -> list[bool]:
    """For each drawn group of the region: is it shaded weak?"""
    return ["region--weak" in g for g in svg.split("<g ") if f'data-region="{region}"' in g]


def make_assessment(app, user, client_id, confirmed=("weak_glutes", "weak_core"), **answers):
    """A confirmed assessment with these answers (all other tests passed)."""
    given = baseline_answers(morning_stiffness=True, recurring_tightness=True, **answers)
    result = score(default_questionnaire(), given)
    with app.app_context():
        row = Assessment(
            clinic_id=user.clinic_id,
            client_id=client_id,
            trainer_id=user.id,
            questionnaire_version=result.questionnaire_version,
            answers=given,
            result=result_to_dict(result),
            confirmed_imbalances=list(confirmed),
            confirmed_at=utcnow(),
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def build(app, client, user, client_id, **answers) -> tuple[int, int]:
    """A program built through the form from an assessment; (program id, assessment id)."""
    assessment_id = make_assessment(app, user, client_id, **answers)
    response = client.post(f"/programs/new/{assessment_id}", data={**BUILD, **equipment()})
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].rsplit("/", 1)[1]), assessment_id


def plan_context(app, program_id: int, user_id: int, audience: str, key: str) -> dict:
    """The context the worker renders for the program's latest version, requested as the
    trainer's "Make PDF" requests it (A4, normal print), nothing kept."""
    with app.app_context():
        document, _ = plans.request_document(
            db.session.get(Program, program_id).latest,
            user=db.session.get(User, user_id),
            paper="A4",
            large_print=False,
            request_key=key * 20,
            audience=audience,
        )
        context = plans.document_context(document)
        db.session.rollback()
    return context


def test_program_map_shades_only_what_a_test_found_as_the_results_page_does(
    app, client, auth, factories
):
    auth.login(name="Ana Trainer")
    client_id = factories.client_record(auth.user, name="Maria Jensen").id
    program_id, assessment_id = build(app, client, auth.user, client_id, **ONE_SIDED_CORE)
    page = client.get(f"/programs/{program_id}").text
    program_map = _map(page, "bm-program")
    # the front plank was weak: the abdominals are shaded, the obliques (side planks tested
    # normal) are not, although both are the weak core's muscles
    assert any(_shaded(program_map, "abdominals"))
    assert _shaded(program_map, "obliques") and not any(_shaded(program_map, "obliques"))
    # only the left bridge was weak: the left glute is shaded, the right one drawn unmarked
    assert _shaded(program_map, "glutes") == [True, False]
    assert "<title>Glutes (left)</title>" in program_map
    # the same muscles as the results page, drawn the same way
    results_map = _map(client.get(f"/assessments/{assessment_id}").text, "bm-result")
    for region in ("abdominals", "obliques", "glutes", "hamstrings", "mid_back"):
        assert _shaded(program_map, region) == _shaded(results_map, region), region


def test_a_muscle_merely_paired_with_a_targeted_pattern_is_not_shaded(app, client, auth, factories):
    auth.login(name="Ana Trainer")
    client_id = factories.client_record(auth.user, name="Maria Jensen").id
    # the upper back flagged by a marked posture alone: its muscles are commonly paired with
    # the pattern, none was tested weak, so none is shaded
    program_id, _ = build(
        app,
        client,
        auth.user,
        client_id,
        confirmed=("upper_crossed",),
        forward_head_shoulders="marked",
    )
    page = client.get(f"/programs/{program_id}").text
    program_map = _map(page, "bm-program")
    assert "region--weak" not in program_map
    assert "No muscle region is marked" in page
