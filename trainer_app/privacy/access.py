"""Who may use the data-rights pages: the owner; for one client's export, also their trainer.

The front desk never exports: an export is the client's health data in full.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from trainer_app.accounts.roles import OWNER, TRAINER, check

OWNER_ONLY = (
    "Only the clinic's owner opens the audit trail, erases clients, exports the whole clinic "
    "and sets how long archived clients are kept."
)
OWNER_OR_TRAINER = "Only the clinic's owner or the client's own trainer can export this client."


def require_owner() -> None:
    """403 with the reason unless the signed-in member owns the clinic."""
    check((OWNER,), OWNER_ONLY)


def may_export(client) -> bool:
    """The owner, or the trainer the client is assigned to."""
    if current_user.role == OWNER:
        return True
    return current_user.role == TRAINER and client.primary_trainer_id == current_user.id


def require_export_right(client) -> None:
    """403 with the reason unless :func:`may_export`."""
    if not may_export(client):
        abort(403, description=OWNER_OR_TRAINER)
