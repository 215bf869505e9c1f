"""serve's supervisor: a child that dies is started again, later each time it dies quickly."""

from __future__ import annotations

import sys

from tests.support.worker import wait_for
from trainer_app import supervisor as sup


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_dying_child_is_restarted_with_growing_delays_that_reset_once_it_runs(tmp_path):
    clock, lines = Clock(), []
    flag = tmp_path / "stay"
    # Exits at once unless the flag file exists; then runs until stopped.
    script = (
        "import pathlib, sys, time\n"
        f"p = pathlib.Path({str(flag)!r})\n"
        "sys.exit(3) if not p.exists() else time.sleep(600)\n"
    )
    supervisor = sup.Supervisor(
        {"worker": [sys.executable, "-c", script]}, {}, echo=lines.append, clock=clock
    )
    child = supervisor.children["worker"]

    def died_and_scheduled() -> bool:
        supervisor.check()
        return child.restart_at is not None

    try:
        supervisor.start_all()
        delays = []
        while True:
            wait_for(died_and_scheduled, timeout=30, what="the child to exit")
            delays.append(child.restart_at - clock.now)
            if len(delays) == 4:
                break
            clock.now = child.restart_at
            supervisor.check()  # the delay is over: started again
            assert child.restart_at is None and child.restarts == len(delays)
        assert delays == [1.0, 2.0, 4.0, 8.0]
        assert "the worker exited (code 3)" in lines[0] and "restarting it in 1 s" in lines[0]

        # Started again, it keeps running; once it has run for a minute, a death starts the
        # delays over.
        flag.write_text("stay")
        clock.now = child.restart_at
        supervisor.check()
        clock.now += sup.STABLE_AFTER + 1
        supervisor.check()
        assert child.restart_at is None and child.proc.poll() is None
        child.proc.kill()
        wait_for(died_and_scheduled, timeout=30, what="the killed child")
        assert child.restart_at - clock.now == 1.0
    finally:
        supervisor.stop_all(timeout=10)


def test_children_get_sigterm_when_their_parent_dies(tmp_path):
    """A child of a process killed with SIGKILL stops too (PR_SET_PDEATHSIG)."""
    import os
    import signal
    import subprocess
    from pathlib import Path

    pid_file = tmp_path / "child.pid"
    parent_code = (
        "import subprocess, sys, time\n"
        "from trainer_app.supervisor import die_with_parent\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
        " preexec_fn=die_with_parent())\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    child = None
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text(), timeout=30, what="child")
        child = int(pid_file.read_text())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)

        def gone() -> bool:
            try:
                return Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
            except FileNotFoundError:
                return True

        wait_for(gone, timeout=30, what="the orphaned child to stop")
    finally:
        if parent.poll() is None:
            parent.kill()
        if child is not None and not gone():
            os.kill(child, signal.SIGKILL)


def test_a_child_that_ignores_sigterm_is_killed_with_its_whole_group_after_the_bound(tmp_path):
    """A worker stuck in its warm shutdown: past the bound, it and its pool processes are killed."""
    import os
    from pathlib import Path

    pid_file = tmp_path / "grandchild.pid"
    # Ignores SIGTERM (a warm shutdown that never ends) and has a child of its own (a pool
    # process) that ignores it too.
    script = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "pool = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(pool.pid))\n"
        "time.sleep(600)\n"
    )
    lines: list[str] = []
    supervisor = sup.Supervisor({"worker": [sys.executable, "-c", script]}, {}, echo=lines.append)
    supervisor.start_all()
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), timeout=30, what="the pool")
    pool = int(pid_file.read_text())
    supervisor.stop_all(timeout=1)

    def gone() -> bool:
        try:
            return Path(f"/proc/{pool}/stat").read_text().split()[2] == "Z"
        except FileNotFoundError:
            return True

    assert supervisor.children["worker"].proc.returncode == -9
    assert lines == [
        "serve: the worker did not stop within 1 s; killing it "
        "(a job it held is handed out again later)"
    ]
    wait_for(gone, timeout=30, what="the pool process killed with its group")
    assert os.getpgid(os.getpid()) != supervisor.children["worker"].proc.pid
