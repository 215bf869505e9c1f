"""Our own SVG drawings as print-resolution PNGs, made once a process and served by name.

WeasyPrint paints an SVG image element by element each time it is shown: an exercise drawing
cost about 6 ms, 36 of them about a sixth of a 12-exercise plan's render, and their base64 SVG
data URIs were two thirds of the plan's HTML to parse. A PNG is decoded once and embedded once
per document however often it is shown. Each drawing is rasterised (cairosvg) at 300 dpi of the
width it prints at, grey on white: line art stays sharp on paper, and the file is a few kB.

A plan refers to a raster by a short relative URL (``drawings/<hash>-<pixels>.png``, resolved
against the static folder but never on disk); the plans' URL fetcher serves it from this
process's memory, and only what this module made.
"""

from __future__ import annotations

import hashlib
import io
import math
import threading
from collections import OrderedDict

import cairosvg
from PIL import Image

PRINT_DPI = 300
# The URL folder, under the static folder, that the rasters are served from (never on disk).
FOLDER = "drawings"
# Every exercise drawing at its two or three printed widths, with room to spare.
MAX_RASTERS = 512

_rasters: OrderedDict[str, bytes] = OrderedDict()
_lock = threading.Lock()


def pixels_for(width_mm: float, dpi: int = PRINT_DPI) -> int:
    """Pixels across for ``width_mm`` printed at ``dpi``."""
    return math.ceil(width_mm / 25.4 * dpi)


def rasterise(svg: str, width_px: int) -> bytes:
    """``svg`` drawn ``width_px`` wide on white, as an 8-bit greyscale PNG."""
    rgba = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg.encode(), output_width=width_px)))
    with rgba:
        rgba.load()
        grey = Image.new("L", rgba.size, 255)
        grey.paste(rgba.convert("L"), mask=rgba.getchannel("A"))
    out = io.BytesIO()
    # WeasyPrint re-compresses the pixels when it writes the PDF: spend no time here on it.
    grey.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def drawing_url(svg: str, width_mm: float, *, dpi: int = PRINT_DPI) -> str:
    """The URL of ``svg`` (our own drawing) as a PNG printed ``width_mm`` wide, made once."""
    width_px = pixels_for(width_mm, dpi)
    name = f"{hashlib.sha256(svg.encode()).hexdigest()[:24]}-{width_px}.png"
    with _lock:
        if name in _rasters:
            _rasters.move_to_end(name)
            return f"{FOLDER}/{name}"
    png = rasterise(svg, width_px)
    with _lock:
        _rasters[name] = png
        while len(_rasters) > MAX_RASTERS:
            _rasters.popitem(last=False)
    return f"{FOLDER}/{name}"


def raster(name: str) -> bytes | None:
    """The PNG this process made under ``name`` (the last part of its URL), or None."""
    with _lock:
        return _rasters.get(name)
