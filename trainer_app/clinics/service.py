"""Clinic settings: branding for plans (name, contact, accent colour, paper size, logo)."""

from __future__ import annotations

from sqlalchemy import update

from trainer_app.accounts.models import Clinic, User
from trainer_app.accounts.roles import CLINICAL
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.images import ImageRejected, ImageRules, open_checked, reencode

MAX_LOGO_BYTES = 512 * 1024
MIN_LOGO_SIDE = 16
MAX_LOGO_SIDE = 2000

LogoError = ImageRejected  # the settings view's name for a refused logo


def clean_logo(data: bytes) -> tuple[bytes, str]:
    """Check an uploaded logo by its content and re-encode it; returns (bytes, mime type).

    Re-encoding drops metadata and anything appended to the image, so only pixels are kept.
    """
    image, kind = open_checked(
        data, ImageRules("logo", MAX_LOGO_BYTES, MIN_LOGO_SIDE, MAX_LOGO_SIDE)
    )
    with image:
        return reencode(image, kind)


def update_settings(clinic: Clinic, data: dict, logo_upload: bytes | None) -> None:
    """Apply validated settings; ``logo_upload`` replaces the logo (LogoError on a bad file)."""
    if logo_upload:
        clinic.logo, clinic.logo_mime = clean_logo(logo_upload)
    elif data.get("remove_logo"):
        clinic.logo, clinic.logo_mime = None, None
    clinic.name = data["name"].strip()
    clinic.contact = (data.get("contact") or "").strip()
    clinic.accent_color = data["accent_color"].lower()
    clinic.paper_size = data["paper_size"]
    if data.get("time_zone"):
        clinic.time_zone = data["time_zone"]


def reassign_clients(from_user: User, to_user: User) -> list[int]:
    """Make ``to_user`` the primary trainer of all of ``from_user``'s clients; returns their ids.

    One ``UPDATE``, so the clients move together or not at all.
    :raise ValueError: ``to_user`` is another clinic's, inactive, the same person, or not a
        trainer (the front desk does not take clients).
    """
    if to_user.clinic_id != from_user.clinic_id:
        raise ValueError("Choose a member of this clinic.")
    if to_user.id == from_user.id:
        raise ValueError("Choose someone else to take over the clients.")
    if not to_user.is_active_user or to_user.role not in CLINICAL:
        raise ValueError(f"{to_user.name} cannot take clients: choose an active trainer.")
    moved = db.session.scalars(
        update(Client)
        .where(Client.clinic_id == from_user.clinic_id, Client.primary_trainer_id == from_user.id)
        .values(primary_trainer_id=to_user.id)
        .returning(Client.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.flush()
    return list(moved)
