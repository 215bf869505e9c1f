"""The exercises' key poses (data/poses.yaml): the file's Pydantic models and loading.

Pure module (PyYAML and Pydantic only). Shapes and types are checked here; whether a pose is
anatomically possible and supported is checked by `trainer_app.library.figures`, which needs
the geometry. Every error names the file, the exercise, the pose and the field.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DATA_DIR = Path(__file__).resolve().parent / "data"
POSES_FILE = "poses.yaml"

SIDES = ("right", "left")
CENTRAL_POINTS = ("pelvis", "waist", "upper_back", "neck", "head")
SIDED_POINTS = (
    "hip",
    "thigh",
    "knee",
    "shank",
    "heel",
    "foot",
    "toe",
    "shoulder",
    "upper_arm",
    "elbow",
    "forearm",
    "hand",
)
# A sided part without a side ("knee") means both sides.
POINTS = (
    CENTRAL_POINTS
    + SIDED_POINTS
    + tuple(f"{side}_{part}" for side in SIDES for part in SIDED_POINTS)
)
LIMBS = tuple(f"{side}_{limb}" for side in SIDES for limb in ("leg", "arm"))
# What a prop may be limited to touching: limbs, "torso", or parts of both legs or arms.
BODY_GROUPS = LIMBS + ("torso", "legs", "arms", "thigh", "shank", "foot")
# What a body part may rest on, hold on to or hang from.
SURFACES = ("ground", "mat", "bench", "box", "pad", "foam_roller", "wall", "door", "hold", "band")
POSE_NAMES = ("start", "middle", "end")


class PoseFileError(ValueError):
    """The poses file is unusable; the message names the file, the exercise, the pose, the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _point(value: Any) -> str:
    if value not in POINTS:
        raise ValueError(f"unknown body point {value!r}")
    return value


PointName = Annotated[str, Field(description="a body point, e.g. right_heel or pelvis")]
PoseName = Literal["start", "middle", "end"]


class Angles(_Model):
    """A ball joint (hip, shoulder): abduction, then flexion, then rotation about the limb."""

    flex: float = 0
    abd: float = 0
    rot: float = 0


Ball = float | Angles


class SidedBall(_Model):
    right: Ball = 0
    left: Ball = 0


class SidedHinge(_Model):
    right: float = 0
    left: float = 0


class Pose(_Model):
    """One key position: the trunk's direction in the picture and the joint angles (degrees)."""

    name: PoseName
    shift: float = Field(default=0, ge=-100, le=100)
    trunk: float = Field(ge=0, lt=360)
    lean: float = Field(default=0, ge=-90, le=90)
    turn: float = 0
    spine: float = 0
    neck: float = 0
    neck_side: float = 0
    shrug: float = 0
    hip: Ball | SidedBall = 0
    knee: float | SidedHinge = 0
    ankle: float | SidedHinge = 0
    shoulder: Ball | SidedBall = 0
    elbow: float | SidedHinge = 0
    contacts: dict[PointName, Literal[SURFACES]] = Field(min_length=1)  # type: ignore[valid-type]

    @field_validator("contacts")
    @classmethod
    def _contact_points(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            _point(name)
        return value

    def ball(self, joint: str, side: str) -> Angles:
        """The hip's or shoulder's angles on one side."""
        value = getattr(self, joint)
        if isinstance(value, SidedBall):
            value = getattr(value, side)
        return value if isinstance(value, Angles) else Angles(flex=value)

    def hinge(self, joint: str, side: str) -> float:
        """The knee's, elbow's or ankle's angle on one side."""
        value = getattr(self, joint)
        return getattr(value, side) if isinstance(value, SidedHinge) else value


class _Placed(_Model):
    at: PointName
    pose: PoseName = "start"
    shift: float = Field(default=0, ge=-100, le=100)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        return _point(value)


class Mat(_Model):
    kind: Literal["mat"]


class Block(_Placed):
    """A bench, a box or a machine pad, standing on the ground under a body point."""

    kind: Literal["bench", "box", "pad"]
    only: list[Literal[BODY_GROUPS]] = Field(default_factory=list)  # type: ignore[valid-type]
    edge: Literal["center", "left", "right"] = "center"
    inset: float = Field(default=10, ge=-30, le=100)
    height: float | None = Field(default=None, gt=0, le=120)
    length: float | None = Field(default=None, gt=0, le=200)


class FoamRoller(_Placed):
    kind: Literal["foam_roller"]
    only: list[Literal[BODY_GROUPS]] = Field(default_factory=list)  # type: ignore[valid-type]


class Wall(_Placed):
    """A wall the body touches, a door post only the arms touch, or a post a band is tied to.

    ``position`` is where it stands relative to the point, in the picture.
    """

    kind: Literal["wall", "door", "anchor"]
    position: Literal["left", "right"]
    gap: float = Field(default=0, ge=0, le=150)
    height: float = Field(default=200, gt=0, le=260)


class Hold(_Placed):
    """A padded roller holding a body part down (a partner's hands, a machine's ankle lock)."""

    kind: Literal["hold"]
    post: bool = False


class Band(_Model):
    """A band from a body point to another, or to the anchor post at ``anchor_height``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["band"]
    start: PointName = Field(alias="from")
    to: PointName | None = None
    anchor_height: float | None = Field(default=None, gt=0, le=250)

    @field_validator("start", "to")
    @classmethod
    def _points(cls, value: str | None) -> str | None:
        return None if value is None else _point(value)


class Dumbbell(_Model):
    kind: Literal["dumbbell"]
    hand: Literal["right", "left", "both"] = "both"
    axis: Literal["along", "across"] = "across"


class Barbell(_Model):
    kind: Literal["barbell"]
    at: PointName

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        return _point(value)


Prop = Annotated[
    Mat | Block | FoamRoller | Wall | Hold | Band | Dumbbell | Barbell, Field(discriminator="kind")
]


class Arrow(_Model):
    """The path of one body point from each pose to the next, drawn as an arrow."""

    point: PointName
    bend: float = Field(default=0.25, ge=-1, le=1)
    offset: tuple[float, float] = (0, 0)

    @field_validator("point")
    @classmethod
    def _at(cls, value: str) -> str:
        return _point(value)


class ExercisePoses(_Model):
    """Everything needed to draw one exercise."""

    view: Literal["side", "front", "back"]
    turn: float = Field(default=0, ge=-60, le=60)
    camera: float = Field(default=0, ge=0, le=60)
    anchor: PointName
    working: list[Literal[LIMBS]] = Field(default_factory=list)  # type: ignore[valid-type]
    props: list[Prop] = Field(default_factory=list)
    arrows: list[Arrow] = Field(min_length=1, max_length=2)
    poses: list[Pose] = Field(min_length=2, max_length=3)

    @field_validator("anchor")
    @classmethod
    def _anchor(cls, value: str) -> str:
        return _point(value)

    @model_validator(mode="after")
    def _consistent(self) -> ExercisePoses:
        names = [pose.name for pose in self.poses]
        expected = ["start", "end"] if len(names) == 2 else ["start", "middle", "end"]
        if names != expected:
            raise ValueError(f"poses must be named {', '.join(expected)} in that order")
        kinds = [prop.kind for prop in self.props]
        for kind in set(kinds):
            if kind != "band" and kinds.count(kind) > 1:
                raise ValueError(f"props: only one {kind} is supported")
        available = {"ground"} | set(kinds)
        for pose in self.poses:
            for point, surface in pose.contacts.items():
                if surface not in available:
                    raise ValueError(
                        f"pose {pose.name}: contacts: {point} rests on {surface}, "
                        "which is not among the props"
                    )
        for prop in self.props:
            pose = getattr(prop, "pose", None)
            if pose is not None and pose not in names:
                raise ValueError(
                    f"props: the {prop.kind} is placed in pose {pose}, which is missing"
                )
        return self


class PosesFile(_Model):
    version: str
    exercises: dict[str, ExercisePoses] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", value):
            raise ValueError('must be a quoted string like "2026.11.1"')
        return value


def _where(loc: tuple[Any, ...]) -> str:
    """A Pydantic error location in the file's words: "plank, pose 2: hip"."""
    parts = list(loc)
    out: list[str] = []
    if parts[:1] == ["exercises"] and len(parts) > 1:
        out.append(str(parts[1]))
        parts = parts[2:]
    field: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part == "poses" and i + 1 < len(parts) and isinstance(parts[i + 1], int):
            out.append(f"pose {parts[i + 1] + 1}")
            i += 2
            continue
        if isinstance(part, int):
            field[-1:] = [f"{field[-1]}[{part + 1}]"] if field else [f"[{part + 1}]"]
        elif isinstance(part, str) and (part[:1].isupper() or part in ("float", "int")):
            pass  # a union member's name adds nothing for the reader
        elif isinstance(part, str) and "[" in part:
            pass  # "function-after[...]" and similar validator names
        else:
            field.append(str(part))
        i += 1
    if field:
        out.append(".".join(field))
    return ", ".join(out) if out else "top level"


def explain(error: ValidationError, filename: str = POSES_FILE) -> PoseFileError:
    """The first problem Pydantic found, as one sentence naming its place in the file."""
    first = error.errors(include_url=False)[0]
    message = first["msg"]
    message = re.sub(r"^(Value error|Assertion failed), ", "", message)
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "missing required field"
    return PoseFileError(f"{filename}: {_where(tuple(first['loc']))}: {message}")


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """SafeLoader that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise PoseFileError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_poses(text: str, filename: str = POSES_FILE) -> PosesFile:
    """Parse and type-check the poses file's text.

    :raise PoseFileError: naming the file, the exercise, the pose and the field.
    """
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except PoseFileError as exc:
        raise PoseFileError(f"{filename}: {exc}") from None
    except yaml.YAMLError as exc:
        raise PoseFileError(f"{filename}: not valid YAML: {exc}") from None
    try:
        return PosesFile.model_validate(raw)
    except ValidationError as exc:
        raise explain(exc, filename) from None


def read_poses(path: Path | None = None) -> PosesFile:
    """Read and type-check a poses file (the package's own by default)."""
    path = Path(path) if path is not None else DATA_DIR / POSES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PoseFileError(f"{path.name}: cannot read {path}: {exc.strerror or exc}") from exc
    return parse_poses(text, path.name)


@functools.cache
def default_poses() -> PosesFile:
    """The package's poses file, read once per process."""
    return read_poses()
