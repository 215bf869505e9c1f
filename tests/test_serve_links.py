"""`trainer-app serve` (what `make run PORT=...` runs) makes email links match where it serves."""

from __future__ import annotations

import re

import pytest

from trainer_app.cli import served_url


class _FakeSupervisor:
    """Stands in for serve's supervisor: records the commands and environment, then stops serve."""

    started: list[dict] = []

    def __init__(self, commands, env, **_kwargs) -> None:
        for args in commands.values():
            _FakeSupervisor.started.append({"args": args, "env": env})

    def start_all(self) -> None:
        pass

    def check(self) -> None:
        raise KeyboardInterrupt  # what Ctrl-C does: serve stops its children and returns

    def stop_all(self, timeout: float = 60) -> None:
        pass


@pytest.fixture
def started(monkeypatch):
    _FakeSupervisor.started = []
    monkeypatch.setattr("trainer_app.supervisor.Supervisor", _FakeSupervisor)
    monkeypatch.setattr("signal.signal", lambda *_args: None)
    return _FakeSupervisor.started


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 5101, "http://127.0.0.1:5101"),
        ("localhost", 8080, "http://localhost:8080"),
        ("0.0.0.0", 5000, "http://127.0.0.1:5000"),
        ("::1", 5101, "http://[::1]:5101"),
        ("::", 5101, "http://127.0.0.1:5101"),
    ],
)
def test_served_url(host, port, url):
    assert served_url(host, port) == url


def test_serve_on_another_port_links_to_that_port(runner, started, monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    result = runner.invoke(args=["serve", "--port", "5101"])
    assert started, result.output
    assert {child["env"]["PUBLIC_URL"] for child in started} == {"http://127.0.0.1:5101"}
    assert "Links in emails point to http://127.0.0.1:5101" in result.output
    web = next(c for c in started if "gunicorn" in c["args"])
    assert "127.0.0.1:5101" in web["args"]


def test_public_url_from_the_environment_wins(runner, started, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://plans.example.com")
    runner.invoke(args=["serve", "--port", "5101"])
    assert {child["env"]["PUBLIC_URL"] for child in started} == {"https://plans.example.com"}


def test_reset_link_uses_the_served_address(make_app, factories, app):
    """The web process started by serve reads PUBLIC_URL, so the reset email links back to it."""
    import worker.tasks  # noqa: F401  (the account-mail task runs inline in tests)
    from tests.support import mailbox

    del app  # migrated database and clean-up
    served = make_app(PUBLIC_URL=served_url("127.0.0.1", 5101))
    mailbox.clear(served)
    factories.user(email="reset.port@example.com")
    served.test_client().post("/account/reset", data={"email": "reset.port@example.com"})
    [message] = mailbox.mail_to(served, "reset.port@example.com")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert re.search(r"http://127\.0\.0\.1:5101/account/reset/\S+", body), body
