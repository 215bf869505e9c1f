"""Program service: build refusals, building version 1, edits and additions as new versions."""

from __future__ import annotations

import pytest

from tests.support.factories import baseline_answers
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import result_to_dict, score
from trainer_app.extensions import db
from trainer_app.library.catalog import default_catalog
from trainer_app.programs import builder, service
from trainer_app.programs.builder import BuildOptions
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.timeutil import utcnow

Q = default_questionnaire()
CATALOG = default_catalog()


def answers(**overrides):
    """A client with morning stiffness, weak glutes (left weaker) and a weak core."""
    return baseline_answers(
        morning_stiffness=True,
        pain_standing_sitting=True,
        single_leg_bridge_hold_left=8,
        single_leg_bridge_hold_right=14,
        front_plank_hold=15,
        **overrides,
    )


def assessment(
    user, client_id, *, confirmed=("weak_glutes", "weak_core"), red_flag=False, cleared=False
) -> Assessment:
    extra = {"constant_night_pain": True} if red_flag else {}
    result = score(Q, answers(**extra))
    row = Assessment(
        clinic_id=user.clinic_id,
        client_id=client_id,
        trainer_id=user.id,
        questionnaire_version=result.questionnaire_version,
        answers=answers(**extra),
        result=result_to_dict(result),
        confirmed_imbalances=list(confirmed) if confirmed is not None else None,
        confirmed_at=utcnow() if confirmed is not None else None,
        cleared_at=utcnow() if cleared else None,
        clearance_note="Cleared by GP" if cleared else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def trainer(factories):
    user = factories.user(name="Ana Trainer")
    return user, factories.client_record(user).id


def test_refusals(app, trainer):
    user, client_id = trainer
    with app.app_context():
        assert "Confirm the imbalances" in service.build_refusal(
            assessment(user, client_id, confirmed=None)
        )
        assert "red flag" in service.build_refusal(assessment(user, client_id, red_flag=True))
        assert (
            service.build_refusal(assessment(user, client_id, red_flag=True, cleared=True)) is None
        )
        assert "No imbalances" in service.build_refusal(assessment(user, client_id, confirmed=()))
        blocked = assessment(user, client_id, red_flag=True)
        with pytest.raises(service.ProgramError):
            service.build_from_assessment(blocked, CATALOG, BuildOptions(), user_id=user.id)
        assert db.session.query(Program).count() == 0


def test_build_creates_program_and_version_one(app, trainer):
    user, client_id = trainer
    with app.app_context():
        a = assessment(user, client_id)
        program = service.build_from_assessment(a, CATALOG, BuildOptions(), user_id=user.id)
        db.session.commit()
        assert program.title.startswith("Corrective program — ")
        (v1,) = program.versions
        assert (v1.number, v1.created_by_id, v1.catalog_version) == (1, user.id, CATALOG.version)
        assert v1.change_note.startswith("Built from assessment of ")
        draft = builder.draft_from_dict(v1.content)
        assert set(draft.targets) == {"weak_glutes", "weak_core"}
        covered = {i.imbalance for i in draft.items if i.kind == "strength"}
        assert covered == {"weak_glutes", "weak_core"}


def test_builder_error_creates_nothing(app, trainer):
    user, client_id = trainer
    with app.app_context():
        a = assessment(
            user,
            client_id,
            confirmed=("weak_glutes", "weak_core", "weak_hamstrings", "upper_crossed", "asymmetry"),
        )
        with pytest.raises(ValueError, match="raise the exercise limit"):
            service.build_from_assessment(
                a, CATALOG, BuildOptions(max_exercises=4), user_id=user.id
            )
        db.session.rollback()
        assert db.session.query(Program).count() == 0


def _draft():
    return builder.build_program(["weak_glutes"], CATALOG, BuildOptions(weeks=4))


def _edits(draft, **changes):
    out = []
    for pos, item in enumerate(draft.items, 1):
        values = {
            "exercise_slug": item.exercise_slug,
            "sets": item.sets,
            "reps": item.reps,
            "hold_seconds": item.hold_seconds,
            "rest_seconds": item.rest_seconds,
            "notes": item.notes,
            "position": pos,
        }
        values.update(changes.get(item.exercise_slug, {}))
        out.append(service.ItemEdit(**values))
    return out


def test_apply_edits_recomputes_weekly_only_for_changed_doses():
    draft = _draft()
    strength = next(i for i in draft.items if i.kind == "strength" and i.reps is not None)
    edited = service.apply_edits(draft, _edits(draft, **{strength.exercise_slug: {"sets": 4}}))
    after = next(i for i in edited.items if i.exercise_slug == strength.exercise_slug)
    assert after.sets == 4 and after.weekly[0].sets == 4
    assert [w.reps for w in after.weekly] == [
        strength.reps,
        strength.reps + 1,
        strength.reps + 1,
        strength.reps + 2,
    ]
    assert after.weekly[2].sets == 5  # the set is added in week 3 of 4
    others = [i for i in edited.items if i.exercise_slug != strength.exercise_slug]
    assert others == [i for i in draft.items if i.exercise_slug != strength.exercise_slug]


def test_apply_edits_removes_and_reorders():
    draft = _draft()
    first, second = draft.items[0], draft.items[1]
    edits = _edits(
        draft,
        **{first.exercise_slug: {"position": 2}, second.exercise_slug: {"position": 1}},
    )
    edits[-1] = service.ItemEdit(**{**edits[-1].__dict__, "remove": True})
    edited = service.apply_edits(draft, edits)
    assert edited.items[0] == second and edited.items[1] == first
    assert draft.items[-1].exercise_slug not in [i.exercise_slug for i in edited.items]
    assert edited.session_minutes == builder.estimate_minutes(edited.items)


def test_apply_edits_refuses_mismatched_or_empty():
    draft = _draft()
    with pytest.raises(service.ProgramError, match="does not match"):
        service.apply_edits(draft, _edits(draft)[1:])
    all_removed = [service.ItemEdit(**{**e.__dict__, "remove": True}) for e in _edits(draft)]
    with pytest.raises(service.ProgramError, match="at least one"):
        service.apply_edits(draft, all_removed)


def test_add_exercise_default_dose_reason_and_progression():
    draft = _draft()
    plank = CATALOG.exercise("plank")
    added = service.add_exercise(draft, plank, "Added by Ana")
    item = added.items[-1]
    assert item.exercise_slug == "plank"
    assert (item.sets, item.hold_seconds) == (plank.dose.sets, plank.dose.hold_seconds)
    assert item.reason == "Plank: Added by Ana"
    assert (
        len(item.weekly) == draft.weeks
        and item.weekly[1].hold_seconds == plank.dose.hold_seconds + 5
    )
    with pytest.raises(service.ProgramError, match="already"):
        service.add_exercise(added, plank, "again")
    release = CATALOG.exercise("cat_cow")
    with_release = service.add_exercise(draft, release, "warm-up")
    kinds = [i.kind for i in with_release.items]
    assert kinds == sorted(kinds, key=lambda k: k != "release")  # release stays first
    added_release = next(i for i in with_release.items if i.exercise_slug == "cat_cow")
    assert len({(w.sets, w.reps, w.hold_seconds) for w in added_release.weekly}) == 1


def test_save_version_stale_and_nothing_changed(app, trainer):
    user, client_id = trainer
    with app.app_context():
        program = service.build_from_assessment(
            assessment(user, client_id), CATALOG, BuildOptions(), user_id=user.id
        )
        draft = service.draft_of(program.latest)
        with pytest.raises(service.NothingChanged):
            service.save_version(program, 1, draft, note="n", user_id=user.id)
        edited = service.apply_edits(
            draft, _edits(draft, **{draft.items[0].exercise_slug: {"notes": "Go slow"}})
        )
        v2 = service.save_version(program, 1, edited, note="Slower", user_id=user.id)
        assert v2.number == 2
        with pytest.raises(service.StaleVersion):
            service.save_version(program, 1, edited, note="again", user_id=user.id)
        db.session.commit()
        numbers = db.session.scalars(
            db.select(ProgramVersion.number).where(ProgramVersion.program_id == program.id)
        ).all()
        assert sorted(numbers) == [1, 2]


def test_version_changes_and_dose_reason(app, trainer):
    user, client_id = trainer
    with app.app_context():
        program = service.build_from_assessment(
            assessment(user, client_id), CATALOG, BuildOptions(), user_id=user.id
        )
        draft = service.draft_of(program.latest)
        item = next(i for i in draft.items if i.kind == "strength")
        ex = CATALOG.exercise(item.exercise_slug)
        assert "library's starting dose" in service.dose_reason(item, 4, ex)
        assert "week 3" in service.dose_reason(item, 4, ex)
        edited = service.apply_edits(draft, _edits(draft, **{item.exercise_slug: {"sets": 5}}))
        changed = next(i for i in edited.items if i.exercise_slug == item.exercise_slug)
        assert "trainer set" in service.dose_reason(changed, 4, ex)
        service.save_version(program, 1, edited, note="More sets", user_id=user.id)
        db.session.commit()
        db.session.refresh(program)
        changes = service.version_changes(program.versions)
        assert changes[1] == []
        assert changes[2] == [
            f"{item.name}: {item.sets} x {item.reps or item.hold_seconds}"
            f"{' reps' if item.reps else ' s hold'}"
            f"{' each side' if item.per_side else ''} → 5 x "
            f"{item.reps or item.hold_seconds}"
            f"{' reps' if item.reps else ' s hold'}"
            f"{' each side' if item.per_side else ''}"
        ]
