"""What happens to each table that holds a client's rows, when the client is exported or erased.

The tables themselves are found from the models (:mod:`trainer_app.privacy.graph`); this file
only says, for each, whether its rows are the client's (exported, then erased with them) or a
clinic's row that merely points at something of the client's (not exported; the pointer is
cleared on erasure). A table that reaches ``clients`` and is missing here fails
``tests/privacy/test_tables.py`` and stops an erasure, so nothing is silently left behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import MetaData

from trainer_app.privacy.graph import Path, client_paths

OWNED, DETACHED = "owned", "detached"


@dataclass(frozen=True)
class Policy:
    kind: str
    # Why a detached table's rows are not the client's.
    reason: str = ""
    # Columns left out of the export, each for a stated reason (see CLIENT_TABLES).
    omit: tuple[str, ...] = field(default_factory=tuple)


def owned(*, omit: tuple[str, ...] = ()) -> Policy:
    """Rows about the client: in their export, deleted when they are erased."""
    return Policy(OWNED, omit=omit)


def detached(reason: str) -> Policy:
    """A clinic's rows that may point at the client's: kept, the pointer cleared on erasure."""
    return Policy(DETACHED, reason=reason)


CLIENT_TABLES: dict[str, Policy] = {
    # search_text is the name and email again, folded for search.
    "clients": owned(omit=("search_text",)),
    "assessments": owned(),
    "programs": owned(),
    "program_versions": owned(),
    "plan_documents": owned(),
    "deliveries": owned(),
    "delivery_attempts": owned(),
    # The nonce is what makes the personal link open: a secret, not information about them.
    "progress_links": owned(omit=("nonce",)),
    "progress_entries": owned(),
    "appointments": owned(),
    # Which day's print included the client, in which place, or why they were left out.
    "print_items": owned(),
    "referral_letters": owned(),
    # An export's own zip would nest earlier exports inside the new one.
    "data_exports": owned(omit=("zip",)),
    "program_templates": detached(
        "a clinic's reusable template: exercises and doses with the client's reasons and notes "
        "removed; it only remembers which program it was saved from"
    ),
}

# Tables the whole-clinic export leaves out, and why.
CLINIC_EXPORT_SKIPPED = {
    "login_sessions": "sign-in session tokens: secrets, and nothing a clinic needs to keep",
    "account_emails": "the send queue of password and invitation emails: ids and job state only",
    "rate_limit_counters": "sign-in attempt counters, kept for minutes",
}
# Columns the whole-clinic export leaves out (secrets and the exports' own zips).
# A day's merged print is a short-lived copy of plans and sheets exported in their own rows.
CLINIC_EXPORT_OMITTED = {
    "users": ("password_hash",),
    "data_exports": ("zip",),
    "print_batches": ("pdf",),
}


def missing_policies(metadata: MetaData) -> list[str]:
    """Tables that reach ``clients`` but have no policy here (sorted)."""
    return sorted(set(client_paths(metadata)) - set(CLIENT_TABLES))


def client_tables(metadata: MetaData) -> list[tuple[Path, Policy]]:
    """Each client table's chain and policy, parents before children.

    :raise LookupError: a table reaches ``clients`` without a policy (see the module doc).
    """
    missing = missing_policies(metadata)
    if missing:
        raise LookupError(
            "no export and erasure policy for " + ", ".join(missing) + ": add each to "
            "CLIENT_TABLES in trainer_app/privacy/tables.py"
        )
    paths = client_paths(metadata)
    return [
        (paths[table.name], CLIENT_TABLES[table.name])
        for table in metadata.sorted_tables
        if table.name in paths
    ]
