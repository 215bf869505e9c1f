"""Every benchmark of the project in one go, and one table of their headline ratios.

Run: ``.venv/bin/python benchmarks/run_all.py [--quick] [--only NAME] [--markdown]``
(``make bench``, ``make bench-quick``).

Each benchmark runs as its own process, exactly as it runs alone (its own Redis, database and
workers, stopped at its end), with ``--figures FILE``: it writes its headline ratios there as
:class:`benchmarks._support.Figure` rows (name, value, target, at most / at least). Its full
report goes to a log file. The table gives every figure with its target and PASS or MISS, the
1-minute load average when that benchmark started and ended, and the machine. The exit status
is 1 when a benchmark failed or a figure missed its target.

Adding a benchmark: give it ``--quick`` and ``--figures`` (``add_figures_option`` and
``write_figures`` in _support.py) and add one line to ``BENCHMARKS``.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._support import Figure, read_figures, table  # noqa: E402 - needs sys.path

# name, the script in benchmarks/, and the arguments of its full run (quick adds --quick)
BENCHMARKS: list[tuple[str, str, list[str]]] = [
    ("plans", "plans_pipeline.py", []),
    ("ahead", "plans_ahead.py", []),
    ("delivery", "delivery_pipeline.py", []),
    ("drawings", "figures.py", []),
    ("search", "client_search.py", []),
    ("attention", "attention.py", []),
    ("print", "print_batch.py", []),
    ("load", "load.py", []),
    ("audit", "audit_trail.py", []),
]
QUICK_BUDGET_SECONDS = 300


@dataclass
class Outcome:
    name: str
    load: tuple[float, float, float]  # when it started
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seconds: float = 0.0
    exit_code: int = 0
    figures: list[Figure] = field(default_factory=list)
    log: Path | None = None


def machine() -> str:
    """Cores, CPU model and memory of this machine, in one line."""
    model = platform.processor() or "unknown CPU"
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}{memory}"


def run_one(name: str, script: str, args: list[str], logs: Path) -> Outcome:
    outcome = Outcome(name=name, load=os.getloadavg(), log=logs / f"{name}.log")
    figures_file = logs / f"{name}.figures.json"
    command = [sys.executable, str(ROOT / "benchmarks" / script), *args]
    command += ["--figures", str(figures_file)]
    print(f"{name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    with outcome.log.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            outcome.exit_code = process.wait()
        except KeyboardInterrupt:
            # Let the benchmark stop its own workers, Redis and database before leaving.
            process.send_signal(signal.SIGINT)
            process.wait()
            raise
    outcome.seconds = time.monotonic() - started
    outcome.load_after = os.getloadavg()
    if figures_file.exists():
        outcome.figures = read_figures(figures_file)
    state = "done" if outcome.exit_code == 0 else f"exit code {outcome.exit_code}"
    print(f"{name}: {state} in {outcome.seconds:.0f} s (report: {outcome.log})", flush=True)
    return outcome


def report(outcomes: list[Outcome], *, quick: bool, markdown: bool, started: datetime) -> bool:
    """Print the one table; return whether every benchmark ran and every figure passed."""
    rows, ok = [], True
    for outcome in outcomes:
        load = f"{outcome.load[0]:.2f} -> {outcome.load_after[0]:.2f}"
        if not outcome.figures:
            rows.append([outcome.name, "(no figures: see its report)", "", "", "FAILED", load])
            ok = False
            continue
        for figure in outcome.figures:
            sign = "<=" if figure.at_most else ">="
            rows.append(
                [
                    outcome.name,
                    figure.name,
                    f"{figure.value:.2f}{figure.unit}",
                    f"{sign} {figure.target:g}{figure.unit}",
                    figure.verdict,
                    load,
                ]
            )
            ok &= figure.verdict == "PASS"
        if outcome.exit_code != 0:
            ok = False
            rows.append([outcome.name, f"exit code {outcome.exit_code}", "", "", "FAILED", load])
    total = sum(o.seconds for o in outcomes)
    headers = ["benchmark", "figure (ratio)", "value", "target", "result", "load, start -> end"]
    title = (
        f"Benchmarks ({'quick' if quick else 'full'}), {started:%Y-%m-%d %H:%M} UTC, "
        f"{machine()}; {total:.0f} s in all; load = 1-minute load average (other work skews ratios)"
    )
    print()
    if markdown:
        print(title + "\n")
        print("| " + " | ".join(headers) + " |")
        print("|" + "---|" * len(headers))
        for row in rows:
            print("| " + " | ".join(str(cell) for cell in row) + " |")
    else:
        print(title)
        print(table(headers, rows))
    if quick and total > QUICK_BUDGET_SECONDS:
        print(f"note: the quick run took {total:.0f} s, over its {QUICK_BUDGET_SECONDS} s budget")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every benchmark's --quick mode")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--logs", metavar="DIR", help="keep the reports here (default: a temp dir)")
    args = parser.parse_args(argv)
    known = [name for name, _, _ in BENCHMARKS]
    unknown = sorted(set(args.only or ()) - set(known))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}")
    logs = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="trainer-bench-"))
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    outcomes = []
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: cleanly
    try:
        for name, script, full_args in BENCHMARKS:
            if args.only and name not in args.only:
                continue
            outcomes.append(run_one(name, script, ["--quick"] if args.quick else full_args, logs))
    except KeyboardInterrupt:
        print("\ninterrupted (the running benchmark stops its own services)", file=sys.stderr)
        return 130
    ok = report(outcomes, quick=args.quick, markdown=args.markdown, started=started)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
