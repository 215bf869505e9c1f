"""Delivery pages: status rows and the development outbox, each only for the signed-in clinic."""

from __future__ import annotations

import pytest

from trainer_app.delivery.models import Delivery
from trainer_app.extensions import db
from trainer_app.plans.models import PlanDocument
from trainer_app.programs.models import ProgramVersion


def _delivery_of(app, factories, owner, status="sent") -> int:
    client = factories.client_record(owner, email="c@example.com", email_consent=True)
    version_id = factories.program_version(owner, client)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        document = PlanDocument(
            clinic_id=owner.clinic_id,
            program_version_id=version.id,
            request_key=f"{owner.clinic_id}:doc",
            paper_size="A4",
            status="ready",
            pdf=b"%PDF-1.7",
        )
        delivery = Delivery(
            clinic_id=owner.clinic_id,
            client_id=client.id,
            document=document,
            idempotency_key=f"{owner.clinic_id}:key",
            to_name="Private Person",
            to_email="c@example.com",
            status=status,
        )
        db.session.add_all([document, delivery])
        db.session.commit()
        return delivery.id


def test_status_row_polls_until_done(app, client, auth, factories):
    auth.login()
    queued = _delivery_of(app, factories, auth.user, status="queued")
    row = client.get(f"/deliveries/{queued}/status").get_data(as_text=True)
    assert "Queued" in row and f'data-poll-url="/deliveries/{queued}/status"' in row


def test_other_clinic_delivery_answers_404(app, client, auth, factories):
    theirs = _delivery_of(app, factories, factories.user())
    auth.login()
    response = client.get(f"/deliveries/{theirs}/status")
    assert response.status_code == 404 and "Private Person" not in response.get_data(as_text=True)


@pytest.mark.parametrize("route", ["/deliveries/1/status", "/deliveries/outbox"])
def test_delivery_pages_need_sign_in(client, route):
    response = client.get(route)
    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


def test_outbox_shows_only_this_clinics_mail(app, client, auth, factories):
    from trainer_app.delivery.mailer import Address, OutboxTransport, OutgoingEmail, build_message
    from trainer_app.mail import outbox_folder

    other = factories.user()
    auth.login()
    with app.app_context():
        for clinic_id, subject in ((auth.user.clinic_id, "Mine"), (other.clinic_id, "Theirs")):
            OutboxTransport(outbox_folder(clinic_id)).send(
                build_message(
                    OutgoingEmail(
                        sender=Address("Clinic", "plans@example.com"),
                        to=Address("Client", "client@example.com"),
                        subject=f"{subject} message",
                        text="Hello",
                        message_id=f"<{subject.lower()}@example.com>",
                    )
                )
            )
    page = client.get("/deliveries/outbox").get_data(as_text=True)
    assert "Mine message" in page and "Theirs message" not in page
    assert client.get("/deliveries/outbox/theirs@example.com.eml").status_code == 404
    assert client.get("/deliveries/outbox/..%2F..%2Fsecret_key").status_code == 404
    mine = client.get("/deliveries/outbox/mine@example.com.eml")
    assert mine.status_code == 200 and "Hello" in mine.get_data(as_text=True)


def test_outbox_is_off_when_mail_really_goes_out(make_app, auth, factories):
    smtp_app = make_app(SMTP_URL="smtp://127.0.0.1:2525")
    browser = smtp_app.test_client()
    user = factories.user()
    browser.post("/account/sign-in", data={"email": user.email, "password": factories.PASSWORD})
    assert browser.get("/deliveries/outbox").status_code == 404
    assert "Outbox" not in browser.get("/dashboard").get_data(as_text=True)


def test_email_templates_render_in_a_worker_without_a_request(app):
    """Workers render mail with no request and no signed-in user (page helpers must not run)."""
    from trainer_app.mail import render_email

    with app.app_context():
        subject, text, html = render_email(
            "plan",
            {
                "clinic_name": "Core Studio",
                "client_name": "Maria",
                "trainer_name": "Ana",
                "trainer_email": "ana@example.com",
                "sessions_per_week": 3,
                "weeks": 6,
            },
        )
    assert subject == "Your exercise plan from Core Studio"
    assert "3 sessions a week for 6 weeks" in text and "Maria" in html
