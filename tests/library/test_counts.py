"""Library counts agree everywhere, and "No equipment" means bodyweight exercises."""

from __future__ import annotations

import re

import pytest

from trainer_app.library import service
from trainer_app.library.catalog import default_catalog

CATALOG = default_catalog()


def _cards(html: str) -> list[str]:
    return re.findall(r'<h3 class="h6 mb-0 fw-semibold"><a [^>]*href="/library/([a-z0-9_]+)"', html)


def test_overview_link_heading_and_filtered_page_agree(client, auth):
    auth.login()
    page = client.get("/library/").get_data(as_text=True)
    for slug, imbalance in CATALOG.imbalances.items():
        link = re.search(rf'href="/library/\?imbalance={slug}">Show (\d+) exercises', page).group(1)
        heading = re.search(
            rf">{re.escape(imbalance.name)}</h2>\s*<span[^>]*>(\d+) exercises?</span>", page
        ).group(1)
        filtered = client.get(f"/library/?imbalance={slug}").get_data(as_text=True)
        shown = _cards(filtered)
        assert int(link) == int(heading) == len(shown), slug
        assert f"{len(shown)} of {len(CATALOG.exercises)} exercises match" in filtered
        assert set(shown) == {ex.slug for ex in CATALOG.for_imbalance(slug)}


def test_each_card_once_and_shared_exercises_listed_under_their_other_imbalance(client, auth):
    auth.login()
    page = client.get("/library/").get_data(as_text=True)
    cards = _cards(page)
    assert sorted(cards) == sorted(CATALOG.exercises)
    # Child's pose treats two imbalances (glutes and core, not hamstrings): one card, one
    # "also" mention
    assert cards.count("childs_pose") == 1
    assert page.count('<a href="/library/childs_pose">Child&#39;s pose</a> <span>(under') == 1


def test_groups_count_every_exercise_for_their_imbalance():
    groups = service.group_by_imbalance(CATALOG, list(CATALOG.exercises.values()))
    for group in groups:
        if group.imbalance:
            assert group.count == len(CATALOG.for_imbalance(group.imbalance.slug))
    assert sum(len(g.exercises) for g in groups) == len(CATALOG.exercises)
    assert service.imbalance_counts(CATALOG) == {
        slug: len(CATALOG.for_imbalance(slug)) for slug in CATALOG.imbalances
    }


def test_no_equipment_means_bodyweight_exercises():
    found = service.filter_exercises(CATALOG, equipment="none", kind="strength")
    slugs = {ex.slug for ex in found}
    # a mat and a wall count as no equipment; a bench, weights, a band or a partner do not
    assert {"glute_bridge", "plank", "dead_bug", "split_squat", "hip_hinge_drill"} <= slugs
    assert not {"hip_thrust", "romanian_deadlift", "nordic_curl", "face_pull"} & slugs
    assert all(set(ex.equipment) <= {"none", "mat", "wall"} for ex in found)
    everything = [
        ex
        for ex in CATALOG.exercises.values()
        if ex.kind == "strength" and set(ex.equipment) <= service.BODYWEIGHT
    ]
    assert found == everything
    assert len(found) > 10


@pytest.mark.parametrize(
    ("query", "present", "absent"),
    [
        ("equipment=none&kind=strength", ["glute_bridge", "plank", "split_squat"], ["hip_thrust"]),
        (
            "equipment=none&kind=release",
            ["doorway_chest_stretch", "childs_pose"],
            ["foam_roll_quadriceps"],
        ),
        ("equipment=mat", ["glute_bridge", "nordic_curl"], ["split_squat", "hip_thrust"]),
    ],
)
def test_equipment_filter_on_the_page(client, auth, query, present, absent):
    auth.login()
    html = client.get(f"/library/?{query}").get_data(as_text=True)
    shown = _cards(html)
    assert set(present) <= set(shown)
    assert not set(absent) & set(shown)
    assert f"{len(shown)} of {len(CATALOG.exercises)} exercises match" in html
    if "none" in query:
        assert "No equipment (bodyweight; a mat or wall is fine)" in html
