"""The only URL fetcher WeasyPrint gets: the package's static files and small PNG/JPEG data URIs.

Besides, the exercise drawings this process rasterised (``plans.rasters``), by their URL under
the static folder's ``drawings/``. Everything else (network, other files, redirects, SVG data
URIs, which could themselves reference other resources) is refused. A refusal stops
the whole render: WeasyPrint only logs ordinary fetch errors and carries on, so refusals
raise a subclass of its ``FatalURLFetchingError`` (a ``BaseException`` it does not catch)
and are also recorded on the fetcher so the caller can double-check after rendering.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from trainer_app.plans import rasters

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
MAX_DATA_URI_BYTES = 2 * 1024 * 1024
ALLOWED_DATA_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
MAX_STATIC_BYTES = 5 * 1024 * 1024

_DATA_RE = re.compile(r"^data:(?P<meta>[^,]*),(?P<data>.*)$", re.DOTALL | re.IGNORECASE)


class FetchRefused(FatalURLFetchingError):
    """A resource outside what PDFs may use was requested; stops the render."""

    def __init__(self, url: str, reason: str):
        shown = url if len(url) <= 80 else url[:77] + "..."
        super().__init__(f"{reason}: {shown}")
        self.url = url
        self.reason = reason


class SafeURLFetcher(URLFetcher):
    """Serve files under the static folder, our drawings' rasters and small PNG/JPEG data URIs;
    refuse the rest."""

    def __init__(self, static_dir: Path | str = STATIC_DIR, **kwargs):
        kwargs.update(allowed_protocols=("file", "data"), allow_redirects=False)
        kwargs.setdefault("fail_on_errors", True)
        super().__init__(**kwargs)
        self.static_dir = Path(static_dir).resolve(strict=True)
        self.refusals: list[FetchRefused] = []

    def _refuse(self, url: str, reason: str) -> FetchRefused:
        error = FetchRefused(url, reason)
        self.refusals.append(error)
        return error

    def fetch(self, url, headers=None):
        """Return the resource, or raise :class:`FetchRefused` (never touches the network)."""
        if not isinstance(url, str):
            raise self._refuse(repr(url), "not a URL")
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return self._fetch_data(url)
        if scheme == "file":
            return self._fetch_file(url)
        raise self._refuse(url, "only the app's static files may be used in PDFs")

    def _fetch_data(self, url: str) -> URLFetcherResponse:
        # Checked on the encoded length first so a huge URI is never decoded.
        if len(url) > MAX_DATA_URI_BYTES * 4 // 3 + 200:
            raise self._refuse(url, "embedded image is larger than 2 MB")
        match = _DATA_RE.match(url)
        if not match:
            raise self._refuse(url, "malformed data URI")
        meta = match["meta"].split(";")
        mime = meta[0].strip().lower()
        if mime not in ALLOWED_DATA_TYPES:
            raise self._refuse(url, "only PNG and JPEG images may be embedded")
        try:
            if "base64" in (m.strip().lower() for m in meta[1:]):
                body = base64.b64decode(unquote(match["data"]), validate=True)
            else:
                body = unquote_to_bytes(match["data"])
        except (binascii.Error, ValueError):
            raise self._refuse(url, "malformed data URI") from None
        if len(body) > MAX_DATA_URI_BYTES:
            raise self._refuse(url, "embedded image is larger than 2 MB")
        if not body.startswith(ALLOWED_DATA_TYPES[mime]):
            raise self._refuse(url, f"data is not a {mime} image")
        return URLFetcherResponse(url, body, {"Content-Type": mime})

    def _fetch_file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise self._refuse(url, "only local static files may be used")
        drawing = self._drawing(parts.path)
        if drawing is not None:
            return URLFetcherResponse(url, drawing, {"Content-Type": "image/png"})
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise self._refuse(url, "static file not found") from None
        # resolve() has followed every symlink, so this also stops symlink escapes.
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            raise self._refuse(url, "file is outside the app's static folder")
        if path.stat().st_size > MAX_STATIC_BYTES:
            raise self._refuse(url, "static file is too large")
        body = path.read_bytes()
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body, {"Content-Type": mime})

    def _drawing(self, url_path: str) -> bytes | None:
        """The raster of one of our drawings, if ``url_path`` is its URL under the static folder."""
        path = Path(url2pathname(unquote(url_path)))
        if path.parent != self.static_dir / rasters.FOLDER:
            return None
        return rasters.raster(path.name)
