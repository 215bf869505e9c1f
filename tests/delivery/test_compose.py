"""The plan email a trainer can check: preview before sending, a personal note, the clinic's
branding in the HTML part (logo inline, never remote), the attachment named for the client."""

from __future__ import annotations

import email
import email.policy
import html as html_lib
import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

import worker.tasks  # noqa: F401  (the send task runs inline in these tests)
from trainer_app.accounts.models import Clinic
from trainer_app.delivery.mailer import (
    Address,
    InlineImage,
    OutgoingEmail,
    build_message,
    outbox_filename,
)
from trainer_app.delivery.models import Delivery
from trainer_app.delivery.service import NOTE_MAX, attachment_name, clean_note
from trainer_app.extensions import db
from trainer_app.mail import outbox_folder
from trainer_app.plans.models import PlanDocument
from trainer_app.programs.models import ProgramVersion

PDF = b"%PDF-1.7 test plan"


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def document(app, auth, factories):
    """A ready PDF of Maria's "Back-care program" in a branded clinic; returns its id."""
    auth.login(name="Ana Trainer")
    maria = factories.client_record(
        auth.user, name="Maria Jensen", email="maria@example.com", email_consent=True
    )
    version_id = factories.program_version(auth.user, maria, title="Back-care program")
    with app.app_context():
        clinic = db.session.get(Clinic, auth.user.clinic_id)
        clinic.name = "Core & Co Physio"
        clinic.accent_color = "#aa3300"
        version = db.session.get(ProgramVersion, version_id)
        doc = PlanDocument(
            clinic_id=clinic.id,
            program_version=version,
            request_key=f"{clinic.id}:doc",
            paper_size="A4",
            status="ready",
            pdf=PDF,
            size_bytes=len(PDF),
        )
        db.session.add(doc)
        db.session.commit()
        return doc.id


def _srcdoc(page: str) -> str:
    return html_lib.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))


def _text_preview(page: str) -> str:
    return html_lib.unescape(
        re.search(r'<pre[^>]*id="preview-text">(.*?)</pre>', page, re.S).group(1)
    )


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").rstrip("\n").split("\n")


def _sent(app, clinic_id: int) -> email.message.EmailMessage:
    """The message of the newest delivery, read back from the clinic's outbox."""
    with app.app_context():
        message_id = db.session.scalar(select(Delivery.message_id).order_by(Delivery.id.desc()))
        path = outbox_folder(clinic_id) / outbox_filename(message_id)
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_preview_shows_exactly_what_is_sent(app, client, auth, document):
    page_response = client.get(f"/deliveries/documents/{document}/compose")
    assert page_response.status_code == 200
    assert "style-src 'self' 'unsafe-inline'" in page_response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page_response.headers["Content-Security-Policy"]
    note = "Hi Maria,\nstart gently <b>this week</b> & tell me how it feels."
    preview = client.post(
        f"/deliveries/documents/{document}/preview",
        data={"idempotency_key": "k" * 22, "personal_note": note},
    ).get_data(as_text=True)
    assert 'id="preview-subject">Your exercise plan from Core &amp; Co Physio<' in preview
    assert "Maria Jensen - Back-care program.pdf" in preview
    shown_html, shown_text = _srcdoc(preview), _text_preview(preview)
    assert "start gently &lt;b&gt;this week&lt;/b&gt; &amp; tell me" in shown_html
    assert "<b>this week</b>" not in shown_html
    assert "background:#aa3300" in shown_html and "Core &amp; Co Physio" in shown_html
    assert note in shown_text
    with app.app_context():
        assert db.session.scalars(select(Delivery)).all() == []  # a preview sends nothing

    response = client.post(
        f"/deliveries/documents/{document}/send",
        data={"idempotency_key": "k" * 22, "personal_note": note},
    )
    assert response.status_code == 302
    message = _sent(app, auth.user.clinic_id)
    assert message["Subject"] == "Your exercise plan from Core & Co Physio"
    assert _lines(message.get_body(("plain",)).get_content()) == _lines(shown_text)
    assert _lines(message.get_body(("html",)).get_content()) == _lines(shown_html)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "Maria Jensen - Back-care program.pdf"
    assert attachment.get_content() == PDF
    with app.app_context():
        delivery = db.session.scalar(select(Delivery))
        assert delivery.personal_note == note and delivery.status == "sent"
    page = client.get(f"/clients/{_client_id(app, document)}").get_data(as_text=True)
    assert "Note: Hi Maria," in page


def _client_id(app, document_id: int) -> int:
    with app.app_context():
        return db.session.get(PlanDocument, document_id).program_version.program.client_id


def test_logo_travels_inline_and_nothing_is_remote(app, client, auth, document):
    with app.app_context():
        clinic = db.session.get(Clinic, auth.user.clinic_id)
        clinic.logo, clinic.logo_mime = _logo(), "image/png"
        db.session.commit()
    preview = client.get(f"/deliveries/documents/{document}/compose").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in _srcdoc(preview)
    client.post(f"/deliveries/documents/{document}/send", data={"idempotency_key": "k" * 22})
    message = _sent(app, auth.user.clinic_id)
    html_part = message.get_body(("html",))
    html = html_part.get_content()
    sources = re.findall(r'src="([^"]+)"', html)
    assert sources == ["cid:clinic-logo@trainer.invalid"]
    related = message.get_body(("related",))
    assert related is not None and related.get_content_type() == "multipart/related"
    [image] = [part for part in related.iter_parts() if part.get_content_maintype() == "image"]
    assert image["Content-ID"] == "<clinic-logo@trainer.invalid>"
    assert image.get_content() == _logo() or image.get_content().startswith(b"\x89PNG")
    assert not re.search(r"(src|href)=\"https?://", html.replace("mailto:", ""))
    assert [a.get_filename() for a in message.iter_attachments()] == [
        "Maria Jensen - Back-care program.pdf"
    ]


def test_without_a_logo_the_html_has_no_image(app, client, auth, document):
    client.post(f"/deliveries/documents/{document}/send", data={"idempotency_key": "k" * 22})
    message = _sent(app, auth.user.clinic_id)
    assert "<img" not in message.get_body(("html",)).get_content()
    assert message.get_body(("related",)) is None


def test_note_too_long_is_refused_and_nothing_sent(app, client, document):
    response = client.post(
        f"/deliveries/documents/{document}/send",
        data={"idempotency_key": "k" * 22, "personal_note": "x" * (NOTE_MAX + 1)},
    )
    assert response.status_code == 400
    assert f"Keep the note to {NOTE_MAX} characters." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Delivery)).all() == []


def test_send_again_offers_the_same_note(app, client, document):
    client.post(
        f"/deliveries/documents/{document}/send",
        data={"idempotency_key": "k" * 22, "personal_note": "See you Tuesday."},
    )
    with app.app_context():
        delivery_id = db.session.scalar(select(Delivery.id))
    program = client.get(f"/clients/{_client_id(app, document)}").get_data(as_text=True)
    again = f"/deliveries/documents/{document}/compose?again={delivery_id}"
    assert again in program
    page = client.get(again).get_data(as_text=True)
    assert re.search(r">\s*See you Tuesday.</textarea>", page), page[
        page.find("<textarea") : page.find("</textarea>") + 11
    ]


def test_the_document_row_links_to_the_preview(app, client, document):
    with app.app_context():
        program_id = db.session.get(PlanDocument, document).program_version.program_id
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert f'href="/deliveries/documents/{document}/compose">Email plan to client</a>' in page
    assert page.count(">Email plan to client<") == 1


def test_no_consent_shows_why_and_offers_no_send(app, client, auth, document):
    with app.app_context():
        db.session.get(PlanDocument, document).program_version.program.client.email_consent = False
        db.session.commit()
    page = client.get(f"/deliveries/documents/{document}/compose").get_data(as_text=True)
    assert "Not possible yet: The client has not agreed to receive email." in page
    assert "Send to" not in page and "srcdoc" not in page


def test_other_clinic_cannot_preview_or_reuse_a_note(app, client, auth, factories):
    owner = factories.user()
    theirs = factories.client_record(owner, email="t@example.com", email_consent=True)
    version_id = factories.program_version(owner, theirs)
    with app.app_context():
        doc = PlanDocument(
            clinic_id=owner.clinic_id,
            program_version_id=version_id,
            request_key="x:doc",
            paper_size="A4",
            status="ready",
            pdf=PDF,
        )
        delivery = Delivery(
            clinic_id=owner.clinic_id,
            client_id=theirs.id,
            document=doc,
            idempotency_key="x:key",
            to_name="Private Person",
            to_email="t@example.com",
            personal_note="Private note",
        )
        db.session.add_all([doc, delivery])
        db.session.commit()
        doc_id, delivery_id = doc.id, delivery.id
    auth.login()
    mine = factories.client_record(auth.user, email="m@example.com", email_consent=True)
    my_version = factories.program_version(auth.user, mine)
    with app.app_context():
        my_doc = PlanDocument(
            clinic_id=auth.user.clinic_id,
            program_version_id=my_version,
            request_key="y:doc",
            paper_size="A4",
            status="ready",
            pdf=PDF,
        )
        db.session.add(my_doc)
        db.session.commit()
        my_doc_id = my_doc.id
    assert client.get(f"/deliveries/documents/{doc_id}/compose").status_code == 404
    preview = client.post(
        f"/deliveries/documents/{doc_id}/preview", data={"idempotency_key": "k" * 22}
    )
    assert preview.status_code == 404
    borrowed = client.get(f"/deliveries/documents/{my_doc_id}/compose?again={delivery_id}")
    assert borrowed.status_code == 404 and "Private note" not in borrowed.get_data(as_text=True)


@pytest.mark.parametrize(
    ("client_name", "title", "expected"),
    [
        ("Maria Jensen", "Back-care program", "Maria Jensen - Back-care program.pdf"),
        ("Zoë Łukasiewicz", "Plan v2", "Zoë Łukasiewicz - Plan v2.pdf"),
        ("../../etc/passwd", "a\\b:c*d?e", "etc passwd - a b c d e.pdf"),
        ("Eve\r\nBcc: x@evil.example", "=?utf-8?q?x?=", "Eve Bcc x@evil.example - utf-8 q x.pdf"),
        ("Bidi\u202etxt.exe", "Plan", "Bidi txt.exe - Plan.pdf"),
        ("", "", "Exercise plan.pdf"),
        ("A" * 200, "B", "A" * 120 + ".pdf"),
    ],
)
def test_attachment_name_is_safe(client_name, title, expected):
    assert attachment_name(client_name, title) == expected


def test_clean_note_keeps_lines_and_drops_controls():
    raw = "  Hi\r\nthere\u202e\x00\x07\n\n\n\nBye\u200b  "
    assert clean_note(raw) == "Hi\nthere\n\nBye"
    assert len(clean_note("x" * 5000)) == NOTE_MAX


def test_mailer_relates_inline_images_to_the_html_part():
    message = build_message(
        OutgoingEmail(
            sender=Address("Clinic", "plans@example.com"),
            to=Address("Maria", "maria@example.com"),
            subject="Plan",
            text="Hello",
            html='<p>Hello</p><img src="cid:logo@example.com">',
            inline_images=(InlineImage("logo@example.com", "image/png", b"\x89PNG fake"),),
        )
    )
    alternative = message.get_body(("related",))
    parts = [p.get_content_type() for p in message.walk()]
    assert parts == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    assert alternative is not None
    with pytest.raises(ValueError, match="Content-ID"):
        build_message(
            OutgoingEmail(
                sender=Address("Clinic", "plans@example.com"),
                to=Address("Maria", "maria@example.com"),
                subject="Plan",
                text="Hello",
                html="<p>x</p>",
                inline_images=(InlineImage("bad id\r\nX: y", "image/png", b"x"),),
            )
        )
