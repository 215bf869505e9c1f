"""Read the .eml files that the outbox transport writes, for the app's outbox page.

No Flask, no database: a folder in, plain dataclasses out. File names come from the URL, so
:func:`message_path` accepts only the names the outbox writes and nothing outside the folder.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

# What mailer.outbox_filename() produces: no slashes, no leading dot, ends in .eml.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,200}\.eml")
_HEADER_READ_LIMIT = 64 * 1024


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    subject: str
    to: str
    date: datetime | None
    size: int


@dataclass(frozen=True)
class ParsedMessage:
    headers: dict[str, str]
    text: str | None
    html: str | None
    attachments: list[tuple[str, int]] = field(default_factory=list)


def message_path(folder: Path, name: str) -> Path:
    """Return the path of the outbox file ``name``.

    :raise FileNotFoundError: the name is not an outbox file name (e.g. ``../x``) or the file
        does not exist.
    """
    folder = Path(folder)
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise FileNotFoundError(f"No message named {name!r} in the outbox.")
    path = folder / name
    if path.resolve().parent != folder.resolve() or not path.is_file():
        raise FileNotFoundError(f"No message named {name!r} in the outbox.")
    return path


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header the parser choked on
        return ""
    return "" if value is None else str(value)


def _date(msg: EmailMessage) -> datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        return _aware(parsedate_to_datetime(raw))
    except (TypeError, ValueError):
        return None


def list_messages(folder: Path) -> list[OutboxEntry]:
    """Return the messages in the outbox folder, newest first (by Date header, then file time)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    parser = BytesHeaderParser(policy=email.policy.default)
    found: list[tuple[datetime, str, OutboxEntry]] = []
    for path in folder.iterdir():
        if not _NAME_RE.fullmatch(path.name) or not path.is_file():
            continue
        try:
            stat = path.stat()
            with path.open("rb") as fh:
                head = fh.read(_HEADER_READ_LIMIT)
        except OSError:  # removed or replaced while we were listing
            continue
        # The headers only: the attached PDF does not need to be read for a listing.
        end = head.find(b"\r\n\r\n")
        msg = parser.parsebytes(head if end < 0 else head[: end + 4])
        date = _date(msg)
        entry = OutboxEntry(
            name=path.name,
            subject=_header(msg, "Subject"),
            to=_header(msg, "To"),
            date=date,
            size=stat.st_size,
        )
        sort_key = date or datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        found.append((sort_key, path.name, entry))
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [entry for _, _, entry in found]


def _text(part: EmailMessage | None) -> str | None:
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset or broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return content.replace("\r\n", "\n")


def read_message(folder: Path, name: str) -> ParsedMessage:
    """Parse one outbox message: decoded headers, text and HTML bodies, attachment sizes.

    :raise FileNotFoundError: see :func:`message_path`.
    """
    path = message_path(folder, name)
    with path.open("rb") as fh:
        msg = BytesParser(policy=email.policy.default).parse(fh)
    headers: dict[str, str] = {}
    for key in msg:
        headers.setdefault(key, _header(msg, key))
    attachments: list[tuple[str, int]] = []
    for part in msg.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        attachments.append((part.get_filename() or "attachment", len(payload)))
    return ParsedMessage(
        headers=headers,
        text=_text(msg.get_body(("plain",))),
        html=_text(msg.get_body(("html",))),
        attachments=attachments,
    )
