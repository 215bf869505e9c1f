"""Lock the dependencies: exact versions with hashes in requirements/runtime.txt and test.txt.

``make lock`` (this script) regenerates both files from pyproject.toml with uv. Every pin that
pyproject.toml still allows is kept, so a new dependency adds its own pins and moves nothing
else. ``make lock ARGS=--upgrade`` moves everything to the newest allowed versions,
``make lock ARGS="--upgrade-package flask"`` one package.

``make lock-check`` (``--check``) fails with the reason when pyproject.toml and the lock files
disagree: first without network (every requirement of pyproject.toml has a pin that satisfies
it), then by resolving again from PyPI into a temporary folder, starting from the current pins,
and comparing the pins.

A merge that conflicts inside a lock file needs no hand editing: run ``make lock``; it keeps the
pins of both sides (the higher version where they differ) and resolves again.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = "requirements/runtime.txt"
TEST = "requirements/test.txt"
TOOLS = "requirements/tools.in"
# The Python of the Dockerfile's base image and of CI; the lock also holds for later versions.
PYTHON_VERSION = "3.11"
UV_FLAGS = [
    "--universal",  # one lock for every platform an image may be built on (amd64, arm64)
    f"--python-version={PYTHON_VERSION}",
    "--generate-hashes",
    "--custom-compile-command=make lock",
    "--quiet",
]
CONFLICT = re.compile(r"^(<{7}|={7}|>{7}|\|{7})( |$)")

Pins = dict[tuple[str, str], str]  # (canonical name, marker) -> version


def logical_lines(text: str) -> list[str]:
    """Requirement lines with their backslash continuations joined and comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    return lines


def read_pins(text: str) -> Pins:
    """The ``name==version ; marker`` pins of a lock file (or of both sides of a conflict)."""
    pins: Pins = {}
    kept = [line for line in text.splitlines() if not CONFLICT.match(line)]
    for line in logical_lines("\n".join(kept)):
        if line.startswith("-"):
            continue
        requirement = Requirement(line.split(" --hash", 1)[0])
        (specifier,) = requirement.specifier
        key = (canonicalize_name(requirement.name), str(requirement.marker or ""))
        version = specifier.version
        if key not in pins or Version(version) > Version(pins[key]):
            pins[key] = version  # the two sides of a merge conflict: keep the higher pin
    return pins


def write_preferences(path: Path, pins: Pins) -> None:
    """A pins-only file uv reads as the starting point of its resolution (``-o`` target)."""
    lines = [
        f"{name}=={version}" + (f" ; {marker}" if marker else "")
        for (name, marker), version in sorted(pins.items())
    ]
    path.write_text("\n".join(lines) + "\n")


def uv_binary() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        sys.exit("uv is not installed: run `make install-test` (it is in the test extra).")
    return found


def compile_locks(runtime: Path, test: Path, extra_flags: list[str]) -> None:
    """Resolve both lock files with uv; each starts from the pins already in its output file."""
    uv = uv_binary()
    common = [uv, "pip", "compile", "pyproject.toml", TOOLS, *UV_FLAGS, *extra_flags]
    for command in (
        [*common, f"--output-file={runtime}"],
        # The test lock is constrained by the runtime lock: a package in both has one version.
        [*common, "--extra=test", f"--constraint={runtime}", f"--output-file={test}"],
    ):
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"uv could not resolve the dependencies:\n{result.stderr.strip()}")


def requirements_of(pyproject: dict, *, test: bool) -> list[tuple[str, Requirement]]:
    """(where it comes from, requirement) for one lock file: project, build system, tools.in."""
    found = [
        ("[project] dependencies", Requirement(r)) for r in pyproject["project"]["dependencies"]
    ]
    found += [
        ("[build-system] requires", Requirement(r)) for r in pyproject["build-system"]["requires"]
    ]
    found += [(TOOLS, Requirement(r)) for r in logical_lines((ROOT / TOOLS).read_text())]
    if test:
        extra = pyproject["project"]["optional-dependencies"]["test"]
        found += [("[project.optional-dependencies] test", Requirement(r)) for r in extra]
    return found


def offline_problems(pyproject: dict) -> list[str]:
    """Requirements of pyproject.toml that no pin of the lock files satisfies (no network)."""
    environment = default_environment()
    environment["python_version"] = PYTHON_VERSION
    problems = []
    for lock, test in ((RUNTIME, False), (TEST, True)):
        path = ROOT / lock
        if not path.exists():
            problems.append(f"{lock} does not exist")
            continue
        pins = read_pins(path.read_text())
        for origin, requirement in requirements_of(pyproject, test=test):
            if requirement.marker and not requirement.marker.evaluate(environment):
                continue
            name = canonicalize_name(requirement.name)
            versions = [
                version
                for (pinned, marker), version in pins.items()
                if pinned == name
                and (not marker or Requirement(f"x ; {marker}").marker.evaluate(environment))
            ]
            if not versions:
                problems.append(f"{lock}: {requirement} ({origin}) is not pinned")
            elif not requirement.specifier.contains(versions[0], prereleases=True):
                problems.append(
                    f"{lock}: {requirement} ({origin}) but {name}=={versions[0]} is pinned"
                )
    return problems


def describe(lock: str, old: Pins, new: Pins) -> list[str]:
    """Pins that a fresh resolution adds, drops or moves, one line each."""
    lines = []
    for key in sorted(old.keys() | new.keys()):
        name, marker = key[0], f" ; {key[1]}" if key[1] else ""
        if key not in old:
            lines.append(f"{lock}: + {name}=={new[key]}{marker}")
        elif key not in new:
            lines.append(f"{lock}: - {name}=={old[key]}{marker}")
        elif old[key] != new[key]:
            lines.append(f"{lock}: {name} {old[key]} -> {new[key]}{marker}")
    return lines


def check() -> int:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    problems = offline_problems(pyproject)
    if not problems:
        with tempfile.TemporaryDirectory(prefix="lock-check-") as tmp:
            fresh = {lock: Path(tmp) / Path(lock).name for lock in (RUNTIME, TEST)}
            for lock, path in fresh.items():
                write_preferences(path, read_pins((ROOT / lock).read_text()))
            compile_locks(fresh[RUNTIME], fresh[TEST], [])
            for lock, path in fresh.items():
                problems += describe(
                    lock, read_pins((ROOT / lock).read_text()), read_pins(path.read_text())
                )
    if problems:
        print("The lock files do not match pyproject.toml:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(
            "Run `make lock` and commit requirements/ with the pyproject.toml change.",
            file=sys.stderr,
        )
        return 1
    print(f"{RUNTIME} and {TEST} match pyproject.toml")
    return 0


def lock(extra_flags: list[str]) -> int:
    for name in (RUNTIME, TEST):
        path = ROOT / name
        if path.exists() and any(CONFLICT.match(line) for line in path.read_text().splitlines()):
            print(f"{name}: merge conflict; resolving again from the pins of both sides")
            write_preferences(path, read_pins(path.read_text()))
    (ROOT / "requirements").mkdir(exist_ok=True)
    compile_locks(ROOT / RUNTIME, ROOT / TEST, extra_flags)
    print(f"wrote {RUNTIME} and {TEST}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the lock files are stale")
    parser.add_argument(
        "--upgrade", action="store_true", help="move every pin to the newest allowed"
    )
    parser.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    if args.check:
        return check()
    flags = ["--upgrade"] if args.upgrade else []
    flags += [f"--upgrade-package={name}" for name in args.upgrade_package]
    return lock(flags)


if __name__ == "__main__":
    sys.exit(main())
