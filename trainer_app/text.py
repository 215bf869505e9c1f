"""Text that is printed (PDFs) or becomes a file name: no controls, no bidi overrides.

Pure: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata

# Embeddings, overrides and isolates (U+202A-202E, U+2066-2069) and the marks U+200E/200F/
# U+061C. They are stripped, not isolated: wrapping a name in an isolate (FSI...PDI, <bdi>)
# keeps it from reordering the text around it, but an override *inside* the name still
# prints the name itself reversed ("U+202E Anna" as "annA"). Without them the Unicode bidi
# algorithm orders every character by its own direction, so Hebrew or Arabic names still
# print right to left and Latin ones left to right. The marks only nudge neutral characters
# and are dropped with the rest; a name never needs them to read correctly.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_KEEP_IN_MULTILINE = frozenset("\n\t")


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` without bidi controls; other control characters become spaces.

    With ``multiline`` line breaks and tabs stay (CRLF becomes LF).
    """
    text = text.replace("\r\n", "\n")
    out = []
    for ch in text:
        if ch in BIDI_CONTROLS:
            continue
        if unicodedata.category(ch) == "Cc" and not (multiline and ch in _KEEP_IN_MULTILINE):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def one_line(text: str) -> str:
    """``text`` printable on one line: white space runs (line breaks too) become one space."""
    return " ".join(printable(text).split())


# Letters NFKD does not take apart into an ASCII letter and a mark.
_ASCII_LETTERS = str.maketrans(
    {"ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d",
     "Đ": "D", "þ": "th", "Þ": "Th", "œ": "oe", "Œ": "OE", "ı": "i"}
)  # fmt: skip


def file_slug(text: str, *, fallback: str) -> tuple[str, str]:
    """(ASCII slug, Unicode slug) of ``text`` for a file name: letters and digits joined by -.

    The Unicode slug keeps letters of every script (for RFC 6266 ``filename*``); the ASCII
    one is the fallback ``filename`` for clients that read nothing else.
    """
    name = one_line(text).lower()
    unicode_slug = re.sub(r"[\W_]+", "-", name).strip("-") or fallback
    ascii_text = unicodedata.normalize("NFKD", name.translate(_ASCII_LETTERS))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    ascii_slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or fallback
    return ascii_slug, unicode_slug


def ascii_file_name(name: str, *, fallback: str) -> str:
    """``name`` in plain ASCII (letters transliterated where they can be) for an old client's
    ``filename``; characters with no ASCII form are dropped, spaces kept."""
    text = unicodedata.normalize("NFKD", one_line(name).translate(_ASCII_LETTERS))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9 ._-]+", " ", text)
    stem, dot, ext = " ".join(text.split()).rpartition(".")
    stem = stem.strip(" .-")
    return f"{stem}{dot}{ext}" if stem else fallback
