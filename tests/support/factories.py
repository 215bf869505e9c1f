"""Small factories for test data, writing through the same service functions as the app."""

from __future__ import annotations

import itertools
from functools import cache

from trainer_app.demo import DEMO_ANSWERS
from trainer_app.extensions import db

_counter = itertools.count(1)


@cache
def _password_hash(password: str) -> str:
    # Hashing at production strength is slow on purpose; hash each test password once.
    from trainer_app.accounts.passwords import hash_password

    return hash_password(password)


class Factories:
    PASSWORD = "correct horse battery"

    def __init__(self, app) -> None:
        self.app = app

    def user(
        self,
        *,
        name: str | None = None,
        email: str | None = None,
        clinic=None,
        clinic_name=None,
        role: str = "owner",
    ):
        from trainer_app.accounts.models import Clinic, User
        from trainer_app.timeutil import utcnow

        n = next(_counter)
        with self.app.app_context():
            if clinic is None:
                clinic = Clinic(name=clinic_name or f"Clinic {n}", contact=f"clinic{n}@example.com")
                db.session.add(clinic)
            else:
                clinic = db.session.merge(clinic)
            user = User(
                clinic=clinic,
                name=name or f"Trainer {n}",
                email=email or f"trainer{n}@example.com",
                password_hash=_password_hash(self.PASSWORD),
                role=role,
                email_confirmed_at=utcnow(),
            )
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge_all()
            return user

    def client_record(self, user, **fields):
        from trainer_app.clients.models import Client

        n = next(_counter)
        with self.app.app_context():
            data = {
                "name": f"Client {n}",
                "email": f"client{n}@example.com",
                "email_consent": False,
                "notes": "",
            }
            data.update(fields)
            client = Client(clinic_id=user.clinic_id, primary_trainer_id=user.id, **data)
            db.session.add(client)
            db.session.commit()
            db.session.refresh(client)
            db.session.expunge(client)
            return client


# A realistic assessment: weak glutes (left weaker), weak core, rounded shoulders.
ASSESSMENT_ANSWERS = DEMO_ANSWERS


def _add_program(app, user, client, *, title: str = "Corrective program"):
    from trainer_app.assessments.models import Assessment
    from trainer_app.assessments.questionnaire import default_questionnaire
    from trainer_app.assessments.scoring import result_to_dict, score, suggested_imbalances
    from trainer_app.library.catalog import default_catalog
    from trainer_app.programs.builder import build_program, draft_to_dict, targets_from_scores
    from trainer_app.programs.models import Program, ProgramVersion
    from trainer_app.timeutil import utcnow

    questionnaire = default_questionnaire()
    result = score(questionnaire, ASSESSMENT_ANSWERS)
    confirmed = list(suggested_imbalances(result))
    assessment = Assessment(
        clinic_id=user.clinic_id,
        client_id=client.id,
        trainer_id=user.id,
        questionnaire_version=questionnaire.version,
        answers=ASSESSMENT_ANSWERS,
        result=result_to_dict(result),
        confirmed_imbalances=confirmed,
        confirmed_at=utcnow(),
    )
    catalog = default_catalog()
    draft = build_program(targets_from_scores(result.imbalances, confirmed), catalog)
    program = Program(
        clinic_id=user.clinic_id, client_id=client.id, assessment=assessment, title=title
    )
    version = ProgramVersion(
        clinic_id=user.clinic_id,
        program=program,
        number=1,
        content=draft_to_dict(draft),
        catalog_version=catalog.version,
        created_by_id=user.id,
        change_note="Built from assessment",
    )
    db.session.add_all([assessment, program, version])
    db.session.commit()
    return version


def _program_version(factories: Factories, user, client=None, **kwargs):
    """A confirmed assessment and a built program for ``client``; returns version 1's id."""
    client = client or factories.client_record(user)
    with factories.app.app_context():
        from trainer_app.clients.models import Client

        version = _add_program(factories.app, user, db.session.get(Client, client.id), **kwargs)
        return version.id


def _ready_document(factories: Factories, user, client=None, *, key: str = "document-key-0001"):
    """A program for ``client`` with its PDF requested and rendered; returns the document id."""
    from trainer_app.accounts.models import User
    from trainer_app.plans import service as plans
    from trainer_app.programs.models import ProgramVersion

    version_id = factories.program_version(user, client)
    with factories.app.app_context():
        document, _ = plans.request_document(
            db.session.get(ProgramVersion, version_id),
            user=db.session.get(User, user.id),
            paper="A4",
            large_print=False,
            request_key=key,
        )
        db.session.commit()
        plans.render_document(document.id, claim_id="render-in-test")
        return document.id


def baseline_answers(**overrides) -> dict:
    """Answers with nothing wrong (every test passed, no red flag), then ``overrides``."""
    from trainer_app.assessments.questionnaire import default_questionnaire

    questionnaire = default_questionnaire()
    questions = (
        *questionnaire.screening.questions,
        *questionnaire.red_flags.questions,
        *questionnaire.health.questions,
    )
    data = {q.id: False for q in questions}
    for group in questionnaire.indicators.values():
        for ind in group:
            for key in ind.answer_keys():
                if ind.type == "yes_no":
                    data[key] = not ind.positive
                elif ind.type == "choice":
                    data[key] = "none"
                else:
                    data[key] = ind.below + 10
    data.update(overrides)
    return data


Factories.program_version = _program_version
Factories.ready_document = _ready_document
