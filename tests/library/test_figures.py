"""Exercise drawings: every built-in exercise is drawn, and broken poses are refused clearly."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from trainer_app.library import figures, poses
from trainer_app.library.catalog import default_catalog
from trainer_app.library.figures import FigureError, build_scene, check_poses, exercise_figures
from trainer_app.library.poses import PoseFileError, parse_poses

SVG = "{http://www.w3.org/2000/svg}"
BUILTIN = sorted(default_catalog().exercises)
# WeasyPrint's cost grows with elements and path points (DESIGN.md): keep each drawing small.
MAX_ELEMENTS = 40
MAX_BYTES = 4000


@pytest.mark.parametrize("slug", BUILTIN)
def test_every_builtin_exercise_is_drawn_as_small_valid_svg(slug):
    drawn = exercise_figures(slug)
    assert [f.pose for f in drawn] in (["start", "end"], ["start", "middle", "end"])
    boxes = set()
    for figure in drawn:
        root = ET.fromstring(figure.svg)
        assert root.tag == f"{SVG}svg"
        x, y, width, height = (float(v) for v in root.get("viewBox").split())
        assert 4 / 3 - 0.01 <= width / height <= 2 + 0.01
        assert (float(root.get("width")), float(root.get("height"))) == pytest.approx(
            (width, height), abs=0.1
        )
        assert root.get("role") == "img" and root.get("aria-label") == figure.label
        elements = list(root.iter())
        assert not [e for e in elements if e.tag == f"{SVG}text"], "no text inside drawings"
        assert len(elements) <= MAX_ELEMENTS
        assert len(figure.svg) <= MAX_BYTES
        boxes.add((x, y, width, height))
    assert len(boxes) == 1, "all poses of an exercise share one frame"


def test_a_movement_arrow_leads_from_each_pose_but_the_last():
    start, end = exercise_figures("glute_bridge")
    arrowheads = [
        e for e in ET.fromstring(start.svg).iter(f"{SVG}path") if e.get("fill") == "#000000"
    ]
    assert len(arrowheads) == 1
    assert 'fill="#000000"' not in end.svg


def test_the_working_limb_is_solid_and_the_other_side_outlined():
    start = exercise_figures("single_leg_glute_bridge")[0].svg
    solid = re.findall(r'<polyline points="([^"]+)" stroke="#1f1f1f" stroke-width="11"/>', start)
    filled = re.findall(r'<polyline points="([^"]+)" stroke="#(?:ffffff|e4e4e4)"', start)
    # The working (right) leg is one solid stroke; the left leg has an outline and a fill.
    assert any(points not in filled for points in solid)


def test_an_exercise_without_poses_has_no_drawing():
    assert exercise_figures("clinic_7_wall_angel") == ()


def test_the_package_poses_cover_exactly_the_builtin_exercises():
    scenes = check_poses(poses.default_poses(), BUILTIN)
    assert set(scenes) == set(BUILTIN)


# --------------------------------------------------------------------------- broken poses

GOOD = """
version: "2026.11.1"
exercises:
  hip_thrust:
    view: side
    anchor: upper_back
    props:
      - {kind: bench, at: upper_back, pose: end, edge: right, inset: -6, height: 40}
    arrows: [{point: pelvis}]
    poses:
      - name: start
        trunk: 114
        hip: 101
        knee: 82
        ankle: -43
        contacts: {upper_back: bench, heel: ground}
      - name: end
        trunk: 180
        hip: 0
        knee: 90
        contacts: {upper_back: bench, heel: ground}
"""


def scene_from(text: str):
    parsed = parse_poses(text)
    return build_scene("hip_thrust", parsed.exercises["hip_thrust"])


def test_the_sample_exercise_is_valid():
    assert len(figures.draw_scene(scene_from(GOOD))) == 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "knee: 82",
            "knee: {right: 170, left: 82}",
            "poses.yaml: hip_thrust, pose start: right knee flexion of 170 is outside the "
            "anatomical range 0 to 160",
        ),
        (
            "hip: 101",
            "hip: {flex: 101, abd: 75}",
            "pose start: right hip abduction of 75 is outside the anatomical range -30 to 60",
        ),
        (
            "trunk: 114",
            "trunk: 140",
            "poses.yaml: hip_thrust, pose start: the right heel should rest on the ground but is "
            "34 cm away from it (rule: every listed contact touches its support)",
        ),
        (
            "contacts: {upper_back: bench, heel: ground}\n      - name: end",
            "contacts: {heel: ground}\n      - name: end",
            "pose start: the figure would topple",
        ),
        (
            "      - {kind: bench",
            "      - {kind: wall, at: heel, pose: end, position: left}\n      - {kind: bench",
            "pose start: the head passes through the wall "
            "(rule: the body rests on props, never inside them)",
        ),
        (
            "arrows: [{point: pelvis}]",
            "arrows: [{point: right_heel}]",
            "pose end: the right heel moves only 2 cm in the side view, so the arrow would "
            "hide the movement",
        ),
    ],
)
def test_a_broken_pose_is_refused_naming_exercise_pose_joint_and_rule(old, new, message):
    assert old in GOOD
    with pytest.raises(FigureError) as raised:
        scene_from(GOOD.replace(old, new, 1))
    assert message in str(raised.value)


def test_a_prop_the_body_never_touches_is_refused():
    text = GOOD.replace(
        "      - {kind: bench",
        "      - {kind: box, at: heel, pose: start, shift: 60}\n      - {kind: bench",
    )
    with pytest.raises(FigureError, match="the box is touched in no pose"):
        scene_from(text)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("knee: 82", "knees: 82", "poses.yaml: hip_thrust, pose 1, knees: unknown field"),
        ("trunk: 114", "trunk: upright", "poses.yaml: hip_thrust, pose 1, trunk:"),
        (
            "{upper_back: bench, heel: ground}\n      - name: end",
            "{upper_back: sofa, heel: ground}\n      - name: end",
            "poses.yaml: hip_thrust, pose 1, contacts.upper_back:",
        ),
        ("name: end", "name: finish", "poses.yaml: hip_thrust, pose 2, name:"),
        ("view: side", "view: side\n    view: front", "duplicate key 'view'"),
        ("anchor: upper_back", "anchor: elbow_pit", "unknown body point 'elbow_pit'"),
    ],
)
def test_a_malformed_poses_file_is_refused_naming_the_place(old, new, message):
    with pytest.raises(PoseFileError) as raised:
        parse_poses(GOOD.replace(old, new, 1))
    assert message in str(raised.value)


def test_every_builtin_exercise_needs_poses_and_no_unknown_ones():
    parsed = parse_poses(GOOD)
    with pytest.raises(FigureError, match="glute_bridge: no poses for this exercise"):
        check_poses(parsed, ["hip_thrust", "glute_bridge"])
    with pytest.raises(FigureError, match="hip_thrust: no such exercise in exercises.yaml"):
        check_poses(parsed, [])


def test_the_app_refuses_to_start_with_broken_poses(monkeypatch, tmp_path):
    from trainer_app import create_app

    broken = parse_poses(GOOD.replace("knee: 82", "knee: 175", 1))
    monkeypatch.setattr(figures, "default_poses", lambda: broken)
    figures._scene.cache_clear()
    monkeypatch.setenv("TRAINER_INSTANCE_PATH", str(tmp_path))
    try:
        with pytest.raises(FigureError, match="no poses for this exercise|knee flexion of 175"):
            create_app({"TESTING": True, "SECRET_KEY": "x"})
    finally:
        figures._scene.cache_clear()
