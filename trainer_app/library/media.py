"""What each exercise is shown with: the product's drawings, or the clinic's own photo, and an
optional video link printed as a QR code.

Pages and the plan PDF ask `pictures` for the exercises they show (one query). Writes flush,
never commit: the request owns the transaction.
"""

from __future__ import annotations

import base64
import functools
import io
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import segno
from sqlalchemy import select

from trainer_app.extensions import db
from trainer_app.images import ImageRules, open_checked, photo_jpeg
from trainer_app.library.figures import FigureSVG, exercise_figures
from trainer_app.library.models import ExerciseMedia

MAX_PHOTO_BYTES = 3 * 1024 * 1024
MIN_PHOTO_SIDE = 200
MAX_PHOTO_SIDE = 6000
MAX_PHOTO_PIXELS = 24_000_000
# Stored size: sharp on a page and at 300 dpi on a card a few centimetres wide, small in a PDF.
PHOTO_LONGEST_SIDE = 1200
MAX_VIDEO_URL = 300

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class VideoLinkError(ValueError):
    """The video link is not one we print; the message says why in plain words."""


def photo_rules() -> ImageRules:
    """Limits for an exercise photo (read at call time, so tests can lower them)."""
    return ImageRules("photo", MAX_PHOTO_BYTES, MIN_PHOTO_SIDE, MAX_PHOTO_SIDE, MAX_PHOTO_PIXELS)


def clean_photo(data: bytes) -> bytes:
    """Check an uploaded photo by its content and re-encode it as a JPEG of moderate size.

    :raise trainer_app.images.ImageRejected: with the reason (type, bytes, pixels, damage).
    """
    image, _ = open_checked(data, photo_rules())
    with image:
        return photo_jpeg(image, PHOTO_LONGEST_SIDE)


def clean_video_url(text: str | None) -> str | None:
    """A video link as it will be stored and printed, or None for "no link".

    Only https links to a public host name: the link ends up on paper as a QR code, so it must
    work from a client's phone and never ask for a password.

    :raise VideoLinkError: with the reason.
    """
    value = (text or "").strip()
    if not value:
        return None
    if len(value) > MAX_VIDEO_URL:
        raise VideoLinkError(f"Use a link of at most {MAX_VIDEO_URL} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise VideoLinkError("A link cannot contain spaces or line breaks.")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise VideoLinkError("This is not a valid web link.") from None
    if parts.scheme.lower() != "https":
        raise VideoLinkError("Use a secure link that starts with https://.")
    if "@" in parts.netloc:
        raise VideoLinkError("Use a link without a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise VideoLinkError("The link needs a web address after https://.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise VideoLinkError("Use the video's web address (a name such as www.youtube.com).")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise VideoLinkError("The link's web address is not valid.") from None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise VideoLinkError("Use the video's web address (a name such as www.youtube.com).")
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit(("https", netloc, parts.path, parts.query, parts.fragment))


@functools.lru_cache(maxsize=512)
def qr_svg(url: str) -> str:
    """A compact QR code of ``url`` as inline SVG: one path, sized by its viewBox."""
    code = segno.make_qr(url, error="m")
    out = io.BytesIO()
    # The namespace keeps it valid on its own (XML parsers, WeasyPrint) as well as inline.
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=1,
        border=2,
        dark="#000",
        omitsize=True,
        svgclass="qr-code",
        lineclass=None,
    )
    return out.getvalue().decode("utf-8")


@dataclass(frozen=True)
class ExercisePictures:
    """What an exercise is shown with for one clinic."""

    slug: str
    figures: tuple[FigureSVG, ...]
    photo_version: str | None = None  # set when the clinic has a photo; changes on replace
    photo_mime: str | None = None
    photo: bytes | None = None  # loaded only when asked for (the PDF embeds it)
    video_url: str | None = None

    @property
    def has_photo(self) -> bool:
        """The clinic's photo replaces the drawings."""
        return self.photo_version is not None

    @property
    def photo_data_uri(self) -> str | None:
        """The photo as a data: URI, when it was loaded (``pictures(..., with_photos=True)``)."""
        if self.photo is None or self.photo_mime != "image/jpeg":
            return None
        return "data:image/jpeg;base64," + base64.b64encode(self.photo).decode("ascii")

    @property
    def qr_svg(self) -> str | None:
        """The video link as a QR code (inline SVG), if there is a link."""
        return qr_svg(self.video_url) if self.video_url else None


def _rows(clinic_id: int, slugs: Iterable[str] | None) -> list[ExerciseMedia]:
    query = select(ExerciseMedia).where(ExerciseMedia.clinic_id == clinic_id)
    if slugs is not None:
        query = query.where(ExerciseMedia.exercise_slug.in_(list(slugs)))
    return list(db.session.scalars(query))


def pictures(
    clinic_id: int, slugs: Iterable[str], *, with_photos: bool = False
) -> dict[str, ExercisePictures]:
    """The pictures of several exercises for one clinic, in one query.

    :param with_photos: load the photo bytes too (for the PDF); pages link to `library.photo`.
    """
    slugs = list(dict.fromkeys(slugs))
    media = {row.exercise_slug: row for row in _rows(clinic_id, slugs)} if slugs else {}
    out = {}
    for slug in slugs:
        row = media.get(slug)
        has_photo = row is not None and row.photo is not None
        out[slug] = ExercisePictures(
            slug=slug,
            figures=exercise_figures(slug),
            photo_version=row.updated_at.strftime("%Y%m%d%H%M%S%f") if has_photo else None,
            photo_mime=row.photo_mime if has_photo else None,
            photo=row.photo if has_photo and with_photos else None,
            video_url=row.video_url if row is not None else None,
        )
    return out


def exercise_pictures(clinic_id: int, slug: str, *, with_photos: bool = False) -> ExercisePictures:
    """The pictures of one exercise for one clinic."""
    return pictures(clinic_id, [slug], with_photos=with_photos)[slug]


def photo_of(clinic_id: int, slug: str) -> tuple[bytes, str] | None:
    """The clinic's photo of an exercise (bytes, mime type), or None."""
    row = _row(clinic_id, slug)
    if row is None or row.photo is None or row.photo_mime is None:
        return None
    return row.photo, row.photo_mime


def _row(clinic_id: int, slug: str) -> ExerciseMedia | None:
    return db.session.scalar(
        select(ExerciseMedia).where(
            ExerciseMedia.clinic_id == clinic_id, ExerciseMedia.exercise_slug == slug
        )
    )


def _row_for_update(clinic_id: int, slug: str) -> ExerciseMedia:
    row = _row(clinic_id, slug)
    if row is None:
        row = ExerciseMedia(clinic_id=clinic_id, exercise_slug=slug)
        db.session.add(row)
    return row


def _drop_if_empty(row: ExerciseMedia) -> None:
    if row.photo is None and row.video_url is None:
        if row.id is not None:
            db.session.delete(row)
        else:
            db.session.expunge(row)


def set_photo(clinic_id: int, slug: str, data: bytes) -> None:
    """Check, re-encode and store the clinic's photo of an exercise (replacing any before).

    :raise trainer_app.images.ImageRejected: nothing is stored.
    """
    photo = clean_photo(data)
    row = _row_for_update(clinic_id, slug)
    row.photo, row.photo_mime = photo, "image/jpeg"
    db.session.flush()


def remove_photo(clinic_id: int, slug: str) -> bool:
    """Remove the clinic's photo of an exercise; the drawings show again. False if none."""
    row = _row(clinic_id, slug)
    if row is None or row.photo is None:
        return False
    row.photo, row.photo_mime = None, None
    _drop_if_empty(row)
    db.session.flush()
    return True


def set_video(clinic_id: int, slug: str, text: str | None) -> str | None:
    """Store (or, when empty, remove) the clinic's video link for an exercise.

    :raise VideoLinkError: nothing changes.
    """
    url = clean_video_url(text)
    row = _row(clinic_id, slug) if url is None else _row_for_update(clinic_id, slug)
    if row is not None:
        row.video_url = url
        _drop_if_empty(row)
        db.session.flush()
    return url


def delete_for_exercise(clinic_id: int, slug: str) -> None:
    """Forget a deleted clinic exercise's photo and link."""
    row = _row(clinic_id, slug)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
