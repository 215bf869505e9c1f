"""Read what the app wrote to its local mail folders: the clinic outbox and the account mail."""

from __future__ import annotations

import email.policy
import re
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path


def messages_in(folder: str | Path) -> list[EmailMessage]:
    """Every .eml file under ``folder``, parsed, oldest first."""
    paths = sorted(Path(folder).rglob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    parser = BytesParser(policy=email.policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in paths]


def account_mail(app) -> list[EmailMessage]:
    """Account emails (resets, confirmations, invitations, notices) written without SMTP."""
    return messages_in(app.config["ACCOUNT_MAIL_FOLDER"])


def clinic_outbox(app) -> list[EmailMessage]:
    """Plan emails of every clinic written without SMTP."""
    return messages_in(app.config["OUTBOX_FOLDER"])


def clear(app) -> None:
    """Remove the .eml files of both folders (tests share one app per backend)."""
    for key in ("ACCOUNT_MAIL_FOLDER", "OUTBOX_FOLDER"):
        for path in Path(app.config[key]).rglob("*.eml"):
            path.unlink()


def mail_to(app, address: str) -> list[EmailMessage]:
    """Account emails addressed to ``address``."""
    return [m for m in account_mail(app) if address in str(m["To"])]


def link_in(message: EmailMessage, path: str) -> str:
    """The path of the first link in the text body that starts with ``path`` (host removed)."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S*)", body)
    assert match, f"no {path} link in:\n{body}"
    return match.group(1)
