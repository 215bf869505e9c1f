"""A threshold taken from a norm measured in athletes or patients says so beside it, on the
results page and in the clinician copy, never in the client copy (physiotherapist review)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.assessments.test_views import _build, record, text
from trainer_app.accounts.models import User
from trainer_app.assessments.questionnaire import Source, default_questionnaire
from trainer_app.extensions import db
from trainer_app.plans import service
from trainer_app.plans.options import CLIENT_COPY, CLINICIAN_COPY
from trainer_app.plans.render import plan_html
from trainer_app.programs.models import Program

FOOTBALLERS = (
    "Norm from Australian Rules football players (Freckleton et al. 2014); "
    "interpret with care for other clients."
)


def test_a_published_norm_names_its_population_and_only_a_norm_may():
    source = default_questionnaire().indicator("hamstring_bridge_reps").source
    assert source.text().endswith(FOOTBALLERS)
    thomas = default_questionnaire().indicator("thomas_test").source
    assert "Norm from elite athletes (Harvey 1998)" in thomas.text()
    # a field rule of thumb was measured in no one: it names no population
    assert "Norm from" not in default_questionnaire().indicator("front_plank_hold").source.text()
    with pytest.raises(ValidationError, match="only a published norm"):
        Source(kind="rule_of_thumb", citation="Under 30 s.", population="footballers")


@pytest.fixture
def signed_in(client, auth, factories):
    auth.login()
    return auth.user, factories.client_record(auth.user, name="Maria Jensen")


def test_results_page_and_clinician_copy_show_the_norms_population(app, client, signed_in):
    user, person = signed_in
    assessment_id = record(
        client, person.id, hamstring_bridge_reps_left="12", hamstring_bridge_reps_right="13"
    )
    page = text(client.get(f"/assessments/{assessment_id}"))
    row = page[page.index("single-leg hamstring bridge managed 12") :]
    row = row[: row.index("</tr>")]
    assert "under 20" in row and FOOTBALLERS in row
    program_page = _build(client, assessment_id, ["weak_hamstrings"])
    assert "Hamstring" in program_page
    with app.app_context():
        program = db.session.scalars(db.select(Program)).one()
        copies = {}
        for key, audience in (("k", CLIENT_COPY), ("c", CLINICIAN_COPY)):
            document, _ = service.request_document(
                program.latest,
                user=db.session.get(User, user.id),
                paper="A4",
                large_print=False,
                request_key=key * 20,
                audience=audience,
            )
            copies[audience] = plan_html(service.document_context(document))
        db.session.rollback()
    assert FOOTBALLERS in copies[CLINICIAN_COPY]
    assert "Norm from" not in copies[CLIENT_COPY]
