"""Clinic settings: branding for plans (name, contact, accent colour, paper size, logo)."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from trainer_app.accounts.models import Clinic

MAX_LOGO_BYTES = 512 * 1024
MIN_LOGO_SIDE = 16
MAX_LOGO_SIDE = 2000
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class LogoError(ValueError):
    """The upload is not a logo we accept; the message says why in plain words."""


def clean_logo(data: bytes) -> tuple[bytes, str]:
    """Check an uploaded logo by its content and re-encode it; returns (bytes, mime type).

    Re-encoding drops metadata and anything appended to the image, so only pixels are kept.
    """
    if not data:
        raise LogoError("The file is empty.")
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(
            f"The logo is {len(data) // 1024} KB; the limit is {MAX_LOGO_BYTES // 1024} KB."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                probe.verify()
            if kind not in FORMATS:
                raise LogoError("Upload a PNG or JPEG image.")
            if not (
                MIN_LOGO_SIDE <= width <= MAX_LOGO_SIDE and MIN_LOGO_SIDE <= height <= MAX_LOGO_SIDE
            ):
                raise LogoError(
                    f"The logo is {width} x {height} pixels; each side must be between "
                    f"{MIN_LOGO_SIDE} and {MAX_LOGO_SIDE} pixels."
                )
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                out = io.BytesIO()
                if kind == "PNG":
                    image.save(out, format="PNG", optimize=True)
                else:
                    image.convert("RGB").save(out, format="JPEG", quality=90)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoError("Upload a PNG or JPEG image.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, LogoError):
            raise
        raise LogoError("The image file is damaged; export it again and retry.") from None
    return out.getvalue(), FORMATS[kind]


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
