"""Search text folding: case, accents and special Latin letters made plain (pure)."""

from __future__ import annotations

import unicodedata

# Letters that NFKD leaves whole (a stroke or a ligature is not a combining mark).
_PLAIN_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "ħ": "h",
        "Ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "Ŧ": "t",
        "ƒ": "f",
        "ŋ": "n",
        "Ŋ": "n",
        "þ": "th",
        "Þ": "th",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ß": "ss",
        "ẞ": "ss",
        "ĸ": "k",
    }
)


def fold(text: str) -> str:
    """``text`` for matching: "Zoë Łukasiewicz" and "zoe lukasiewicz" fold to the same string.

    Lower case (casefold), special letters spelled plainly, accents dropped, runs of
    whitespace made one space.
    """
    plain = text.translate(_PLAIN_LETTERS)
    decomposed = unicodedata.normalize("NFKD", plain)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
