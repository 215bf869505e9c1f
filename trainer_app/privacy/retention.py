"""Retention: archived clients are erased once they have been archived longer than the clinic chose.

Run by the worker on beat's schedule (``privacy.housekeeping``); the owner sees the same list
first (:func:`due_for_retention` with the period in question), so nothing is erased unseen.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from trainer_app.extensions import db
from trainer_app.privacy.erasure import ErasureBlocked, due_for_retention, erase_client
from trainer_app.privacy.models import RetentionPolicy

log = logging.getLogger(__name__)
# The periods an owner can choose, in months.
PERIODS = (6, 12, 24, 36, 60, 120)


def months_for(clinic_id: int) -> int | None:
    """The clinic's retention period in months, or None (archived clients are kept)."""
    policy = db.session.get(RetentionPolicy, clinic_id)
    return policy.archived_months if policy else None


def set_months(clinic_id: int, months: int | None, *, user_id: int) -> None:
    """Set (or, with None, switch off) the clinic's retention period; flushes."""
    if months is not None and months not in PERIODS:
        raise ValueError(f"retention period {months!r} is not offered")
    policy = db.session.get(RetentionPolicy, clinic_id)
    if policy is None:
        policy = RetentionPolicy(clinic_id=clinic_id)
        db.session.add(policy)
    policy.archived_months = months
    policy.updated_by_id = user_id
    db.session.flush()


def run_retention(now: datetime) -> int:
    """Erase every client archived past their clinic's period; commits after each client.

    A client who cannot be erased at this moment (an email to them being sent) is left for
    the next run.
    """
    erased = 0
    policies = db.session.scalars(
        select(RetentionPolicy).where(RetentionPolicy.archived_months.is_not(None))
    ).all()
    for policy in policies:
        for client in due_for_retention(policy.clinic_id, policy.archived_months, now):
            try:
                erase_client(client, reason="retention", user=None, system=True)
            except ErasureBlocked:
                db.session.rollback()
                log.info("client %s is being emailed; retention erases them next time", client.id)
                continue
            db.session.commit()
            erased += 1
    return erased
