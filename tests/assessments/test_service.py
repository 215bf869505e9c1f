"""Assessment service rules: red flags block confirmation, ordering, body-map regions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from trainer_app.assessments import service
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import score
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.timeutil import format_local, local_today, utcnow

Q = default_questionnaire()


def answers(**overrides):
    questions = (*Q.screening.questions, *Q.red_flags.questions, *Q.health.questions)
    data = {question.id: False for question in questions}
    data.update(single_leg_bridge_hold_left=15, single_leg_bridge_hold_right=40)
    data.update(front_plank_hold=70, hamstring_bridge_reps_left=25)
    # a mild forward head with a concordant sign (wall angel not held) flags the upper back
    data.update(hamstring_bridge_reps_right=25, forward_head_shoulders="mild", wall_angel=False)
    data.update(overrides)
    return data


def test_body_map_marks_weak_muscles_of_flagged_imbalances_and_only_measured_tightness():
    weak, overactive = service.body_map_regions(score(Q, answers()))
    # left glutes measured weak; the upper back's muscles are commonly paired, not tested
    assert weak == ["glutes:left"]
    assert service.paired_regions(score(Q, answers())) == [
        "upper_trapezius",
        "mid_back",
        "rear_deltoids",
    ]
    assert overactive == []  # commonly paired muscles are not marked until tested tight
    _, overactive = service.body_map_regions(score(Q, answers(pec_minor_short_left=True)))
    assert overactive == ["chest"]
    assert service.body_map_regions(
        score(Q, answers(forward_head_shoulders="none", single_leg_bridge_hold_left=40))
    ) == ([], [])


def test_order_follows_the_ranking():
    result = score(Q, answers())
    # bridge 15 s against 20 s (mild, 25%: moderate), posture mild; core not flagged
    assert service.order_imbalances(result, ["weak_core", "upper_crossed", "weak_glutes"]) == [
        "weak_glutes",
        "upper_crossed",
        "weak_core",
    ]


def test_red_flag_blocks_until_cleared(app, factories):
    user = factories.user()
    person = factories.client_record(user)
    with app.app_context():
        client = db.session.get(Client, person.id)
        assessment = service.record_assessment(
            client, trainer_id=user.id, answers=answers(cancer_history=True)
        )
        assert service.is_blocked(assessment)
        with pytest.raises(service.AssessmentRefused, match="clearance"):
            service.confirm_imbalances(assessment, ["weak_glutes"])
        today = local_today(None)
        clear = {"user_id": user.id, "profession": "gp", "cleared_on": today}
        with pytest.raises(service.AssessmentRefused, match="Name the doctor"):
            service.record_clearance(assessment, name="  ", **clear)
        with pytest.raises(service.AssessmentRefused, match="profession"):
            service.record_clearance(assessment, name="Dr X", **{**clear, "profession": "coach"})
        with pytest.raises(service.AssessmentRefused, match="future"):
            service.record_clearance(
                assessment, name="Dr X", **{**clear, "cleared_on": today + timedelta(days=1)}
            )
        with pytest.raises(service.AssessmentRefused, match="after the red flag"):
            service.record_clearance(
                assessment, name="Dr X", **{**clear, "cleared_on": today - timedelta(days=1)}
            )
        assert service.is_blocked(assessment)
        service.record_clearance(assessment, name=" Dr  X ", restrictions="No running", **clear)
        day = format_local(today, None, "date")
        line = f"Cleared by Dr X (GP) on {day} — restrictions: No running"
        assert service.clearance_of(assessment).line == line
        assert not service.is_blocked(assessment)
        with pytest.raises(service.AssessmentRefused, match="at least one"):
            service.confirm_imbalances(assessment, [])
        assert service.confirm_imbalances(assessment, ["weak_core", "weak_glutes"]) == [
            "weak_glutes",
            "weak_core",
        ]
        assert service.summarize(assessment).findings[0][0].startswith("Left/right")
        db.session.rollback()


def test_archived_client_is_refused(app, factories):
    user = factories.user()
    person = factories.client_record(user, archived_at=utcnow())
    with app.app_context():
        client = db.session.get(Client, person.id)
        with pytest.raises(service.AssessmentRefused, match="archived"):
            service.record_assessment(client, trainer_id=user.id, answers=answers())


def test_an_emergency_red_flag_is_cleared_by_a_doctor_only(app, factories):
    """Saddle numbness (possible cauda equina): a physiotherapist's clearance is refused."""
    user = factories.user()
    person = factories.client_record(user)
    with app.app_context():
        client = db.session.get(Client, person.id)
        assessment = service.record_assessment(
            client, trainer_id=user.id, answers=answers(saddle_numbness=True)
        )
        assert assessment.result["urgency"] == "emergency"
        clear = {"user_id": user.id, "name": "Pat Physio", "cleared_on": local_today(None)}
        with pytest.raises(service.AssessmentRefused, match="cleared by a doctor"):
            service.record_clearance(assessment, profession="physiotherapist", **clear)
        assert service.is_blocked(assessment)
        service.record_clearance(assessment, profession="emergency", **clear)
        assert not service.is_blocked(assessment)


def test_an_urgent_red_flag_may_be_cleared_by_a_physiotherapist(app, factories):
    user = factories.user()
    person = factories.client_record(user)
    with app.app_context():
        client = db.session.get(Client, person.id)
        assessment = service.record_assessment(
            client, trainer_id=user.id, answers=answers(cancer_history=True)
        )
        assert assessment.result["urgency"] == "urgent"
        service.record_clearance(
            assessment,
            user_id=user.id,
            name="Pat Physio",
            profession="physiotherapist",
            cleared_on=local_today(None),
        )
        assert not service.is_blocked(assessment)
