"""Behaviour that lives in the real web server (gunicorn with the app's config module): the
Server header, chunked request bodies, and login limits shared by several web processes."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support import services
from tests.support.worker import wait_for

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.worker  # starts real server processes


class WebProcess:
    """``gunicorn -c python:trainer_app.gunicorn_conf trainer_app.wsgi:app`` with one worker."""

    def __init__(self, env: dict, log_path: Path) -> None:
        self.env = env
        self.port = services.free_port()
        self.log_path = log_path

    def start(self) -> WebProcess:
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "-c", "python:trainer_app.gunicorn_conf",
                "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "trainer_app.wsgi:app",
            ],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(self._up, timeout=60, what="gunicorn")
        return self

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(self.url("/healthz"), timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def web_env(tmp_path):
    """An upgraded instance on SQLite, small limits so the tests stay short."""
    env = dict(os.environ, TRAINER_INSTANCE_PATH=str(tmp_path / "instance"))
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SMTP_URL"):
        env.pop(key, None)
    env.update(MAX_CONTENT_LENGTH="4096", LOGIN_RATE_LIMIT="4 per hour")
    return env


@pytest.fixture
def start_web(tmp_path):
    started: list[WebProcess] = []
    upgraded: set[tuple] = set()

    def start(env: dict) -> WebProcess:
        database = (env["TRAINER_INSTANCE_PATH"], env.get("DATABASE_URL"))
        if database not in upgraded:
            subprocess.run(
                [sys.executable, "-m", "trainer_app.cli", "db", "upgrade"],
                cwd=ROOT, env=env, check=True, capture_output=True,
            )  # fmt: skip
            upgraded.add(database)
        started.append(WebProcess(env, tmp_path / f"web-{len(started)}.log").start())
        return started[-1]

    yield start
    for web in started:
        web.stop()


def test_the_server_header_names_no_server_software(web_env, start_web):
    web = start_web(web_env)
    for path in ("/healthz", "/no-such-page", "/static/css/app.css"):
        try:
            with urllib.request.urlopen(web.url(path), timeout=10) as response:
                server = response.headers.get("Server", "")
        except urllib.error.HTTPError as error:
            server = error.headers.get("Server", "")
        assert "gunicorn" not in server.lower(), path


def _chunked_post(web: WebProcess, path: str, body: bytes) -> int:
    """POST ``body`` with Transfer-Encoding: chunked (no Content-Length); the status code."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=30) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 1000]), body[i : i + 1000])
            for i in range(0, len(body), 1000)
        )
        sock.sendall(head + chunks + b"0\r\n\r\n")
        reply = b""
        while b"\r\n" not in reply:
            data = sock.recv(4096)
            if not data:
                break
            reply += data
    return int(reply.split()[1])


def test_a_chunked_body_over_the_limit_is_refused_not_truncated(web_env, start_web):
    web = start_web(web_env)
    small = b"email=a%40example.com&password=x"
    large = b"email=a%40example.com&password=" + b"x" * 10_000  # limit is 4096 bytes
    assert _chunked_post(web, "/account/sign-in", small) == 400  # read whole: no CSRF token
    assert _chunked_post(web, "/account/sign-in", large) == 413


class Browser:
    """A cookie-keeping HTTP client that signs in through the real form."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def token(self, web: WebProcess) -> str:
        with self.opener.open(web.url("/account/sign-in"), timeout=10) as response:
            page = response.read().decode()
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def sign_in(self, web: WebProcess, token: str, email: str, password: str) -> int:
        data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password})
        try:
            with self.opener.open(web.url("/account/sign-in"), data.encode(), timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as error:
            return error.code


def _two_processes_share_the_limit(env: dict, start_web) -> None:
    first, second = start_web(env), start_web(env)
    browser = Browser()
    token = browser.token(first)  # the same secret key signs it for both processes
    statuses = [
        browser.sign_in(web, token, f"guess{n}@example.com", "wrong password")
        for n, web in enumerate([first, second] * 3)
    ]
    # LOGIN_RATE_LIMIT is 4 per hour for the address, across both processes together.
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_two_web_processes_share_the_login_limit_on_sqlite(web_env, start_web):
    _two_processes_share_the_limit(web_env, start_web)


@pytest.mark.postgres
def test_two_web_processes_share_the_login_limit_on_postgresql(web_env, start_web):
    database = services.fresh_postgres_database("trainer_test_limits")
    _two_processes_share_the_limit({**web_env, "DATABASE_URL": database}, start_web)


@pytest.mark.redis
def test_two_web_processes_share_the_login_limit_on_redis(web_env, start_web, redis_server):
    _two_processes_share_the_limit({**web_env, "REDIS_URL": redis_server.url}, start_web)
