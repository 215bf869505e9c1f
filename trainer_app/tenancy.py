"""Every query about clinic data goes through here, scoped to the signed-in user's clinic."""

from __future__ import annotations

import hashlib
from typing import TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from trainer_app.extensions import db

M = TypeVar("M")


def current_clinic_id() -> int:
    """The signed-in user's clinic id (views are login-protected before this is called)."""
    return current_user.clinic_id


def scoped(model: type[M]) -> Select:
    """``select(model)`` limited to the signed-in clinic."""
    return select(model).where(model.clinic_id == current_clinic_id())


def get_or_404(model: type[M], ident: int) -> M:
    """One row of the signed-in clinic, or 404 (another clinic's id looks like a missing one)."""
    row = db.session.scalar(scoped(model).where(model.id == ident))
    if row is None:
        abort(404)
    return row


def clinic_key(clinic_id: int, key: str) -> str:
    """A request key made unique across clinics, always 64 characters (the key columns' size).

    A hash rather than ``f"{clinic_id}:{key}"``: a 64-character key from a form plus the
    prefix overflowed the column (a 500 on PostgreSQL).
    """
    return hashlib.sha256(f"{clinic_id}:{key}".encode()).hexdigest()
