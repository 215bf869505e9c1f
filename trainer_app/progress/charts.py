"""Server-side SVG charts of progress: adherence per week and pain over time.

Pure module: plain numbers and dates in, an SVG string out (no user text ever goes into it).
Readable in black and white: bars are outlined and labelled with their numbers, pain points
are marked and labelled; each chart names itself for screen readers (role="img" with a
title and a description), and ``*_text`` gives the same facts as sentences for a page or PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from trainer_app.progress.rules import PAIN_MAX, WeekAdherence

WIDTH, HEIGHT = 320, 150
LABEL = 9.0  # the labels' size in the chart's own units; a page shows the chart near full size
# The printed plan draws each chart about 16 mm high: labels of 24 units print at about 7 pt
# (9 printed at 4 pt), and the legend goes in the text beside it.
PRINT_LABEL = 24.0


class _Layout:
    """Margins and label offsets in proportion to the labels' size."""

    def __init__(self, size: float) -> None:
        k = size / LABEL
        self.font = f'font-family="DejaVu Sans, Arial, sans-serif" font-size="{size:g}"'
        self.k = k
        self.left, self.right, self.top = 30 * k, 10, 14 * k
        self.bottom = 28 if k == 1 else 14 * k + 4  # room for the legend line on a page only
        self.plot_w = WIDTH - self.left - self.right
        self.plot_h = HEIGHT - self.top - self.bottom


def _short(day: date) -> str:
    return f"{day.day} {day:%b}"


def _frame(chart_id: str, title: str, desc: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="progress-chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'id="{chart_id}">'
        f'<title id="{chart_id}-t">{title}</title><desc id="{chart_id}-d">{desc}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _axes(at: _Layout, top_label: str) -> list[str]:
    x0, y0, font, k = at.left, at.top + at.plot_h, at.font, at.k
    return [
        f'<line x1="{x0:g}" y1="{at.top:g}" x2="{x0:g}" y2="{y0:g}" stroke="#000" '
        'stroke-width="1"/>',
        f'<line x1="{x0:g}" y1="{y0:g}" x2="{x0 + at.plot_w:g}" y2="{y0:g}" stroke="#000" '
        'stroke-width="1"/>',
        f'<text x="{x0 - 4:g}" y="{at.top + 3 * k:g}" text-anchor="end" {font}>{top_label}</text>',
        f'<text x="{x0 - 4:g}" y="{y0 + 3 * k:g}" text-anchor="end" {font}>0</text>',
    ]


def adherence_text(weeks: Sequence[WeekAdherence]) -> str:
    """The adherence chart as sentences."""
    if not weeks:
        return "No program weeks yet."
    parts = [
        f"Week {w.week}: {w.done} of {w.prescribed} sessions"
        + (" (this week, still running)" if w.current else "")
        for w in weeks
    ]
    return "; ".join(parts) + "."


def adherence_svg(
    weeks: Sequence[WeekAdherence], chart_id: str = "adherence-chart", label: float = LABEL
) -> str:
    """Bars of sessions done per program week, against a dashed line at the sessions prescribed.

    A ``label`` larger than ``LABEL`` (print) leaves the legend line out: the text beside says it.
    """
    at = _Layout(label)
    LEFT, TOP, FONT, k = at.left, at.top, at.font, at.k  # noqa: N806
    plot_w, plot_h = at.plot_w, at.plot_h
    prescribed = max((w.prescribed for w in weeks), default=1) or 1
    top = max([prescribed, *(w.done for w in weeks)])
    body = _axes(at, str(top))
    y0 = TOP + plot_h
    goal_y = y0 - plot_h * prescribed / top
    body.append(
        f'<line x1="{LEFT:g}" y1="{goal_y:.1f}" x2="{LEFT + plot_w:g}" y2="{goal_y:.1f}" '
        'stroke="#000" stroke-width="1" stroke-dasharray="4 3"/>'
    )
    slot = plot_w / max(len(weeks), 1)
    bar_w = min(slot * 0.6, 40)
    for i, w in enumerate(weeks):
        x = LEFT + slot * i + (slot - bar_w) / 2
        h = plot_h * w.done / top
        fill = "#fff" if w.current else "#555"
        body.append(
            f'<rect class="week" data-week="{w.week}" data-done="{w.done}" '
            f'data-prescribed="{w.prescribed}" x="{x:.1f}" y="{y0 - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" fill="{fill}" stroke="#000" stroke-width="1"/>'
        )
        body.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y0 - h - 3:.1f}" text-anchor="middle" {FONT}>'
            f"{w.done}/{w.prescribed}</text>"
        )
        body.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y0 + 12 * k:g}" text-anchor="middle" {FONT}>'
            f"W{w.week}</text>"
        )
    if label == LABEL:
        body.append(
            f'<text x="{LEFT + plot_w:g}" y="{HEIGHT - 3}" text-anchor="end" {FONT}>'
            "Sessions per week (dashed: prescribed; white: this week)</text>"
        )
    return _frame(chart_id, "Sessions done per week", adherence_text(weeks), body)


def pain_text(points: Sequence[tuple[date, int]]) -> str:
    """The pain chart as sentences."""
    if not points:
        return "No pain scores logged yet."
    return "Pain (0 to 10): " + "; ".join(f"{_short(d)}: {p}" for d, p in points) + "."


def pain_svg(
    points: Sequence[tuple[date, int]], chart_id: str = "pain-chart", label: float = LABEL
) -> str:
    """Pain scores over time: a line through marked, labelled points, 0 to 10 on the left."""
    at = _Layout(label)
    LEFT, TOP, FONT, k = at.left, at.top, at.font, at.k  # noqa: N806
    plot_w, plot_h = at.plot_w, at.plot_h
    body = _axes(at, str(PAIN_MAX))
    y0 = TOP + plot_h
    if points:
        first, last = points[0][0], points[-1][0]
        span = max((last - first).days, 1)
        coords = []
        for index, (day, pain) in enumerate(points):
            if len(points) == 1:
                x = LEFT + plot_w / 2
            elif first == last:
                x = LEFT + plot_w * index / (len(points) - 1)
            else:
                x = LEFT + 6 + (plot_w - 12) * (day - first).days / span
            y = y0 - plot_h * pain / PAIN_MAX
            coords.append((x, y, day, pain))
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in coords)
            body.append(f'<polyline points="{path}" fill="none" stroke="#000" stroke-width="1.5"/>')
        for x, y, day, pain in coords:
            body.append(
                f'<circle class="pain" data-day="{day.isoformat()}" data-pain="{pain}" '
                f'cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#fff" stroke="#000" stroke-width="1.5"/>'
            )
            body.append(
                f'<text x="{x:.1f}" y="{y - 5:.1f}" text-anchor="middle" {FONT}>{pain}</text>'
            )
        body.append(f'<text x="{LEFT:g}" y="{y0 + 12 * k:g}" {FONT}>{_short(first)}</text>')
        if last != first:
            body.append(
                f'<text x="{LEFT + plot_w:g}" y="{y0 + 12 * k:g}" text-anchor="end" {FONT}>'
                f"{_short(last)}</text>"
            )
    else:
        body.append(
            f'<text x="{LEFT + plot_w / 2:g}" y="{TOP + plot_h / 2:g}" text-anchor="middle" {FONT}>'
            "No pain scores yet</text>"
        )
    return _frame(chart_id, "Pain over time", pain_text(points), body)
