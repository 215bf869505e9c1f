"""The embedded queue (trainer_app.broker) through Kombu itself: whole messages only, bad files
set aside, private files."""

from __future__ import annotations

import threading

import pytest
from kombu import Connection, Exchange, Queue

from trainer_app.broker import Transport


@pytest.fixture
def connection(tmp_path):
    folder = tmp_path / "queue"
    Transport.global_state.clear()  # bindings are kept per process; each test has its own folder
    conn = Connection(
        "filesystem://",
        transport=Transport,
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        },
    )
    yield conn, folder
    conn.release()


def _queue(conn) -> Queue:
    queue = Queue("pdf", Exchange("pdf"), routing_key="pdf")
    queue(conn.default_channel).declare()
    return queue


def test_unreadable_files_are_set_aside_and_the_next_message_is_delivered(connection):
    conn, folder = connection
    queue = _queue(conn)
    (folder / "00000000000000000001_empty.pdf.msg").write_bytes(b"")
    (folder / "00000000000000000002_garbage.pdf.msg").write_bytes(b"\xff\x00 not json")
    (folder / "00000000000000000003_json.pdf.msg").write_bytes(b'{"body": "no properties"}')
    with conn.Producer() as producer:
        producer.publish({"task": "real"}, exchange=queue.exchange, routing_key="pdf")
    simple = conn.SimpleQueue(queue)
    message = simple.get(timeout=5)
    assert message.payload == {"task": "real"}
    message.ack()
    assert sorted(p.name for p in (folder / "bad").iterdir()) == [
        "00000000000000000001_empty.pdf.msg",
        "00000000000000000002_garbage.pdf.msg",
        "00000000000000000003_json.pdf.msg",
    ]
    simple.close()


def test_a_reader_never_takes_a_message_that_is_still_being_written(connection):
    conn, folder = connection
    queue = _queue(conn)
    count, body = 150, "x" * 200_000  # large messages: each write takes a while
    publisher = Connection(
        "filesystem://", transport=Transport, transport_options=dict(conn.transport_options)
    )

    def publish() -> None:
        with publisher.Producer() as producer:
            for n in range(count):
                producer.publish({"n": n, "body": body}, exchange=queue.exchange, routing_key="pdf")

    thread = threading.Thread(target=publish)
    thread.start()
    received = []
    simple = conn.SimpleQueue(queue)
    while len(received) < count:
        message = simple.get(timeout=30)
        assert message.payload["body"] == body
        received.append(message.payload["n"])
        message.ack()
    thread.join()
    simple.close()
    publisher.release()
    assert sorted(received) == list(range(count))
    assert not (folder / "bad").exists() or not list((folder / "bad").iterdir())


def test_queue_files_and_folders_are_private(connection):
    conn, folder = connection
    queue = _queue(conn)
    with conn.Producer() as producer:
        producer.publish({"task": "x"}, exchange=queue.exchange, routing_key="pdf")
    [message_file] = folder.glob("*.msg")
    assert message_file.stat().st_mode & 0o777 == 0o600
    for sub in ("tmp", "control"):
        assert (folder / sub).stat().st_mode & 0o777 == 0o700, sub
    for table in (folder / "control").glob("*.exchange"):
        assert table.stat().st_mode & 0o777 == 0o600


def test_the_most_urgent_waiting_message_is_taken_first(connection):
    from trainer_app.jobs import BULK, PRERENDER, URGENT

    conn, _folder = connection
    queue = _queue(conn)
    with conn.Producer() as producer:
        for name, priority in [("bulk", BULK), ("ahead", PRERENDER), ("click", URGENT)]:
            producer.publish(
                {"n": name}, exchange=queue.exchange, routing_key="pdf", priority=priority
            )
        producer.publish({"n": "click-2"}, exchange=queue.exchange, routing_key="pdf")
    simple = conn.SimpleQueue(queue)
    taken = []
    for _ in range(4):
        message = simple.get(timeout=5)
        taken.append(message.payload["n"])
        message.ack()
    # Urgent first (oldest first among equals), then pre-renders, then bulk work.
    assert taken == ["click", "click-2", "ahead", "bulk"]
    simple.close()
