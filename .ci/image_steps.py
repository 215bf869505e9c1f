"""Rehearse the Dockerfile outside Docker: same lock, scripts, Debian packages and commands.

No Docker engine runs on our machines, so CI (``.ci/run``, or ``make image-steps``) runs, as root:

1. the build context as ``docker build`` sees it (.dockerignore applied) copied to a temporary
   folder that stands for /app;
2. every RUN of the builder stage, with /opt/venv and /app pointing into that folder: a fresh
   virtualenv from the lock file with every hash checked, the app installed as the image
   installs it, compiled (only calls of .ci/install-python and compileall are accepted, so the
   rehearsal never runs something it does not understand);
3. the runtime stage's apt-get list, through .ci/apt-install, and a check that each package is
   installed;
4. as the image's numeric USER (setpriv, no account needed) with the image's ENV and WORKDIR:
   the package finds templates/ and migrations/ from any working directory; the compose
   ``migrate`` command upgrades a temporary SQLite database; the compose ``worker`` and ``beat``
   commands start (on the embedded broker); the image's CMD (gunicorn) serves, and the image's
   HEALTHCHECK command passes against it.

Only the system Python's standard library is used; docker-compose.yml is read with the fresh
virtualenv's PyYAML.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a builder RUN line may call: the rehearsal runs these and nothing else.
ALLOWED_BUILD_COMMANDS = (".ci/install-python ", "/opt/venv/bin/python -m compileall ")


class RehearsalError(Exception):
    """The image would not build or run as the Dockerfile says; the message says where."""


# -- reading the Dockerfile and .dockerignore ---------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        if not found:
            raise RehearsalError(f"stage {self.name or self.base} has no {keyword}")
        return found[-1]


def parse_dockerfile(text: str) -> list[Stage]:
    """The Dockerfile's stages, each a list of (KEYWORD, arguments) with continuations joined."""
    stages: list[Stage] = []
    logical, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and current):
            continue  # comments (also inside a continued instruction) and blank continuation lines
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip():
            logical.append(current.strip())
        current = ""
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else ""
            stages.append(Stage(base=parts[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, args))
    return stages


def run_flags(args: str) -> tuple[list[str], str]:
    """Split ``RUN --mount=... command`` into the flags and the shell command."""
    flags = []
    while args.startswith("--"):
        flag, _, args = args.partition(" ")
        flags.append(flag)
        args = args.lstrip()
    return flags, args


def apt_packages(run_command: str) -> list[str]:
    """The package names an ``apt-get install`` in a RUN command installs."""
    packages = []
    for segment in run_command.split("&&"):
        words = shlex.split(segment)
        if words[:1] == ["apt-get"] and "install" in words:
            after = words[words.index("install") + 1 :]
            packages += [word for word in after if not word.startswith("-")]
    return packages


def dockerignore_patterns(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(re-include?, regex) per .dockerignore line, in order: the last match decides."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        line = line.removeprefix("!").strip().strip("/")
        regex = ""
        index = 0
        while index < len(line):
            if line.startswith("**/", index):
                regex += "(?:.*/)?"
                index += 3
            elif line.startswith("**", index):
                regex += ".*"
                index += 2
            elif line[index] == "*":
                regex += "[^/]*"
                index += 1
            elif line[index] == "?":
                regex += "[^/]"
                index += 1
            elif line[index] == "[":
                end = line.index("]", index)
                regex += line[index : end + 1]
                index = end + 1
            else:
                regex += re.escape(line[index])
                index += 1
        patterns.append((include, re.compile(regex + r"\Z")))
    return patterns


def excluded(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether docker leaves ``path`` (relative, with /) out of the build context."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for include, regex in patterns:
        if any(regex.match(prefix) for prefix in prefixes):
            result = not include
    return result


def build_context(root: Path) -> list[str]:
    """Files of the build context, relative paths, as docker build would send them."""
    patterns = dockerignore_patterns((root / ".dockerignore").read_text())
    reincluded = [regex for include, regex in patterns if include]
    files = []
    for folder, dirs, names in os.walk(root):
        relative = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        # Skip folders that are excluded and that no '!' line could reach into (.git, .venv).
        dirs[:] = [
            d
            for d in dirs
            if not excluded(prefix + d, patterns)
            or any(r.pattern.startswith(re.escape(prefix + d)) for r in reincluded)
        ]
        files += [prefix + n for n in names if not excluded(prefix + n, patterns)]
    return sorted(files)


# -- running things -----------------------------------------------------------------------------


def step(message: str) -> None:
    print(f"image-steps: {message}", flush=True)


class Paths:
    """The image's absolute paths and where they live in this rehearsal."""

    def __init__(self, tmp: Path, instance: str) -> None:
        self.mapping = {
            "/opt/venv": tmp / "venv",
            "/app": tmp / "app",
            instance: tmp / "instance",
        }

    def __getitem__(self, image_path: str) -> Path:
        return self.mapping[image_path]

    def translate(self, text: str) -> str:
        for image_path, here in sorted(self.mapping.items(), key=lambda kv: -len(kv[0])):
            text = re.sub(rf"(?<![\w/.]){re.escape(image_path)}(?=/|\s|$|:|')", str(here), text)
        return text


def run_build_step(command: str, paths: Paths, env: dict[str, str]) -> None:
    """Run one builder RUN line, after checking that it only calls what the rehearsal knows."""
    for segment in command.split("&&"):
        if not segment.strip().startswith(ALLOWED_BUILD_COMMANDS):
            raise RehearsalError(
                f"builder RUN {segment.strip()!r}: the rehearsal only runs "
                f"{' and '.join(ALLOWED_BUILD_COMMANDS)}; extend .ci/image_steps.py"
            )
    translated = paths.translate(command)
    step(f"RUN {translated}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", translated], cwd=paths["/app"], env=env
    )
    if result.returncode != 0:
        raise RehearsalError(f"builder RUN failed (exit {result.returncode}): {command}")


class Unprivileged:
    """Runs commands as the image's USER with the image's environment."""

    def __init__(self, uid: int, gid: int, env: dict[str, str], workdir: Path) -> None:
        self.prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
        self.env, self.workdir, self.uid = env, workdir, uid

    def run(self, argv: list[str], *, cwd: Path | None = None, timeout: float = 120) -> str:
        result = subprocess.run(
            [*self.prefix, *argv],
            cwd=cwd or self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RehearsalError(
                f"{shlex.join(argv)} failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
        return result.stdout

    def start(self, argv: list[str], extra_env: dict[str, str] | None = None) -> Service:
        return Service(argv, [*self.prefix, *argv], {**self.env, **(extra_env or {})}, self.workdir)


class Service:
    """A long-running process of ours, in its own process group, with its output collected."""

    def __init__(self, argv: list[str], command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.argv = argv
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.output.append(line)

    def wait_for(self, what: str, check, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.25)
        raise RehearsalError(
            f"{shlex.join(self.argv)}: {what} not seen within {timeout:.0f} s "
            f"(exit code {self.process.poll()}):\n{''.join(self.output[-40:])}"
        )

    def says(self, pattern: str) -> bool:
        return any(re.search(pattern, line) for line in self.output)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.reader.join(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise RehearsalError(f"no Uid line for process {pid}")


# -- the rehearsal ------------------------------------------------------------------------------


def usable_by_anyone(path: Path) -> bool:
    """Whether any user may run ``path``: the unprivileged user runs the venv's interpreter."""
    resolved = path.resolve()
    return all(p.stat().st_mode & stat.S_IXOTH for p in (resolved, *resolved.parents))


def base_python(base_image: str) -> str:
    """A Python of the image's minor version that the image's user may run, like the image's.

    Debian's comes first; this machine's own interpreter may sit under /root, out of reach.
    """
    match = re.match(r"python:(\d+\.\d+)-", base_image)
    if not match:
        raise RehearsalError(f"the base image {base_image} is not an official python:X.Y-… image")
    minor = match.group(1)
    subprocess.run([str(ROOT / ".ci/apt-install"), "python3-venv"], check=True)
    for candidate in (f"/usr/bin/python{minor}", f"/usr/local/bin/python{minor}", sys.executable):
        path = Path(candidate)
        if not path.exists() or not usable_by_anyone(path):
            continue
        version = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if version == minor:
            return candidate
    raise RehearsalError(
        f"no Python {minor} that every user may run (apt-get install python{minor})"
    )


def image_env(runtime: Stage, paths: Paths, base: dict[str, str]) -> dict[str, str]:
    """The runtime stage's ENV, applied in order on top of ``base``, image paths translated."""
    env = dict(base)
    for args in runtime.all("ENV"):
        for word in shlex.split(args):
            key, _, value = word.partition("=")
            value = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), ""), value)
            env[key] = paths.translate(value)
    return env


def compose_services(python: Path) -> dict:
    loader = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
    out = subprocess.run(
        [str(python), "-c", loader, str(ROOT / "docker-compose.yml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)["services"]


def rehearse(tmp: Path) -> int:
    stages = parse_dockerfile((ROOT / "Dockerfile").read_text())
    builder, runtime = stages[0], stages[-1]
    instance = dict(kv.split("=", 1) for kv in shlex.split(" ".join(runtime.all("ENV"))))[
        "TRAINER_INSTANCE_PATH"
    ]
    paths = Paths(tmp, instance)
    checks = 0

    release = builder.base.rsplit("-", 1)[-1]
    os_release = Path("/etc/os-release").read_text()
    if f"VERSION_CODENAME={release}" not in os_release:
        step(f"note: the image is Debian {release}; this machine is not (package names may differ)")

    # 1. the build context and the builder stage
    if builder.last("WORKDIR") != "/app":
        raise RehearsalError("the builder's WORKDIR must be /app (the rehearsal maps it)")
    context = build_context(ROOT)
    for required in ("pyproject.toml", "requirements/runtime.txt", ".ci/install-python"):
        if required not in context:
            raise RehearsalError(f".dockerignore leaves {required} out of the build context")
    leaked = [f for f in context if f.startswith(("tests/", ".venv/", "instance/", ".git/"))]
    if leaked:
        raise RehearsalError(f".dockerignore lets in {leaked[:5]}")
    for relative in context:
        target = paths["/app"] / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target)
    step(f"build context: {len(context)} files copied (.dockerignore applied)")
    python = base_python(builder.base)
    step(f"virtualenv Python: {python} (the image has python:{builder.base.split(':')[1]})")
    build_env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    build_env["PYTHON"] = python
    for keyword, args in builder.instructions:
        if keyword == "RUN":
            run_build_step(run_flags(args)[1], paths, build_env)
    checks += 1

    # 2. the runtime stage's Debian packages
    packages = [p for args in runtime.all("RUN") for p in apt_packages(run_flags(args)[1])]
    if not packages:
        raise RehearsalError("the runtime stage installs no Debian packages")
    subprocess.run([str(ROOT / ".ci/apt-install"), *packages], check=True)
    for package in packages:
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
        ).stdout
        if "install ok installed" not in status:
            raise RehearsalError(f"Debian package {package} is not installed")
    step(f"Debian packages installed: {' '.join(packages)}")
    checks += 1

    # 3. the runtime: unprivileged user, the image's environment
    user = runtime.last("USER")
    if not re.fullmatch(r"\d+:\d+", user) or user.startswith("0:"):
        raise RehearsalError(f"USER {user}: use a numeric, non-root uid:gid")
    uid, gid = (int(part) for part in user.split(":"))
    os.chmod(tmp, 0o755)  # noqa: S103 - the image's /app and /opt/venv are world-readable too
    paths[instance].mkdir(mode=0o750)
    os.chown(paths[instance], uid, gid)
    env = image_env(
        runtime, paths, {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(paths[instance])}
    )
    database = paths[instance] / "rehearsal.sqlite3"
    env |= {"SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": f"sqlite:///{database}"}
    workdir = Path(paths.translate(runtime.last("WORKDIR")))
    as_user = Unprivileged(uid, gid, env, workdir)
    services = compose_services(paths["/opt/venv"] / "bin/python")

    found = json.loads(
        as_user.run(
            [
                "python",
                "-c",
                "import json, trainer_app as t; "
                "print(json.dumps([str(t.TEMPLATE_FOLDER), str(t.MIGRATIONS_FOLDER)]))",
            ],
            cwd=Path("/"),
        )
    )
    for folder in found:
        if not Path(folder).is_dir() or not Path(folder).is_relative_to(paths["/app"]):
            raise RehearsalError(f"the installed app looks for {folder}, which is not in /app")
    step(f"as uid {uid}: the installed package finds templates/ and migrations/ in /app")
    checks += 1

    as_user.run(services["migrate"]["command"])
    with sqlite3.connect(database) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    step(f"as uid {uid}: {shlex.join(services['migrate']['command'])} -> revision {revision}")
    checks += 1

    for name, ready in (("worker", r"celery@\S+ ready\."), ("beat", r"beat: Starting")):
        command = services[name]["command"]
        service = as_user.start(command)
        try:
            service.wait_for(f"{ready!r}", lambda service=service, ready=ready: service.says(ready))
            if process_uid(service.process.pid) != uid:
                raise RehearsalError(f"{name} does not run as uid {uid}")
        finally:
            service.stop()
        step(f"as uid {uid}: {shlex.join(command)} started")
        checks += 1

    # gunicorn as the image starts it: PORT from the environment; here on loopback only.
    port = free_port()
    web_env = {
        "PORT": str(port),
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    as_user.env = {**env, **web_env}
    web = as_user.start(json.loads(runtime.last("CMD")))
    try:
        healthcheck = runtime.last("HEALTHCHECK")
        probe = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())

        def healthy() -> bool:
            try:
                as_user.run(probe, timeout=10)
            except (RehearsalError, subprocess.TimeoutExpired):
                return False
            return True

        web.wait_for("a passing HEALTHCHECK", healthy)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            body = json.load(response)
        if body != {"status": "ok"}:
            raise RehearsalError(f"/healthz answered {body}")
        if process_uid(web.process.pid) != uid:
            raise RehearsalError(f"gunicorn does not run as uid {uid}")
    finally:
        web.stop()
    step(f"as uid {uid}: {shlex.join(json.loads(runtime.last('CMD')))} serves; HEALTHCHECK passes")
    checks += 1
    return checks


def main() -> int:
    if os.geteuid() != 0:
        print(
            "image-steps runs as root (it installs Debian packages and switches user)",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="image-steps-") as tmp:
        try:
            checks = rehearse(Path(tmp))
        except (RehearsalError, subprocess.CalledProcessError) as error:
            print(f"image-steps: FAILED: {error}", file=sys.stderr)
            return 1
    step(f"{checks} checks passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
