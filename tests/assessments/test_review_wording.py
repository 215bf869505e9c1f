"""What a physiotherapist's review found on the results and compare pages (issue 10)."""

from __future__ import annotations

import pytest

from tests.assessments.test_views import _build, record, text


@pytest.fixture
def signed_in(client, auth, factories):
    """A signed-in trainer and one of their clients."""
    auth.login()
    return auth.user, factories.client_record(auth.user, name="Maria Jensen")


NOT_TESTED = {
    "single_leg_bridge_hold_left": None,
    "single_leg_bridge_hold_left__status": "not_tested",
    "single_leg_bridge_hold_right": None,
    "single_leg_bridge_hold_right__status": "not_tested",
    "hamstring_bridge_reps_left": None,
    "hamstring_bridge_reps_left__status": "not_tested",
    "hamstring_bridge_reps_right": None,
    "hamstring_bridge_reps_right__status": "not_tested",
}


def _line(page: str, element_id: str, end: str = "</li>") -> str:
    found = page[page.index(f'id="{element_id}"') :]
    return found[: found.index(end)]


def test_compare_leads_with_an_uncleared_red_flag_and_interprets_nothing(client, signed_in):
    _, person = signed_in
    record(client, person.id, forward_head_shoulders="marked")
    second = record(client, person.id, forward_head_shoulders="mild", saddle_numbness="yes")
    page = text(client.get(f"/assessments/{second}/compare"))
    section = _line(page, "compare-red-flags", "</section>")
    assert "Emergency: same-day emergency care" in section
    assert "emergency department" in section
    assert f'href="/assessments/{second}#clearance"' in section
    # nothing is read as better or worse while the red flag stands
    assert "Improved" not in page and "Worse" not in page
    assert 'id="change-' not in page and "Marked" not in page


def test_results_say_left_right_not_tested_when_no_side_was_measured(client, signed_in):
    _, person = signed_in
    none = record(client, person.id, **NOT_TESTED)
    line = _line(text(client.get(f"/assessments/{none}")), "finding-asymmetry")
    assert "left/right not tested" in line
    assert "no left/right difference of 15% or more was measured" not in line

    measured = record(client, person.id, single_leg_bridge_hold_left="38")
    line = _line(text(client.get(f"/assessments/{measured}")), "finding-asymmetry")
    assert "no left/right difference of 15% or more was measured" in line


def test_the_blocked_text_names_who_may_clear_by_urgency(client, signed_in):
    _, person = signed_in
    emergency = record(client, person.id, saddle_numbness="yes")
    card = _line(text(client.get(f"/assessments/{emergency}")), "clearance", "</form>")
    assert "seen by a doctor (an emergency sign is cleared by a doctor only)" in card
    assert "doctor or physiotherapist" not in card

    urgent = record(client, person.id, cancer_history="yes")
    card = _line(text(client.get(f"/assessments/{urgent}")), "clearance", "</form>")
    assert "seen by a doctor or physiotherapist" in card


def test_a_gap_closed_by_the_stronger_side_falling_is_not_improved(client, signed_in):
    _, person = signed_in
    record(client, person.id, side_plank_hold_left="25", side_plank_hold_right="30")
    second = record(client, person.id, side_plank_hold_left="25", side_plank_hold_right="26")
    page = text(client.get(f"/assessments/{second}/compare"))
    section = _line(page, "change-asymmetry", "</section>")
    row = _line(section, "test-side_plank_hold_sides", "</tr>")
    assert "left 25 s, right 30 s" in row and "left 25 s, right 26 s" in row
    assert "Difference smaller, but the stronger side fell" in row
    assert "Improved" not in section

    # the weaker side gaining beyond the noise is what improves the difference
    record(client, person.id, side_plank_hold_left="20", side_plank_hold_right="30")
    fourth = record(client, person.id, side_plank_hold_left="27", side_plank_hold_right="30")
    page = text(client.get(f"/assessments/{fourth}/compare"))
    row = _line(page, "test-side_plank_hold_sides", "</tr>")
    assert "Improved" in row


def test_a_sign_positive_on_both_sides_cites_both(client, signed_in):
    _, person = signed_in
    both = {
        "thomas_test_left": "yes",
        "thomas_test_right": "yes",
        "pec_minor_short_left": "yes",
        "pec_minor_short_right": "yes",
    }
    assessment_id = record(client, person.id, **both)
    page = text(client.get(f"/assessments/{assessment_id}"))
    for test in ("thigh stays above the table", "shoulder stays off the table"):
        for side in ("Left", "Right"):
            assert f"{side} {test}" in page[page.index('id="h-findings"') :]
    program = _build(client, assessment_id, ["weak_glutes", "weak_core"])
    release = "releases the hip flexors, measured tight: left thigh stays above the table"
    assert release in program
    assert "(short hip flexors); right thigh stays above the table" in program


def test_problem_areas_and_map_show_weak_only_where_a_test_says_so(client, signed_in):
    _, person = signed_in
    assessment_id = record(
        client,
        person.id,
        front_plank_hold="12",  # weak core from the plank
        side_plank_hold_left="60",  # obliques tested, not weak
        side_plank_hold_right="60",
        forward_head_shoulders="marked",  # upper back flagged by an observation
        # left bridge 15 s, right 40 s (valid_answers): only the left glutes are weak
    )
    page = text(client.get(f"/assessments/{assessment_id}"))
    areas = _line(page, "h-map", "</p>")
    weak = areas[areas.index("Weak (") : areas.index(";") if ";" in areas else None]
    weak = weak.split("Commonly paired")[0]
    assert "Glutes (left only)" in weak and "Abdominals" in weak
    for muscle in ("Obliques", "Upper trapezius", "Rear deltoids"):
        assert muscle not in weak
    paired = _line(areas, "paired-regions", "</span>")
    assert "Upper trapezius" in paired and "Rear deltoids" in paired
    assert "Obliques" not in paired  # tested, not weak

    svg = page[page.index('id="bm-result"') :]
    svg = svg[: svg.index("</svg>")]
    assert 'region--weak" data-region="obliques"' not in svg
    assert 'region--weak" data-region="upper_trapezius"' not in svg
    assert 'region--weak" data-region="rear_deltoids"' not in svg
    glutes = [g for g in svg.split("<g ") if 'data-region="glutes"' in g]
    # the left glute is shaded, the right one is drawn unmarked
    assert len(glutes) == 2
    assert "region--weak" in glutes[0] and "<title>Glutes (left)</title>" in glutes[0]
    assert "region--weak" not in glutes[1]
