"""The choices that shape a printed plan, in one place (the Make-PDF form, pre-rendering).

Each choice is part of the document's fingerprint: two requests with the same options for the
same program version are the same PDF.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from trainer_app.accounts.models import PAPER_SIZES

CLIENT_COPY, CLINICIAN_COPY = "client", "clinician"
AUDIENCES = (CLIENT_COPY, CLINICIAN_COPY)
AUDIENCE_LABELS = {CLIENT_COPY: "Client copy", CLINICIAN_COPY: "Clinician copy"}


@dataclass(frozen=True)
class PrintOptions:
    """Paper, print size and whose copy (client: plain words; clinician: findings in detail)."""

    paper: str = "A4"
    large_print: bool = False
    audience: str = CLIENT_COPY

    def __post_init__(self) -> None:
        if self.paper not in PAPER_SIZES:
            raise ValueError(f"Unknown paper size {self.paper!r}.")
        if self.audience not in AUDIENCES:
            raise ValueError(f"Unknown copy {self.audience!r}.")

    @classmethod
    def clinic_default(cls, clinic) -> PrintOptions:
        """What a clinic prints unless someone chooses otherwise: its paper, normal print,
        the client's copy."""
        paper = clinic.paper_size if clinic.paper_size in PAPER_SIZES else "A4"
        return cls(paper=paper)

    def as_kwargs(self) -> dict:
        """Keyword arguments for ``plans.service.request_document``."""
        return asdict(self)
