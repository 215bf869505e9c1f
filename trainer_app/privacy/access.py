"""Who may open the data-rights pages: the owner, and for one client's export their trainer.

Kept small so it can give way to the clinic-wide role guard (``accounts.roles``) once that is
on main: the checks are the same, 403 for a signed-in member without the right.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

OWNER = "owner"
OWNER_ONLY = "Only the clinic's owner can open the audit trail, erase clients or export the clinic."
OWNER_OR_TRAINER = "Only the clinic's owner or the client's own trainer can export this client."


def require_owner() -> None:
    """403 unless the signed-in member owns the clinic."""
    if current_user.role != OWNER:
        abort(403, description=OWNER_ONLY)


def may_export(client) -> bool:
    """The owner, or the trainer the client is assigned to."""
    return current_user.role == OWNER or (
        client.primary_trainer_id is not None and client.primary_trainer_id == current_user.id
    )


def require_export_right(client) -> None:
    """403 unless :func:`may_export`."""
    if not may_export(client):
        abort(403, description=OWNER_OR_TRAINER)
