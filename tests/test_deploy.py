"""The production files agree with each other: Dockerfile, docker-compose.yml, Caddyfile, Makefile.

No Docker engine runs here; .ci/image_steps.py rehearses the image's steps, and these tests
check what a rehearsal cannot: the compose wiring, the secrets, and that the lists the files
repeat (Debian packages, port, image name) are the same everywhere. The Dockerfile is read with
the rehearsal's own parser, so both read it alike.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "web", "worker", "beat")

_spec = importlib.util.spec_from_file_location("image_steps", ROOT / ".ci" / "image_steps.py")
image_steps = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = image_steps  # dataclasses look their module up
_spec.loader.exec_module(image_steps)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def stages() -> list:
    return image_steps.parse_dockerfile((ROOT / "Dockerfile").read_text())


def _env(stage) -> dict[str, str]:
    return dict(word.split("=", 1) for args in stage.all("ENV") for word in args.split())


def test_the_app_services_share_one_image_built_once(compose):
    services = compose["services"]
    assert set(APP_SERVICES) | {"proxy", "db", "redis", "mail"} <= set(services)
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    builders = [name for name in services if "build" in services[name]]
    assert builders == ["migrate"]
    # The local tag is built, never pulled from a registry where anyone could publish it.
    assert services["migrate"]["pull_policy"] == "build"
    assert all(services[name]["pull_policy"] == "never" for name in APP_SERVICES[1:])


def test_services_start_in_order_and_report_their_health(compose, stages):
    services = compose["services"]
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        if name != "migrate":
            assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    # web relies on the image's HEALTHCHECK; it must exist and ask /healthz.
    assert "healthcheck" not in services["web"]
    assert "/healthz" in stages[-1].last("HEALTHCHECK")
    for name in ("worker", "proxy", "db", "redis", "mail"):
        assert services[name]["healthcheck"]["test"], name
    # the image's HTTP check means nothing for jobs without a port: each says so explicitly
    for name in ("migrate", "beat"):
        assert services[name]["healthcheck"] == {"disable": True}


def test_compose_file_holds_no_secret(compose):
    required = re.compile(r"\$\{(\w+):\?[^}]+\}")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if re.search(r"SECRET|PASSWORD|TOKEN|_KEY$", key):
                assert required.fullmatch(value), f"{name}.{key} must be a required variable"
            userinfo = re.search(r"://[^/@\s:]+:([^@/\s]+)@", value)
            if userinfo:
                assert required.fullmatch(userinfo.group(1)), f"{name}.{key} embeds a password"


def test_web_behind_the_proxy_trusts_one_hop_and_sends_secure_cookies(compose):
    env = compose["services"]["web"]["environment"]
    assert env["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-1}"
    assert env["SESSION_COOKIE_SECURE"] == "1"
    assert env["TRAINER_ENV"] == "production"
    # only the proxy publishes ports to the world; the web server is reached through it
    assert "ports" not in compose["services"]["web"]
    published = [p for s in compose["services"].values() for p in s.get("ports", [])]
    assert [p for p in published if not p.startswith("127.0.0.1:")] == [
        "80:80",
        "443:443",
        "443:443/udp",
    ]


def test_caddy_proxies_to_the_port_the_image_serves(compose, stages):
    caddyfile = (ROOT / "Caddyfile").read_text()
    port = _env(stages[-1])["PORT"]
    assert re.search(rf"^\s*reverse_proxy web:{port}\s*$", caddyfile, re.M)
    assert re.search(r"^\{\$SITE_ADDRESS:localhost\} \{", caddyfile, re.M)
    proxy = compose["services"]["proxy"]
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert proxy["environment"]["SITE_ADDRESS"] == "${SITE_ADDRESS:-localhost}"


def test_image_installs_the_makefiles_debian_packages(stages):
    makefile = (ROOT / "Makefile").read_text()
    deb_runtime = re.search(r"^DEB_RUNTIME := (.+)$", makefile, re.M).group(1).split()
    runtime = stages[-1]
    in_image = [
        p
        for args in runtime.all("RUN")
        for p in image_steps.apt_packages(image_steps.run_flags(args)[1])
    ]
    assert sorted(in_image) == sorted(deb_runtime)


def test_image_runs_unprivileged_from_the_lock_file(stages):
    builder, runtime = stages[0], stages[-1]
    assert builder.base == runtime.base  # the virtualenv is copied across: same Python paths
    runs = " ".join(image_steps.run_flags(args)[1] for args in builder.all("RUN"))
    assert ".ci/install-python deps /opt/venv requirements/runtime.txt" in runs
    assert ".ci/install-python app /opt/venv /app" in runs
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", runtime.last("USER"))
    assert _env(runtime)["TRAINER_INSTANCE_PATH"] == "/srv/instance"
    assert (
        "app-instance:/srv/instance"
        in yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["volumes"]
    )


def test_build_context_has_the_app_and_nothing_private():
    files = image_steps.build_context(ROOT)
    for needed in (
        "pyproject.toml",
        "README.md",
        "requirements/runtime.txt",
        ".ci/install-python",
        "trainer_app/__init__.py",
        "worker/celery_app.py",
        "templates/base.html",
        "migrations/env.py",
    ):
        assert needed in files
    assert not [f for f in files if re.match(r"(tests|instance|\.venv|\.git|benchmarks)/", f)]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_dockerignore_matching_follows_docker_rules():
    patterns = image_steps.dockerignore_patterns("*\n!app/\n**/__pycache__\n!app/keep.pyc\n*.md\n")
    assert image_steps.excluded("secret.txt", patterns)
    assert image_steps.excluded("notes/a.txt", patterns)
    assert not image_steps.excluded("app/x.py", patterns)
    assert image_steps.excluded("app/sub/__pycache__/x.cpython-311.pyc", patterns)
    assert not image_steps.excluded("app/keep.pyc", patterns)
    assert image_steps.excluded("README.md", patterns)
