"""The body map SVG: structure, marking, ids, errors."""

import re
import xml.etree.ElementTree as ET

import pytest

from trainer_app.library.bodymap import REGION_NAMES, body_map_svg

SVG = "{http://www.w3.org/2000/svg}"

REGION_IDS = {
    "glutes",
    "abdominals",
    "obliques",
    "lower_back",
    "hamstrings",
    "quadriceps",
    "hip_flexors",
    "adductors",
    "calves",
    "chest",
    "upper_trapezius",
    "mid_back",
    "rear_deltoids",
    "front_deltoids",
    "lats",
    "neck_flexors",  # deep neck flexors: the chin tuck's (physiotherapist review)
}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def regions(root: ET.Element) -> list[ET.Element]:
    return [el for el in root.iter() if "data-region" in el.attrib]


def test_region_names_cover_exactly_the_agreed_ids():
    assert set(REGION_NAMES) == REGION_IDS
    assert all(name.strip() for name in REGION_NAMES.values())


def test_valid_standalone_svg_with_every_region_in_front_or_back():
    root = parse(body_map_svg())
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox")
    front = root.find(f".//{SVG}g[@id='bm-front']")
    back = root.find(f".//{SVG}g[@id='bm-back']")
    assert front is not None and back is not None
    seen = {el.get("data-region") for el in regions(front)} | {
        el.get("data-region") for el in regions(back)
    }
    assert seen == REGION_IDS


def test_every_region_element_has_a_title_with_its_display_name():
    root = parse(body_map_svg())
    for el in regions(root):
        title = el.find(f"{SVG}title")
        assert title is not None
        assert title.text == REGION_NAMES[el.get("data-region")]
        assert el.findall(f"{SVG}path"), "region has a drawn shape"


def test_no_scripts_and_no_external_references():
    svg = body_map_svg(["glutes"], ["chest"])
    root = parse(svg)
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert not tags & {"script", "image", "foreignObject", "a", "use", "style"}
    for el in root.iter():
        for name, value in el.attrib.items():
            assert "href" not in name
            assert not name.startswith("on")
            for ref in re.findall(r"url\(([^)]*)\)", value):
                assert ref.startswith("#")
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def classes(root, region):
    return [
        set(el.get("class", "").split()) for el in regions(root) if el.get("data-region") == region
    ]


def test_marking_classes_weak_overactive_neutral():
    root = parse(body_map_svg(weak=["glutes", "abdominals"], overactive=["hip_flexors"]))
    assert all("region--weak" in c for c in classes(root, "glutes"))
    assert all("region--weak" in c for c in classes(root, "abdominals"))
    assert all("region--overactive" in c for c in classes(root, "hip_flexors"))
    for c in classes(root, "chest"):
        assert "region--neutral" in c
        assert not c & {"region--weak", "region--overactive"}


def test_weak_is_solid_and_overactive_is_a_hatch_pattern():
    root = parse(body_map_svg(weak=["glutes"], overactive=["chest"]))
    weak = next(el for el in regions(root) if el.get("data-region") == "glutes")
    over = next(el for el in regions(root) if el.get("data-region") == "chest")
    assert weak.get("fill").startswith("#")
    assert over.get("fill") == "url(#bm-hatch)"


def test_region_in_both_lists_gets_both_classes():
    root = parse(body_map_svg(weak=["glutes"], overactive=["glutes"]))
    for c in classes(root, "glutes"):
        assert {"region--weak", "region--overactive"} <= c


@pytest.mark.parametrize("legend", [True, False])
@pytest.mark.parametrize(
    ("weak", "over"), [((), ()), (["glutes"], ()), ((), ["chest"]), (["lats"], ["lats"])]
)
def test_patterns_referenced_only_when_defined(weak, over, legend):
    root = parse(body_map_svg(weak, over, legend=legend))
    defined = {el.get("id") for el in root.iter() if el.get("id")}
    for el in root.iter():
        for value in el.attrib.values():
            for ref in re.findall(r"url\(#([^)]*)\)", value):
                assert ref in defined


def test_legend_shows_both_styles_and_can_be_turned_off():
    with_legend = body_map_svg()
    assert "Weak" in with_legend and "Overactive" in with_legend
    root = parse(with_legend)
    assert root.find(f".//{SVG}g[@class='legend']") is not None
    without = parse(body_map_svg(legend=False))
    assert without.find(f".//{SVG}g[@class='legend']") is None
    assert float(without.get("height")) < float(root.get("height"))


def test_width_sets_the_rendered_width():
    root = parse(body_map_svg(width=120))
    assert root.get("width") == "120"


@pytest.mark.parametrize(
    "kwargs",
    [{"weak": ["glute"]}, {"overactive": ["neck"]}, {"weak": ["Glutes"]}, {"weak": "biceps"}],
)
def test_unknown_region_raises(kwargs):
    with pytest.raises(ValueError, match="region"):
        body_map_svg(**kwargs)


@pytest.mark.parametrize("prefix", ["", "1abc", 'a"b', "a b", "a<b"])
def test_bad_id_prefix_raises(prefix):
    with pytest.raises(ValueError):
        body_map_svg(id_prefix=prefix)


def test_two_prefixes_produce_no_id_clash():
    a = body_map_svg(["glutes"], ["chest"], id_prefix="cover")
    b = body_map_svg(["glutes"], ["chest"], id_prefix="ex1")
    ids_a = [el.get("id") for el in parse(a).iter() if el.get("id")]
    ids_b = [el.get("id") for el in parse(b).iter() if el.get("id")]
    assert ids_a and ids_b
    assert len(set(ids_a)) == len(ids_a)
    assert not set(ids_a) & set(ids_b)
    assert all(i.startswith("cover") for i in ids_a)
    for svg, prefix in ((a, "cover"), (b, "ex1")):
        for ref in re.findall(r"url\(#([^)]*)\)", svg):
            assert ref.startswith(prefix)


def test_title_is_escaped():
    root = parse(body_map_svg(title='<script>alert(1)</script> & "x"'))
    title = root.find(f"{SVG}title")
    assert title.text == '<script>alert(1)</script> & "x"'
    assert root.find(f".//{SVG}script") is None


def test_untested_regions_are_drawn_apart_from_normal_ones():
    svg = body_map_svg(weak=["glutes"], untested=["hamstrings", "glutes"], id_prefix="u")
    assert 'class="region region--untested" data-region="hamstrings"' in svg
    assert "<title>Hamstrings (not tested)</title>" in svg
    # a weak region keeps its mark; an unlisted one stays plain
    assert 'class="region region--weak" data-region="glutes"' in svg
    assert 'class="region region--neutral" data-region="calves"' in svg
    assert ">Not tested</text>" in svg
    assert ">Not tested</text>" not in body_map_svg(weak=["glutes"], id_prefix="n")
