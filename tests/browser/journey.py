"""Every GET page of the trainer journey, for the phone-layout and accessibility checks.

``PAGES`` names each page a person opens (a route of the URL map, with the data that makes it
show what a trainer meets: the world of ``tests/support/world.py`` plus a red-flag assessment
and a re-assessment). ``EXCLUDED`` names the GET routes that are not pages, with the reason.
``test_journey.py`` fails when a GET route is in neither list, so a page added later is
checked at 390 px and by axe-core as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Journey:
    """The ids the journey's URLs are built from (``world`` plus the extra rows)."""

    world: object  # tests.support.world.ClinicWorld
    blocked_assessment_id: int  # red flags reported, no clearance yet
    reassessment_id: int  # the world's client assessed a second time
    unmatched_id: int  # an imported event that matched no client, waiting on the review page


@dataclass(frozen=True)
class Page:
    """One page: its endpoint, who opens it, and what the URL needs beyond the world's ids."""

    endpoint: str
    signed_in: bool = True
    query: dict[str, str] = field(default_factory=dict)
    values: Callable[[Journey], dict] | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.endpoint + (f" ({self.label})" if self.label else "")


PAGES: list[Page] = [
    # signed out: the way in
    Page("main.index", signed_in=False, label="home"),
    Page("accounts.signup", signed_in=False),
    Page("accounts.signup_sent", signed_in=False),
    Page("accounts.login", signed_in=False),
    Page("accounts.reset_request", signed_in=False),
    Page("accounts.reset_password", signed_in=False),
    Page("accounts.confirm_email", signed_in=False),
    Page("accounts.accept_invitation", signed_in=False),
    # the client's own page, opened from the personal link on their phone
    Page("progress.page", signed_in=False, label="client"),
    # the trainer's day
    Page("main.dashboard"),
    Page("clients.index"),
    Page("clients.index", query={"q": "world"}, label="search"),
    Page("clients.create"),
    Page("clients.detail"),
    Page("clients.edit"),
    Page("assessments.new"),
    Page("assessments.detail"),
    Page(
        "assessments.detail",
        values=lambda j: {"assessment_id": j.blocked_assessment_id},
        label="red flags, blocked",
    ),
    Page("assessments.compare", values=lambda j: {"assessment_id": j.reassessment_id}),
    Page("programs.new"),
    Page("programs.detail"),
    Page("programs.edit"),
    Page("programs.edit", query={"find": "1", "kind": "strength"}, label="library search"),
    Page("programs.version"),
    Page("programs.copy"),
    Page("programs.templates"),
    Page("programs.start"),
    Page("delivery.compose"),
    Page("delivery.outbox"),
    Page("delivery.outbox_message"),
    Page("library.index"),
    Page("library.index", query={"view": "table"}, label="table"),
    Page("library.detail"),
    Page("library.detail", values=lambda j: {"slug": "plank"}, label="built-in exercise"),
    Page("library.create"),
    Page("library.edit"),
    Page("clinics.settings"),
    Page("clinics.team"),
    Page("accounts.change_password"),
    Page("audit.index"),
    Page("privacy.index"),
    Page("privacy.index", query={"months": "12"}, label="retention dry run"),
    Page("privacy.erase_client"),
    # the front desk's diary
    Page("appointments.day"),
    Page("appointments.week"),
    Page("appointments.create"),
    Page("appointments.edit"),
    Page("appointments.import_calendar"),
    Page("appointments.review"),
    Page("appointments.new_client", values=lambda j: {"appointment_id": j.unmatched_id}),
    Page("prints.detail"),
]

EXCLUDED: dict[str, str] = {
    "static": "files (CSS, JavaScript, images), not pages",
    "bootstrap.static": "Bootstrap's own CSS and JavaScript",
    "main.healthz": "a JSON health check for the load balancer",
    "plans.download": "the PDF itself (its layout is tested in tests/plans)",
    "plans.status": "a table row fetched by the program page's polling; checked inside it",
    "delivery.status": "a table row fetched by the program page's polling; checked inside it",
    "library.photo": "the clinic's uploaded image file",
    "referrals.download": "the referral letter's PDF (tested in tests/referrals)",
    "referrals.status": "a row fetched by the assessment page's polling; checked inside it",
    "privacy.download": "the export's zip itself (its content is tested in tests/privacy)",
    "privacy.status": "a row fetched by the client page's polling; checked inside it",
    "prints.download": "the merged PDF of a day's print (tested in tests/prints)",
    "prints.status": "the progress part fetched by the print page's polling; checked inside it",
}

# Violations accepted on a page for now, with the reason (none today). The journey fails when
# one is no longer found, so an entry is removed as soon as it is fixed.
KNOWN_VIOLATIONS: dict[str, dict[str, str]] = {}
