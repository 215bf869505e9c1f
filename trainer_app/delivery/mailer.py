"""Build emails and hand them to a transport: SMTP in production, an outbox folder by default.

Pure mail code: no Flask, no database. The worker builds an :class:`OutgoingEmail` from a
delivery row, turns it into a MIME message with :func:`build_message` and sends it with the
transport from :func:`transport_from_url`. Every failure is a :class:`MailError` whose
``reason`` can be shown to the trainer and whose ``permanent`` flag says whether to retry.
"""

from __future__ import annotations

import contextlib
import copy
import email.policy
import email.utils
import hashlib
import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# Errors


class MailError(Exception):
    """A message could not be sent; ``reason`` is plain words for the trainer."""

    permanent: bool = False

    def __init__(self, reason: str, *, smtp_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.smtp_code = smtp_code


class TransientMailError(MailError):
    """Try again later: 4xx replies, connection refused, reset, timed out or dropped."""

    permanent = False


class PermanentMailError(MailError):
    """Do not retry: 5xx replies, refused recipients, message too large, invalid address."""

    permanent = True


class InvalidAddress(PermanentMailError, ValueError):
    """An email address that is not exactly one plain ``local@domain`` address."""


# ---------------------------------------------------------------------------------------------
# The message


@dataclass(frozen=True)
class Address:
    name: str
    email: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML part shows as ``<img src="cid:{cid}">`` (carried in the message,
    so mail clients need not fetch anything remote)."""

    cid: str  # local@domain form, without angle brackets
    content_type: str
    data: bytes


@dataclass(frozen=True)
class OutgoingEmail:
    sender: Address  # display name = clinic name; email = the configured MAIL_FROM
    to: Address
    subject: str
    text: str
    html: str | None = None
    reply_to: Address | None = None
    attachments: tuple[Attachment, ...] = ()
    message_id: str | None = None  # set with make_message_id for deliveries
    inline_images: tuple[InlineImage, ...] = ()  # related to the HTML part; ignored without it


# Control characters (C0, C1, DEL), line and paragraph separators and the bidi embedding /
# override / isolate / mark characters. Any of them in a header value could break the header
# onto a new line or disguise a name, so they become spaces.
_BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def _is_unsafe_char(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES or ch in _BIDI_CONTROLS


def one_line(value: str) -> str:
    """Return ``value`` as a single header-safe line: control characters become spaces."""
    cleaned = "".join(" " if _is_unsafe_char(ch) else ch for ch in value)
    return re.sub(r" {2,}", " ", cleaned).strip()


def no_encoded_words(value: str) -> str:
    """Return ``value`` with every ``=?`` broken by a space, so nothing in it is an encoded word.

    The email package decodes RFC 2047 encoded words (``=?utf-8?b?...?=``) found in a header
    value it is given, and Python before 3.11.10 then writes any CR/LF they decode to as raw
    line breaks (CVE-2024-6923): a display name could add headers or a body of its own. An
    encoded word always starts with ``=?``; text that holds none is taken literally.
    """
    while "=?" in value:
        value = value.replace("=?", "= ?")
    return value


def header_text(value: str) -> str:
    """Return user text fit for a header: one line, no encoded-word syntax."""
    return no_encoded_words(one_line(value))


# RFC 5322 dot-atom local part (ASCII) and an LDH host name; IDN domains are converted to
# their ASCII (punycode) form. Quoted local parts and address literals are not accepted.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL_RE = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _shown(value: str) -> str:
    """Quote a rejected value for an error message, with control characters made visible."""
    shown = repr(value[:80])
    return shown if len(value) <= 80 else shown + "…"


def _ascii_domain(domain: str) -> str | None:
    """Return the ASCII form of a host name, or None if it is not a valid host name."""
    if not domain or len(domain) > 253:
        return None
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = domain.split(".")
    if not all(_LABEL_RE.fullmatch(label) for label in labels):
        return None
    return domain


def validate_address(value: str) -> str:
    """Return the address as a plain ASCII ``local@domain`` or raise :class:`InvalidAddress`.

    Exactly one addr-spec: no display name, no line breaks or control characters, no comma or
    semicolon (which would make a second recipient), no quoting, no comments.
    """
    if not isinstance(value, str):
        raise InvalidAddress("The email address is missing.")
    address = value.strip(" ")
    if not address:
        raise InvalidAddress("The email address is empty.")
    if any(_is_unsafe_char(ch) for ch in address):
        raise InvalidAddress(
            f"The email address {_shown(value)} is not valid: it contains a line break or "
            "another control character."
        )
    if "," in address or ";" in address:
        raise InvalidAddress(
            f"The email address {_shown(value)} is not valid: it contains a comma or "
            "semicolon, and only one address is allowed."
        )
    if any(ch.isspace() for ch in address):
        raise InvalidAddress(
            f"The email address {_shown(value)} is not valid: it contains a space."
        )
    if address.count("@") != 1:
        raise InvalidAddress(
            f"The email address {_shown(value)} is not valid: it must contain exactly one @."
        )
    local, domain = address.split("@")
    if not local.isascii():
        raise InvalidAddress(
            f"The email address {_shown(value)} is not valid: letters with accents or other "
            "non-ASCII characters before the @ are not supported."
        )
    if not _LOCAL_RE.fullmatch(local) or len(local) > 64:
        raise InvalidAddress(
            f"The email address {_shown(value)} is not valid: the part before the @ is not allowed."
        )
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None:
        raise InvalidAddress(
            f"The email address {_shown(value)} is not valid: the part after the @ is not a "
            "valid domain name."
        )
    result = f"{local}@{ascii_domain}"
    if len(result) > 254:
        raise InvalidAddress(f"The email address {_shown(value)} is too long.")
    return result


def _header_address(address: Address) -> HeaderAddress:
    addr_spec = validate_address(address.email)
    local, domain = addr_spec.split("@")
    return HeaderAddress(
        display_name=header_text(address.name or ""), username=local, domain=domain
    )


_KEY_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def make_message_id(key: str, domain: str) -> str:
    """Return the Message-ID of a delivery: ``<delivery-{key}@{domain}>``, the same every time.

    Characters of ``key`` other than ASCII letters, digits, ``-`` and ``_`` are written as
    ``=XX`` (their UTF-8 bytes in hex), so different keys never share an id.
    """
    key = str(key)
    if not key:
        raise ValueError("The Message-ID key is empty.")
    safe_key = "".join(
        ch if ch in _KEY_SAFE else "".join(f"={b:02X}" for b in ch.encode("utf-8")) for ch in key
    )
    ascii_domain = _ascii_domain(domain.strip().lower()) if isinstance(domain, str) else None
    if ascii_domain is None:
        raise ValueError(f"The Message-ID domain {_shown(str(domain))} is not a valid domain name.")
    return f"<delivery-{safe_key}@{ascii_domain}>"


_MESSAGE_ID_RE = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[A-Za-z0-9.-]+>")
_CONTENT_ID_RE = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+")


def _split_content_type(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = content_type.strip().lower().partition("/")
    token = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*")
    if not token.fullmatch(maintype) or not token.fullmatch(subtype):
        raise ValueError(f"The attachment content type {_shown(content_type)} is not valid.")
    return maintype, subtype


def _safe_filename(filename: str) -> str:
    name = header_text(filename).replace("/", "_").replace("\\", "_").strip(". ")
    return name or "attachment"


# 7-bit clean bodies (quoted-printable or base64), so the message goes through any server,
# with or without 8BITMIME; message_bytes() gives it the CRLF line endings of the wire.
_POLICY = email.policy.default.clone(cte_type="7bit")
_BLIND = ("bcc", "resent-bcc")


@dataclass(frozen=True)
class ExpectedHeaders:
    """What a message must look like once its bytes are parsed again (see message_bytes)."""

    names: tuple[str, ...]  # the top-level header names, lower case, sorted
    from_: tuple[tuple[str, str], ...]  # (display name, addr-spec) pairs
    to: tuple[tuple[str, str], ...]
    reply_to: tuple[tuple[str, str], ...]
    subject: str
    message_id: str
    attachments: int


class BuiltMessage(EmailMessage):
    """A message from :func:`build_message`; ``expected`` is what its bytes must parse back to."""

    expected: ExpectedHeaders | None = None


def _pairs(*addresses: HeaderAddress) -> tuple[tuple[str, str], ...]:
    return tuple((_squeeze(a.display_name), a.addr_spec) for a in addresses)


def _squeeze(text: str) -> str:
    # The email package folds a long name into several encoded words and, reading them back,
    # may add or drop white space between them; any other change counts.
    return "".join(str(text).split())


def build_message(email_: OutgoingEmail) -> BuiltMessage:
    """Return the MIME message: text (+ HTML alternative) and attachments, headers made safe.

    :raise InvalidAddress: the sender, recipient or reply-to address is not valid.
    :raise ValueError: a malformed Message-ID or attachment content type.
    """
    msg = BuiltMessage(policy=_POLICY)
    sender = _header_address(email_.sender)
    to = _header_address(email_.to)
    reply_to = _header_address(email_.reply_to) if email_.reply_to is not None else None
    subject = header_text(email_.subject)
    msg["From"] = sender
    msg["To"] = to
    if reply_to is not None:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(datetime.now(UTC))
    if email_.message_id is not None:
        if not _MESSAGE_ID_RE.fullmatch(email_.message_id):
            raise ValueError(f"The Message-ID {_shown(email_.message_id)} is not valid.")
        msg["Message-ID"] = email_.message_id
    else:
        msg["Message-ID"] = email.utils.make_msgid(domain=sender.domain)

    msg.set_content(_normalise_newlines(email_.text))
    if email_.html is not None:
        msg.add_alternative(_normalise_newlines(email_.html), subtype="html")
        _add_inline_images(msg, email_.inline_images)
    for attachment in email_.attachments:
        maintype, subtype = _split_content_type(attachment.content_type)
        msg.add_attachment(
            bytes(attachment.data),
            maintype=maintype,
            subtype=subtype,
            filename=_safe_filename(attachment.filename),
        )
    # Recorded from what we meant to send, not read back from the message object: the object
    # already holds whatever the email package made of the values.
    msg.expected = ExpectedHeaders(
        names=tuple(sorted(name.lower() for name in msg)),
        from_=_pairs(sender),
        to=_pairs(to),
        reply_to=_pairs(reply_to) if reply_to is not None else (),
        subject=_squeeze(subject),
        message_id=str(msg["Message-ID"]).strip(),
        attachments=len(email_.attachments),
    )
    return msg


def _add_inline_images(msg: EmailMessage, images: tuple[InlineImage, ...]) -> None:
    """Attach images to the HTML part (it becomes multipart/related) under their Content-IDs."""
    if not images:
        return
    html_part = msg.get_body(preferencelist=("html",))
    for image in images:
        if not _CONTENT_ID_RE.fullmatch(image.cid):
            raise ValueError(f"The inline image Content-ID {_shown(image.cid)} is not valid.")
        maintype, subtype = _split_content_type(image.content_type)
        if maintype != "image":
            raise ValueError(f"The inline part {_shown(image.content_type)} is not an image.")
        html_part.add_related(
            bytes(image.data),
            maintype=maintype,
            subtype=subtype,
            cid=f"<{image.cid}>",
            disposition="inline",
        )


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _expected_from_object(msg: EmailMessage) -> ExpectedHeaders:
    """The expectation for a message built by other code: its own headers, as objects."""

    def pairs(name: str) -> tuple[tuple[str, str], ...]:
        header = msg.get(name)
        addresses = getattr(header, "addresses", None) or ()
        return _pairs(*addresses)

    return ExpectedHeaders(
        names=tuple(sorted(k.lower() for k in msg if k.lower() not in _BLIND)),
        from_=pairs("From"),
        to=pairs("To"),
        reply_to=pairs("Reply-To"),
        subject=_squeeze(msg.get("Subject", "")),
        message_id=str(msg.get("Message-ID", "")).strip(),
        attachments=len(list(msg.iter_attachments())),
    )


def _parsed_pairs(parsed: EmailMessage, name: str) -> tuple[tuple[str, str], ...] | None:
    headers = parsed.get_all(name) or []
    if not headers:
        return ()
    if len(headers) > 1 or getattr(headers[0], "defects", None):
        return None
    return _pairs(*getattr(headers[0], "addresses", ()))


def check_generated(data: bytes, expected: ExpectedHeaders) -> None:
    """Parse the generated bytes again and refuse them unless they are the message we built.

    Exactly the expected headers, each once; the same From, To, Reply-To, Subject and
    Message-ID; a text body; the expected number of attachments.

    :raise PermanentMailError: naming what differs (header names only, no addresses).
    """
    parsed = BytesParser(policy=email.policy.default).parsebytes(data)
    problems: list[str] = []
    names = tuple(sorted(name.lower() for name in parsed))
    if names != expected.names:
        extra = sorted(set(names) - set(expected.names))
        missing = sorted(set(expected.names) - set(names))
        detail = []
        if extra:
            detail.append("unexpected " + ", ".join(extra))
        if missing:
            detail.append("missing " + ", ".join(missing))
        if not detail:
            detail.append("a header appears twice")
        problems.append("headers (" + "; ".join(detail) + ")")
    for label, name, pairs in (
        ("From", "From", expected.from_),
        ("To", "To", expected.to),
        ("Reply-To", "Reply-To", expected.reply_to),
    ):
        if _parsed_pairs(parsed, name) != pairs:
            problems.append(label)
    if _squeeze(parsed.get("Subject", "")) != expected.subject:
        problems.append("Subject")
    if str(parsed.get("Message-ID", "")).strip() != expected.message_id:
        problems.append("Message-ID")
    if parsed.get_body(("plain", "html")) is None:
        problems.append("body")
    if len(list(parsed.iter_attachments())) != expected.attachments:
        problems.append("attachments")
    if problems:
        raise PermanentMailError(
            "The message was not sent: once generated it no longer matched what was built "
            f"({', '.join(problems)} differ). A name or subject may hold text that mail "
            "software misreads; check the names on the client, trainer and clinic."
        )


def message_bytes(msg: EmailMessage) -> bytes:
    """Return the message as it goes on the wire: CRLF line endings, no Bcc header, checked.

    :raise PermanentMailError: the bytes do not parse back to the message that was built.
    """
    expected = getattr(msg, "expected", None) or _expected_from_object(msg)
    if "Bcc" in msg or "Resent-Bcc" in msg:
        msg = copy.copy(msg)
        del msg["Bcc"]
        del msg["Resent-Bcc"]
    data = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    check_generated(data, expected)
    return data


def _envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    """Return (envelope sender, recipients) from the parsed headers, each validated."""
    senders = _header_addresses(msg, "Sender") or _header_addresses(msg, "From")
    if len(senders) != 1:
        raise PermanentMailError("The message has no single sender address; it was not sent.")
    recipients = [a for name in ("To", "Cc", "Bcc") for a in _header_addresses(msg, name)]
    if not recipients:
        raise PermanentMailError("The message has no recipient; it was not sent.")
    return validate_address(senders[0]), [validate_address(r) for r in recipients]


def _header_addresses(msg: EmailMessage, name: str) -> list[str]:
    found: list[str] = []
    for header in msg.get_all(name) or ():
        addresses = getattr(header, "addresses", None)
        if addresses is None:  # a message built with the compat32 policy
            found.extend(addr for _, addr in email.utils.getaddresses([str(header)]))
        else:
            found.extend(a.addr_spec for a in addresses)
    return found


# ---------------------------------------------------------------------------------------------
# SMTP


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        value, unit = size / (1024 * 1024), "MB"
    elif size >= 1024:
        value, unit = size / 1024, "KB"
    else:
        return f"{size} bytes"
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


def _size_reason(size: int, limit: int) -> str:
    shown_size, shown_limit = _human_size(size), _human_size(limit)
    if shown_size == shown_limit:
        shown_size, shown_limit = f"{size:,} bytes", f"{limit:,} bytes"
    return f"The message is {shown_size}; the mail server accepts at most {shown_limit}."


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    text = " ".join(one_line(text).split())
    return f"{code} {text}".strip()


_SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


class SmtpTransport:
    """Send messages to one SMTP server: plain, STARTTLS (required) or implicit TLS."""

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        security: str = "plain",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if security not in {"plain", "starttls", "tls"}:
            raise ValueError(f"Unknown SMTP security {security!r}: use plain, starttls or tls.")
        if not host or any(_is_unsafe_char(ch) or ch.isspace() for ch in host):
            raise ValueError("The SMTP host name is missing or not valid.")
        default_port = {"plain": 25, "starttls": 587, "tls": 465}[security]
        port = default_port if port is None else port
        if not 0 < port < 65536:
            raise ValueError(f"The SMTP port {port} is out of range (1 to 65535).")
        if timeout <= 0:
            raise ValueError("The SMTP timeout must be a positive number of seconds.")
        self.host = host
        self.port = port
        self.security = security
        self.username = username or None
        self.password = password
        self.timeout = timeout
        self.local_hostname = local_hostname
        if ssl_context is None and security != "plain":
            ssl_context = ssl.create_default_context()
        self.ssl_context = ssl_context

    def __repr__(self) -> str:
        login = f" user={self.username!r}" if self.username else ""
        return f"<SmtpTransport {self.security} {self.host}:{self.port}{login}>"

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = 30, ssl_context: ssl.SSLContext | None = None
    ) -> SmtpTransport:
        """Build a transport from ``SMTP_URL``.

        ``smtp://[user[:password]@]host[:port]`` (plain, port 25), ``smtp+starttls://...``
        (port 587, STARTTLS required), ``smtps://...`` (implicit TLS, port 465). User and
        password are URL-encoded; ``?timeout=10`` sets the timeout in seconds.

        :raise ValueError: naming the part of the URL that is wrong (never the password).
        """
        if not isinstance(url, str) or not url.strip():
            raise ValueError("SMTP URL is empty.")
        url = url.strip()
        if any(_is_unsafe_char(ch) or ch.isspace() for ch in url):
            raise ValueError("SMTP URL must not contain spaces, line breaks or control characters.")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise ValueError(
                f"SMTP URL scheme {parts.scheme + ':' if parts.scheme else '(none)'} is not "
                "supported: use smtp://, smtp+starttls:// or smtps://."
            )
        security, _ = _SCHEMES[scheme]
        if not parts.hostname:
            raise ValueError("SMTP URL has no host name, e.g. smtp://mail.example.com:25.")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(
                "SMTP URL port is not valid: it must be a number from 1 to 65535."
            ) from None
        if port == 0:
            raise ValueError("SMTP URL port is not valid: it must be a number from 1 to 65535.")
        if parts.path not in ("", "/"):
            raise ValueError("SMTP URL must not have a path after the host and port.")
        if parts.fragment:
            raise ValueError("SMTP URL must not have a #fragment.")
        try:
            query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        except ValueError:
            raise ValueError("SMTP URL query string is not valid.") from None
        for key, value in query:
            if key != "timeout":
                raise ValueError(
                    f"SMTP URL option {key!r} is not known: only timeout is supported."
                )
            try:
                timeout = float(value)
            except ValueError:
                raise ValueError(
                    f"SMTP URL timeout {value!r} is not a number of seconds."
                ) from None
            if not 0 < timeout < 3600:
                raise ValueError("SMTP URL timeout must be between 0 and 3600 seconds.")
        username = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        if password and not username:
            raise ValueError("SMTP URL has a password but no user name.")
        return cls(
            parts.hostname,
            port,
            security=security,
            username=username,
            password=password,
            timeout=timeout,
            ssl_context=ssl_context,
        )

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, msg: EmailMessage) -> None:
        """Send one message, or raise :class:`TransientMailError` / :class:`PermanentMailError`.

        A recipient list that the server refuses even in part is not sent at all.
        """
        sender, recipients = _envelope(msg)
        data = message_bytes(msg)
        message_id = str(msg.get("Message-ID", "")).strip()
        try:
            self._deliver(sender, recipients, data)
        except MailError as exc:
            self._log_failure(message_id, exc)
            raise
        except (smtplib.SMTPException, OSError) as exc:
            error = self._classify(exc)
            self._log_failure(message_id, error)
            raise error from exc
        log.info("Sent message %s via %s (%d bytes)", message_id, self._where, len(data))

    def _log_failure(self, message_id: str, error: MailError) -> None:
        # No reason text here: it may quote the recipient's address back at us.
        log.info(
            "Message %s not sent via %s: %s (SMTP code %s)",
            message_id,
            self._where,
            type(error).__name__,
            error.smtp_code,
        )

    def _connect(self) -> smtplib.SMTP:
        """Open the connection and read the greeting (smtplib closes the socket on failure)."""
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self.ssl_context,
            )
        return smtplib.SMTP(
            self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
        )

    def _deliver(self, sender: str, recipients: list[str], data: bytes) -> None:
        smtp = self._connect()
        try:
            smtp.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise PermanentMailError(
                        f"The mail server at {self._where} does not offer STARTTLS, which the "
                        "SMTP URL (smtp+starttls://) requires; nothing was sent."
                    )
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.username:
                if not smtp.has_extn("auth"):
                    raise PermanentMailError(
                        f"The mail server at {self._where} does not offer login (AUTH), but the "
                        "SMTP URL has a user name; nothing was sent."
                    )
                try:
                    smtp.login(self.username, self.password or "")
                except smtplib.SMTPResponseException:
                    raise
                except smtplib.SMTPException as exc:  # no mechanism in common
                    raise PermanentMailError(
                        f"The mail server at {self._where} offers no login method this app "
                        f"supports ({exc}); nothing was sent."
                    ) from exc
            self._check_size(smtp, len(data))
            self._transaction(smtp, sender, recipients, data)
        finally:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            smtp.close()

    @staticmethod
    def _check_size(smtp: smtplib.SMTP, size: int) -> None:
        limit_text = smtp.esmtp_features.get("size", "").strip() if smtp.does_esmtp else ""
        if limit_text.isdigit():
            limit = int(limit_text)
            if 0 < limit < size:
                raise PermanentMailError(_size_reason(size, limit))

    def _transaction(
        self, smtp: smtplib.SMTP, sender: str, recipients: list[str], data: bytes
    ) -> None:
        # What smtplib's sendmail() does, except that a partly refused recipient list is
        # reset instead of sent to the recipients that were accepted.
        options = [f"SIZE={len(data)}"] if smtp.has_extn("size") else []
        code, reply = smtp.mail(sender, options)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused: list[tuple[str, int, bytes]] = []
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                refused.append((recipient, code, reply))
                if code == 421:
                    break
        if refused:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.rset()
            raise self._refusal(refused, len(recipients))
        code, reply = smtp.data(data)  # raises on a refused DATA command, returns the final reply
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    @staticmethod
    def _refusal(refused: list[tuple[str, int, bytes]], total: int) -> MailError:
        replies = "; ".join(f"{rcpt}: {_reply_text(code, reply)}" for rcpt, code, reply in refused)
        first_code = refused[0][1]
        if len(refused) < total:
            return PermanentMailError(
                f"The mail server refused some of the recipients ({replies}); a partly refused "
                "recipient list is not sent.",
                smtp_code=first_code,
            )
        if all(400 <= code < 500 for _, code, _ in refused):
            return TransientMailError(
                f"The mail server did not accept the recipient for now ({replies}); it will be "
                "tried again later.",
                smtp_code=first_code,
            )
        if len(refused) == 1:
            return PermanentMailError(
                "The mail server refused the recipient address: "
                + _reply_text(first_code, refused[0][2]),
                smtp_code=first_code,
            )
        return PermanentMailError(
            f"The mail server refused the recipients ({replies}).", smtp_code=first_code
        )

    def _classify(self, exc: BaseException) -> MailError:
        """Turn an smtplib, socket or ssl error into a MailError with a reason in plain words."""
        where = self._where
        if isinstance(exc, smtplib.SMTPResponseException):
            code, reply = exc.smtp_code, exc.smtp_error
            text = _reply_text(code, reply)
            if isinstance(exc, smtplib.SMTPSenderRefused):
                what = "refused the sender address"
            elif isinstance(exc, smtplib.SMTPAuthenticationError):
                what = "refused the login"
            elif isinstance(exc, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
                what = "refused the connection"
            else:
                what = "refused the message"
            if 500 <= code < 600:
                return PermanentMailError(f"The mail server {what}: {text}", smtp_code=code)
            if 400 <= code < 500:
                return TransientMailError(
                    f"The mail server asked to try again later: {text}", smtp_code=code
                )
            return TransientMailError(
                f"The mail server gave an unexpected answer: {text}", smtp_code=code
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return PermanentMailError(
                f"The mail server at {where} does not support what the SMTP URL asks for: {exc}"
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, OSError):
            # smtplib reports a read that timed out or was reset as "unexpectedly closed".
            return self._classify(exc.__context__)
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return TransientMailError(f"The mail server at {where} closed the connection early.")
        if isinstance(exc, smtplib.SMTPException):
            return TransientMailError(f"Sending through the mail server at {where} failed: {exc}")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return PermanentMailError(
                f"The TLS certificate of the mail server at {where} could not be verified "
                f"({exc.verify_message}); check the SMTP URL and the server's certificate."
            )
        if isinstance(exc, ssl.SSLError):
            return TransientMailError(
                f"The secure (TLS) connection to the mail server at {where} failed "
                f"({exc.reason or exc})."
            )
        if isinstance(exc, socket.gaierror):
            return TransientMailError(
                f"Could not find the mail server {self.host} (the host name did not resolve)."
            )
        if isinstance(exc, ConnectionRefusedError):
            return TransientMailError(
                f"Could not connect to the mail server at {where}: the connection was refused."
            )
        if isinstance(exc, TimeoutError):
            return TransientMailError(
                f"The mail server at {where} did not answer within {self.timeout:g} seconds."
            )
        if isinstance(exc, ConnectionError):
            return TransientMailError(f"The connection to the mail server at {where} was lost.")
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return TransientMailError(f"Could not talk to the mail server at {where}: {detail}.")


# ---------------------------------------------------------------------------------------------
# Outbox folder (the embedded default)

_FILENAME_SAFE_RE = re.compile(r"[^A-Za-z0-9._@+=-]")
_FILENAME_MAX = 120


def outbox_filename(message_id: str) -> str:
    """Return the .eml file name for a Message-ID: readable, file-system safe, deterministic."""
    bare = message_id.strip().removeprefix("<").removesuffix(">")
    safe = _FILENAME_SAFE_RE.sub("_", bare).lstrip("._-+=@")[:_FILENAME_MAX]
    if safe != bare or not safe:
        digest = hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        safe = f"{safe}-{digest}" if safe else f"message-{digest}"
    return f"{safe}.eml"


class OutboxTransport:
    """Write each message as an .eml file in a folder, one file per Message-ID.

    Files are 0600 and the folder is made 0700: only the server's own user reads them.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"<OutboxTransport {self.folder}>"

    def send(self, msg: EmailMessage) -> None:
        """Write the message atomically; writing the same Message-ID again replaces the file."""
        _envelope(msg)  # the same address checks as SMTP
        data = message_bytes(msg)
        message_id = str(msg.get("Message-ID", "")).strip()
        if not message_id:
            message_id = "<sha256-" + hashlib.sha256(data).hexdigest() + "@outbox>"
        target = self.folder / outbox_filename(message_id)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
            # mkstemp creates the file 0600, and os.replace keeps that mode.
            fd, tmp_name = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp_name, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_name)
                raise
        except OSError as exc:
            log.info("Message %s not written to the outbox: %s", message_id, type(exc).__name__)
            raise TransientMailError(
                f"Could not write the message to the outbox folder: {exc.strerror or exc}."
            ) from exc
        log.info("Wrote message %s to the outbox (%d bytes)", message_id, len(data))


def transport_from_url(url: str | None, outbox_folder: Path) -> SmtpTransport | OutboxTransport:
    """Return the SMTP transport for ``url``, or the outbox folder when no URL is configured."""
    if url is None or not url.strip():
        return OutboxTransport(Path(outbox_folder))
    return SmtpTransport.from_url(url)
