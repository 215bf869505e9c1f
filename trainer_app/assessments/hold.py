"""How a refused action tells the trainer about a client's open red flag (web side only)."""

from __future__ import annotations

from flask import flash, url_for
from markupsafe import Markup

from trainer_app.assessments.service import ClinicalHold


def clearance_url(hold: ClinicalHold) -> str:
    """The assessment section where the clearance is recorded (or the program to review)."""
    if hold.review_program_id is not None:
        return url_for("programs.detail", program_id=hold.review_program_id, _anchor="review")
    return url_for("assessments.detail", assessment_id=hold.assessment_id, _anchor="clearance")


def flash_hold(hold: ClinicalHold, refused: str) -> None:
    """Flash why ``refused`` (e.g. "No PDF was made.") with a link to record the clearance."""
    action = "Review the program" if hold.review_program_id else "Record the clearance"
    flash(
        Markup('{} {} <a href="{}" class="alert-link">{}</a>.').format(
            refused, hold.reason, clearance_url(hold), action
        ),
        "danger",
    )
