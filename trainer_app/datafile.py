"""Strict, explaining validation of the reviewed content files (YAML) — pure, no Flask.

The catalog and the questionnaire both read mappings from YAML written by people; a mistake
must fail at start-up with the file, the entry and the field named, so both build on this.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

IDENT = re.compile(r"^[a-z][a-z0-9_]{0,59}\Z")


def describe(value: Any) -> str:
    """How a wrong value reads in an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else f"the string {value!r}"
    return type(value).__name__


class Fields(ABC):
    """Typed access to one mapping; subclasses say how an error names its place."""

    max_text = 600

    def __init__(self, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise self.not_a_mapping(raw)
        self.raw = raw

    @abstractmethod
    def not_a_mapping(self, raw: Any) -> Exception:
        """The error for a value that should have been a mapping."""

    @abstractmethod
    def error(self, name: str, message: str) -> Exception:
        """The error for field ``name``, naming its file and entry."""

    def only(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        """No unknown fields, and every required one present."""
        required, optional = tuple(required), tuple(optional)
        unknown = [str(k) for k in self.raw if k not in required and k not in optional]
        if unknown:
            allowed = ", ".join(required + optional)
            raise self.error(unknown[0], f"unknown field (allowed: {allowed})")
        for name in required:
            if name not in self.raw:
                raise self.error(name, "missing required field")

    def text(self, name: str, max_len: int | None = None) -> str:
        """A non-empty string, whitespace collapsed, at most ``max_len`` characters."""
        limit = max_len or self.max_text
        value = self.raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"must be a non-empty string, got {describe(value)}")
        value = " ".join(value.split())
        if len(value) > limit:
            raise self.error(name, f"must be at most {limit} characters")
        return value

    def identifier(self, name: str, what: str) -> str:
        """A lower-case identifier (letters, digits, _), described as ``what`` in errors."""
        value = self.raw.get(name)
        if not isinstance(value, str) or not IDENT.match(value):
            raise self.error(name, f"must be {what} (lower-case letters, digits, _), got {value!r}")
        return value

    def flag(self, name: str, default: bool | None = None) -> bool:
        """true or false."""
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, got {describe(value)}")
        return value
