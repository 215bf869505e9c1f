"""Exercise drawings made by the product: a human figure posed from joint angles, as SVG.

Pure module (no Flask, no database). For each exercise, data/poses.yaml gives two or three key
poses as joint angles. Forward kinematics from the pelvis builds the body in 3D; the figure is
turned to the exercise's view (side, front or back), kept in place at its anchor point, and
lowered until it rests on the ground or a prop; then it is drawn with orthographic projection
(optionally turned and seen from above, for the picture only).

The drawing is made for WeasyPrint's cost: each limb is one round-capped polyline (an ink stroke
and a paper stroke inside it for the outline), the trunk likewise, a circle for the head and a few
plain shapes for the ground and props (DESIGN.md: few primitives, not many path points, keep a
drawing cheap). Black-and-white safe: limbs are outlined, a working limb is solid ink, the far
side is grey, the movement is a black arrow. No text inside the drawing.

Units are centimetres (a 176 cm figure); angles are degrees. `build_scene` checks every pose and
names the exercise, the pose, the joint and the rule, so whoever edits poses.yaml can fix it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from trainer_app.library.poses import (
    POSES_FILE,
    SIDES,
    Angles,
    Band,
    Barbell,
    Block,
    Dumbbell,
    ExercisePoses,
    FoamRoller,
    Hold,
    Mat,
    Pose,
    PoseFileError,
    PosesFile,
    Wall,
    default_poses,
)

Vec = tuple[float, float, float]

# --------------------------------------------------------------------------- the body

PELVIS_TO_WAIST = 25.0
WAIST_TO_NECK = 27.0
NECK_TO_HEAD = 17.0
SHOULDER_DROP = 5.0
SHOULDER_HALF = 17.0
HIP_HALF = 9.0
THIGH, SHANK, FOOT = 44.0, 46.0, 19.0
UPPER_ARM, FOREARM = 29.0, 30.0

TORSO_W, LEG_W, ARM_W, FOOT_W, SHOULDER_LINE_W = 22.0, 11.0, 9.0, 8.0, 10.0
TORSO_FRONT_W = 16.0  # the round-joined outline of the trunk seen from the front
HEAD_R = 11.0
# The point on the trunk that rests on a bench in a hip thrust: below the shoulder blades.
UPPER_BACK_AT = 0.55

# Segment masses as fractions of body mass (rounded from Dempster's table) for the balance rule.
MASS = {"trunk": 0.50, "head": 0.08, "thigh": 0.10, "shank": 0.06, "upper_arm": 0.03, "arm": 0.02}

# Anatomical ranges (degrees; shrug in cm): active ranges of motion of healthy adults (AAOS
# norms), with a few degrees' margin for drawing; the ankle allows more plantar flexion because
# the drawn foot is a straight heel-to-toe line (kneeling on the tops of the feet). The model is
# 3D, so the same ranges hold in every view.
RANGES: dict[str, tuple[float, float]] = {
    "hip.flex": (-30, 140),
    "hip.abd": (-30, 60),
    "hip.rot": (-45, 60),
    "knee": (0, 160),
    "ankle": (-70, 35),
    "shoulder.flex": (-60, 180),
    "shoulder.abd": (-10, 180),
    "shoulder.rot": (-90, 90),
    "elbow": (0, 150),
    "spine": (-30, 60),
    "neck": (-50, 60),
    "neck_side": (-45, 45),
    "shrug": (0, 10),
    "turn": (-90, 90),
}
JOINT_WORDS = {
    "hip.flex": "hip flexion",
    "hip.abd": "hip abduction",
    "hip.rot": "hip rotation",
    "knee": "knee flexion",
    "ankle": "ankle dorsiflexion",
    "shoulder.flex": "shoulder flexion",
    "shoulder.abd": "shoulder abduction",
    "shoulder.rot": "shoulder rotation",
    "elbow": "elbow flexion",
    "spine": "spine flexion",
    "neck": "neck flexion",
    "neck_side": "neck side bend",
    "shrug": "shoulder elevation (cm)",
    "turn": "body turn",
}

TOLERANCE = 3.0  # cm: how close a body part must be to a surface to rest on it
BALANCE_MARGIN = 6.0  # cm: how far the centre of mass may be outside the supported stretch
MIN_ARROW_TRAVEL = 5.0  # cm of visible movement for an arrow to mean something
MIN_ARROW_LENGTH = 30.0  # cm: shorter movements get an arrow this long, to stay readable
VIEW_YAW = {"side": 0.0, "front": 90.0, "back": -90.0}
HELD_BY = ("hold", "door", "band")  # contacts that can pull: a held body may overhang
BOLSTERS = ("bench", "box", "pad", "mat")  # rectangular props the body rests on

# Props (cm).
BLOCK_SIZES = {"bench": (45.0, 100.0), "box": (40.0, 45.0), "pad": (90.0, 30.0)}
PAD_THICKNESS = 10.0
MAT_HEIGHT = 1.5
ROLLER_R = 7.5
HOLD_R = 7.0
PLATE_R = 22.0

# Ink (greys print the same on any printer; nothing depends on colour).
INK = "#1f1f1f"
FAR = "#9a9a9a"
FAR_FILL = "#e4e4e4"
PAPER = "#ffffff"
OUTLINE = 2.4  # cm: the ink edge of an outlined body part
PROP_FILL = "#e6e6e6"
PROP_INK = "#6e6e6e"
FLOOR_FILL = "#ececec"
MAT_FILL = "#d6d6d6"
ARROW_INK = "#000000"

# Frames are between 4:3 (standing) and 2:1 (lying) wide, so a lying figure does not float in
# empty space; all poses of one exercise share one frame.
ASPECT = 4 / 3
MAX_ASPECT = 2.0
MARGIN = 8.0


class FigureError(ValueError):
    """A pose cannot be drawn as given; the message names exercise, pose, joint and rule."""


# --------------------------------------------------------------------------- vectors


def _add(a: Vec, b: Vec) -> Vec:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _mul(a: Vec, k: float) -> Vec:
    return (a[0] * k, a[1] * k, a[2] * k)


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _unit(a: Vec) -> Vec:
    n = math.sqrt(_dot(a, a))
    return _mul(a, 1 / n) if n > 1e-9 else a


def _turn(v: Vec, a: Vec, b: Vec, degrees: float) -> Vec:
    """Rotate ``v`` in the plane of the orthonormal ``a`` and ``b``, from ``a`` towards ``b``."""
    t = math.radians(degrees)
    c, s = math.cos(t), math.sin(t)
    va, vb = _dot(v, a), _dot(v, b)
    return _add(v, _add(_mul(a, (c - 1) * va - s * vb), _mul(b, (c - 1) * vb + s * va)))


def _lerp(a: Vec, b: Vec, t: float) -> Vec:
    return _add(a, _mul(_sub(b, a), t))


X, Y, Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)

# --------------------------------------------------------------------------- kinematics


@dataclass
class Body:
    """A posed body: named points (with the radius of the stroke there) and drawn chains."""

    points: dict[str, Vec]
    radius: dict[str, float]
    spine: list[Vec]
    head: Vec
    limbs: dict[str, list[Vec]]
    shoulders: tuple[Vec, Vec]  # right, left
    hips: tuple[Vec, Vec]

    def moved(self, dx: float, dy: float) -> Body:
        """The same body shifted in the picture plane."""
        d = (dx, dy, 0.0)
        return self.mapped(lambda p: _add(p, d))

    def mapped(self, m: Callable[[Vec], Vec]) -> Body:
        """The same body with every point mapped (moved or projected)."""
        return Body(
            points={k: m(p) for k, p in self.points.items()},
            radius=self.radius,
            spine=[m(p) for p in self.spine],
            head=m(self.head),
            limbs={k: [m(p) for p in chain] for k, chain in self.limbs.items()},
            shoulders=(m(self.shoulders[0]), m(self.shoulders[1])),
            hips=(m(self.hips[0]), m(self.hips[1])),
        )

    def point(self, name: str) -> list[tuple[str, Vec, float]]:
        """A named point; a sided part without its side ("knee") gives both sides."""
        if name in self.points:
            return [(name, self.points[name], self.radius[name])]
        return [
            (f"{side}_{name}", self.points[f"{side}_{name}"], self.radius[f"{side}_{name}"])
            for side in SIDES
        ]

    def samples(self) -> list[tuple[str, Vec, float]]:
        """Points along every drawn part, for resting, touching and passing through props."""
        out: list[tuple[str, Vec, float]] = [("head", self.head, HEAD_R)]
        names = ("pelvis", "waist", "neck")
        for i in range(len(self.spine) - 1):
            for t in (0.0, 0.25, 0.5, 0.75):
                out.append((names[i], _lerp(self.spine[i], self.spine[i + 1], t), TORSO_W / 2))
        out.append(("neck", self.spine[-1], TORSO_W / 2))
        for limb, chain in self.limbs.items():
            side, kind = limb.split("_")
            parts = ("thigh", "shank", "foot") if kind == "leg" else ("upper_arm", "forearm")
            widths = (LEG_W, LEG_W, FOOT_W) if kind == "leg" else (ARM_W, ARM_W)
            for i, part in enumerate(parts):
                for t in (0.0, 0.25, 0.5, 0.75, 1.0):
                    p = _lerp(chain[i], chain[i + 1], t)
                    out.append((f"{side}_{part}", p, widths[i] / 2))
        quad = [self.shoulders[0], self.shoulders[1], self.hips[1], self.hips[0]]
        for i in range(4):
            for t in (0.0, 0.5):
                p = _lerp(quad[i], quad[(i + 1) % 4], t)
                out.append(("trunk", p, SHOULDER_LINE_W / 2))
        return out

    def centre_of_mass(self) -> Vec:
        """Mass-weighted centre of the segments (the balance rule uses its x)."""
        total: Vec = (0.0, 0.0, 0.0)
        weight = 0.0

        def add(p: Vec, w: float) -> None:
            nonlocal total, weight
            total = _add(total, _mul(p, w))
            weight += w

        add(_lerp(self.spine[0], self.spine[-1], 0.5), MASS["trunk"])
        add(self.head, MASS["head"])
        for limb, chain in self.limbs.items():
            if limb.endswith("leg"):
                add(_lerp(chain[0], chain[1], 0.5), MASS["thigh"])
                add(_lerp(chain[1], chain[2], 0.5), MASS["shank"])
            else:
                add(_lerp(chain[0], chain[1], 0.5), MASS["upper_arm"])
                add(_lerp(chain[1], chain[2], 0.5), MASS["arm"])
        return _mul(total, 1 / weight)


def _ball(root: Vec, frame: tuple[Vec, Vec, Vec], lateral: Vec, angles: Angles) -> tuple[Vec, Vec]:
    """Direction of the upper segment and of its bend, from abduction, flexion and rotation."""
    f, u, _ = frame
    down = _mul(u, -1)
    d, w = down, f
    d = _turn(d, down, lateral, angles.abd)  # frontal plane; w (forward) is unchanged
    d, w = _turn(d, d, f, angles.flex), _turn(w, d, f, angles.flex)
    axis = _unit(_cross(d, w))
    if _dot(axis, lateral) < 0:
        axis = _mul(axis, -1)
    w = _turn(w, w, axis, angles.rot)  # external rotation turns the bend outwards
    return d, w


def pose_body(pose: Pose, yaw: float) -> Body:
    """Forward kinematics from the pelvis (at the origin) for one pose.

    The standing figure faces +x with its right side towards the viewer (+z). ``pose.lean``
    tips it forward about its left-right axis, ``yaw`` turns it about its long axis (90 faces
    the viewer), then ``pose.trunk`` rotates it in the picture plane (90 is upright, 180 lies
    with the head to the left).
    """

    def orient(v: Vec) -> Vec:
        v = _turn(v, Y, X, pose.lean)
        v = _turn(v, X, Z, yaw + pose.turn)
        return _turn(v, X, Y, pose.trunk - 90)

    f, u, r = orient(X), orient(Y), orient(Z)
    pelvis = (0.0, 0.0, 0.0)
    waist = _add(pelvis, _mul(u, PELVIS_TO_WAIST))
    u2, f2 = _turn(u, u, f, pose.spine), _turn(f, u, f, pose.spine)
    neck = _add(waist, _mul(u2, WAIST_TO_NECK))
    head_dir = _turn(u2, u2, f2, pose.neck)
    head_dir = _unit(_turn(head_dir, u2, r, pose.neck_side))
    head = _add(neck, _mul(head_dir, NECK_TO_HEAD))

    points: dict[str, Vec] = {
        "pelvis": pelvis,
        "waist": waist,
        "upper_back": _lerp(waist, neck, UPPER_BACK_AT),
        "neck": neck,
        "head": head,
    }
    radius = dict.fromkeys(("pelvis", "waist", "upper_back", "neck"), TORSO_W / 2)
    radius["head"] = HEAD_R
    limbs: dict[str, list[Vec]] = {}
    shoulders, hips = [], []
    for side, sign in (("right", 1.0), ("left", -1.0)):
        lateral = _mul(r, sign)
        hip = _add(pelvis, _mul(lateral, HIP_HALF))
        d, w = _ball(hip, (f, u, r), lateral, pose.ball("hip", side))
        knee = _add(hip, _mul(d, THIGH))
        bend = pose.hinge("knee", side)
        back = _mul(w, -1)
        shank_dir, w2 = _turn(d, d, back, bend), _turn(w, d, back, bend)
        heel = _add(knee, _mul(shank_dir, SHANK))
        foot_dir = _turn(w2, w2, _mul(shank_dir, -1), pose.hinge("ankle", side))
        toe = _add(heel, _mul(foot_dir, FOOT))
        limbs[f"{side}_leg"] = [hip, knee, heel, toe]
        hips.append(hip)

        top = _add(neck, _mul(u2, pose.shrug - SHOULDER_DROP))
        shoulder = _add(top, _mul(r, sign * SHOULDER_HALF))
        d, w = _ball(shoulder, (f2, u2, r), lateral, pose.ball("shoulder", side))
        elbow = _add(shoulder, _mul(d, UPPER_ARM))
        fore = _turn(d, d, w, pose.hinge("elbow", side))
        hand = _add(elbow, _mul(fore, FOREARM))
        limbs[f"{side}_arm"] = [shoulder, elbow, hand]
        shoulders.append(shoulder)

        named = {
            "hip": (hip, LEG_W),
            "thigh": (_lerp(hip, knee, 0.5), LEG_W),
            "knee": (knee, LEG_W),
            "shank": (_lerp(knee, heel, 0.5), LEG_W),
            "heel": (heel, LEG_W),
            "foot": (_lerp(heel, toe, 0.5), FOOT_W),
            "toe": (toe, FOOT_W),
            "shoulder": (shoulder, ARM_W),
            "upper_arm": (_lerp(shoulder, elbow, 0.5), ARM_W),
            "elbow": (elbow, ARM_W),
            "forearm": (_lerp(elbow, hand, 0.5), ARM_W),
            "hand": (hand, ARM_W),
        }
        for part, (p, width) in named.items():
            points[f"{side}_{part}"] = p
            radius[f"{side}_{part}"] = width / 2
    return Body(
        points=points,
        radius=radius,
        spine=[pelvis, waist, neck],
        head=head,
        limbs=limbs,
        shoulders=(shoulders[0], shoulders[1]),
        hips=(hips[0], hips[1]),
    )


# --------------------------------------------------------------------------- the scene


@dataclass(frozen=True)
class Surface:
    """A prop's shape in the picture (x right, y up; the ground is y = 0)."""

    kind: str
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    cx: float = 0.0
    cy: float = 0.0
    r: float = 0.0
    solid_side: int = 0  # posts: +1 solid to the right of x0, -1 to the left
    only: tuple[str, ...] = ()  # body groups that touch it; the rest pass beside it (in depth)

    def meets(self, part: str) -> bool:
        """Whether this body part can touch the prop (a door post meets only the arms)."""
        if self.kind == "anchor":
            return False
        if self.kind == "door":
            return part.endswith("forearm")
        return not self.only or any(_in_group(part, group) for group in self.only)

    def top_at(self, x: float) -> float | None:
        """Height of the surface a body part at ``x`` would rest on, if any."""
        if self.kind in BOLSTERS:
            return self.top if self.x0 <= x <= self.x1 else None
        if self.kind == "foam_roller" and abs(x - self.cx) < self.r:
            return self.cy + math.sqrt(self.r**2 - (x - self.cx) ** 2)
        return None

    def gap(self, p: Vec, radius: float) -> float:
        """Distance from a body part's edge to this surface (negative: inside it)."""
        x, y = p[0], p[1]
        if self.kind in BOLSTERS:
            dx = max(self.x0 - x, 0.0, x - self.x1)
            dy = max(self.bottom - y, 0.0, y - self.top)
            if dx == 0 and dy == 0:
                return -min(x - self.x0, self.x1 - x, y - self.bottom, self.top - y) - radius
            return math.hypot(dx, dy) - radius
        if self.kind in ("foam_roller", "hold"):
            return math.hypot(x - self.cx, y - self.cy) - self.r - radius
        if self.kind in ("wall", "door"):
            return (self.x0 - x) * self.solid_side - radius
        return math.inf


@dataclass
class Scene:
    """Every pose of one exercise placed on its props, in one shared frame."""

    slug: str
    spec: ExercisePoses
    bodies: list[Body]
    surfaces: dict[str, Surface]
    attachments: list[list[tuple[str, tuple]]] = field(default_factory=list)  # per pose
    floor: tuple[float, float] = (0.0, 0.0)  # depth range of the floor drawn under a camera

    def as_seen(self) -> Scene:
        """The scene as the camera sees it: turned by ``spec.turn`` about the vertical and
        tilted down by ``spec.camera`` degrees.

        Placement and checks happen before, in the upright side or front view; only the
        drawing turns, so a body on the floor can show what faces up (a clamshell's knees).
        """
        a, e = math.radians(self.spec.turn), math.radians(self.spec.camera)
        if a == 0 and e == 0:
            return self
        ca, sa, ce, se = math.cos(a), math.sin(a), math.cos(e), math.sin(e)

        def project(p: Vec) -> Vec:
            x, z = p[0] * ca + p[2] * sa, p[2] * ca - p[0] * sa
            return (x, p[1] * ce - z * se, z * ce + p[1] * se)

        depths = [project(p)[2] for body in self.bodies for _, p, _ in body.samples()]
        surfaces = {
            name: replace(
                sf,
                x0=sf.x0 * ca,
                x1=sf.x1 * ca,
                cx=sf.cx * ca,
                top=sf.top * ce,
                bottom=sf.bottom * ce,
                cy=sf.cy * ce,
            )
            for name, sf in self.surfaces.items()
        }
        attachments = [
            [
                (kind, tuple(project(v) if isinstance(v, tuple) else v for v in data))
                for kind, data in items
            ]
            for items in self.attachments
        ]
        floor = (0.0, 0.0)
        if e > 0:
            floor = (-(max(depths) + 25) * se, -(min(depths) - 25) * se)
        return Scene(
            slug=self.slug,
            spec=self.spec,
            bodies=[body.mapped(project) for body in self.bodies],
            surfaces=surfaces,
            attachments=attachments,
            floor=floor,
        )


_LEG_PARTS, _ARM_PARTS = ("thigh", "shank", "foot"), ("upper_arm", "forearm")


def _in_group(part: str, group: str) -> bool:
    """Whether a sampled part ("right_shank", "waist") belongs to a body group ("right_leg")."""
    side, _, segment = part.partition("_")
    if side not in SIDES:
        return group == "torso"
    if group in ("legs", "arms"):
        return segment in (_LEG_PARTS if group == "legs" else _ARM_PARTS)
    if group in _LEG_PARTS:
        return segment == group
    limb_side, _, limb = group.partition("_")
    return side == limb_side and segment in (_LEG_PARTS if limb == "leg" else _ARM_PARTS)


def _fail(slug: str, pose: str | None, message: str) -> FigureError:
    where = f"{slug}, pose {pose}" if pose else slug
    return FigureError(f"{POSES_FILE}: {where}: {message}")


def _check_ranges(slug: str, pose: Pose) -> None:
    """Every joint angle within its anatomical range."""

    def check(key: str, value: float, side: str | None) -> None:
        low, high = RANGES[key]
        if not low <= value <= high:
            who = f"{side} " if side else ""
            raise _fail(
                slug,
                pose.name,
                f"{who}{JOINT_WORDS[key]} of {value:g} is outside the anatomical range "
                f"{low:g} to {high:g}",
            )

    for key in ("spine", "neck", "neck_side", "shrug", "turn"):
        check(key, getattr(pose, key), None)
    for side in SIDES:
        for joint in ("hip", "shoulder"):
            angles = pose.ball(joint, side)
            for part in ("flex", "abd", "rot"):
                check(f"{joint}.{part}", getattr(angles, part), side)
        for joint in ("knee", "ankle", "elbow"):
            check(joint, pose.hinge(joint, side), side)


def _one(body: Body, name: str) -> Vec:
    """A single point (a sided part without its side is the middle of both)."""
    found = body.point(name)
    if len(found) == 1:
        return found[0][1]
    return _lerp(found[0][1], found[1][1], 0.5)


def _lowest_gap(body: Body, supports: Iterable[Surface]) -> float:
    """How far the body can drop before some part rests on the ground or a prop."""
    supports = list(supports)
    best = math.inf
    for part, p, radius in body.samples():
        floor = 0.0
        for s in supports:
            top = s.top_at(p[0]) if s.meets(part) else None
            if top is not None:
                floor = max(floor, top)
        best = min(best, p[1] - radius - floor)
    return best


def _block(prop: Block, x: float, radius: float) -> Surface:
    height, length = BLOCK_SIZES[prop.kind]
    height = prop.height or height
    length = prop.length or length
    if prop.edge == "center":
        x0 = x - length / 2
    elif prop.edge == "left":
        x0 = x - prop.inset
    else:
        x0 = x + prop.inset - length
    # A bench or a machine pad is solid only in its padded top; a box down to the ground.
    bottom = 0.0 if prop.kind == "box" else height - PAD_THICKNESS
    return Surface(
        prop.kind, x0=x0, x1=x0 + length, top=height, bottom=bottom, only=tuple(prop.only)
    )


def build_scene(slug: str, spec: ExercisePoses) -> Scene:
    """Pose, place and check every key pose of one exercise.

    :raise FigureError: naming the exercise, the pose, the joint or part and the rule broken.
    """
    yaw = VIEW_YAW[spec.view]
    names = [pose.name for pose in spec.poses]
    for pose in spec.poses:
        _check_ranges(slug, pose)
    bodies = [pose_body(pose, yaw) for pose in spec.poses]

    # Keep the anchor point where it is in the first pose (a planted foot stays planted),
    # unless the pose slides along (a body rolling over a foam roller).
    anchor_x = _one(bodies[0], spec.anchor)[0]
    bodies = [
        b.moved(anchor_x - _one(b, spec.anchor)[0] + pose.shift, 0.0)
        for pose, b in zip(spec.poses, bodies, strict=True)
    ]

    surfaces: dict[str, Surface] = {}
    for prop in spec.props:
        if isinstance(prop, Mat):
            xs = [p[0] for b in bodies for _, p, _ in b.samples()]
            surfaces["mat"] = Surface(
                "mat", x0=min(xs) - 12, x1=max(xs) + 12, top=MAT_HEIGHT, bottom=0.0
            )
        elif isinstance(prop, Block | FoamRoller | Wall):
            body = bodies[names.index(prop.pose)]
            found = body.point(prop.at)
            x = sum(p[0] for _, p, _ in found) / len(found) + prop.shift
            radius = found[0][2]
            if isinstance(prop, Block):
                surfaces[prop.kind] = _block(prop, x, radius)
            elif isinstance(prop, FoamRoller):
                surfaces["foam_roller"] = Surface(
                    "foam_roller", cx=x, cy=ROLLER_R, r=ROLLER_R, only=tuple(prop.only)
                )
            else:
                sign = 1 if prop.position == "right" else -1
                face = x + sign * (radius + prop.gap)
                surfaces[prop.kind] = Surface(
                    prop.kind, x0=face, top=prop.height, bottom=0.0, solid_side=sign
                )

    supports = [s for s in surfaces.values() if s.kind in BOLSTERS or s.kind == "foam_roller"]
    bodies = [b.moved(0.0, -_lowest_gap(b, supports)) for b in bodies]

    for prop in spec.props:
        if isinstance(prop, Hold):
            body = bodies[names.index(prop.pose)]
            found = body.point(prop.at)
            x = sum(p[0] for _, p, _ in found) / len(found) + prop.shift
            y = max(p[1] for _, p, _ in found) + found[0][2] + HOLD_R
            surfaces["hold"] = Surface("hold", cx=x, cy=y, r=HOLD_R)

    scene = Scene(slug=slug, spec=spec, bodies=bodies, surfaces=surfaces)
    _attach(scene)
    for pose, body in zip(spec.poses, bodies, strict=True):
        _check_support(scene, pose, body)
    _check_props_touched(scene)
    _check_arrows(scene)
    return scene


def _attach(scene: Scene) -> None:
    """Props that move with the body (dumbbells, barbell, band ends) for each pose."""
    spec = scene.spec
    first = scene.bodies[0]
    for body in scene.bodies:
        items: list[tuple[str, tuple]] = []
        for prop in spec.props:
            if isinstance(prop, Dumbbell):
                sides = SIDES if prop.hand == "both" else (prop.hand,)
                for side in sides:
                    items.append(("dumbbell", (body.points[f"{side}_hand"], prop.axis)))
            elif isinstance(prop, Barbell):
                p = _one(body, prop.at)
                lift = body.point(prop.at)[0][2] + PLATE_R
                items.append(("plate", ((p[0], p[1] + lift, p[2]),)))
            elif isinstance(prop, Band):
                a = _one(body, prop.start)
                if prop.to is not None:
                    b = _one(body, prop.to)
                else:
                    post = scene.surfaces.get("anchor")
                    if post is None:
                        raise _fail(scene.slug, None, "the band needs `to` or an anchor post")
                    height = prop.anchor_height or _one(first, prop.start)[1]
                    b = (post.x0, height, 0.0)
                items.append(("band", (a, b)))
        scene.attachments.append(items)


def _check_support(scene: Scene, pose: Pose, body: Body) -> None:
    """Listed contacts touch their surface, nothing passes through a prop, and it balances."""
    slug, surfaces = scene.slug, scene.surfaces
    ground = Surface("box", x0=-math.inf, x1=math.inf, top=0.0, bottom=-50.0)
    mat = surfaces.get("mat")

    contact_xs: list[float] = []
    held = False
    for point, name in pose.contacts.items():
        for part, p, radius in _contact_points(body, point, surfaces.get(name)):
            contact_xs.append(p[0])
            if name in HELD_BY:
                held = True
            if name == "band":
                if not any(
                    kind == "band" and any(_close(p, end) for end in ends)
                    for kind, ends in scene.attachments[scene.spec.poses.index(pose)]
                ):
                    raise _fail(slug, pose.name, f"no band is attached at the {point}")
                continue
            surface = ground if name == "ground" else surfaces[name]
            gap = surface.gap(p, radius)
            if name == "ground" and mat is not None:
                gap = min(gap, mat.gap(p, radius))
            if gap > TOLERANCE:
                raise _fail(
                    slug,
                    pose.name,
                    f"the {_words(part)} should rest on the {_words(name)} but is {gap:.0f} cm "
                    "away from it (rule: every listed contact touches its support)",
                )

    for part, p, radius in body.samples():
        if p[1] - radius < -TOLERANCE:
            raise _fail(slug, pose.name, f"the {_words(part)} is below the ground")
        for name, surface in surfaces.items():
            if name == "mat" or not surface.meets(part):
                continue
            if surface.gap(p, radius) < -TOLERANCE:
                raise _fail(
                    slug,
                    pose.name,
                    f"the {_words(part)} passes through the {_words(name)} "
                    "(rule: the body rests on props, never inside them)",
                )

    if held:  # a partner, a machine or a band holds the body: it may overhang its base
        return
    com = body.centre_of_mass()[0]
    low, high = min(contact_xs), max(contact_xs)
    if not low - BALANCE_MARGIN <= com <= high + BALANCE_MARGIN:
        outside = min(abs(com - low), abs(com - high))
        raise _fail(
            slug,
            pose.name,
            f"the figure would topple: its centre of mass is {outside:.0f} cm beyond the parts "
            "it rests on (rule: the body is supported; list every contact)",
        )


SEGMENTS = ("thigh", "shank", "foot", "upper_arm", "forearm")


def _contact_points(
    body: Body, point: str, surface: Surface | None
) -> list[tuple[str, Vec, float]]:
    """The body point(s) a contact names; a segment ("right_thigh") touches anywhere along it."""
    found = body.point(point)
    segment = point.partition("_")[2] if point.startswith(SIDES) else point
    if surface is None or segment not in SEGMENTS:
        return found
    out = []
    for part, _, _ in found:
        along = [(n, p, r) for n, p, r in body.samples() if n == part]
        out.append(min(along, key=lambda item: surface.gap(item[1], item[2])))
    return out


def _close(a: Vec, b: Vec) -> bool:
    return math.hypot(a[0] - b[0], a[1] - b[1]) < 1.0


def _words(name: str) -> str:
    return name.replace("_", " ")


def _check_props_touched(scene: Scene) -> None:
    """A prop the body rests on must be where the body touches it, in some pose."""
    used = {surface for pose in scene.spec.poses for surface in pose.contacts.values()}
    for name in scene.surfaces:
        if name not in ("mat", "anchor") and name not in used:
            raise _fail(
                scene.slug,
                None,
                f"the {name.replace('_', ' ')} is touched in no pose: list it in a pose's contacts "
                "where the body rests on it (rule: props are placed where the body touches them)",
            )


def _check_arrows(scene: Scene) -> None:
    """Each arrow's point moves visibly in this view from each pose to the next."""
    for arrow in scene.spec.arrows:
        for i in range(len(scene.bodies) - 1):
            a, b = _one(scene.bodies[i], arrow.point), _one(scene.bodies[i + 1], arrow.point)
            travel = math.hypot(b[0] - a[0], b[1] - a[1])
            if travel < MIN_ARROW_TRAVEL:
                raise _fail(
                    scene.slug,
                    scene.spec.poses[i + 1].name,
                    f"the {arrow.point.replace('_', ' ')} moves only {travel:.0f} cm in the "
                    f"{scene.spec.view} view, so the arrow would hide the movement "
                    "(rule: the view shows the movement; choose another point or view)",
                )


# --------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class FigureSVG:
    """One drawn key pose: its name, its SVG markup and the size of its frame."""

    pose: str
    svg: str
    width: float
    height: float

    @property
    def label(self) -> str:
        """What the drawing shows, for screen readers."""
        return f"{self.pose.capitalize()} position"

    def __html__(self) -> str:
        return self.svg


def _fmt(v: float) -> str:
    text = f"{v:.1f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text == "-0" else text


def _pts(points: Iterable[Vec]) -> str:
    return " ".join(f"{_fmt(p[0])},{_fmt(-p[1])}" for p in points)


def _limb_styles(spec: ExercisePoses, body: Body) -> dict[str, str]:
    """How each limb is inked: a working limb solid, the others outlined, the far side grey."""
    working = set(spec.working)
    trunk_z = _lerp(body.spine[0], body.spine[-1], 0.5)[2]
    styles = {}
    for limb, chain in body.limbs.items():
        if limb in working:
            styles[limb] = "solid"
        elif chain[0][2] < trunk_z - 3:
            styles[limb] = "far"
        else:
            styles[limb] = "outline"
    return styles


def _frame(scene: Scene) -> tuple[float, float, float, float]:
    """The shared viewBox (x, y, width, height in SVG coordinates) of an exercise's drawings."""
    xs: list[float] = []
    ys: list[float] = [0.0, *scene.floor]
    for body in scene.bodies:
        for _, p, radius in body.samples():
            xs += [p[0] - radius, p[0] + radius]
            ys += [p[1] - radius, p[1] + radius]
    for s in scene.surfaces.values():
        if s.kind in ("bench", "box", "pad", "mat"):
            xs += [s.x0, s.x1]
            ys.append(s.top)
        elif s.kind in ("foam_roller", "hold"):
            xs += [s.cx - s.r, s.cx + s.r]
            ys.append(s.cy + s.r)
        elif s.kind in ("wall", "door", "anchor"):
            xs.append(s.x0 + 8 * s.solid_side)
    for items in scene.attachments:
        for kind, data in items:
            if kind == "plate":
                p = data[0]
                xs += [p[0] - PLATE_R, p[0] + PLATE_R]
                ys.append(p[1] + PLATE_R)
            elif kind == "band":
                xs += [data[0][0], data[1][0]]
                ys += [data[0][1], data[1][1]]
    for path in _arrow_paths(scene):
        for p in path:
            xs.append(p[0])
            ys.append(p[1])
    x0, x1 = min(xs) - MARGIN, max(xs) + MARGIN
    y0, y1 = min(ys) - MARGIN / 2, max(ys) + MARGIN
    width, height = x1 - x0, y1 - y0
    if width / height < ASPECT:
        x0, width = x0 - (height * ASPECT - width) / 2, height * ASPECT
    elif width / height > MAX_ASPECT:  # extra room goes above: the ground stays at the bottom
        height = width / MAX_ASPECT
        y1 = y0 + height
    return x0, -y1, width, height


def _arrow_paths(scene: Scene) -> list[tuple[Vec, Vec, Vec]]:
    """Start, control and end point of every arrow (quadratic curve), pose by pose."""
    out = []
    for i in range(len(scene.bodies) - 1):
        out += _arrows_from(scene, i)
    return out


def _arrows_from(scene: Scene, i: int) -> list[tuple[Vec, Vec, Vec]]:
    out = []
    for arrow in scene.spec.arrows:
        a = _one(scene.bodies[i], arrow.point)
        b = _one(scene.bodies[i + 1], arrow.point)
        dx, dy = arrow.offset
        a, b = (a[0] + dx, a[1] + dy, 0.0), (b[0] + dx, b[1] + dy, 0.0)
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        if length < MIN_ARROW_LENGTH:  # too short to read: stretch it about its middle
            mid = _lerp(a, b, 0.5)
            k = MIN_ARROW_LENGTH / max(length, 1e-6)
            a = _add(mid, _mul(_sub(a, mid), k))
            b = _add(mid, _mul(_sub(b, mid), k))
            length = MIN_ARROW_LENGTH
        mid = _lerp(a, b, 0.5)
        normal = (-(b[1] - a[1]) / length, (b[0] - a[0]) / length, 0.0)
        control = _add(mid, _mul(normal, arrow.bend * length))
        out.append((a, control, b))
    return out


def _arrow_svg(a: Vec, c: Vec, b: Vec) -> str:
    tx, ty = b[0] - c[0], b[1] - c[1]
    n = math.hypot(tx, ty) or 1.0
    tx, ty = tx / n, ty / n
    head, half = 12.0, 6.5
    base = (b[0] - tx * head, b[1] - ty * head)
    left = (base[0] - ty * half, base[1] + tx * half)
    right = (base[0] + ty * half, base[1] - tx * half)
    line_end = (b[0] - tx * head * 0.6, b[1] - ty * head * 0.6)
    return (
        f'<path d="M{_fmt(a[0])} {_fmt(-a[1])}Q{_fmt(c[0])} {_fmt(-c[1])} '
        f'{_fmt(line_end[0])} {_fmt(-line_end[1])}" stroke="{ARROW_INK}" stroke-width="3.5"/>'
        f'<path d="M{_fmt(b[0])} {_fmt(-b[1])}L{_fmt(left[0])} {_fmt(-left[1])}'
        f'L{_fmt(right[0])} {_fmt(-right[1])}Z" fill="{ARROW_INK}" stroke="none"/>'
    )


def _props_svg(scene: Scene, frame: tuple[float, float, float, float]) -> list[str]:
    x0, _, width, _ = frame
    low, high = scene.floor
    if high > low:  # seen from above: the floor is an area, the mat a band on it
        out = [
            f'<rect x="{_fmt(x0)}" y="{_fmt(-high)}" width="{_fmt(width)}" '
            f'height="{_fmt(high - low)}" fill="{FLOOR_FILL}" stroke="none"/>'
        ]
    else:
        out = [f'<path d="M{_fmt(x0)} 0H{_fmt(x0 + width)}" stroke="{PROP_INK}" stroke-width="2"/>']
    for name, s in scene.surfaces.items():
        style = f'fill="{PROP_FILL}" stroke="{PROP_INK}" stroke-width="2"'
        if name == "mat" and high > low:
            out.append(
                f'<rect x="{_fmt(s.x0)}" y="{_fmt(-high + 10)}" width="{_fmt(s.x1 - s.x0)}" '
                f'height="{_fmt(high - low - 20)}" fill="{MAT_FILL}" stroke="none"/>'
            )
        elif name == "mat":
            out.append(
                f'<rect x="{_fmt(s.x0)}" y="{_fmt(-s.top)}" width="{_fmt(s.x1 - s.x0)}" '
                f'height="{_fmt(s.top)}" fill="{PROP_INK}" stroke="none"/>'
            )
        elif name == "bench":
            legs = f"M{_fmt(s.x0 + 8)} {_fmt(-s.top)}V0M{_fmt(s.x1 - 8)} {_fmt(-s.top)}V0"
            pad = f"M{_fmt(s.x0)} {_fmt(-s.top)}h{_fmt(s.x1 - s.x0)}v8h{_fmt(s.x0 - s.x1)}Z"
            out.append(f'<path d="{legs}{pad}" {style} stroke-linejoin="round"/>')
        elif name == "box":
            out.append(
                f'<rect x="{_fmt(s.x0)}" y="{_fmt(-s.top)}" width="{_fmt(s.x1 - s.x0)}" '
                f'height="{_fmt(s.top)}" {style}/>'
            )
        elif name == "pad":
            mid = (s.x0 + s.x1) / 2
            out.append(
                f'<path d="M{_fmt(mid)} {_fmt(-s.bottom)}V0M{_fmt(mid - 18)} 0h36" '
                f'stroke="{PROP_INK}" stroke-width="4"/>'
                f'<rect x="{_fmt(s.x0)}" y="{_fmt(-s.top)}" width="{_fmt(s.x1 - s.x0)}" '
                f'height="{_fmt(s.top - s.bottom)}" rx="4" {style}/>'
            )
        elif name == "foam_roller":
            out.append(f'<circle cx="{_fmt(s.cx)}" cy="{_fmt(-s.cy)}" r="{_fmt(s.r)}" {style}/>')
        elif name in ("wall", "door", "anchor"):
            w = {"wall": 6.0, "door": 8.0, "anchor": 5.0}[name]
            left = s.x0 if s.solid_side > 0 else s.x0 - w
            out.append(
                f'<rect x="{_fmt(left)}" y="{_fmt(-s.top)}" width="{_fmt(w)}" '
                f'height="{_fmt(s.top)}" {style}/>'
            )
    return out


def _hold_svg(scene: Scene) -> list[str]:
    s = scene.surfaces.get("hold")
    if s is None:
        return []
    spec_hold = next(p for p in scene.spec.props if isinstance(p, Hold))
    post = (
        f'<path d="M{_fmt(s.cx)} {_fmt(-s.cy)}V0" stroke="{PROP_INK}" stroke-width="4"/>'
        if spec_hold.post
        else ""
    )
    return [
        post + f'<circle cx="{_fmt(s.cx)}" cy="{_fmt(-s.cy)}" r="{_fmt(s.r)}" '
        f'fill="{PROP_FILL}" stroke="{PROP_INK}" stroke-width="2"/>'
    ]


def _attachment_svg(items: list[tuple[str, tuple]], *, behind: bool) -> list[str]:
    out = []
    for kind, data in items:
        if kind == "band" and not behind:
            a, b = data
            out.append(
                f'<path d="M{_fmt(a[0])} {_fmt(-a[1])}L{_fmt(b[0])} {_fmt(-b[1])}" '
                f'stroke="{INK}" stroke-width="2.5" stroke-dasharray="6 4"/>'
            )
        elif kind == "plate" and not behind:
            p = data[0]
            out.append(
                f'<circle cx="{_fmt(p[0])}" cy="{_fmt(-p[1])}" r="{_fmt(PLATE_R)}" '
                f'fill="{PROP_FILL}" stroke="{INK}" stroke-width="3"/>'
                f'<circle cx="{_fmt(p[0])}" cy="{_fmt(-p[1])}" r="3" fill="{INK}" stroke="none"/>'
            )
        elif kind == "dumbbell" and not behind:
            p, axis = data
            x, y = p[0], -p[1]
            if axis == "across":
                out.append(
                    f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="7" fill="{PROP_FILL}" '
                    f'stroke="{INK}" stroke-width="3"/>'
                )
            else:
                out.append(
                    f'<path d="M{_fmt(x - 13)} {_fmt(y)}h26M{_fmt(x - 19)} {_fmt(y - 7)}h6v14h-6Z'
                    f'M{_fmt(x + 13)} {_fmt(y - 7)}h6v14h-6Z" fill="{PROP_FILL}" stroke="{INK}" '
                    'stroke-width="3"/>'
                )
    return out


def _stroke(kind: str, pts: str, width: float, style: str) -> str:
    """One body part: solid ink, or an ink (grey when far) outline around a pale fill."""
    if style == "solid":
        return f'<{kind} points="{pts}" stroke="{INK}" stroke-width="{_fmt(width)}"/>'
    ink, fill = (FAR, FAR_FILL) if style == "far" else (INK, PAPER)
    inner = width - 2 * OUTLINE
    return (
        f'<{kind} points="{pts}" stroke="{ink}" stroke-width="{_fmt(width)}"/>'
        f'<{kind} points="{pts}" stroke="{fill}" stroke-width="{_fmt(inner)}"/>'
    )


def _body_svg(spec: ExercisePoses, body: Body) -> list[str]:
    """The figure, back to front: far limbs, trunk, head, near limbs."""
    styles = _limb_styles(spec, body)
    trunk_z = _lerp(body.spine[0], body.spine[-1], 0.5)[2]
    order = sorted(body.limbs, key=lambda limb: body.limbs[limb][0][2])
    behind = [limb for limb in order if body.limbs[limb][0][2] < trunk_z - 3]
    front = [limb for limb in order if limb not in behind]

    def limb_svg(limb: str) -> str:
        width = LEG_W if limb.endswith("leg") else ARM_W
        return _stroke("polyline", _pts(body.limbs[limb]), width, styles[limb])

    out = [limb_svg(limb) for limb in behind]
    quad = [body.shoulders[0], body.shoulders[1], body.hips[1], body.hips[0]]
    spread = math.hypot(quad[0][0] - quad[1][0], quad[0][1] - quad[1][1])
    if spread > 2 * HIP_HALF:  # the trunk is seen from the front: draw its breadth
        neck = [body.spine[-1], _lerp(body.spine[-1], body.head, 0.5)]
        out.append(_stroke("polyline", _pts(neck), ARM_W, "outline"))
        # Corners pulled in and a wide round join give a rounded chest and waist.
        top, bottom = body.spine[-1], body.spine[0]
        rounded = [_lerp(top, quad[0], 0.7), _lerp(top, quad[1], 0.7)]
        rounded += [_lerp(bottom, quad[2], 0.7), _lerp(bottom, quad[3], 0.7)]
        out.append(
            f'<polygon points="{_pts(rounded)}" fill="{INK}" stroke="{INK}" '
            f'stroke-width="{_fmt(TORSO_FRONT_W)}"/>'
            f'<polygon points="{_pts(rounded)}" fill="{PAPER}" stroke="{PAPER}" '
            f'stroke-width="{_fmt(TORSO_FRONT_W - 2 * OUTLINE)}"/>'
        )
    else:
        out.append(_stroke("polyline", _pts(body.spine), TORSO_W, "outline"))
    out.append(
        f'<circle cx="{_fmt(body.head[0])}" cy="{_fmt(-body.head[1])}" '
        f'r="{_fmt(HEAD_R - OUTLINE / 2)}" fill="{PAPER}" stroke="{INK}" '
        f'stroke-width="{_fmt(OUTLINE)}"/>'
    )
    out += [limb_svg(limb) for limb in front]
    return out


def draw_scene(scene: Scene) -> tuple[FigureSVG, ...]:
    """One SVG per key pose, all in the same frame; each but the last shows where to move."""
    scene = scene.as_seen()
    frame = _frame(scene)
    x0, y0, width, height = frame
    view_box = f"{_fmt(x0)} {_fmt(y0)} {_fmt(width)} {_fmt(height)}"
    props = _props_svg(scene, frame)
    hold = _hold_svg(scene)
    figures = []
    for i, (pose, body) in enumerate(zip(scene.spec.poses, scene.bodies, strict=True)):
        parts = list(props)
        parts += _attachment_svg(scene.attachments[i], behind=True)
        parts += _body_svg(scene.spec, body)
        parts += hold
        parts += _attachment_svg(scene.attachments[i], behind=False)
        if i < len(scene.bodies) - 1:
            parts += [_arrow_svg(*path) for path in _arrows_from(scene, i)]
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}" '
            f'width="{_fmt(width)}" height="{_fmt(height)}" role="img" '
            f'aria-label="{pose.name.capitalize()} position" class="exercise-figure">'
            '<g fill="none" stroke-linecap="round" stroke-linejoin="round">'
            + "".join(parts)
            + "</g></svg>"
        )
        figures.append(FigureSVG(pose=pose.name, svg=svg, width=width, height=height))
    return tuple(figures)


# --------------------------------------------------------------------------- the catalog's figures


def check_coverage(poses: PosesFile, builtin_slugs: Iterable[str]) -> None:
    """Every built-in exercise has poses, and no poses are for an unknown exercise."""
    slugs = set(builtin_slugs)
    for slug in sorted(slugs - set(poses.exercises)):
        raise FigureError(
            f"{POSES_FILE}: {slug}: no poses for this exercise "
            "(rule: every built-in exercise in exercises.yaml has drawings)"
        )
    for slug in sorted(set(poses.exercises) - slugs):
        raise FigureError(f"{POSES_FILE}: {slug}: no such exercise in exercises.yaml")


def check_poses(poses: PosesFile, builtin_slugs: Iterable[str]) -> dict[str, Scene]:
    """Coverage, then every exercise posed, placed and checked.

    :raise FigureError: naming the file, exercise, pose, joint and rule.
    """
    slugs = list(builtin_slugs)
    check_coverage(poses, slugs)
    return {slug: build_scene(slug, poses.exercises[slug]) for slug in slugs}


@functools.cache
def _scene(slug: str) -> Scene | None:
    spec = default_poses().exercises.get(slug)
    return None if spec is None else build_scene(slug, spec)


def check_default(builtin_slugs: Iterable[str]) -> None:
    """Check the package's poses at start-up, so a broken edit stops the app with its reason."""
    slugs = list(builtin_slugs)
    check_coverage(default_poses(), slugs)
    for slug in slugs:
        _scene(slug)


@functools.cache
def exercise_figures(slug: str) -> tuple[FigureSVG, ...]:
    """The drawings of a built-in exercise (start, [middle,] end); empty for any other slug.

    Cached per process: the poses are static, so each SVG is computed once.
    """
    scene = _scene(slug)
    return () if scene is None else draw_scene(scene)


def figure_map(slugs: Iterable[str]) -> Mapping[str, tuple[FigureSVG, ...]]:
    """Drawings for several exercises at once (those without poses map to an empty tuple)."""
    return {slug: exercise_figures(slug) for slug in slugs}


__all__ = [
    "FigureError",
    "FigureSVG",
    "PoseFileError",
    "build_scene",
    "check_coverage",
    "check_default",
    "check_poses",
    "draw_scene",
    "exercise_figures",
    "figure_map",
    "pose_body",
]
