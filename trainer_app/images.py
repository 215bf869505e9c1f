"""Uploaded images (clinic logos, exercise photos): checked by content, then re-encoded.

Pure module (Pillow only). The file's bytes decide what it is, never its name or declared
type; its size and pixel dimensions are checked before the pixels are decoded; re-encoding
keeps only pixels, so metadata and anything appended to the image are dropped.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


class ImageRejected(ValueError):
    """The upload is not an image we accept; the message says why in plain words."""


@dataclass(frozen=True)
class ImageRules:
    """What an upload may be: ``what`` names it in messages ("The logo is ...")."""

    what: str
    max_bytes: int
    min_side: int
    max_side: int
    max_pixels: int | None = None


def open_checked(data: bytes, rules: ImageRules) -> tuple[Image.Image, str]:
    """Check an upload against ``rules`` and decode it; returns the loaded image and format.

    :raise ImageRejected: empty, too large, not PNG or JPEG, wrong dimensions, or damaged.
    """
    if not data:
        raise ImageRejected("The file is empty.")
    if len(data) > rules.max_bytes:
        raise ImageRejected(
            f"The {rules.what} is {len(data) // 1024} KB; "
            f"the limit is {rules.max_bytes // 1024} KB."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                width, height = probe.size
                probe.verify()
            if kind not in FORMATS:
                raise ImageRejected("Upload a PNG or JPEG image.")
            if not (
                rules.min_side <= width <= rules.max_side
                and rules.min_side <= height <= rules.max_side
            ):
                raise ImageRejected(
                    f"The {rules.what} is {width} x {height} pixels; each side must be between "
                    f"{rules.min_side} and {rules.max_side} pixels."
                )
            if rules.max_pixels is not None and width * height > rules.max_pixels:
                raise ImageRejected(
                    f"The {rules.what} has {width * height / 1e6:.1f} million pixels; "
                    f"the limit is {rules.max_pixels / 1e6:.0f} million."
                )
            image = Image.open(io.BytesIO(data))
            image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("Upload a PNG or JPEG image.") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageRejected):
            raise
        raise ImageRejected("The image file is damaged; export it again and retry.") from None
    return image, kind


def reencode(image: Image.Image, kind: str) -> tuple[bytes, str]:
    """The image saved again in its own format (PNG stays lossless); returns (bytes, mime)."""
    out = io.BytesIO()
    if kind == "PNG":
        image.save(out, format="PNG", optimize=True)
    else:
        image.convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue(), FORMATS[kind]


def photo_jpeg(image: Image.Image, longest: int) -> bytes:
    """A photo scaled down to ``longest`` pixels on its long side, as a compact JPEG.

    Transparent areas become white, as on paper.
    """
    image = image.copy()
    image.thumbnail((longest, longest))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()
