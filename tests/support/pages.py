"""Reading pages the way a user sees them."""

from __future__ import annotations

import re

_TAG = re.compile(r"<[^>]+>")
_OUT_OF_100 = re.compile(r"\b\d{1,3}\s*/\s*100\b")


def visible_text(html: str) -> str:
    """The page's text without its tags (so ids in links and attributes do not count)."""
    return _TAG.sub(" ", html)


def shows_a_score(html: str) -> bool:
    """True when the page prints a score such as "75/100" or the word "score"."""
    text = visible_text(html)
    return bool(_OUT_OF_100.search(text)) or "score" in text.lower()
