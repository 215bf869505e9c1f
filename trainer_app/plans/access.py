"""Who may open a plan document: a clinician copy holds findings, so only clinical roles do.

The front desk prints and emails client copies (plain words, no findings); a clinician copy
carries the assessment's measured values, thresholds and clinical reasons.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from trainer_app.accounts import roles
from trainer_app.plans.options import CLINICIAN_COPY

CLINICIAN_COPY_REFUSAL = (
    "This is the clinician copy of the plan: it lists the assessment's findings, which the "
    "front desk role does not open. Print or email the client copy instead, or ask a trainer."
)


def may_open(document, user=None) -> bool:
    """Whether ``user`` (the signed-in member by default) may see ``document``."""
    user = current_user if user is None else user
    return document.audience != CLINICIAN_COPY or roles.is_clinical(user)


NOT_EMAILED = (
    "This is the clinician copy of the plan: it lists the assessment's findings for the clinic "
    "and is not emailed to clients. Make the client copy (plain words) and email that."
)


def check_may_email(document) -> None:
    """403 with the reason for a clinician copy: only client copies go to clients."""
    check_may_open(document)
    if document.audience == CLINICIAN_COPY:
        abort(403, description=NOT_EMAILED)


def check_may_open(document) -> None:
    """403 with a page that says why, for a clinician copy asked for by the front desk."""
    if not may_open(document):
        abort(403, description=CLINICIAN_COPY_REFUSAL)
