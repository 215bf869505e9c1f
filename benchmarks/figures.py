"""What the exercise drawings cost in WeasyPrint: plan cards rendered with and without them.

Run: ``.venv/bin/python benchmarks/figures.py [--rounds N] [--quick]``

Both sides are the plan HTML the product renders today (``plans.render.plan_html`` of the
12-exercise sample context used by the PDF tests), bare ``weasyprint.HTML(...).write_pdf`` in
this warm process with the product's options (``plans.render.pdf_arguments``: the drawings'
rasters in the shared image cache, the tagged PDF output, the parsed stylesheet). The "with"
side is that HTML as it is: each card's drawings and the overview's small drawing per exercise.
The "without" side is the same HTML with those pictures taken out. Rounds alternate which side
goes first; the report gives medians, the ratio, and the cost per card and per drawing. It also
times one card alone (a one-card document) with and without its drawings, building every
drawing from the poses file and rasterising the plan's drawings (once per process; cached
after).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._support import (  # noqa: E402
    Figure,
    add_figures_option,
    fmt_seconds,
    median,
    ratio,
    table,
    write_figures,
)

# Issue 12: the drawings must not make renders slower than before them; 10 % is the allowance.
TARGET_DRAWINGS_RATIO = 1.10  # plan with drawings / without, at most

CARD = re.compile(r'<article class="card card-[a-z]+">')
# The exercise drawings the plan carries: on each card, and one per exercise on the overview.
DRAWING = re.compile(r'<img class="(?:card-figure|figure)" src="drawings/[^"]*"[^>]*>')


def without_figures(html: str) -> str:
    """The same HTML with every exercise drawing taken out."""
    return DRAWING.sub("", html)


def one_card(html: str) -> str:
    """The plan HTML cut down to its first exercise card (head and styles kept)."""
    head, _, rest = html.partition("<body")
    body_open, _, body = rest.partition(">")
    first = CARD.search(body)
    end = body.index("</article>", first.start()) + len("</article>")
    return f"{head}<body{body_open}>{body[first.start() : end]}</body></html>"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="default 7, or 3 with --quick")
    parser.add_argument("--quick", action="store_true", help="3 rounds, about 30 s")
    add_figures_option(parser)
    args = parser.parse_args()
    args.rounds = args.rounds or (3 if args.quick else 7)

    import weasyprint

    from tests.plans.sample_context import sample_context
    from trainer_app.library import figures
    from trainer_app.library.catalog import default_catalog
    from trainer_app.plans import render

    started = time.perf_counter()
    slugs = list(default_catalog().exercises)
    figures.check_default(slugs)
    checked = time.perf_counter() - started
    started = time.perf_counter()
    for slug in slugs:
        figures.exercise_figures(slug)
    drawn = time.perf_counter() - started

    started = time.perf_counter()
    plan = render.plan_html(sample_context())  # rasterises the plan's drawings, once a process
    first_html = time.perf_counter() - started
    started = time.perf_counter()
    plan = render.plan_html(sample_context())
    rastered = first_html - (time.perf_counter() - started)
    cards = len(CARD.findall(plan))
    drawings = len(DRAWING.findall(plan))
    if not cards or not drawings:
        raise SystemExit(
            f"the plan HTML has {cards} cards and {drawings} drawings: update CARD/DRAWING"
        )
    docs = {
        "plan, no drawings": without_figures(plan),
        "plan, with drawings": plan,
        "one card, no drawings": without_figures(one_card(plan)),
        "one card, with drawings": one_card(plan),
    }
    base_url = str(render.STATIC_DIR) + os.sep

    def bare(html: str) -> float:
        # As the product renders (the plans pipeline's bare render does the same): the shared
        # font configuration and image cache holding the drawings' rasters, the tagged PDF/UA
        # output and the parsed stylesheet; no fork, no URL fetcher.
        html, options = render.pdf_arguments(html)
        t = time.perf_counter()
        weasyprint.HTML(string=html, base_url=base_url).write_pdf(**options)
        return time.perf_counter() - t

    for html in docs.values():  # warm-up: fonts, caches
        bare(html)
    times: dict[str, list[float]] = {name: [] for name in docs}
    names = list(docs)
    for i in range(args.rounds):
        order = names if i % 2 == 0 else list(reversed(names))
        for name in order:
            times[name].append(bare(docs[name]))
    med = {name: median(values) for name, values in times.items()}

    plan_delta = med["plan, with drawings"] - med["plan, no drawings"]
    card_delta = med["one card, with drawings"] - med["one card, no drawings"]
    print(f"{cards} exercise cards, {drawings} drawings in the plan, {args.rounds} rounds\n")
    print(table(["document", "median render"], [[n, fmt_seconds(med[n])] for n in names]))
    print()
    print(
        table(
            ["measure", "value"],
            [
                [
                    "plan with / without drawings",
                    f"{ratio(med['plan, with drawings'], med['plan, no drawings']):.2f}",
                ],
                ["added per card (plan)", fmt_seconds(plan_delta / cards)],
                ["added per drawing (plan)", fmt_seconds(plan_delta / drawings)],
                [
                    "one card with / without",
                    f"{ratio(med['one card, with drawings'], med['one card, no drawings']):.2f}",
                ],
                ["added to one card alone", fmt_seconds(card_delta)],
                ["check all poses (once per process)", fmt_seconds(checked)],
                ["draw every exercise's SVG (once per process)", fmt_seconds(drawn)],
                ["rasterise the plan's drawings (once per process)", fmt_seconds(rastered)],
            ],
        )
    )
    plan_ratio = ratio(med["plan, with drawings"], med["plan, no drawings"])
    figure = Figure(
        "plan render with / without the exercise drawings",
        plan_ratio,
        TARGET_DRAWINGS_RATIO,
        at_most=True,
    )
    write_figures(args.figures, [figure])
    return 0


if __name__ == "__main__":
    sys.exit(main())
