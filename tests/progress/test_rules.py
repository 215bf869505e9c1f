"""Adherence, pain trend and attention rules (pure: no app, no database)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from trainer_app.progress import rules
from trainer_app.progress.rules import ClientState, Entry

START = date(2026, 11, 2)


def codes(state: ClientState) -> list[str]:
    return [reason.code for reason in rules.attention(state)]


def test_adherence_counts_session_days_per_program_week():
    entries = [
        Entry(START, True),
        Entry(START, True, pain=3),  # a second entry the same day is the same session
        Entry(START + timedelta(days=2), True),
        Entry(START + timedelta(days=3), False, pain=4),  # pain only: no session
        Entry(START + timedelta(days=8), True),
    ]
    weeks = rules.weekly_adherence(
        entries, start=START, weeks=4, per_week=3, today=START + timedelta(days=9)
    )
    assert [(w.week, w.done, w.prescribed, w.current) for w in weeks] == [
        (1, 2, 3, False),
        (2, 1, 3, True),
    ]
    assert weeks[0].percent == 67
    assert weeks[1].starts == START + timedelta(days=7)


def test_adherence_after_the_program_shows_every_week_and_ignores_days_outside():
    entries = [Entry(START - timedelta(days=1), True), Entry(START + timedelta(days=40), True)]
    weeks = rules.weekly_adherence(
        entries, start=START, weeks=4, per_week=2, today=START + timedelta(days=60)
    )
    assert [w.done for w in weeks] == [0, 0, 0, 0]
    assert not any(w.current for w in weeks)


def test_extra_sessions_do_not_push_a_week_over_full():
    entries = [Entry(START + timedelta(days=d), True) for d in range(7)]
    (week,) = rules.weekly_adherence(entries, start=START, weeks=1, per_week=3, today=START)
    assert week.done == 7 and week.ratio == 1.0


def test_pain_rising_needs_three_strictly_higher_scores():
    assert rules.pain_rising([2, 3, 5])
    assert rules.pain_rising([9, 1, 2, 3])
    assert not rules.pain_rising([2, 3])
    assert not rules.pain_rising([2, 3, 3])
    assert not rules.pain_rising([5, 4, 6])


def test_attention_lists_each_reason_with_its_evidence():
    today = START + timedelta(days=20)
    state = ClientState(
        today=today,
        entries=[
            Entry(START + timedelta(days=1), True, pain=2),
            Entry(START + timedelta(days=5), False, pain=5),
            Entry(START + timedelta(days=9), False, pain=8, warning_sign=True),
        ],
        program_start=START,
        program_end=rules.program_end(START, 4),
        open_red_flags=["constant night pain", "pins and needles down a leg"],
        retest_on=today - timedelta(days=3),
    )
    reasons = {reason.code: reason.text for reason in rules.attention(state)}
    assert reasons[rules.PAIN_HIGH_REASON] == "Pain 8/10 on 11 Nov 2026"
    assert reasons[rules.PAIN_RISING] == "Pain rising over the last three entries (2, 5, 8)"
    assert reasons[rules.NO_SESSION] == "No session logged for 19 days (last on 3 Nov 2026)"
    assert reasons[rules.RETEST_DUE] == "Re-test due (19 Nov 2026, 3 days ago)"
    red = [r.text for r in rules.attention(state) if r.code == rules.RED_FLAG]
    assert red == [
        "Red flag: constant night pain; pins and needles down a leg",
        "Reported a warning sign on their progress page on 11 Nov 2026",
    ]


def test_a_quiet_client_needs_no_attention():
    today = START + timedelta(days=10)
    state = ClientState(
        today=today,
        entries=[Entry(today - timedelta(days=6), True, pain=3), Entry(today, True, pain=2)],
        program_start=START,
        program_end=rules.program_end(START, 4),
        retest_on=today + timedelta(days=1),
    )
    assert rules.attention(state) == []


def test_no_session_counts_from_the_program_start_and_stops_when_it_ends():
    started = ClientState(today=START + timedelta(days=7), program_start=START)
    assert codes(started) == [rules.NO_SESSION]
    assert "since the program started 7 days ago" in rules.attention(started)[0].text
    assert codes(ClientState(today=START + timedelta(days=6), program_start=START)) == []
    over = ClientState(
        today=START + timedelta(days=40),
        program_start=START,
        program_end=rules.program_end(START, 4),
    )
    assert codes(over) == []


def test_a_retest_is_no_longer_due_once_the_client_is_reassessed():
    state = ClientState(today=START, retest_on=START)
    assert codes(state) == [rules.RETEST_DUE]
    assert rules.attention(state)[0].text.endswith("today)")
    assert codes(ClientState(today=START, retest_on=START, reassessed=True)) == []


# --------------------------------------------------------------------------- properties

days = st.integers(min_value=0, max_value=70).map(lambda n: START + timedelta(days=n))
entries_strategy = st.lists(
    st.builds(
        Entry,
        day=days,
        session=st.booleans(),
        pain=st.none() | st.integers(rules.PAIN_MIN, rules.PAIN_MAX),
        warning_sign=st.just(False),
    ),
    max_size=40,
)


@given(entries_strategy, st.integers(1, 8), st.integers(1, 7), days)
def test_adherence_never_counts_more_sessions_than_session_days(entries, weeks, per_week, today):
    result = rules.weekly_adherence(
        entries, start=START, weeks=weeks, per_week=per_week, today=today
    )
    assert 1 <= len(result) <= weeks
    assert [w.week for w in result] == list(range(1, len(result) + 1))
    in_program = {
        d for d in rules.session_days(entries) if START <= d <= rules.program_end(START, weeks)
    }
    assert sum(w.done for w in result) <= len(in_program)
    assert all(0.0 <= w.ratio <= 1.0 and w.done <= 7 for w in result)


@given(entries_strategy, days)
def test_attention_does_not_depend_on_the_order_entries_arrive_in(entries, today):
    # one entry a day, so "the last three" is the same however the rows are listed
    unique = list({entry.day: entry for entry in entries}.values())
    shuffled = unique[:]
    random.Random(len(unique)).shuffle(shuffled)
    state = ClientState(today=today, entries=unique, program_start=START)
    again = ClientState(today=today, entries=shuffled, program_start=START)
    assert rules.attention(state) == rules.attention(again)


@given(entries_strategy, days)
def test_high_pain_is_flagged_exactly_when_the_latest_score_is_seven_or_more(entries, today):
    unique = list({entry.day: entry for entry in entries}.values())
    flagged = rules.PAIN_HIGH_REASON in codes(ClientState(today=today, entries=unique))
    series = rules.pain_series(unique)
    assert flagged == bool(series and series[-1][1] >= rules.PAIN_HIGH)


@given(st.lists(st.integers(rules.PAIN_MIN, rules.PAIN_MAX), min_size=3, max_size=20))
def test_a_repeated_last_score_is_never_rising(scores):
    assert not rules.pain_rising([*scores, scores[-1]])
    if rules.pain_rising(scores):
        assert scores[-1] - scores[-3] >= 2


@given(entries_strategy, days)
def test_a_session_within_six_days_means_no_idle_reason(entries, today):
    recent = Entry(today - timedelta(days=3), True)
    state = ClientState(today=today, entries=[*entries, recent], program_start=START)
    assert rules.NO_SESSION not in codes(state)
