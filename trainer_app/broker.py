"""The embedded job queue: Kombu's filesystem transport, made safe for several processes.

Kombu's transport creates a message file under its final name and then writes it, so a worker
listing the folder at that moment took an empty file, failed to decode it, and Celery stopped
the worker. Here a message is written under ``tmp/`` and renamed into the queue folder once
complete (a rename within one file system is atomic); a reader takes a message by renaming it
into ``work/``, so two readers never get the same file; a file that is not a message Celery can
read is moved to ``bad/`` with a log line instead of stopping the worker. The exchange tables
in ``control/`` are replaced the same way. Folders are 0700 and files 0600: jobs name clients.

Messages carry a priority as on Redis (0 is taken first; see ``jobs.URGENT``): a file's name
starts with its priority digit, then the time, so the oldest message of the most urgent priority
sorts first.

Celery uses this transport for ``filesystem://`` (see ``jobs.celery_init_app``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

TMP, WORK, BAD = "tmp", "work", "bad"


def write_atomically(target: Path, data: bytes, *, tmp_folder: Path) -> None:
    """Write ``data`` to ``target`` so that no reader ever sees a partial file (mode 0600)."""
    tmp = tmp_folder / f".{uuid.uuid4().hex}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (writers of the exchange tables take turns)."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class Channel(filesystem.Channel):
    """A filesystem channel whose messages appear whole and whose bad files are set aside."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for folder in {self.data_folder_in, self.data_folder_out}:
            self._folder(folder)

    def _folder(self, base: str, sub: str | None = None) -> Path:
        folder = Path(base) if sub is None else Path(base) / sub
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def _put(self, queue, payload, **kwargs) -> None:
        """Publish ``payload`` on ``queue``: written aside, then renamed into the queue folder."""
        folder = self._folder(self.data_folder_out)
        # Names sort by priority (0 first, as Redis pops its lists), then by time, as Kombu's do.
        priority = self._get_message_priority(payload, reverse=False)
        name = f"{priority}_{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        try:
            write_atomically(
                folder / name, str_to_bytes(dumps(payload)), tmp_folder=self._folder(folder, TMP)
            )
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {folder}: {exc}") from exc

    def _get(self, queue):
        """Take the most urgent, oldest message of ``queue``; set aside any file that is not one."""
        folder = self._folder(self.data_folder_in)
        work = self._folder(folder, WORK)
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != wanted:
                continue
            taken = work / name
            try:
                os.rename(folder / name, taken)
            except FileNotFoundError:
                continue  # another worker took it first
            try:
                data = taken.read_bytes()
            except OSError as exc:
                raise ChannelError(f"Cannot read {taken}: {exc}") from exc
            try:
                payload = loads(bytes_to_str(data))
                # The checks Kombu makes when it delivers the message, made here where a
                # failure can be dealt with: past this point an error stops the worker.
                self.Message(payload, channel=self)
            except Exception as exc:  # anything unreadable is set aside, whatever the cause
                self._set_aside(taken, exc)
                continue
            taken.unlink()
            return payload
        raise Empty()

    def _set_aside(self, path: Path, error: Exception) -> None:
        bad = self._folder(str(path.parent.parent), BAD)
        with contextlib.suppress(OSError):
            os.replace(path, bad / path.name)
        log.error(
            "queue file %s is not a message (%s: %s); moved to %s",
            path.name,
            type(error).__name__,
            str(error)[:200],
            bad,
        )

    def _queue_bind(self, exchange, routing_key, pattern, queue) -> None:
        """Add a binding to the exchange table, replacing the table file whole."""
        file = self._exchange_file(exchange)
        control = self._folder(str(self.control_folder))
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with _exclusive(control / ".lock"):
            table = self.get_table(exchange)
            if entry not in table:
                table.insert(0, entry)
                write_atomically(file, str_to_bytes(dumps(table)), tmp_folder=control)

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs) -> None:
        """Remove a binding from the exchange table, replacing the table file whole."""
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        file = self._exchange_file(exchange)
        control = self._folder(str(self.control_folder))
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with _exclusive(control / ".lock"):
            table = self.get_table(exchange)
            if entry in table:
                table.remove(entry)
                write_atomically(file, str_to_bytes(dumps(table)), tmp_folder=control)


class Transport(filesystem.Transport):
    """Kombu's filesystem transport with the safe channel above."""

    Channel = Channel
    global_state = virtual.BrokerState()
