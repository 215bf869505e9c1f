"""The app's one way to send mail: render templates/email/<name>/, pick the transport, send.

Two kinds of mail, two places without SMTP_URL: plan emails go to the clinic's outbox (its
owner may read them in the app), account emails (password links) to a folder only the
server operator can read, never shown in the app.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template

from trainer_app.delivery.mailer import (
    Address,
    Attachment,
    InlineImage,
    OutboxTransport,
    OutgoingEmail,
    SmtpTransport,
    transport_from_url,
)


def render_email(name: str, context: dict) -> tuple[str, str, str]:
    """Subject, text body and HTML body from templates/email/<name>/."""
    subject = render_template(f"email/{name}/subject.txt", **context).strip()
    text = render_template(f"email/{name}/body.txt", **context)
    html = render_template(f"email/{name}/body.html", **context)
    return subject, text, html


def outbox_folder(clinic_id: int) -> Path:
    """The embedded outbox of one clinic (each clinic sees only its own plan emails)."""
    return Path(current_app.config["OUTBOX_FOLDER"]) / str(int(clinic_id))


def current_transport(clinic_id: int) -> SmtpTransport | OutboxTransport:
    """SMTP when SMTP_URL is set, else the clinic's folder in the instance outbox."""
    return transport_from_url(current_app.config.get("SMTP_URL"), outbox_folder(clinic_id))


def account_transport() -> SmtpTransport | OutboxTransport:
    """SMTP when SMTP_URL is set, else the operator-only account-mail folder."""
    folder = Path(current_app.config["ACCOUNT_MAIL_FOLDER"])
    return transport_from_url(current_app.config.get("SMTP_URL"), folder)


def compose(
    name: str,
    *,
    to_name: str,
    to_email: str,
    sender_name: str,
    context: dict,
    reply_to: Address | None = None,
    attachments: tuple[Attachment, ...] = (),
    message_id: str | None = None,
    inline_images: tuple[InlineImage, ...] = (),
) -> OutgoingEmail:
    """An OutgoingEmail from a template and the configured sender address."""
    subject, text, html = render_email(name, context)
    return OutgoingEmail(
        sender=Address(sender_name, current_app.config["MAIL_FROM"]),
        to=Address(to_name, to_email),
        subject=subject,
        text=text,
        html=html,
        reply_to=reply_to,
        attachments=attachments,
        message_id=message_id,
        inline_images=inline_images,
    )
