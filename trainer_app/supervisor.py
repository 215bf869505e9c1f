"""What ``trainer-app serve`` runs: web, worker and scheduler, each restarted if it dies.

A dead worker must never take the web down: a child that exits is started again after a delay
that doubles with each quick death (1 s, 2 s, 4 s ... up to a minute) and starts over once the
child has run for a minute. Every child gets SIGTERM when serve itself dies, even by SIGKILL
(Linux ``PR_SET_PDEATHSIG``), so no worker or scheduler outlives it.

Each child leads a process group of its own, so a signal to serve's group (Ctrl-C in a terminal,
``kill -- -PGID``) reaches serve alone, and serve stops the children in order: SIGTERM to each
child's main process (the worker finishes the task in hand: a warm shutdown), then, past
``STOP_TIMEOUT``, SIGKILL to the child's whole group (pool processes and a render in progress
too). Before, the group's SIGTERM also hit the worker's pool process and its render child
directly: the render in hand was recorded as failed, the pool was started again in the middle of
the shutdown, and the worker took a long time to stop. A job killed that way is lost to no one:
its row stays claimed and the relay hands it out again once the claim goes stale.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1
MIN_BACKOFF = 1.0
MAX_BACKOFF = 60.0
STABLE_AFTER = 60.0
STOP_TIMEOUT = 20.0  # a render takes a few seconds; past this a stop is a hang


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child receive SIGTERM when this process dies."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not in the child
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


@dataclass
class Child:
    """One supervised command and what is known about its current run."""

    name: str
    argv: list[str]
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    """Start children, restart those that die (with back-off), stop them all at the end."""

    def __init__(
        self,
        commands: dict[str, list[str]],
        env: dict[str, str],
        *,
        echo: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.children = {name: Child(name, argv) for name, argv in commands.items()}
        self.env = env
        self.echo = echo
        self.clock = clock

    def start_all(self) -> None:
        for child in self.children.values():
            self._start(child)

    def _start(self, child: Child) -> None:
        child.proc = subprocess.Popen(
            child.argv, env=self.env, preexec_fn=die_with_parent(), start_new_session=True
        )
        child.started_at = self.clock()
        child.restart_at = None

    def check(self) -> None:
        """Notice children that exited and restart those whose delay is over."""
        now = self.clock()
        for child in self.children.values():
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self.echo(f"serve: starting the {child.name} again")
                    self._start(child)
                continue
            code = child.proc.poll() if child.proc else None
            if code is None:
                continue
            ran = now - child.started_at
            child.quick_deaths = 0 if ran >= STABLE_AFTER else child.quick_deaths + 1
            delay = min(MAX_BACKOFF, MIN_BACKOFF * 2 ** max(child.quick_deaths - 1, 0))
            child.restart_at = now + delay
            self.echo(
                f"serve: the {child.name} exited (code {code}) after {ran:.0f} s; "
                f"restarting it in {delay:.0f} s"
            )

    def pids(self) -> dict[str, int | None]:
        """The process id of each running child (None while it waits to restart)."""
        return {
            name: child.proc.pid if child.proc and child.proc.poll() is None else None
            for name, child in self.children.items()
        }

    def stop_all(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM every child, wait up to ``timeout`` for all, then SIGKILL the groups left."""
        running = {
            name: child.proc
            for name, child in self.children.items()
            if child.proc and child.proc.poll() is None
        }
        for proc in running.values():
            proc.send_signal(signal.SIGTERM)
        deadline = self.clock() + timeout
        for name, proc in running.items():
            try:
                code = proc.wait(timeout=max(deadline - self.clock(), 0.1))
            except subprocess.TimeoutExpired:
                self.echo(
                    f"serve: the {name} did not stop within {timeout:g} s; killing it "
                    "(a job it held is handed out again later)"
                )
                # The leader is not reaped yet, so its pid still names its group.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            else:
                self.echo(f"serve: the {name} stopped (code {code})")
