"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile: 64 MiB, t=3),
and the rule a new password must meet."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verifying against this keeps the time of a failed sign-in for an unknown email
# the same as for a known one, so timing does not reveal who has an account.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; runs the same work when there is no stored hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


MIN_LENGTH = 10
MAX_LENGTH = 128
RULE = (
    f"At least {MIN_LENGTH} characters, and not a common password, your name or your email. "
    "A few unrelated words make a strong one."
)
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
# What people add around a common word: digits, spaces and punctuation ("Password123!").
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords and password stems, lower case."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def _plain(text: str) -> str:
    return "".join(text.casefold().split())


def password_problem(password: str, personal: Iterable[str | None] = ()) -> str | None:
    """Why ``password`` may not be used, in plain words, or None when it is acceptable.

    Case is ignored. ``personal`` holds the account's own words (name, email, clinic name):
    the password may not be one of them, nor the part of the email before the @.
    """
    lowered = password.casefold().strip()
    stem = _DECORATION.sub("", lowered)
    digits = re.sub(r"\D", "", lowered)
    common = common_passwords()
    if (
        lowered in common
        or stem in common
        or (not stem and digits in common)
        or len(set(lowered)) <= 2
    ):
        return "That password is on the list of the most common ones; choose another."
    mine = set()
    for word in personal:
        if word and word.strip():
            mine.add(_plain(word))
            if "@" in word:
                mine.add(_plain(word.partition("@")[0]))
    if _plain(password) in mine or _plain(stem) in mine:
        return "Do not use your name, your email address or your clinic's name as the password."
    return None


def new_password_problem(password: str, personal: Iterable[str | None] = ()) -> str | None:
    """The sign-up rule in one place for every way in (forms and the CLI): length, then
    :func:`password_problem`."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"Use between {MIN_LENGTH} and {MAX_LENGTH} characters."
    return password_problem(password, personal)
