"""Clinic settings: branding for plans (name, contact, accent colour, paper size, logo)."""

from __future__ import annotations

from trainer_app.accounts.models import Clinic
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
