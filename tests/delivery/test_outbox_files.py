"""The embedded default: messages written to an outbox folder and read back for the app."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from trainer_app.delivery.mailer import (
    Address,
    Attachment,
    OutboxTransport,
    OutgoingEmail,
    PermanentMailError,
    TransientMailError,
    build_message,
    make_message_id,
    outbox_filename,
)
from trainer_app.delivery.outbox_files import list_messages, message_path, read_message

PDF = b"%PDF-1.7\n" + os.urandom(3000) + b"\n%%EOF\n"


def outgoing(
    key: str = "7", subject: str = "Your exercise plan from Zoë's Physio"
) -> OutgoingEmail:
    return OutgoingEmail(
        sender=Address("Zoë's Physio", "plans@clinic.example"),
        to=Address("王芳", "wang.fang@example.com"),
        subject=subject,
        text="Hello 王芳,\nYour exercise plan is attached.\n",
        html="<p>Hello 王芳,</p>",
        reply_to=Address("Zoë", "zoe@clinic.example"),
        attachments=(Attachment("plan.pdf", "application/pdf", PDF),),
        message_id=make_message_id(key, "clinic.example"),
    )


def eml_files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_writes_one_eml_per_message_id_with_crlf(tmp_path):
    folder = tmp_path / "outbox"  # created on first send
    outbox = OutboxTransport(folder)
    msg = build_message(outgoing())
    outbox.send(msg)
    outbox.send(msg)  # a retried task after a crash
    outbox.send(build_message(outgoing()))  # rebuilt: new Date, same Message-ID
    assert eml_files(folder) == ["delivery-7@clinic.example.eml"]
    data = (folder / "delivery-7@clinic.example.eml").read_bytes()
    assert b"\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.isascii()

    outbox.send(build_message(outgoing(key="8")))
    assert eml_files(folder) == ["delivery-7@clinic.example.eml", "delivery-8@clinic.example.eml"]


def test_file_names_are_safe_for_any_message_id():
    assert outbox_filename("<delivery-7@clinic.example>") == "delivery-7@clinic.example.eml"
    odd = outbox_filename("<../../etc/passwd@x>")
    assert "/" not in odd and not odd.startswith(".")
    assert odd != outbox_filename("<.._.._etc_passwd@x>")
    assert len(outbox_filename("<" + "a" * 500 + "@x>")) < 150


def test_read_back_what_was_written(tmp_path):
    OutboxTransport(tmp_path).send(build_message(outgoing()))
    parsed = read_message(tmp_path, "delivery-7@clinic.example.eml")
    assert parsed.headers["Subject"] == "Your exercise plan from Zoë's Physio"
    assert parsed.headers["To"] == "王芳 <wang.fang@example.com>"
    assert parsed.headers["From"] == "Zoë's Physio <plans@clinic.example>"
    assert parsed.headers["Message-ID"] == "<delivery-7@clinic.example>"
    assert parsed.text == "Hello 王芳,\nYour exercise plan is attached.\n"
    assert parsed.html == "<p>Hello 王芳,</p>\n"
    assert parsed.attachments == [("plan.pdf", len(PDF))]


def test_list_messages_newest_first(tmp_path):
    outbox = OutboxTransport(tmp_path)
    for key in ("old", "new", "middle"):
        outbox.send(build_message(outgoing(key=key, subject=f"Plan {key}")))
    # Dates come from the Date header; rewrite them so the order is known.
    now = datetime.now(UTC)
    for key, age in (("old", 3), ("new", 1), ("middle", 2)):
        path = tmp_path / f"delivery-{key}@clinic.example.eml"
        data = path.read_bytes()
        start = data.index(b"Date: ")
        end = data.index(b"\r\n", start)
        when = (now - timedelta(hours=age)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        path.write_bytes(data[:start] + f"Date: {when}".encode() + data[end:])
    (tmp_path / ".tmp-partial.part").write_bytes(b"half a message")
    (tmp_path / "notes.txt").write_text("not an email")

    entries = list_messages(tmp_path)
    assert [e.subject for e in entries] == ["Plan new", "Plan middle", "Plan old"]
    first = entries[0]
    assert first.name == "delivery-new@clinic.example.eml"
    assert first.to == "王芳 <wang.fang@example.com>"
    assert first.date is not None and first.date.tzinfo is not None
    assert first.size == (tmp_path / first.name).stat().st_size


def test_list_messages_of_a_missing_folder_is_empty(tmp_path):
    assert list_messages(tmp_path / "nowhere") == []


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "../outside.eml",
        "..",
        "/etc/passwd",
        "sub/delivery-7@clinic.example.eml",
        ".hidden.eml",
        "delivery-7@clinic.example.txt",
        "missing@clinic.example.eml",
        "",
    ],
)
def test_read_message_rejects_other_names(tmp_path, name):
    outbox = tmp_path / "outbox"
    OutboxTransport(outbox).send(build_message(outgoing()))
    (tmp_path / "outside.eml").write_bytes(b"Subject: secret\r\n\r\nsecret\r\n")
    with pytest.raises(FileNotFoundError):
        read_message(outbox, name)


def test_message_path_refuses_a_symlink_out_of_the_folder(tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    (tmp_path / "secret.eml").write_bytes(b"Subject: secret\r\n\r\nsecret\r\n")
    (outbox / "link.eml").symlink_to(tmp_path / "secret.eml")
    with pytest.raises(FileNotFoundError):
        message_path(outbox, "link.eml")


def test_outbox_checks_addresses_like_smtp(tmp_path):
    msg = build_message(outgoing())
    del msg["To"]
    with pytest.raises(PermanentMailError, match="no recipient"):
        OutboxTransport(tmp_path).send(msg)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_outbox_is_transient(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(TransientMailError, match="outbox folder"):
        OutboxTransport(blocker / "outbox").send(build_message(outgoing()))
