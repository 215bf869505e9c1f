"""A plan as the product really builds it, for the page-count tests and the benchmark.

The items, doses and weekly progressions come from the builder and the library (the demo
assessment: four imbalances, eight exercises; four more exercises for a hamstring target make
twelve), through ``plans.context.plan_context`` itself, with stand-ins for the database rows.
Added as a real plan has them: the client's progress link and two and a half weeks of logged
sessions and pain (QR code and charts), a medical clearance line, the clinic's logo.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from types import SimpleNamespace

from tests.plans.sample_context import tiny_png
from trainer_app.assessments.questionnaire import default_questionnaire
from trainer_app.assessments.scoring import result_to_dict, score, suggested_imbalances
from trainer_app.demo import DEMO_ANSWERS
from trainer_app.library.catalog import default_catalog
from trainer_app.plans.context import plan_context
from trainer_app.plans.options import CLIENT_COPY
from trainer_app.programs.builder import (
    BuildOptions,
    build_program,
    draft_to_dict,
    targets_from_scores,
)
from trainer_app.progress.printed import progress_context
from trainer_app.progress.rules import WeekAdherence

PROGRESS_URL = (
    "https://clinic.example.com/p/WzEsIjBwc3V3ay0xQk1TbmhheHUiXQ.HkK773OKnCODZvq213WJcAGBy-M"
)
CLEARANCE = (
    "Cleared by Dr Anne Holm (general practitioner) on 20 Nov 2026 — restrictions: "
    "no loaded spinal flexion for six weeks"
)


@functools.cache
def _content(pregnant: bool = False) -> dict:
    """Twelve exercises as the builder writes them: the demo's eight, then four more. For a
    pregnant client (the health question answered yes) the builder leaves out what her caution
    rules out, and the plan adds the pregnancy warning signs to its stop box."""
    result = score(default_questionnaire(), {**DEMO_ANSWERS, "pregnant": pregnant})
    confirmed = list(suggested_imbalances(result))
    catalog = default_catalog()
    cautions = frozenset(c.caution for c in result.cautions)
    options = BuildOptions(sessions_per_week=3, weeks=6, cautions=cautions)
    main = draft_to_dict(
        build_program(targets_from_scores(result.imbalances, confirmed), catalog, options)
    )
    extra = draft_to_dict(
        build_program(targets_from_scores(result.imbalances, ["weak_hamstrings"]), catalog, options)
    )
    extra_items = [
        i
        for i in extra["items"]
        if i["exercise_slug"] not in {j["exercise_slug"] for j in main["items"]}
    ]
    for other in ("upper_crossed", "weak_core", "weak_glutes"):
        more = draft_to_dict(
            build_program(targets_from_scores(result.imbalances, [other]), catalog, options)
        )
        taken = {j["exercise_slug"] for j in main["items"] + extra_items}
        extra_items += [i for i in more["items"] if i["exercise_slug"] not in taken]
    main["items"] = main["items"] + extra_items[:4]
    # her caution leaves fewer exercises for these targets (ten in December 2026)
    assert len(main["items"]) >= 8 if pregnant else len(main["items"]) == 12, len(main["items"])
    return {"content": main, "result": result_to_dict(result), "confirmed": confirmed}


def realistic_context(
    n: int,
    *,
    paper: str = "A4",
    large_print: bool = False,
    audience: str = CLIENT_COPY,
    pregnant: bool = False,
) -> dict:
    """The plan context of an ``n``-exercise plan (n up to 12, 8 for a pregnant client), as the
    worker renders it."""
    built = _content(pregnant)
    content = {**built["content"], "items": built["content"]["items"][:n]}
    clinic = SimpleNamespace(
        name="Demo Movement Clinic",
        accent_color="#2f6f8f",
        logo=tiny_png(),
        logo_mime="image/png",
        contact="12 Harbour Street, Aarhus · +45 12 34 56 78 · demo@example.com",
        time_zone="Europe/Copenhagen",
    )
    client = SimpleNamespace(name="Maria Jensen", primary_trainer=None)
    trainer = SimpleNamespace(name="Demo Trainer", email="demo@example.com")
    assessment = SimpleNamespace(result=built["result"], confirmed_imbalances=built["confirmed"])
    program = SimpleNamespace(
        client=client,
        assessment=assessment,
        title="Back-care program",
        retest_on=date(2026, 12, 12),
    )
    version = SimpleNamespace(
        program=program,
        created_by=trainer,
        content=content,
        number=2,
        created_at=datetime(2026, 11, 14, 9, 30, tzinfo=UTC),
    )
    context = plan_context(
        version,
        clinic=clinic,
        catalog=default_catalog(),
        previous=None,
        paper=paper,
        large_print=large_print,
        audience=audience,
    )
    weeks = [
        WeekAdherence(week=1, starts=date(2026, 11, 14), done=3, prescribed=3, current=False),
        WeekAdherence(week=2, starts=date(2026, 11, 21), done=2, prescribed=3, current=False),
        WeekAdherence(week=3, starts=date(2026, 11, 28), done=1, prescribed=3, current=True),
    ]
    pain = [
        (date(2026, 11, d), p) for d, p in ((14, 5), (16, 4), (18, 4), (21, 4), (24, 3), (28, 3))
    ]
    context["progress"] = progress_context(PROGRESS_URL, "22 January 2027", weeks, pain)
    context["clearance"] = {"line": CLEARANCE}
    return context
