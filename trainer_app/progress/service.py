"""Progress: the personal link (sign, open, renew, revoke), logging entries, and the numbers
pages, charts and the dashboard show. Functions flush, never commit: the caller owns the
transaction.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from trainer_app.accounts import roles
from trainer_app.assessments.models import Assessment
from trainer_app.assessments.service import red_flag_label
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.jobs import record_once
from trainer_app.programs.builder import ProgramDraft, draft_from_dict
from trainer_app.programs.models import Program, ProgramVersion
from trainer_app.programs.service import clinic_zone
from trainer_app.progress import rules
from trainer_app.progress.models import CLIENT, TRAINER, ProgressEntry, ProgressLink
from trainer_app.tenancy import clinic_key
from trainer_app.timeutil import local_today, utcnow

LINK_SALT = "progress-link"
# Days a link keeps opening after the program's last week: time to log the last sessions and
# to be re-tested, and a new plan renews it anyway.
GRACE_DAYS = 28
NOTE_MAX = 200
LINK_PATH = "/p/"

INVALID = "invalid"
EXPIRED = "expired"
REVOKED = "revoked"


class EntryError(ValueError):
    """An entry that cannot be saved; the message is shown as is."""


# --------------------------------------------------------------------------- programs


def current_program(client_id: int) -> Program | None:
    """The client's newest program (the one the link and the page are about)."""
    return db.session.scalar(
        select(Program).where(Program.client_id == client_id).order_by(Program.id.desc()).limit(1)
    )


def program_draft(program: Program) -> ProgramDraft:
    return draft_from_dict(program.latest.content)


def program_start(program: Program, zone: str | None) -> date:
    """The program's first day in the clinic's calendar."""
    return local_today(zone, program.created_at)


def program_last_day(program: Program, zone: str | None) -> date:
    return rules.program_end(program_start(program, zone), program_draft(program).weeks)


# --------------------------------------------------------------------------- the link


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT)


def link_of(client_id: int) -> ProgressLink | None:
    return db.session.scalar(select(ProgressLink).where(ProgressLink.client_id == client_id))


def link_token(link: ProgressLink) -> str:
    """The signed, opaque part of the URL: the link's id and nonce, nothing about health."""
    return _serializer().dumps([link.id, link.nonce])


def link_url(link: ProgressLink) -> str:
    """The full URL the client opens (built from PUBLIC_URL, so workers can print it too)."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + LINK_PATH + link_token(link)


def link_is_active(link: ProgressLink | None, today: date) -> bool:
    return link is not None and link.revoked_at is None and today <= link.expires_on


def ensure_link(client: Client, program: Program | None = None) -> ProgressLink:
    """Give the client a working link until their current program's end plus the grace period.

    Called for each new plan: an active link is extended (its URL stays the same, so earlier
    paper keeps working); a revoked one gets a new nonce, so the revoked URL never opens again.
    """
    program = program or current_program(client.id)
    zone = clinic_zone(client.clinic_id)
    today = local_today(zone)
    until = today + timedelta(days=GRACE_DAYS)
    if program is not None:
        until = max(until, program_last_day(program, zone) + timedelta(days=GRACE_DAYS))
    link = link_of(client.id)
    if link is None:
        link = ProgressLink(
            clinic_id=client.clinic_id,
            client_id=client.id,
            nonce=secrets.token_urlsafe(12),
            generation=1,
            expires_on=until,
        )
        db.session.add(link)
    elif link.revoked_at is not None:
        link.nonce = secrets.token_urlsafe(12)
        link.generation += 1
        link.revoked_at = None
        link.expires_on = until
        link.renewed_at = utcnow()
    else:
        if until > link.expires_on:
            link.expires_on = until
            link.renewed_at = utcnow()
    db.session.flush()
    return link


def revoke_link(link: ProgressLink) -> None:
    """Stop the link from opening, at once (a new plan or "New link" issues another URL)."""
    link.revoked_at = utcnow()
    link.nonce = secrets.token_urlsafe(12)
    db.session.flush()


@dataclass(frozen=True)
class Opened:
    link: ProgressLink | None
    problem: str | None  # None, "invalid", "expired" or "revoked"


def open_link(token: str) -> Opened:
    """The link a token names, or why it does not open (the page says only that)."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return Opened(None, INVALID)
    if not (
        isinstance(payload, list)
        and len(payload) == 2
        and isinstance(payload[0], int)
        and isinstance(payload[1], str)
    ):
        return Opened(None, INVALID)
    link = db.session.get(ProgressLink, payload[0])
    if link is None:
        return Opened(None, INVALID)
    if link.revoked_at is not None or not hmac.compare_digest(link.nonce, payload[1]):
        return Opened(None, REVOKED)
    if local_today(clinic_zone(link.clinic_id)) > link.expires_on:
        return Opened(None, EXPIRED)
    return Opened(link, None)


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class EntryInput:
    day: date
    exercises: Sequence[str] = ()
    pain: int | None = None
    note: str = ""
    warning_sign: bool = False


def check_entry(data: EntryInput, *, start: date, today: date, slugs: Sequence[str]) -> None:
    """Refuse what cannot be saved, with the reason in plain words.

    :raise EntryError: nothing is saved.
    """
    if data.day > today:
        raise EntryError("Choose today or an earlier day: a session cannot be logged ahead.")
    if data.day < start:
        raise EntryError(
            f"Choose a day from {start.day} {start:%b %Y} on: that is when this program started."
        )
    if data.pain is not None and not rules.PAIN_MIN <= data.pain <= rules.PAIN_MAX:
        raise EntryError("Pain is a number from 0 (none) to 10 (worst imaginable).")
    if len(data.note) > NOTE_MAX:
        raise EntryError(f"Keep the note to {NOTE_MAX} characters.")
    unknown = [slug for slug in data.exercises if slug not in slugs]
    if unknown:
        raise EntryError("Tick only exercises from your current program.")
    if not data.exercises and data.pain is None and not data.warning_sign and not data.note:
        raise EntryError("Tick what you did, or give your pain score, before saving.")


def record_entry(
    client: Client,
    program: Program,
    data: EntryInput,
    *,
    source: str,
    request_key: str,
    user_id: int | None = None,
) -> tuple[ProgressEntry, bool]:
    """Save one entry once: the same ``request_key`` (a double tap, a resent form) saves nothing
    more and returns the first entry.

    :raise EntryError: the entry is refused; nothing is saved.
    """
    zone = clinic_zone(client.clinic_id)
    slugs = [item.exercise_slug for item in program_draft(program).items]
    check_entry(data, start=program_start(program, zone), today=local_today(zone), slugs=slugs)
    key = clinic_key(client.clinic_id, f"progress:{request_key}")
    existing = db.session.scalar(select(ProgressEntry).where(ProgressEntry.request_key == key))
    if existing is not None:
        return existing, False
    done = [slug for slug in slugs if slug in set(data.exercises)]
    entry = ProgressEntry(
        clinic_id=client.clinic_id,
        client_id=client.id,
        program_id=program.id,
        day=data.day,
        exercises=done,
        session=bool(done) or source == TRAINER,
        pain=data.pain,
        note=data.note.strip(),
        warning_sign=data.warning_sign,
        source=source if source in (CLIENT, TRAINER) else CLIENT,
        created_by_id=user_id,
        request_key=key,
    )
    return record_once(entry, ProgressEntry.request_key)


def entries_of(client_id: int, program_id: int | None = None) -> list[ProgressEntry]:
    """A client's entries, oldest first (optionally of one program)."""
    stmt = select(ProgressEntry).where(ProgressEntry.client_id == client_id)
    if program_id is not None:
        stmt = stmt.where(ProgressEntry.program_id == program_id)
    return list(db.session.scalars(stmt.order_by(ProgressEntry.day, ProgressEntry.id)))


def as_rule_entries(rows: Sequence[ProgressEntry]) -> list[rules.Entry]:
    return [rules.Entry(r.day, r.session, r.pain, r.warning_sign) for r in rows]


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class Progress:
    """What the pages, charts and PDF show about one client's current program."""

    program: Program
    start: date
    last_day: date
    today: date
    weeks: list[rules.WeekAdherence]
    pain: list[tuple[date, int]]
    entries: list[ProgressEntry]
    reasons: list[rules.Reason]

    @property
    def current_week(self) -> int:
        return max(
            1, min(rules.program_week(self.start, self.today), program_draft(self.program).weeks)
        )


def open_red_flags(client_id: int) -> list[str]:
    """Red flags of the client's latest assessment that no clearance has been recorded for."""
    latest = db.session.scalar(
        select(Assessment)
        .where(Assessment.client_id == client_id)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
        .limit(1)
    )
    if latest is None or latest.cleared_at is not None:
        return []
    return [red_flag_label(flag) for flag in (latest.result or {}).get("red_flags", [])]


def _reassessed(program: Program) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Assessment.client_id == program.client_id,
                    Assessment.created_at > program.created_at,
                )
            )
        )
    )


def progress_of(client: Client, program: Program | None = None) -> Progress | None:
    """Adherence, pain and attention for the client's current program (None without one)."""
    program = program or current_program(client.id)
    if program is None:
        return None
    zone = clinic_zone(client.clinic_id)
    today = local_today(zone)
    draft = program_draft(program)
    start = program_start(program, zone)
    rows = entries_of(client.id, program.id)
    plain = as_rule_entries(rows)
    state = rules.ClientState(
        today=today,
        entries=plain,
        program_start=start,
        program_end=rules.program_end(start, draft.weeks),
        open_red_flags=open_red_flags(client.id),
        retest_on=program.retest_on,
        reassessed=_reassessed(program),
    )
    return Progress(
        program=program,
        start=start,
        last_day=rules.program_end(start, draft.weeks),
        today=today,
        weeks=rules.weekly_adherence(
            plain, start=start, weeks=draft.weeks, per_week=draft.sessions_per_week, today=today
        ),
        pain=rules.pain_series(plain),
        entries=rows,
        reasons=rules.attention(state),
    )


@dataclass(frozen=True)
class NeedsAttention:
    client_id: int
    client_name: str
    program_title: str
    reasons: list[rules.Reason]


def needs_attention(
    clinic_id: int,
    today: date | None = None,
    limit: int = 10,
    except_codes: frozenset[str] | set[str] = frozenset(),
) -> list[NeedsAttention]:
    """Active clients of the clinic with at least one attention reason, most reasons first.

    A fixed number of queries however many clients the clinic has: plain columns, no ORM
    objects per client, the program's length read from its latest version in SQL.

    :param except_codes: reasons listed elsewhere on the page (the dashboard lists re-tests).
    """
    zone = clinic_zone(clinic_id)
    today = today or local_today(zone)
    current = (
        select(Program.client_id, func.max(Program.id).label("program_id"))
        .where(Program.clinic_id == clinic_id)
        .group_by(Program.client_id)
        .subquery()
    )
    newest = (
        select(ProgramVersion.program_id, func.max(ProgramVersion.number).label("number"))
        .where(ProgramVersion.clinic_id == clinic_id)
        .group_by(ProgramVersion.program_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            Client.id,
            Client.name,
            Program.id,
            Program.title,
            Program.created_at,
            Program.retest_on,
            ProgramVersion.weeks,
            Client.last_assessed_at,
        )
        .join(current, current.c.client_id == Client.id)
        .join(Program, Program.id == current.c.program_id)
        .join(newest, newest.c.program_id == Program.id)
        .join(
            ProgramVersion,
            (ProgramVersion.program_id == Program.id) & (ProgramVersion.number == newest.c.number),
        )
        .where(Client.clinic_id == clinic_id, Client.archived_at.is_(None))
        .order_by(Client.search_text, Client.id)
    ).all()
    if not rows:
        return []
    by_program = _attention_entries(clinic_id, current, today)
    flags = _open_red_flags(clinic_id)
    out = []
    for client_id, name, program_id, title, created_at, retest_on, weeks, last in rows:
        start = local_today(zone, created_at)
        state = rules.ClientState(
            today=today,
            entries=by_program.get(program_id, []),
            program_start=start,
            program_end=rules.program_end(start, weeks),
            open_red_flags=flags.get(client_id, []),
            retest_on=retest_on,
            reassessed=last is not None and last > created_at,
        )
        reasons = [r for r in rules.attention(state) if r.code not in except_codes]
        if reasons:
            out.append(NeedsAttention(client_id, name, title, reasons))
    out.sort(key=lambda item: -len(item.reasons))
    return out[:limit]


def _attention_entries(clinic_id: int, current, today: date) -> dict[int, list[rules.Entry]]:
    """Per current program, only the entries the attention rules look at, in logging order:
    the last session day, the last three pain scores and the last warning sign.

    The rules decide on these alone, so a clinic's months of logs never travel to Python.
    """
    scoped = (ProgressEntry.clinic_id == clinic_id, ProgressEntry.day <= today)
    joined = current.c.program_id == ProgressEntry.program_id
    picked: dict[int, list[tuple[date, int, rules.Entry]]] = {}
    sessions = db.session.execute(
        select(ProgressEntry.program_id, func.max(ProgressEntry.day))
        .join(current, joined)
        .where(*scoped, ProgressEntry.session.is_(True))
        .group_by(ProgressEntry.program_id)
    )
    for program_id, day in sessions:
        picked.setdefault(program_id, []).append((day, 0, rules.Entry(day, True)))
    warnings = db.session.execute(
        select(ProgressEntry.program_id, func.max(ProgressEntry.day))
        .join(current, joined)
        .where(*scoped, ProgressEntry.warning_sign.is_(True))
        .group_by(ProgressEntry.program_id)
    )
    for program_id, day in warnings:
        picked.setdefault(program_id, []).append((day, 0, rules.Entry(day, False, None, True)))
    rank = (
        func.row_number()
        .over(
            partition_by=ProgressEntry.program_id,
            order_by=(ProgressEntry.day.desc(), ProgressEntry.id.desc()),
        )
        .label("rank")
    )
    scored = (
        select(
            ProgressEntry.program_id, ProgressEntry.day, ProgressEntry.pain, ProgressEntry.id, rank
        )
        .join(current, joined)
        .where(*scoped, ProgressEntry.pain.is_not(None))
        .subquery()
    )
    pains = db.session.execute(
        select(scored.c.program_id, scored.c.day, scored.c.pain, scored.c.id).where(
            scored.c.rank <= rules.RISING_RUN
        )
    )
    for program_id, day, pain, entry_id in pains:
        picked.setdefault(program_id, []).append((day, entry_id, rules.Entry(day, False, pain)))
    return {
        program_id: [entry for _, _, entry in sorted(rows, key=lambda r: (r[0], r[1]))]
        for program_id, rows in picked.items()
    }


# Scored assessment results are never changed once written, so the red flags the attention
# list reads from their JSON (only for the clinic's open holds) are kept per process. A
# program's length is a column of its version.
_CACHE_MAX = 200_000
_flags_cache: dict[tuple[int, datetime], tuple[str, ...]] = {}
Key = tuple[int, datetime]  # a row's id and creation time: an id reused after a reset misses


def _remember(cache: dict, values: dict) -> None:
    if len(cache) + len(values) > _CACHE_MAX:
        cache.clear()
    cache.update(values)


def _red_flag_texts(keys: Sequence[Key]) -> dict[Key, tuple[str, ...]]:
    """The red flags each assessment's stored result records (one query for new ones)."""
    missing = [aid for aid, at in set(keys) if (aid, at) not in _flags_cache]
    if missing:
        found = db.session.execute(
            select(Assessment.id, Assessment.created_at, Assessment.result["red_flags"]).where(
                Assessment.id.in_(missing)
            )
        )
        _remember(
            _flags_cache,
            {
                (aid, at): tuple(red_flag_label(f) for f in (flags or []) if isinstance(f, dict))
                for aid, at, flags in found
            },
        )
    return {key: _flags_cache.get(key, ()) for key in keys}


def _open_red_flags(clinic_id: int) -> dict[int, list[str]]:
    """The red flags of each client whose latest assessment has one not cleared yet.

    Read through the index of blocked, uncleared assessments: the clinic's clients on hold,
    not every client's latest assessment.
    """
    later = aliased(Assessment)
    rows = db.session.execute(
        select(Assessment.id, Assessment.client_id, Assessment.created_at).where(
            Assessment.clinic_id == clinic_id,
            Assessment.uncleared_red_flag,
            ~exists().where(later.client_id == Assessment.client_id, later.id > Assessment.id),
        )
    ).all()
    open_ones = {(row.id, row.created_at): row.client_id for row in rows}
    texts = _red_flag_texts(list(open_ones))
    return {open_ones[key]: list(t) for key, t in texts.items() if t}


def entry_labels(program: Program) -> dict[str, str]:
    """Exercise slug -> name, for history lines."""
    return {item.exercise_slug: item.name for item in program_draft(program).items}


def now_local_date(clinic_id: int) -> date:
    return local_today(clinic_zone(clinic_id))


def can_see_progress(user) -> bool:
    """Pain scores, notes and the personal link are clinical: owners and trainers see them,
    the front desk (and any role not known to be clinical) never does."""
    return roles.is_clinical(user)


@dataclass(frozen=True)
class TimelineEvent:
    at: date
    kind: str  # assessment | program | version | entry
    text: str
    endpoint: str | None = None
    values: dict | None = None


def timeline(client: Client, assessments, programs, limit: int = 40) -> list[TimelineEvent]:
    """Assessments, program versions and logged entries of a client as one list, newest first."""
    zone = clinic_zone(client.clinic_id)
    events: list[tuple[tuple, TimelineEvent]] = []
    for a in assessments:
        day = local_today(zone, a.created_at)
        events.append(
            (
                (day, a.created_at.isoformat(), 3),
                TimelineEvent(
                    day, "assessment", "Assessment", "assessments.detail", {"assessment_id": a.id}
                ),
            )
        )
    for p in programs:
        for v in p.versions:
            day = local_today(zone, v.created_at)
            text = f"{p.title}: version {v.number}" + (
                f" ({v.change_note})" if v.change_note else ""
            )
            events.append(
                (
                    (day, v.created_at.isoformat(), 2),
                    TimelineEvent(
                        day,
                        "program" if v.number == 1 else "version",
                        text,
                        "programs.version",
                        {"program_id": p.id, "number": v.number},
                    ),
                )
            )
    for e in db.session.scalars(
        select(ProgressEntry)
        .where(ProgressEntry.client_id == client.id)
        .order_by(ProgressEntry.day.desc(), ProgressEntry.id.desc())
        .limit(limit)
    ):
        parts = []
        if e.exercises:
            parts.append(f"{len(e.exercises)} exercise{'s' if len(e.exercises) != 1 else ''} done")
        elif e.session:
            parts.append("session")
        if e.pain is not None:
            parts.append(f"pain {e.pain}/10")
        if e.warning_sign:
            parts.append("reported a warning sign")
        who = "Logged by the trainer" if e.source == TRAINER else "Logged by the client"
        text = f"{who}: " + ", ".join(parts) + (f" · “{e.note}”" if e.note else "")
        events.append(((e.day, e.created_at.isoformat(), 1), TimelineEvent(e.day, "entry", text)))
    events.sort(key=lambda pair: pair[0], reverse=True)
    return [event for _, event in events[:limit]]


def active_link_url(client_id: int) -> str | None:
    """The client's current link, if it opens today."""
    link = link_of(client_id)
    if link is None or not link_is_active(link, local_today(clinic_zone(link.clinic_id))):
        return None
    return link_url(link)


def plan_progress(program: Program) -> dict:
    """The progress part of a plan's PDF context (plain data): the client's current link and
    the progress logged so far on this program, or on the one before it when this one is new."""
    from trainer_app.progress.printed import progress_context

    client = program.client
    zone = clinic_zone(client.clinic_id)
    link = link_of(client.id)
    # As active_link_url, with the link and the zone already at hand.
    url = link_url(link) if link_is_active(link, local_today(zone)) else None
    expires = f"{link.expires_on.day} {link.expires_on:%B %Y}" if url else ""
    shown = program
    rows = entries_of(client.id, program.id)
    if not rows:
        earlier = db.session.scalar(
            select(Program)
            .where(Program.client_id == client.id, Program.id < program.id)
            .order_by(Program.id.desc())
            .limit(1)
        )
        if earlier is not None:
            shown = earlier
            rows = entries_of(client.id, shown.id)
    if not rows:
        return progress_context(url, expires, [], [])
    plain = as_rule_entries(rows)
    draft = program_draft(shown)
    weeks = rules.weekly_adherence(
        plain,
        start=program_start(shown, zone),
        weeks=draft.weeks,
        per_week=draft.sessions_per_week,
        today=local_today(zone),
    )
    return progress_context(url, expires, weeks, rules.pain_series(plain))
