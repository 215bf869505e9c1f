"""The progress part of a plan PDF: plain context data in, what the template prints out.

The plan context carries only plain data (the link's URL, weeks and pain scores as numbers
and ISO dates); this turns it into the QR code and the charts at render time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import Markup

from trainer_app.library.media import qr_svg
from trainer_app.progress import charts
from trainer_app.progress.rules import WeekAdherence


def progress_context(
    url: str | None, expires: str, weeks: list[WeekAdherence], pain: list[tuple[date, int]]
) -> dict[str, Any]:
    """The plain-data ``progress`` entry of a plan context."""
    return {
        "url": url,
        "expires": expires,
        "weeks": [
            {
                "week": w.week,
                "starts": w.starts.isoformat(),
                "done": w.done,
                "prescribed": w.prescribed,
                "current": w.current,
            }
            for w in weeks
        ],
        "pain": [[day.isoformat(), score] for day, score in pain],
    }


def progress_view(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """What ``pdf/_progress_link.html`` prints, or None when the plan has no progress part."""
    if not data:
        return None
    url = data.get("url")
    url = url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
    weeks = [
        WeekAdherence(
            week=int(w["week"]),
            starts=date.fromisoformat(w["starts"]),
            done=int(w["done"]),
            prescribed=int(w["prescribed"]),
            current=bool(w["current"]),
        )
        for w in data.get("weeks") or []
    ]
    pain = [(date.fromisoformat(day), int(score)) for day, score in data.get("pain") or []]
    has_entries = bool(pain) or any(w.done for w in weeks)
    # Our own SVG from numbers and a URL we built; no user text goes into any of it.
    return {
        "url": url,
        "expires": str(data.get("expires") or ""),
        "qr_svg": Markup(qr_svg(url)) if url else None,  # noqa: S704
        "has_entries": has_entries,
        "adherence_svg": Markup(  # noqa: S704
            charts.adherence_svg(weeks, "pdf-adherence", label=charts.PRINT_LABEL)
        ),
        "pain_svg": Markup(charts.pain_svg(pain, "pdf-pain", label=charts.PRINT_LABEL)),  # noqa: S704
        "adherence_text": charts.adherence_text(weeks),
        "pain_text": charts.pain_text(pain),
    }
