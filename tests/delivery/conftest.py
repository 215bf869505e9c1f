"""A real SMTP server on loopback (aiosmtpd), scriptable to refuse, defer or drop mail."""

from __future__ import annotations

import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """Return a loopback TCP port that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    data: bytes  # exactly the bytes of DATA, after dot-unstuffing

    def message(self) -> EmailMessage:
        return BytesParser(policy=email.policy.default).parsebytes(self.data)


@dataclass
class ScriptedHandler:
    """Accepts everything unless told otherwise; replies are consumed one per command."""

    received: list[Received] = field(default_factory=list)
    mail_replies: deque[str] = field(default_factory=deque)  # e.g. "553 5.7.1 not you"
    data_replies: deque[str] = field(default_factory=deque)  # e.g. "451 4.3.0 later" x2
    rcpt_replies: dict[str, str] = field(default_factory=dict)  # address -> refusal
    rcpt_attempts: list[str] = field(default_factory=list)
    data_attempts: int = 0
    quits: int = 0
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.mail_replies:
            return self.mail_replies.popleft()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts.append(address)
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_attempts += 1
        if self.data_replies:
            reply = self.data_replies.popleft()
            if not reply.startswith("250"):
                return reply
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                mail_options=list(envelope.mail_options),
                data=bytes(envelope.original_content),
            )
        )
        return "250 2.0.0 OK: queued"

    async def handle_QUIT(self, server, session, envelope):
        self.quits += 1
        return "221 Bye"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        """aiosmtpd authenticator: accepts user "us@er" with password "p@ss:w0rd/%"."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        password = auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == ("us@er", "p@ss:w0rd/%"), handled=False)


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: ScriptedHandler

    @property
    def url_host(self) -> str:
        return f"{self.host}:{self.port}"


@pytest.fixture
def start_smtp_server() -> Iterator:
    """Return start(implicit_tls=None, **aiosmtpd SMTP options) -> SmtpServer; all stopped after.

    ``implicit_tls`` is a server SSLContext for smtps; ``tls_context`` (an SMTP option)
    offers STARTTLS; ``data_size_limit`` is advertised as SIZE.
    """
    controllers: list[Controller] = []

    def start(*, implicit_tls: ssl.SSLContext | None = None, **smtp_options) -> SmtpServer:
        handler = ScriptedHandler()
        smtp_options.setdefault("authenticator", handler.authenticate)
        controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=free_port(),
            ssl_context=implicit_tls,
            server_hostname="mail.test",
            ready_timeout=10,
            **smtp_options,
        )
        controller.start()
        controllers.append(controller)
        return SmtpServer(host="127.0.0.1", port=controller.port, handler=handler)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(start_smtp_server) -> SmtpServer:
    """A plain SMTP server that accepts everything (SIZE 32 MiB advertised)."""
    return start_smtp_server()


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this self-signed certificate, hostname checked."""
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1, made with the openssl command line tool.

    (The `cryptography` package is not installed in this project.)
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed; TLS tests need it")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return TlsFiles(cert=cert, key=key)


@dataclass
class RawServer:
    """A TCP listener that misbehaves: accepts and says nothing, or hangs up at once."""

    port: int
    sock: socket.socket
    thread: threading.Thread | None = None


@pytest.fixture
def silent_server() -> Iterator[RawServer]:
    """Listens but never sends the SMTP greeting (the client must time out)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    yield RawServer(port=sock.getsockname()[1], sock=sock)
    sock.close()


@pytest.fixture
def hangup_server() -> Iterator[RawServer]:
    """Accepts each connection and closes it straight away."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield RawServer(port=sock.getsockname()[1], sock=sock, thread=thread)
    stop.set()
    thread.join(timeout=5)
    sock.close()
