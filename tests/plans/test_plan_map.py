"""The plan's body map (client and clinician copy) shades what the results page shades."""

from __future__ import annotations

import pytest

from tests.programs.test_program_map import ONE_SIDED_CORE, build, plan_context
from trainer_app.assessments import service as assessments
from trainer_app.assessments.models import Assessment
from trainer_app.extensions import db
from trainer_app.plans.options import CLIENT_COPY, CLINICIAN_COPY
from trainer_app.plans.render import cover_map_svg, plan_html


def _cover_map(html: str) -> str:
    svg = html[html.index('id="cover"') :]
    return svg[: svg.index("</svg>")]


def _shaded(svg: str, region: str) -> list[bool]:
    return ["region--weak" in g for g in svg.split("<g ") if f'data-region="{region}"' in g]


@pytest.mark.parametrize("audience", [CLIENT_COPY, CLINICIAN_COPY])
def test_plan_map_shades_only_what_a_test_found(app, client, auth, factories, audience):
    auth.login(name="Ana Trainer")
    client_id = factories.client_record(auth.user, name="Maria Jensen").id
    program_id, assessment_id = build(app, client, auth.user, client_id, **ONE_SIDED_CORE)
    context = plan_context(app, program_id, auth.user.id, audience, "m")
    with app.app_context():
        result = assessments.result_of(db.session.get(Assessment, assessment_id))
        on_results_page = assessments.body_map_regions(result)
        db.session.rollback()
    # the weak front plank shades the abdominals; the side planks were normal, so the
    # obliques are not shaded; only the left bridge was weak, so only the left glute
    assert context["body_map"] == {"weak": ["glutes:left", "abdominals"], "overactive": []}
    assert (context["body_map"]["weak"], context["body_map"]["overactive"]) == on_results_page
    cover = _cover_map(cover_map_svg(context))
    assert cover_map_svg(context) not in plan_html(context)  # printed from its raster
    assert _shaded(cover, "glutes") == [True, False]
    assert any(_shaded(cover, "abdominals"))
    assert _shaded(cover, "obliques") and not any(_shaded(cover, "obliques"))
