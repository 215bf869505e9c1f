"""The plan email tells the client when to stop and seek help, and that it is not medical advice."""

from __future__ import annotations

from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.delivery import service
from trainer_app.extensions import db
from trainer_app.plans.models import READY, PlanDocument


def test_plan_email_has_the_stop_box_and_the_medical_advice_line(app, factories):
    owner = factories.user()
    person = factories.client_record(owner, email="c@example.com", email_consent=True)
    version_id = factories.program_version(owner, person)
    emergency = [
        f.client_text
        for f in default_questionnaire().red_flags.questions
        if f.urgency == "emergency"
    ]
    with app.test_request_context():
        document = PlanDocument(
            clinic_id=owner.clinic_id,
            program_version_id=version_id,
            request_key=f"{owner.clinic_id}:safety-email",
            paper_size="A4",
            status=READY,
            pdf=b"%PDF-1.4\n%%EOF\n",
        )
        db.session.add(document)
        db.session.commit()
        mail = service.plan_email(document, to_name=person.name, to_email=person.email).email
    for part in (mail.text, mail.html):
        assert "does not replace medical advice" in part
        assert emergency and all(sign in part for sign in emergency)
    assert "STOP AND SEEK HELP IF" in mail.text and "Stop and seek help if" in mail.html
