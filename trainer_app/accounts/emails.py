"""Account mail: password-reset links and invitations, both single-use password links."""

from __future__ import annotations

from flask import current_app, url_for

from trainer_app.accounts import service
from trainer_app.accounts.models import User
from trainer_app.delivery.mailer import Address
from trainer_app.mail import send_template_email


def _password_link(user: User, endpoint: str, purpose: str) -> str:
    token = service.make_password_token(user, current_app.config["SECRET_KEY"], purpose)
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, token=token)


def send_password_reset(user: User) -> None:
    """Email ``user`` a link to choose a new password. :raise MailNotSent: transport failed."""
    send_template_email(
        "password_reset",
        clinic_id=user.clinic_id,
        to_name=user.name,
        to_email=user.email,
        sender_name=user.clinic.name,
        context={
            "trainer_name": user.name,
            "clinic_name": user.clinic.name,
            "reset_url": _password_link(user, "accounts.reset_password", service.RESET_SALT),
            "expires_minutes": current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
        },
    )


def send_invitation(user: User, *, invited_by: User) -> None:
    """Email a new trainer the link to join. :raise MailNotSent: transport failed."""
    send_template_email(
        "invite",
        clinic_id=user.clinic_id,
        to_name=user.name,
        to_email=user.email,
        sender_name=user.clinic.name,
        reply_to=Address(invited_by.name, invited_by.email),
        context={
            "trainer_name": user.name,
            "owner_name": invited_by.name,
            "clinic_name": user.clinic.name,
            "invite_url": _password_link(user, "accounts.accept_invitation", service.INVITE_SALT),
            "expires_days": service.INVITE_MAX_AGE // 86400,
        },
    )
