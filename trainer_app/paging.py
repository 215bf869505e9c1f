"""The ``?page=`` argument of list pages: a clear 400 for a value no list could have."""

from __future__ import annotations

import re

from flask import abort, request

MAX_PAGE = 100_000
_PAGE_RE = re.compile(r"[0-9]{1,6}")


def requested_page() -> int:
    """The page number asked for (1 when absent); 400 when it is not a number from 1 to MAX_PAGE."""
    raw = request.args.get("page", "")
    if raw == "":
        return 1
    if not _PAGE_RE.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE:
        abort(400)
    return int(raw)
