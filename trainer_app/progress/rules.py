"""Progress rules: adherence per week, the pain trend, and why a client needs attention.

Pure module: no Flask, no database. Plain dataclasses in, plain dataclasses out, so the same
rules serve the client's page, the trainer's pages, the dashboard and the plan PDF.

Where each rule comes from:

- adherence: sessions done in a program week (days with at least one exercise ticked, or a
  session the trainer logged) against the sessions per week the program prescribes;
- pain: the 0-10 numeric rating scale; 7 or more is "severe" (Serlin et al., "When is cancer
  pain mild, moderate or severe?", Pain 1995;61:277-284, the cut-off most pain services use);
- "rising": each of the last three pain scores higher than the one before (field rule of
  thumb: three points in a row is the shortest run that is not a one-off bad day);
- no session for 7 days: a week without training loses the habit (field rule of thumb);
- a red flag: an open red flag on the latest assessment, or a warning sign the client reported;
- a re-test is due on its date, until the client has been assessed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

PAIN_MIN, PAIN_MAX = 0, 10
PAIN_HIGH = 7
RISING_RUN = 3
NO_SESSION_DAYS = 7

NO_SESSION = "no_session"
PAIN_RISING = "pain_rising"
PAIN_HIGH_REASON = "pain_high"
RED_FLAG = "red_flag"
RETEST_DUE = "retest_due"
# Reasons that quote a pain score or a note: hidden from the front desk.
CLINICAL_REASONS = frozenset({PAIN_RISING, PAIN_HIGH_REASON, RED_FLAG})


@dataclass(frozen=True)
class Entry:
    """One logged day: whether a session was done, the pain score, a reported warning sign."""

    day: date
    session: bool
    pain: int | None = None
    warning_sign: bool = False


@dataclass(frozen=True)
class WeekAdherence:
    """Sessions done in one program week against the sessions prescribed."""

    week: int
    starts: date
    done: int
    prescribed: int
    current: bool = False  # the week is still running

    @property
    def ratio(self) -> float:
        """Done over prescribed, at most 1 (extra sessions do not make up for a missed week)."""
        if self.prescribed <= 0:
            return 1.0
        return min(self.done / self.prescribed, 1.0)

    @property
    def percent(self) -> int:
        return round(self.ratio * 100)


@dataclass(frozen=True)
class Reason:
    """Why a client needs attention, in the trainer's words."""

    code: str
    text: str


@dataclass(frozen=True)
class ClientState:
    """What the attention rules look at for one client."""

    today: date
    entries: Sequence[Entry] = ()
    program_start: date | None = None
    program_end: date | None = None  # the last day of the program
    open_red_flags: Sequence[str] = ()  # red flags of the latest assessment, not cleared
    retest_on: date | None = None
    reassessed: bool = False  # assessed again since the program was made


def program_week(start: date, day: date) -> int:
    """The program week ``day`` falls in: 1 for the first seven days from ``start``."""
    return (day - start).days // 7 + 1


def program_end(start: date, weeks: int) -> date:
    """The last day of a program of ``weeks`` weeks starting on ``start``."""
    return start + timedelta(days=7 * max(weeks, 1) - 1)


def session_days(entries: Iterable[Entry]) -> set[date]:
    """The days with a session done (several entries on one day are one session)."""
    return {entry.day for entry in entries if entry.session}


def weekly_adherence(
    entries: Iterable[Entry], *, start: date, weeks: int, per_week: int, today: date
) -> list[WeekAdherence]:
    """Adherence for each program week that has begun (all of them once the program is over)."""
    weeks = max(weeks, 1)
    reached = 1 if today < start else min(program_week(start, today), weeks)
    counts = [0] * weeks
    for day in session_days(entries):
        if day < start:
            continue
        week = program_week(start, day)
        if week <= weeks:
            counts[week - 1] += 1
    return [
        WeekAdherence(
            week=week,
            starts=start + timedelta(days=7 * (week - 1)),
            done=counts[week - 1],
            prescribed=per_week,
            current=week == program_week(start, today),
        )
        for week in range(1, reached + 1)
    ]


def pain_series(entries: Iterable[Entry]) -> list[tuple[date, int]]:
    """Pain scores in the order they were logged (by day; same-day entries keep their order)."""
    scored = [(entry.day, entry.pain) for entry in entries if entry.pain is not None]
    return sorted(scored, key=lambda pair: pair[0])


def pain_rising(scores: Sequence[int]) -> bool:
    """True when each of the last three scores is higher than the one before."""
    if len(scores) < RISING_RUN:
        return False
    run = scores[-RISING_RUN:]
    return all(later > earlier for earlier, later in zip(run, run[1:], strict=False))


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def attention(state: ClientState) -> list[Reason]:
    """Every reason this client needs the trainer's attention today, most urgent first."""
    reasons: list[Reason] = []
    entries = list(state.entries)
    warnings = sorted(entry.day for entry in entries if entry.warning_sign)
    if state.open_red_flags:
        reasons.append(Reason(RED_FLAG, "Red flag: " + "; ".join(state.open_red_flags)))
    if warnings:
        reasons.append(
            Reason(
                RED_FLAG, f"Reported a warning sign on their progress page on {_day(warnings[-1])}"
            )
        )
    series = pain_series(entries)
    if series and series[-1][1] >= PAIN_HIGH:
        day, score = series[-1]
        reasons.append(Reason(PAIN_HIGH_REASON, f"Pain {score}/10 on {_day(day)}"))
    scores = [score for _, score in series]
    if pain_rising(scores):
        run = ", ".join(str(score) for score in scores[-RISING_RUN:])
        reasons.append(Reason(PAIN_RISING, f"Pain rising over the last three entries ({run})"))
    if (
        state.program_start is not None
        and state.program_start <= state.today
        and (state.program_end is None or state.today <= state.program_end)
    ):
        done = [day for day in session_days(entries) if day <= state.today]
        since = max(done) if done else state.program_start
        idle = (state.today - since).days
        if idle >= NO_SESSION_DAYS:
            if done:
                text = f"No session logged for {idle} days (last on {_day(since)})"
            else:
                text = f"No session logged since the program started {idle} days ago"
            reasons.append(Reason(NO_SESSION, text))
    if state.retest_on is not None and state.retest_on <= state.today and not state.reassessed:
        late = (state.today - state.retest_on).days
        when = "today" if late == 0 else f"{late} day{'s' if late != 1 else ''} ago"
        reasons.append(Reason(RETEST_DUE, f"Re-test due ({_day(state.retest_on)}, {when})"))
    return reasons
