"""Cross-cutting web security: headers, safe redirects, request limits, proxies, sessions."""

from __future__ import annotations

from typing import IO
from urllib.parse import urlsplit

from flask import Flask, Request, Response, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, ValidationError
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

# Ids are database integers: a larger number in a URL is a page that does not exist.
MAX_ID = 2**63 - 1


def id_or_none(text: str | None) -> int | None:
    """``text`` as a database id, or None unless it is 1 to 19 ASCII digits within ``MAX_ID``.

    ``str.isdigit`` is not enough: it accepts "²" and other digits ``int()`` refuses.
    """
    if not text or not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def is_safe_next(target: str | None) -> bool:
    """True when ``target`` is a path on this site (no scheme, host or protocol-relative URL)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` that only matches numbers a BIGINT column can hold, so larger ones are 404."""

    # The signature of Werkzeug's IntegerConverter, whose names shadow builtins.
    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)

    def to_python(self, value: str) -> int:
        # Refuse before int() parses thousands of digits (Python caps int() at 4300 digits).
        if len(value.lstrip("-")) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)


class _BodyWithinLimit(LimitedStream):
    """A body of unknown length (chunked) read whole must not exceed the limit.

    Werkzeug's stream stops silently at ``max_content_length`` when the whole body is read at
    once (form parsing does), so an oversized chunked body was truncated and processed.
    """

    def readall(self) -> bytes:
        data = super().readall()
        # At the limit, one more byte from the server's stream tells a body of exactly the
        # limit from a longer one (Werkzeug keeps that stream in ``_stream``).
        if self.is_exhausted and self._stream.read(1):
            raise RequestEntityTooLarge()
        return data


class BoundedRequest(Request):
    """Flask's request, refusing a chunked body over ``MAX_CONTENT_LENGTH`` with 413."""

    @cached_property
    def stream(self) -> IO[bytes]:
        if self.shallow:
            raise RuntimeError("This request was created with 'shallow=True'; it cannot read.")
        limit = self.max_content_length
        if (
            self.content_length is None
            and limit is not None
            and "wsgi.input_terminated" in self.environ
        ):
            return _BodyWithinLimit(self.environ["wsgi.input"], limit, is_max=True)
        return get_input_stream(self.environ, max_content_length=limit)


def init_request_handling(app: Flask) -> None:
    """Bounded ids in URLs, bounded bodies, and client addresses from trusted proxies only."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.request_class = BoundedRequest
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Each trusted proxy appends one address to X-Forwarded-For; anything further left
        # was written by the client and is never believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # Pages (error pages too: a signed-in user's 404 still shows their name) are never stored;
    # only static files that were found may be cached.
    static_file = (request.endpoint or "").endswith("static") and response.status_code < 400
    if not static_file:
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_security(app: Flask) -> None:
    """Install the response headers and login hooks."""
    app.after_request(_security_headers)
    from trainer_app.accounts.sessions import init_login

    init_login(app)
