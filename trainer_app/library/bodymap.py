"""Front and back body map in SVG, with weak and overactive muscle regions marked.

Pure: no Flask, no database. The drawing is this project's own: a smoothed silhouette and
one closed shape per muscle region, in an anatomical-chart style that prints well in black
and white (weak = solid dark fill, overactive = diagonal hatch, not tested = white with a
dashed outline, unmarked = light grey).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.sax.saxutils import escape

REGION_NAMES: dict[str, str] = {
    "glutes": "Glutes",
    "abdominals": "Abdominals",
    "obliques": "Obliques",
    "lower_back": "Lower back (erector spinae)",
    "hamstrings": "Hamstrings",
    "quadriceps": "Quadriceps",
    "hip_flexors": "Hip flexors",
    "adductors": "Adductors",
    "calves": "Calves",
    "chest": "Chest (pectorals)",
    "upper_trapezius": "Upper trapezius",
    "mid_back": "Mid back (rhomboids, middle trapezius)",
    "rear_deltoids": "Rear deltoids",
    "front_deltoids": "Front deltoids",
    "lats": "Lats (latissimus dorsi)",
    "neck_flexors": "Deep neck flexors",
}

INK = "#1d2a33"
OUTLINE = "#5b6770"
NEUTRAL_FILL = "#eef1f3"
NEUTRAL_STROKE = "#a3adb4"
SKIN = "#ffffff"
FONT = "DejaVu Sans, Noto Sans, sans-serif"

_ID_PREFIX_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")

# Each figure is drawn in a 200 x 460 box with its midline at x = 100. Shapes are given as
# the right half of the body, (offset from the midline, y); mirrored ones get a twin.
_SILHOUETTE_RIGHT = [
    (9, 50),
    (10, 64),
    (28, 73),
    (43, 78),
    (51, 86),
    (56, 100),
    (58, 120),
    (60, 142),
    (63, 160),
    (67, 185),
    (70, 210),
    (71, 222),
    (75, 238),
    (71, 252),
    (63, 251),
    (61, 236),
    (61, 222),
    (57, 196),
    (52, 170),
    (49, 156),
    (46, 132),
    (43, 112),
    (38, 104),
    (37, 126),
    (34, 150),
    (31, 172),
    (34, 193),
    (40, 212),
    (42, 236),
    (40, 270),
    (36, 300),
    (33, 318),
    (32, 336),
    (35, 360),
    (32, 390),
    (24, 418),
    (22, 430),
    (30, 442),
    (26, 449),
    (9, 449),
    (8, 436),
    (9, 420),
    (8, 390),
    (9, 360),
    (10, 336),
    (9, 318),
    (7, 282),
    (5, 248),
    (0, 236),
]

# (region id, points, mirrored)
_FRONT_SHAPES = [
    ("neck_flexors", [(-5, 52), (5, 52), (6, 60), (0, 64), (-6, 60)], False),
    ("upper_trapezius", [(11, 62), (24, 70), (40, 78), (26, 78), (12, 72)], True),
    (
        "front_deltoids",
        [(43, 81), (52, 88), (56, 101), (54, 116), (47, 112), (42, 99), (38, 87)],
        True,
    ),
    (
        "chest",
        [(4, 86), (22, 81), (38, 85), (42, 97), (39, 112), (24, 118), (8, 116), (4, 101)],
        True,
    ),
    (
        "abdominals",
        [(-13, 124), (0, 121), (13, 124), (15, 165), (13, 203), (0, 211), (-13, 203), (-15, 165)],
        False,
    ),
    ("obliques", [(19, 126), (31, 128), (31, 168), (35, 192), (24, 197), (18, 165)], True),
    ("hip_flexors", [(15, 210), (29, 205), (37, 214), (26, 236), (15, 226)], True),
    (
        "quadriceps",
        [(26, 240), (38, 224), (41, 260), (37, 300), (31, 321), (20, 321), (17, 292), (19, 262)],
        True,
    ),
    ("adductors", [(5, 242), (14, 232), (21, 248), (16, 288), (9, 284), (6, 262)], True),
]

_BACK_SHAPES = [
    ("upper_trapezius", [(0, 58), (10, 60), (26, 72), (41, 79), (22, 83), (0, 90)], True),
    ("rear_deltoids", [(43, 81), (52, 88), (56, 101), (53, 115), (45, 111), (40, 95)], True),
    ("mid_back", [(0, 92), (20, 86), (36, 87), (31, 104), (15, 123), (0, 130)], True),
    ("lats", [(16, 128), (33, 107), (38, 110), (36, 140), (30, 168), (16, 177), (10, 160)], True),
    ("lower_back", [(3, 140), (11, 146), (14, 175), (12, 204), (3, 208)], True),
    ("glutes", [(3, 212), (22, 205), (38, 213), (41, 233), (31, 247), (12, 247), (3, 239)], True),
    (
        "hamstrings",
        [(7, 257), (21, 251), (38, 254), (37, 290), (32, 322), (22, 326), (14, 322), (8, 290)],
        True,
    ),
    ("calves", [(11, 342), (24, 337), (33, 352), (33, 374), (26, 397), (16, 399), (10, 373)], True),
]

# Fine anatomical detail lines that belong to no region (drawn light, never marked).
_FRONT_DETAIL = [
    [(-13, 146), (13, 146)],
    [(-14, 170), (14, 170)],
    [(-13, 190), (13, 190)],
    [(0, 124), (0, 208)],
]
_BACK_DETAIL = [[(0, 62), (0, 212)]]

_FIG_W = 200
_FIG_H = 460
_GAP = 20
_LEGEND_H = 92


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _smooth_closed(points: list[tuple[float, float]]) -> str:
    """Closed Catmull-Rom spline through the points, as SVG cubic Bézier segments."""
    n = len(points)
    parts = [f"M{_fmt(points[0][0])} {_fmt(points[0][1])}"]
    for i in range(n):
        p0, p1, p2, p3 = (points[(i + k) % n] for k in (-1, 0, 1, 2))
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        parts.append(
            f"C{_fmt(c1[0])} {_fmt(c1[1])} {_fmt(c2[0])} {_fmt(c2[1])} {_fmt(p2[0])} {_fmt(p2[1])}"
        )
    return "".join(parts) + "Z"


def _place(points, mirror: bool = False) -> list[tuple[float, float]]:
    sign = -1 if mirror else 1
    return [(100 + sign * dx, y) for dx, y in points]


def _silhouette_path() -> str:
    right = _place(_SILHOUETTE_RIGHT)
    left = list(reversed(_place(_SILHOUETTE_RIGHT, mirror=True)))[1:]
    return _smooth_closed(right + left)


def _region_style(region: str, weak: set[str], over: set[str], prefix: str, untested=()):
    if region in weak and region in over:
        return "region region--weak region--overactive", f"url(#{prefix}-both)", INK, 1.1
    if region in weak:
        return "region region--weak", INK, INK, 1.1
    if region in over:
        return "region region--overactive", f"url(#{prefix}-hatch)", INK, 1.1
    if region in untested:
        return "region region--untested", SKIN, OUTLINE, 1.1
    return "region region--neutral", NEUTRAL_FILL, NEUTRAL_STROKE, 0.8


def _figure(
    shapes, details, weak, over, prefix, view, show_face, untested=(), weak_sides=None
) -> list[str]:
    out = [f'<g id="{prefix}-{view}" class="figure figure--{view}">']
    out.append(
        f'<path class="silhouette" d="{_silhouette_path()}" fill="{SKIN}" '
        f'stroke="{OUTLINE}" stroke-width="1.3" stroke-linejoin="round"/>'
    )
    out.append(
        f'<ellipse class="silhouette" cx="100" cy="29" rx="19" ry="24" fill="{SKIN}" '
        f'stroke="{OUTLINE}" stroke-width="1.3"/>'
    )
    if show_face:
        out.append(
            f'<path d="M94 44 Q100 47 106 44" fill="none" stroke="{NEUTRAL_STROKE}" '
            'stroke-width="0.9"/>'
        )
    # the unmirrored half is on the viewer's right: the client's left seen from the front,
    # their right seen from the back
    near = "left" if view == "front" else "right"
    by_region: dict[str, list[tuple[str, str]]] = {}
    for region, points, mirrored in shapes:
        paths = by_region.setdefault(region, [])
        paths.append((_smooth_closed(_place(points)), near if mirrored else ""))
        if mirrored:
            far = "right" if near == "left" else "left"
            paths.append((_smooth_closed(_place(points, mirror=True)), far))
    sides = weak_sides or {}
    for region, paths in by_region.items():
        side = sides.get(region) if region not in over else None
        groups = [(weak if side is None else set(weak) - {region}, paths, "")]
        if side is not None:  # weak on one side only: that side is shaded, the other not
            groups = [
                (weak, [p for p in paths if p[1] in (side, "")], f" ({side})"),
                (set(weak) - {region}, [p for p in paths if p[1] not in (side, "")], ""),
            ]
        for marked, group_paths, suffix in groups:
            if not group_paths:
                continue
            cls, fill, stroke, width = _region_style(region, marked, over, prefix, untested)
            dashed = ' stroke-dasharray="3 2"' if region in untested else ""
            name = REGION_NAMES[region] + suffix
            name += " (not tested)" if region in untested else ""
            out.append(
                f'<g class="{cls}" data-region="{region}" fill="{fill}" stroke="{stroke}" '
                f'stroke-width="{width}" stroke-linejoin="round"{dashed}>'
                f"<title>{escape(name)}</title>"
            )
            out.extend(f'<path d="{d}"/>' for d, _ in group_paths)
            out.append("</g>")
    for line in details:
        (x1, y1), (x2, y2) = _place(line)
        out.append(
            f'<line x1="{_fmt(x1)}" y1="{_fmt(y1)}" x2="{_fmt(x2)}" y2="{_fmt(y2)}" '
            f'stroke="{NEUTRAL_STROKE}" stroke-width="0.7"/>'
        )
    out.append("</g>")
    return out


def _check_regions(name: str, regions: Iterable[str]) -> set[str]:
    if isinstance(regions, str):
        regions = [regions]
    result = set()
    for region in regions:
        if region not in REGION_NAMES:
            raise ValueError(f"unknown body-map region in {name}: {region!r}")
        result.add(region)
    return result


def _defs(prefix: str) -> str:
    return (
        "<defs>"
        f'<pattern id="{prefix}-hatch" patternUnits="userSpaceOnUse" width="5" height="5" '
        'patternTransform="rotate(45)">'
        f'<rect width="5" height="5" fill="#ffffff"/>'
        f'<rect width="1.8" height="5" fill="{INK}"/>'
        "</pattern>"
        f'<pattern id="{prefix}-both" patternUnits="userSpaceOnUse" width="5" height="5" '
        'patternTransform="rotate(45)">'
        f'<rect width="5" height="5" fill="{INK}"/>'
        f'<rect x="2" width="1.2" height="5" fill="#ffffff"/>'
        "</pattern>"
        "</defs>"
    )


def _legend_entries(prefix: str, weak, over, untested) -> list[tuple[str, str, str]]:
    entries = [
        (INK, INK, "Weak: strengthen"),
        (f"url(#{prefix}-hatch)", INK, "Overactive / tight: release"),
    ]
    if weak & over:
        entries.append((f"url(#{prefix}-both)", INK, "Both weak and overactive"))
    if untested:
        entries.append((SKIN, OUTLINE, "Not tested"))
    entries.append((NEUTRAL_FILL, NEUTRAL_STROKE, "Not marked"))
    return entries


def _legend(y: float, total_w: float, prefix: str, weak, over, untested=()) -> list[str]:
    entries = _legend_entries(prefix, weak, over, untested)
    out = [f'<g class="legend" font-family="{FONT}" font-size="15" fill="{INK}">']
    row_h = 23
    x = 24
    for i, (fill, stroke, label) in enumerate(entries):
        cy = y + 10 + i * row_h
        dashed = ' stroke-dasharray="3 2"' if label == "Not tested" else ""
        out.append(
            f'<rect x="{x}" y="{_fmt(cy)}" width="24" height="16" rx="2" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.1"{dashed}/>'
        )
        out.append(
            f'<text x="{x + 34}" y="{_fmt(cy + 13)}" fill="{INK}" stroke="none">'
            f"{escape(label)}</text>"
        )
    out.append("</g>")
    return out


def body_map_svg(
    weak: Iterable[str] = (),
    overactive: Iterable[str] = (),
    *,
    untested: Iterable[str] = (),
    width: int = 360,
    legend: bool = True,
    id_prefix: str = "bm",
    title: str = "Body map",
) -> str:
    """Return a standalone SVG document with front and back views and the marked regions.

    ``untested`` regions (a test was possible but not done) are drawn apart from the
    unmarked ones, so a missing test never looks like a normal one; a region also weak or
    overactive keeps that mark.

    :raise ValueError: on an unknown region id, a bad ``id_prefix`` or a non-positive width.
    """
    # "glutes:left": weak on that side only (both sides, or the whole region, shade both)
    named: dict[str, set[str]] = {}
    for entry in [weak] if isinstance(weak, str) else weak:
        region, _, side = entry.partition(":")
        named.setdefault(region, set()).add(side)
    weak_sides = {
        r: next(iter(s)) for r, s in named.items() if len(s) == 1 and s <= {"left", "right"}
    }
    weak_set = _check_regions("weak", named)
    over_set = _check_regions("overactive", overactive)
    untested_set = _check_regions("untested", untested) - weak_set - over_set
    if not _ID_PREFIX_RE.match(id_prefix):
        raise ValueError(f"id_prefix must be a simple identifier, got {id_prefix!r}")
    if int(width) <= 0:
        raise ValueError("width must be positive")
    entries = len(_legend_entries(id_prefix, weak_set, over_set, untested_set))
    legend_h = (_LEGEND_H + 23 * (entries - 3)) if legend else 0
    label_h = 26
    total_w = _FIG_W * 2 + _GAP
    total_h = _FIG_H + label_h + legend_h
    height = round(int(width) * total_h / total_w)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{int(width)}" '
        f'height="{height}" viewBox="0 0 {total_w} {total_h}" role="img" '
        f'aria-labelledby="{id_prefix}-title" class="body-map" id="{id_prefix}">',
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        _defs(id_prefix),
    ]
    out += _figure(
        _FRONT_SHAPES,
        _FRONT_DETAIL,
        weak_set,
        over_set,
        id_prefix,
        "front",
        True,
        untested_set,
        weak_sides,
    )
    out.append(f'<g transform="translate({_FIG_W + _GAP} 0)">')
    out += _figure(
        _BACK_SHAPES,
        _BACK_DETAIL,
        weak_set,
        over_set,
        id_prefix,
        "back",
        False,
        untested_set,
        weak_sides,
    )
    out.append("</g>")
    out.append(
        f'<g class="view-labels" font-family="{FONT}" font-size="15" fill="{OUTLINE}" '
        'text-anchor="middle">'
        f'<text x="100" y="{_FIG_H + 18}">Front</text>'
        f'<text x="{_FIG_W + _GAP + 100}" y="{_FIG_H + 18}">Back</text>'
        "</g>"
    )
    if legend:
        out += _legend(_FIG_H + label_h, total_w, id_prefix, weak_set, over_set, untested_set)
    out.append("</svg>")
    return "".join(out)
