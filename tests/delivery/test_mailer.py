"""The mail path: building messages safely and sending them through a real SMTP server."""

from __future__ import annotations

import base64
import email.policy
import logging
import re
import ssl
from email.headerregistry import Address as HeaderAddress
from email.parser import BytesParser
from pathlib import Path

import jinja2
import pytest

from trainer_app.delivery.mailer import (
    Address,
    Attachment,
    InvalidAddress,
    MailError,
    OutboxTransport,
    OutgoingEmail,
    PermanentMailError,
    SmtpTransport,
    TransientMailError,
    _size_reason,
    build_message,
    make_message_id,
    message_bytes,
    no_encoded_words,
    one_line,
    transport_from_url,
    validate_address,
)

from .conftest import free_port

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


smtp = pytest.mark.smtp


def plan_email(**overrides) -> OutgoingEmail:
    values = {
        "sender": Address("Zoë's Physio & Co", "plans@clinic.example"),
        "to": Address("王芳", "wang.fang@example.com"),
        "subject": "Your exercise plan from Zoë's Physio & Co",
        "text": "Hello 王芳,\n\nYour exercise plan is attached.\n",
        "html": "<p>Hello 王芳,</p><p>Your exercise plan is attached.</p>",
        "reply_to": Address("Zoë Trainer", "zoe@clinic.example"),
        "attachments": (Attachment("Exercise plan – 王芳.pdf", "application/pdf", PDF),),
        "message_id": make_message_id("42", "clinic.example"),
    }
    values.update(overrides)
    return OutgoingEmail(**values)


def parse(data: bytes):
    return BytesParser(policy=email.policy.default).parsebytes(data)


def transport(server, **kwargs) -> SmtpTransport:
    return SmtpTransport(server.host, server.port, timeout=5, **kwargs)


# ---------------------------------------------------------------------------------------------
# Message-ID, addresses, headers (no server)


def test_message_id_is_deterministic_and_sanitised():
    assert make_message_id("42", "clinic.example") == "<delivery-42@clinic.example>"
    assert make_message_id("42", "clinic.example") == make_message_id("42", "Clinic.Example")
    odd = make_message_id("a/b>\r\nBcc: x@y", "clinic.example")
    assert re.fullmatch(r"<delivery-[A-Za-z0-9=_-]+@clinic\.example>", odd)
    # Escaping keeps different keys apart.
    assert make_message_id("a/b", "d.example") != make_message_id("a:b", "d.example")
    assert make_message_id("a-b", "d.example") != make_message_id("a=2Db", "d.example")
    assert make_message_id("x", "zoë.example") == "<delivery-x@xn--zo-ija.example>"


@pytest.mark.parametrize("key, domain", [("", "clinic.example"), ("1", "bad domain"), ("1", "")])
def test_message_id_rejects_empty_key_or_bad_domain(key, domain):
    with pytest.raises(ValueError):
        make_message_id(key, domain)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("anna@example.com", "anna@example.com"),
        (" anna.b+plans@mail.example.com ", "anna.b+plans@mail.example.com"),
        ("o'neil@example.ie", "o'neil@example.ie"),
        ("zoe@zoë.example", "zoe@xn--zo-ija.example"),
        ("noreply@localhost", "noreply@localhost"),
    ],
)
def test_valid_addresses(value, expected):
    assert validate_address(value) == expected


@pytest.mark.parametrize(
    "value, words",
    [
        ("anna@example.com\r\nBcc: eve@evil.example", "line break"),
        ("anna@example.com\nbcc@evil.example", "line break"),
        ("anna@example.com\u2028", "line break"),
        ("anna@example.com, eve@evil.example", "comma or semicolon"),
        ("anna@example.com;eve@evil.example", "comma or semicolon"),
        ("Anna <anna@example.com>", "space"),
        ("<anna@example.com>", "before the @"),
        ("anna@@example.com", "exactly one @"),
        ("anna", "exactly one @"),
        ('"anna"@example.com', "before the @"),
        ("anna.@example.com", "before the @"),
        ("zoë@example.com", "non-ASCII"),
        ("anna@exa_mple.com", "after the @"),
        ("anna@-example.com", "after the @"),
        ("anna@[127.0.0.1]", "after the @"),
        ("", "empty"),
    ],
)
def test_invalid_addresses_are_refused_with_a_clear_message(value, words):
    with pytest.raises(InvalidAddress, match=re.escape(words)) as caught:
        validate_address(value)
    # Usable both as a ValueError (forms) and as a permanent mail failure (worker).
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, PermanentMailError)
    assert caught.value.permanent is True


def test_one_line_turns_control_characters_into_spaces():
    assert one_line("Anna\r\nBcc: eve@x\u2028\u0085\x00Smith\u202e") == "Anna Bcc: eve@x Smith"
    assert one_line("王芳  Zoë") == "王芳 Zoë"


def test_build_message_structure():
    msg = build_message(plan_email())
    data = message_bytes(msg)
    assert data.isascii()  # 7-bit clean: no 8BITMIME needed
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    parsed = parse(data)
    assert parsed.get_content_type() == "multipart/mixed"
    assert parsed["Message-ID"] == "<delivery-42@clinic.example>"
    assert parsed["From"].addresses[0].display_name == "Zoë's Physio & Co"
    assert parsed["From"].addresses[0].addr_spec == "plans@clinic.example"
    assert parsed["To"].addresses[0].display_name == "王芳"
    assert parsed["Reply-To"].addresses[0].addr_spec == "zoe@clinic.example"
    assert parsed["Subject"] == "Your exercise plan from Zoë's Physio & Co"
    assert parsed["Date"].datetime is not None
    assert (
        parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").startswith("Hello 王芳,\n")
    )
    assert "<p>Hello 王芳,</p>" in parsed.get_body(("html",)).get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Exercise plan – 王芳.pdf"
    assert attachment.get_content() == PDF


def test_build_message_without_optional_parts():
    msg = build_message(
        OutgoingEmail(
            sender=Address("", "noreply@clinic.example"),
            to=Address("Anna", "anna@example.com"),
            subject="Reset your password",
            text="Open the link.",
        )
    )
    parsed = parse(message_bytes(msg))
    assert parsed.get_content_type() == "text/plain"
    assert parsed["From"] == "noreply@clinic.example"
    assert parsed["Reply-To"] is None
    assert re.fullmatch(r"<[^<>@\s]+@clinic\.example>", parsed["Message-ID"])


@pytest.mark.parametrize("field", ["sender", "to", "reply_to"])
def test_build_message_refuses_an_invalid_address(field):
    bad = Address("Eve", "anna@example.com\r\nBcc: eve@evil.example")
    with pytest.raises(InvalidAddress, match="line break"):
        build_message(plan_email(**{field: bad}))


def test_build_message_refuses_a_malformed_message_id():
    with pytest.raises(ValueError, match="Message-ID"):
        build_message(plan_email(message_id="<x@y>\r\nBcc: eve@evil.example"))


INJECTED = "\r\nBcc: eve@evil.example\r\nX-Injected: yes"


def injected_email() -> OutgoingEmail:
    return plan_email(
        sender=Address("Clinic" + INJECTED, "plans@clinic.example"),
        to=Address("Anna" + INJECTED + "\u2028Cc: mallory@evil.example", "anna@example.com"),
        reply_to=Address("Trainer\nTo: eve@evil.example", "zoe@clinic.example"),
        subject="Your plan" + INJECTED + "\n\nbody injection",
    )


def assert_no_injection(parsed) -> None:
    assert parsed["Bcc"] is None
    assert parsed["Cc"] is None
    assert parsed["X-Injected"] is None
    assert len(parsed.get_all("To")) == 1
    assert [a.addr_spec for a in parsed["To"].addresses] == ["anna@example.com"]
    assert [a.addr_spec for a in parsed["Reply-To"].addresses] == ["zoe@clinic.example"]
    assert [a.addr_spec for a in parsed["From"].addresses] == ["plans@clinic.example"]
    assert parsed["From"].addresses[0].display_name == (
        "Clinic Bcc: eve@evil.example X-Injected: yes"
    )
    assert parsed["To"].addresses[0].display_name == (
        "Anna Bcc: eve@evil.example X-Injected: yes Cc: mallory@evil.example"
    )
    assert parsed["Reply-To"].addresses[0].display_name == "Trainer To: eve@evil.example"
    assert parsed["Subject"] == "Your plan Bcc: eve@evil.example X-Injected: yes body injection"


def test_control_characters_in_names_and_subject_cannot_add_headers():
    assert_no_injection(parse(message_bytes(build_message(injected_email()))))


# CVE-2024-6923: Python before 3.11.10 writes the CR/LF an RFC 2047 encoded word decodes to.
ENCODED_PAYLOAD = "x\r\nBcc: evil@evil.example\r\nX-Injected: 1\r\n\r\nattacker body"
ENCODED_WORD = "=?utf-8?b?" + base64.b64encode(ENCODED_PAYLOAD.encode()).decode() + "?="


def encoded_word_email() -> OutgoingEmail:
    return plan_email(
        sender=Address(f"Clinic {ENCODED_WORD}", "plans@clinic.example"),
        to=Address(ENCODED_WORD, "anna@example.com"),
        reply_to=Address(f"{ENCODED_WORD} Trainer", "zoe@clinic.example"),
        subject=f"Your plan {ENCODED_WORD}",
    )


def assert_exactly_the_built_message(parsed) -> None:
    assert sorted(k.lower() for k in parsed) == [
        "content-type", "date", "from", "message-id", "mime-version", "reply-to", "subject", "to",
    ]  # fmt: skip
    assert [a.addr_spec for a in parsed["To"].addresses] == ["anna@example.com"]
    assert parsed["Message-ID"] == "<delivery-42@clinic.example>"
    assert "attacker body" not in parsed.get_body(("plain",)).get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content() == PDF


def test_encoded_words_in_names_and_subject_are_printed_literally():
    parsed = parse(message_bytes(build_message(encoded_word_email())))
    assert_exactly_the_built_message(parsed)
    literal = ENCODED_WORD.replace("=?", "= ?")
    assert parsed["To"].addresses[0].display_name == literal
    assert parsed["From"].addresses[0].display_name == f"Clinic {literal}"
    assert parsed["Reply-To"].addresses[0].display_name == f"{literal} Trainer"
    assert parsed["Subject"] == f"Your plan {literal}"


@pytest.mark.parametrize(
    "text",
    ["=?", "==??", "a=?b=?c", "=?=?=?", "=?utf-8?q?=0D=0A?=", "x =?\u00e9?= y"],
)
def test_no_encoded_words_leaves_no_encoded_word_start(text):
    assert "=?" not in no_encoded_words(text)


def tampered(field: str):
    """A built message whose header is then replaced behind the builder's back."""
    msg = build_message(plan_email())
    if field == "Subject":
        msg.replace_header("Subject", f"Plan {ENCODED_WORD}")
    else:
        value = HeaderAddress(display_name=ENCODED_WORD, addr_spec="anna@example.com")
        msg.replace_header(field, value)
    return msg


@pytest.mark.parametrize("field", ["From", "To", "Reply-To", "Subject"])
def test_bytes_that_parse_to_another_message_are_refused(field):
    with pytest.raises(PermanentMailError) as caught:
        message_bytes(tampered(field))
    assert "no longer matched what was built" in caught.value.reason
    assert "unexpected bcc, x-injected" in caught.value.reason


@smtp
def test_transports_refuse_a_message_that_parses_differently(smtp_server, tmp_path):
    with pytest.raises(PermanentMailError):
        transport(smtp_server).send(tampered("To"))
    with pytest.raises(PermanentMailError):
        OutboxTransport(tmp_path).send(tampered("To"))
    assert smtp_server.handler.rcpt_attempts == [] and smtp_server.handler.received == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name",
    [
        "Zoë O'Brien-Łukasiewicz",
        'Dr "Bones" McCoy, Jr.',
        "back\\slash (comment) <angle> @ at; semi: colon",
        "王芳 " * 40,
        "Ærø " + "x" * 300,
        "emoji 🏋️ and Ελληνικά and עברית",
        "= ? not a word ?=",
        "  spaced   out  ",
    ],
)
def test_ordinary_names_pass_the_generated_message_check(name):
    msg = build_message(plan_email(to=Address(name, "anna@example.com"), subject=name))
    parsed = parse(message_bytes(msg))
    # Python's parser may put spaces between the encoded words of a long, folded name.
    assert "".join(parsed["To"].addresses[0].display_name.split()) == "".join(name.split())


def test_size_reason_in_words():
    assert _size_reason(int(12.3 * 1024 * 1024), 10 * 1024 * 1024) == (
        "The message is 12.3 MB; the mail server accepts at most 10 MB."
    )
    assert (
        _size_reason(5300, 2048) == "The message is 5.2 KB; the mail server accepts at most 2 KB."
    )
    assert _size_reason(10 * 1024 * 1024 + 1, 10 * 1024 * 1024) == (
        "The message is 10,485,761 bytes; the mail server accepts at most 10,485,760 bytes."
    )


# ---------------------------------------------------------------------------------------------
# SMTP URLs


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://mail.example.com", ("plain", "mail.example.com", 25, None, None, 30)),
        ("smtp://mail.example.com:2525", ("plain", "mail.example.com", 2525, None, None, 30)),
        ("SMTP://Mail.Example.com/", ("plain", "mail.example.com", 25, None, None, 30)),
        (
            "smtp+starttls://us%40er:p%40ss%3Aw0rd%2F%25@smtp.example.com",
            ("starttls", "smtp.example.com", 587, "us@er", "p@ss:w0rd/%", 30),
        ),
        (
            "smtps://apikey:s3cret@smtp.example.com:2465?timeout=7.5",
            ("tls", "smtp.example.com", 2465, "apikey", "s3cret", 7.5),
        ),
        ("smtp://user@[::1]:1025", ("plain", "::1", 1025, "user", None, 30)),
    ],
)
def test_smtp_url_parsing(url, expected):
    t = SmtpTransport.from_url(url)
    assert (t.security, t.host, t.port, t.username, t.password, t.timeout) == expected
    assert "s3cret" not in repr(t) and "p@ss" not in repr(t)
    if t.security == "plain":
        assert t.ssl_context is None
    else:
        assert t.ssl_context.verify_mode == ssl.CERT_REQUIRED
        assert t.ssl_context.check_hostname


@pytest.mark.parametrize(
    "url, words",
    [
        ("", "empty"),
        ("mail.example.com", "scheme"),
        ("http://mail.example.com", "scheme http:"),
        ("smtp://", "host"),
        ("smtp://:pw@:25", "host"),
        ("smtp://mail.example.com:http", "port"),
        ("smtp://mail.example.com:70000", "port"),
        ("smtp://mail.example.com:0", "port"),
        ("smtp://mail.example.com/inbox", "path"),
        ("smtp://mail.example.com#x", "fragment"),
        ("smtp://mail.example.com?tls=1", "option 'tls'"),
        ("smtp://mail.example.com?timeout=soon", "timeout"),
        ("smtp://mail.example.com?timeout=0", "timeout"),
        ("smtp://:secret@mail.example.com", "password but no user"),
        ("smtp://mail.example.com\r\n:25", "line breaks"),
        ("smtp://us er:secret@mail.example.com", "spaces"),
    ],
)
def test_bad_smtp_url_names_the_part(url, words):
    with pytest.raises(ValueError, match=re.escape(words)) as caught:
        SmtpTransport.from_url(url)
    assert "secret" not in str(caught.value)


def test_transport_from_url(tmp_path):
    for empty in (None, "", "  "):
        outbox = transport_from_url(empty, tmp_path / "outbox")
        assert isinstance(outbox, OutboxTransport)
        assert outbox.folder == tmp_path / "outbox"
    smtp = transport_from_url("smtp+starttls://relay.example.com", tmp_path)
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.security, smtp.port) == ("starttls", 587)


# ---------------------------------------------------------------------------------------------
# Sending through a real SMTP server on loopback


@smtp
def test_send_delivers_one_complete_message(smtp_server, caplog):
    msg = build_message(plan_email())
    with caplog.at_level(logging.INFO, logger="trainer_app.delivery.mailer"):
        transport(smtp_server).send(msg)

    [received] = smtp_server.handler.received
    assert received.mail_from == "plans@clinic.example"
    assert received.rcpt_tos == ["wang.fang@example.com"]
    assert f"SIZE={len(message_bytes(msg))}" in received.mail_options
    # Line endings on the wire are CRLF, never a bare LF or CR.
    assert b"\r\n" in received.data
    assert b"\n" not in received.data.replace(b"\r\n", b"")
    assert b"\r" not in received.data.replace(b"\r\n", b"")

    parsed = received.message()
    assert parsed["Message-ID"] == "<delivery-42@clinic.example>"
    assert parsed["From"].addresses[0].display_name == "Zoë's Physio & Co"
    assert parsed["To"].addresses[0].display_name == "王芳"
    assert parsed["Reply-To"].addresses[0].display_name == "Zoë Trainer"
    assert parsed["Reply-To"].addresses[0].addr_spec == "zoe@clinic.example"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "Exercise plan – 王芳.pdf"
    assert attachment.get_content() == PDF
    assert "王芳" in parsed.get_body(("html",)).get_content()

    assert smtp_server.handler.quits == 1
    # Logged at INFO, without the client's name, address or the subject.
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "<delivery-42@clinic.example>" in logged
    for private in ("wang.fang", "王芳", "exercise plan", "Zoë"):
        assert private not in logged


@smtp
def test_451_is_transient_and_a_retry_delivers_once(smtp_server):
    handler = smtp_server.handler
    handler.data_replies.extend(["451 4.3.0 Try again later", "451 4.3.0 Try again later"])
    msg = build_message(plan_email())
    for _ in range(2):
        with pytest.raises(TransientMailError) as caught:
            transport(smtp_server).send(msg)
        assert caught.value.reason == (
            "The mail server asked to try again later: 451 4.3.0 Try again later"
        )
        assert caught.value.permanent is False
        assert caught.value.smtp_code == 451
    transport(smtp_server).send(msg)
    assert len(handler.received) == 1
    assert handler.data_attempts == 3
    assert handler.quits == 3  # the connection is closed after failures too


@smtp
def test_550_is_permanent_with_the_server_text(smtp_server):
    smtp_server.handler.data_replies.append("550 5.1.1 mailbox unavailable")
    with pytest.raises(PermanentMailError) as caught:
        transport(smtp_server).send(build_message(plan_email()))
    assert (
        caught.value.reason == "The mail server refused the message: 550 5.1.1 mailbox unavailable"
    )
    assert caught.value.permanent is True
    assert smtp_server.handler.received == []
    assert smtp_server.handler.quits == 1


@smtp
def test_552_at_data_is_permanent(smtp_server):
    smtp_server.handler.data_replies.append("552 5.3.4 Message too big for system")
    with pytest.raises(PermanentMailError, match="552 5.3.4 Message too big for system"):
        transport(smtp_server).send(build_message(plan_email()))


@smtp
def test_refused_sender_is_permanent(smtp_server):
    smtp_server.handler.mail_replies.append("553 5.7.1 Sender address rejected: not owned by you")
    with pytest.raises(PermanentMailError) as caught:
        transport(smtp_server).send(build_message(plan_email()))
    assert caught.value.reason == (
        "The mail server refused the sender address: 553 5.7.1 Sender address rejected: "
        "not owned by you"
    )


@smtp
def test_refused_recipient_is_permanent(smtp_server):
    smtp_server.handler.rcpt_replies["wang.fang@example.com"] = "550 5.1.1 No such user here"
    with pytest.raises(PermanentMailError) as caught:
        transport(smtp_server).send(build_message(plan_email()))
    assert caught.value.reason == (
        "The mail server refused the recipient address: 550 5.1.1 No such user here"
    )
    assert smtp_server.handler.data_attempts == 0


@smtp
def test_greylisted_recipient_is_transient(smtp_server):
    smtp_server.handler.rcpt_replies["wang.fang@example.com"] = "450 4.2.0 Greylisted, come back"
    with pytest.raises(TransientMailError, match="450 4.2.0 Greylisted, come back"):
        transport(smtp_server).send(build_message(plan_email()))


@smtp
def test_partly_refused_recipients_are_permanent_and_nothing_is_sent(smtp_server):
    smtp_server.handler.rcpt_replies["eve@example.org"] = "550 5.7.1 Relaying denied"
    msg = build_message(plan_email())
    msg["Cc"] = "eve@example.org"
    msg.expected = None  # changed after build on purpose: check it against its own headers
    with pytest.raises(PermanentMailError) as caught:
        transport(smtp_server).send(msg)
    assert "a partly refused recipient list is not sent" in caught.value.reason
    assert "550 5.7.1 Relaying denied" in caught.value.reason
    assert smtp_server.handler.rcpt_attempts == ["wang.fang@example.com", "eve@example.org"]
    assert smtp_server.handler.data_attempts == 0
    assert smtp_server.handler.received == []


@smtp
def test_bcc_is_in_the_envelope_but_not_in_the_message(smtp_server):
    msg = build_message(plan_email())
    msg["Bcc"] = "archive@clinic.example"
    transport(smtp_server).send(msg)
    [received] = smtp_server.handler.received
    assert received.rcpt_tos == ["wang.fang@example.com", "archive@clinic.example"]
    assert b"archive@" not in received.data
    assert msg["Bcc"] == "archive@clinic.example"  # the caller's message is left alone


@smtp
def test_message_over_the_size_limit_is_permanent_and_not_sent(start_smtp_server):
    server = start_smtp_server(data_size_limit=4096)
    msg = build_message(plan_email(attachments=(Attachment("big.pdf", "application/pdf", PDF),)))
    size = len(message_bytes(msg))
    assert size > 4096
    with pytest.raises(PermanentMailError) as caught:
        transport(server).send(msg)
    assert caught.value.reason == (
        f"The message is {size / 1024:.1f} KB; the mail server accepts at most 4 KB."
    )
    assert server.handler.data_attempts == 0
    assert server.handler.quits == 1


@smtp
def test_no_size_check_when_server_advertises_no_size(start_smtp_server):
    # aiosmtpd advertises no SIZE extension for data_size_limit=None.
    server = start_smtp_server(data_size_limit=None)
    transport(server).send(build_message(plan_email()))
    assert len(server.handler.received) == 1


@smtp
def test_connection_refused_is_transient():
    port = free_port()
    with pytest.raises(TransientMailError) as caught:
        SmtpTransport("127.0.0.1", port, timeout=5).send(build_message(plan_email()))
    assert caught.value.reason == (
        f"Could not connect to the mail server at 127.0.0.1:{port}: the connection was refused."
    )


@smtp
def test_silent_server_times_out_as_transient(silent_server):
    t = SmtpTransport("127.0.0.1", silent_server.port, timeout=0.3)
    with pytest.raises(TransientMailError, match="did not answer within 0.3 seconds"):
        t.send(build_message(plan_email()))


@smtp
def test_server_hanging_up_is_transient(hangup_server):
    t = SmtpTransport("127.0.0.1", hangup_server.port, timeout=5)
    with pytest.raises(TransientMailError, match="closed the connection early"):
        t.send(build_message(plan_email()))


@smtp
def test_unknown_host_is_transient():
    t = SmtpTransport("no-such-host.invalid", 25, timeout=5)
    with pytest.raises(TransientMailError, match="did not resolve"):
        t.send(build_message(plan_email()))


@smtp
def test_injection_attempts_reach_one_recipient_without_extra_headers(smtp_server):
    transport(smtp_server).send(build_message(injected_email()))
    [received] = smtp_server.handler.received
    assert received.rcpt_tos == ["anna@example.com"]
    assert smtp_server.handler.rcpt_attempts == ["anna@example.com"]
    parsed = received.message()
    assert_no_injection(parsed)
    subject_lines = [
        line
        for line in received.data.split(b"\r\n\r\n")[0].split(b"\r\n")
        if line.startswith(b"Subject:")
    ]
    assert len(subject_lines) == 1


@smtp
def test_starttls_with_login(start_smtp_server, tls_files):
    server = start_smtp_server(tls_context=tls_files.server_context(), require_starttls=True)
    t = SmtpTransport.from_url(
        f"smtp+starttls://us%40er:p%40ss%3Aw0rd%2F%25@{server.url_host}?timeout=5",
        ssl_context=tls_files.client_context(),
    )
    t.send(build_message(plan_email()))
    assert server.handler.logins == [("us@er", "p@ss:w0rd/%")]
    [received] = server.handler.received
    assert received.message()["Message-ID"] == "<delivery-42@clinic.example>"


@smtp
def test_wrong_password_is_permanent(start_smtp_server, tls_files):
    server = start_smtp_server(tls_context=tls_files.server_context())
    t = SmtpTransport.from_url(
        f"smtp+starttls://us%40er:nope@{server.url_host}", ssl_context=tls_files.client_context()
    )
    with pytest.raises(PermanentMailError, match="refused the login: 535"):
        t.send(build_message(plan_email()))
    assert server.handler.received == []


@smtp
def test_starttls_required_but_not_offered_is_permanent(smtp_server):
    t = SmtpTransport.from_url(f"smtp+starttls://{smtp_server.url_host}")
    with pytest.raises(PermanentMailError, match="does not offer STARTTLS"):
        t.send(build_message(plan_email()))
    assert smtp_server.handler.received == []
    assert smtp_server.handler.quits == 1


@smtp
def test_plain_client_against_a_server_requiring_starttls_is_permanent(
    start_smtp_server, tls_files
):
    server = start_smtp_server(tls_context=tls_files.server_context(), require_starttls=True)
    with pytest.raises(PermanentMailError, match="530"):
        SmtpTransport.from_url(f"smtp://{server.url_host}").send(build_message(plan_email()))
    assert server.handler.received == []


@smtp
def test_login_without_auth_offered_is_permanent(smtp_server):
    # aiosmtpd offers AUTH only after TLS: a plain connection sees no AUTH.
    t = SmtpTransport.from_url(f"smtp://user:pw@{smtp_server.url_host}")
    with pytest.raises(PermanentMailError, match="does not offer login"):
        t.send(build_message(plan_email()))


@smtp
def test_smtps_implicit_tls(start_smtp_server, tls_files):
    # aiosmtpd only counts STARTTLS as TLS when deciding to offer AUTH.
    server = start_smtp_server(implicit_tls=tls_files.server_context(), auth_require_tls=False)
    t = SmtpTransport.from_url(
        f"smtps://us%40er:p%40ss%3Aw0rd%2F%25@{server.url_host}",
        ssl_context=tls_files.client_context(),
    )
    t.send(build_message(plan_email()))
    assert len(server.handler.received) == 1
    assert server.handler.logins == [("us@er", "p@ss:w0rd/%")]


@smtp
def test_untrusted_certificate_is_permanent(start_smtp_server, tls_files):
    server = start_smtp_server(implicit_tls=tls_files.server_context())
    t = SmtpTransport.from_url(f"smtps://{server.url_host}")  # system CAs only
    with pytest.raises(PermanentMailError, match="certificate .* could not be verified"):
        t.send(build_message(plan_email()))
    assert server.handler.received == []


@smtp
def test_errors_are_mail_errors():
    # The worker needs to catch one type.
    for cls in (TransientMailError, PermanentMailError, InvalidAddress):
        assert issubclass(cls, MailError)


# ---------------------------------------------------------------------------------------------
# Email templates, rendered the way the app renders them (autoescape for .html)


@pytest.fixture
def jinja_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )


PLAN_CONTEXT = {
    "clinic_name": "Zoë's Physio & Co",
    "client_name": "Anna <b>Smith</b>",
    "trainer_name": "Zoë Trainer",
    "trainer_email": "zoe@clinic.example",
    "plan_title": "Lower-back relief: hip flexor tightness",
    "sessions_per_week": 3,
    "weeks": 1,
}


def test_plan_email_templates(jinja_env):
    subject = jinja_env.get_template("email/plan/subject.txt").render(PLAN_CONTEXT)
    text = jinja_env.get_template("email/plan/body.txt").render(PLAN_CONTEXT)
    html = jinja_env.get_template("email/plan/body.html").render(PLAN_CONTEXT)
    assert subject == "Your exercise plan from Zoë's Physio & Co"
    assert "Hello Anna <b>Smith</b>," in text
    assert "3 sessions a week for 1 week." in text
    assert "Anna &lt;b&gt;Smith&lt;/b&gt;" in html and "<b>Smith" not in html
    assert "Zoë&#39;s Physio &amp; Co" in html
    for body in (subject, text, html):
        assert "exercise plan" in body
        assert "hip flexor" not in body and "Lower-back" not in body  # no health details
    build_message(plan_email(subject=subject, text=text, html=html))


def test_password_reset_templates(jinja_env):
    context = {
        "clinic_name": "Zoë's Physio & Co",
        "trainer_name": "Zoë",
        "reset_url": "https://app.example/reset/abc?x=1&y=2",
        "expires_minutes": 30,
    }
    subject = jinja_env.get_template("email/password_reset/subject.txt").render(context)
    text = jinja_env.get_template("email/password_reset/body.txt").render(context)
    html = jinja_env.get_template("email/password_reset/body.html").render(context)
    assert subject == "Reset your Zoë's Physio & Co password"
    assert "https://app.example/reset/abc?x=1&y=2" in text
    assert 'href="https://app.example/reset/abc?x=1&amp;y=2"' in html
    assert "30 minutes" in text and "30 minutes" in html
    anonymous = jinja_env.get_template("email/password_reset/body.txt").render(
        {**context, "trainer_name": ""}
    )
    assert anonymous.startswith("Hello,")
