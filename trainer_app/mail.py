"""The app's one way to send mail: render templates/email/<name>/, pick the transport, send."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template

from trainer_app.delivery.mailer import (
    Address,
    Attachment,
    MailError,
    OutgoingEmail,
    build_message,
    transport_from_url,
)


class MailNotSent(RuntimeError):
    """The transport refused or failed; ``reason`` is in plain words."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def render_email(name: str, context: dict) -> tuple[str, str, str]:
    """Subject, text body and HTML body from templates/email/<name>/."""
    subject = render_template(f"email/{name}/subject.txt", **context).strip()
    text = render_template(f"email/{name}/body.txt", **context)
    html = render_template(f"email/{name}/body.html", **context)
    return subject, text, html


def outbox_folder(clinic_id: int | None) -> Path:
    """The embedded outbox of one clinic (each clinic sees only its own mail)."""
    return Path(current_app.config["OUTBOX_FOLDER"]) / str(clinic_id or "system")


def current_transport(clinic_id: int | None = None):
    """SMTP when SMTP_URL is set, else the clinic's folder in the instance outbox."""
    return transport_from_url(current_app.config.get("SMTP_URL"), outbox_folder(clinic_id))


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
    )


def send(email: OutgoingEmail, *, clinic_id: int | None = None) -> None:
    """Send now through the configured transport; raise MailNotSent with the reason."""
    try:
        current_transport(clinic_id).send(build_message(email))
    except MailError as exc:
        raise MailNotSent(exc.reason, permanent=exc.permanent) from exc


def send_template_email(name: str, *, clinic_id: int | None = None, **kwargs) -> None:
    """Compose and send in one step (used for account mail such as password resets)."""
    send(compose(name, **kwargs), clinic_id=clinic_id)
