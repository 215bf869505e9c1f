"""Who may do what in a clinic: owner, trainer, front desk.

One place names the roles and one guard enforces them, for a whole blueprint
(``guard(bp, ...)``) or a single view (``@allowed(...)``). Front desk staff run the day:
appointments, clients' contact details, printing and emailing plans already made; they never
see assessments, clinical notes, findings or pain data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

OWNER, TRAINER, FRONT_DESK = "owner", "trainer", "front_desk"
ROLES = (OWNER, TRAINER, FRONT_DESK)
LABELS = {OWNER: "Owner", TRAINER: "Trainer", FRONT_DESK: "Front desk"}
# Roles an owner can give a member (one owner per clinic; the owner's role is not changed here).
ASSIGNABLE = (TRAINER, FRONT_DESK)
CLINICAL = (OWNER, TRAINER)

CLINICAL_REFUSAL = (
    "This page holds clinical information (assessments, findings, notes or pain scores), "
    "which the front desk role does not open. Ask a trainer of your clinic if you need "
    "something from it."
)


def is_clinical(user) -> bool:
    """Whether ``user`` may see clinical data (assessments, findings, notes, pain)."""
    return getattr(user, "role", None) in CLINICAL


def check(roles: Iterable[str], reason: str = CLINICAL_REFUSAL) -> None:
    """403 with ``reason`` unless the signed-in member has one of ``roles``."""
    if current_user.role not in tuple(roles):
        abort(403, description=reason)


def allowed(*roles: str, reason: str = CLINICAL_REFUSAL) -> Callable:
    """Decorate a view: only members with one of ``roles`` reach it (others get 403)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            check(roles, reason)
            return view(*args, **kwargs)

        return guarded

    return decorate


def guard(
    bp: Blueprint,
    *roles: str,
    reason: str = CLINICAL_REFUSAL,
    reads_for_all: bool = False,
) -> None:
    """Sign-in for every view of ``bp``, and ``roles`` for them (403 for others).

    ``reads_for_all`` lets every signed-in member use the blueprint's GET pages, keeping
    ``roles`` for what changes data (the exercise library: read by all, edited by trainers).
    """

    @bp.before_request
    @login_required
    def _role_guard() -> None:
        if reads_for_all and request.method in ("GET", "HEAD"):
            return
        check(roles, reason)
