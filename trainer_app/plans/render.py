"""Plan PDF rendering: a plain dict context -> HTML (Jinja) -> PDF (WeasyPrint).

This is the only module that calls WeasyPrint. Each render runs in a forked child with an
address-space limit, and the parent kills it past the time limit. ``os.fork`` rather than
multiprocessing because Celery prefork children are daemonic and may not start
multiprocessing children. WeasyPrint is imported here, once, so forked children inherit it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import hashlib
import io
import json
import os
import re
import resource
import select
import signal
import time
from pathlib import Path
from urllib.parse import urljoin

import PIL.Image
import pydyf
import weasyprint
import weasyprint.images
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)
from markupsafe import Markup, escape
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import path2url

from trainer_app.content import ARTICLE_CITATION
from trainer_app.library.bodymap import REGION_NAMES, body_map_svg
from trainer_app.library.figures import exercise_figures
from trainer_app.library.media import clean_video_url, qr_svg
from trainer_app.plans import rasters
from trainer_app.plans.fetcher import STATIC_DIR, FetchRefused, SafeURLFetcher
from trainer_app.plans.options import CLIENT_COPY, CLINICIAN_COPY
from trainer_app.progress.printed import progress_view
from trainer_app.text import one_line, printable

TEMPLATE_VERSION = "plan-9"
# Tagged PDF (headings, lists, reading order for screen readers), title shown, language set.
PDF_VARIANT = "pdf/ua-1"
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
DEFAULT_ACCENT = "#2f6f8f"
# pdf/plan.html's link to its stylesheet, which renders replace with the parsed stylesheet.
PLAN_STYLESHEET_LINK = '<link rel="stylesheet" href="pdf/plan.css">'
PAPER_SIZES = {"A4": "A4", "LETTER": "letter"}
# The printed width (mm) of each of a card's drawings by how many it has, as plan.css sets it
# (.figures-N .card-figure): the drawings are rasterised for it. The overview's tile shows the
# first drawing smaller, from the same image.
FIGURE_WIDTH_MM = {1: 36, 2: 23.5, 3: 15}
LARGE_FIGURE_WIDTH_MM = {1: 36, 2: 50, 3: 40}
# The overview's body map prints 27 mm wide (.focus-map img), at 600 dpi for its fine stripes.
COVER_MAP_WIDTH_MM = 27
COVER_MAP_DPI = 600
_DRAWING_SRC_RE = re.compile(rf'src="({rasters.FOLDER}/[0-9a-f]+-[0-9]+\.png)"')

_ACCENT_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_LOGO_RE = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/=\s]+$")
_PHOTO_RE = re.compile(r"^data:image/jpeg;base64,[A-Za-z0-9+/=\s]+$")

_OK, _MEMORY, _REFUSED, _FAILED = b"O", b"M", b"R", b"E"


class RenderError(Exception):
    """The PDF could not be produced; ``str(error)`` is a reason fit to show the trainer."""


def valid_accent(value: object) -> str:
    """Return ``value`` if it is a ``#rrggbb`` colour, else the default accent colour."""
    if isinstance(value, str) and _ACCENT_RE.fullmatch(value):
        return value.lower()
    return DEFAULT_ACCENT


def fingerprint(context: dict) -> str:
    """SHA-256 of the canonical JSON of the context and the template version."""
    canonical = json.dumps(
        {"template": TEMPLATE_VERSION, "context": context},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=4)
def _environment(templates_dir: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.lru_cache(maxsize=1)
def _font_config() -> FontConfiguration:
    return FontConfiguration()


def _one_line(value: object, limit: int = 200) -> str:
    """Collapse whitespace and shorten, for the two-line page footer and the PDF metadata."""
    text = one_line(str(value or ""))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _printable(value):
    """Every string of the context without bidi overrides or control characters (see text.py).

    Line breaks stay (notes and steps may have them); names are printed through HTML, where
    a line break is a space, and through _one_line where it must be.
    """
    if isinstance(value, str):
        return printable(value, multiline=True)
    if isinstance(value, dict):
        return {key: _printable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(item) for item in value]
    return value


def _regions(ids) -> list[str]:
    """Known body-map regions, each whole or on one side ("glutes:left")."""
    out = []
    for entry in ids or []:
        region, sep, side = str(entry).partition(":")
        if region in REGION_NAMES and (not sep or side in ("left", "right")):
            out.append(f"{region}:{side}" if sep else region)
    return out


def _short_dose(text: object) -> str:
    """A dose without its rest time, for the overview and the weekly steps."""
    return str(text or "").rsplit(", rest ", 1)[0]


def _progression(weekly) -> list[dict]:
    """Consecutive weeks with the same dose, grouped: [{"weeks": "1–2", "dose": "3 x 10"}]."""
    groups: list[dict] = []
    for week in weekly or []:
        dose = _short_dose(week.get("dose_text"))
        number = int(week.get("week") or 0)
        if groups and groups[-1]["dose"] == dose:
            groups[-1]["last"] = number
        else:
            groups.append({"first": number, "last": number, "dose": dose})
    return [
        {
            "weeks": str(g["first"]) if g["first"] == g["last"] else f"{g['first']}–{g['last']}",
            "dose": g["dose"],
            "span": g["last"] - g["first"] + 1,  # the overview's week columns it covers
        }
        for g in groups
    ]


def _week_cells(progression: list[dict], weeks: int) -> list[dict]:
    """The overview's cells of one exercise: each dose spans the weeks it is done (clipped
    to the program's weeks, a gap left blank), so the week columns line up for every row."""
    cells: list[dict] = []
    used = 0
    for step in progression:
        span = min(int(step.get("span") or 1), weeks - used)
        if span <= 0:
            break
        cells.append({"dose": step["dose"], "span": span})
        used += span
    if used < weeks:
        cells.append({"dose": "", "span": weeks - used})
    return cells


def titled_svg(svg: str, title: str) -> Markup:
    """Our own inline SVG with a ``<title>``: the tagged PDF's alternative text for it."""
    head, sep, rest = svg.partition(">")
    if not sep or not head.startswith("<svg"):
        raise ValueError("not an SVG element")
    # Our own markup; only the escaped title is inserted.
    return Markup(f"{head}><title>{escape(title)}</title>{rest}")  # noqa: S704


def _pictures(item: dict, large: bool) -> dict:
    """An item's drawings (ours, from its slug), the clinic's photo (checked) and video QR."""
    name = str(item.get("name") or "Exercise")
    photo = item.get("photo_data_uri")
    photo = photo if isinstance(photo, str) and _PHOTO_RE.match(photo) else None
    figures = [] if photo else list(exercise_figures(str(item.get("slug") or "")))
    widths = LARGE_FIGURE_WIDTH_MM if large else FIGURE_WIDTH_MM
    width_mm = widths.get(len(figures), max(widths.values()))
    try:
        video = clean_video_url(item.get("video_url"))
    except ValueError:
        video = None
    return {
        "photo": photo,
        # Our own drawings from the poses file, rasterised at print resolution once a process.
        "figures": [
            {"src": rasters.drawing_url(f.svg, width_mm), "alt": f"{name}: {f.label.lower()}"}
            for f in figures
        ],
        # segno's SVG of a link that passed clean_video_url: modules only, no text.
        "qr": titled_svg(qr_svg(video), f"QR code of the video link for {name}") if video else None,
        "video_url": video,
    }


def _view_model(context: dict) -> dict:
    """Normalise the context for the template: validated colour/paper/logo, pictures, SVGs."""
    context = _printable(context)
    clinic = dict(context.get("clinic") or {})
    paper = str(clinic.get("paper") or "A4").upper()
    logo = clinic.get("logo_data_uri")
    body_map = context.get("body_map") or {}
    large = bool(context.get("large_print"))
    program = context.get("program") or {}
    audience = CLINICIAN_COPY if context.get("audience") == CLINICIAN_COPY else CLIENT_COPY
    weeks = max(int(program.get("weeks") or 0), 0)
    items = []
    for index, item in enumerate(context.get("items") or [], start=1):
        progression = _progression(item.get("weekly"))
        if not progression:
            progression = [{"weeks": "", "dose": _short_dose(item.get("dose_text")), "span": weeks}]
        items.append(
            {
                **item,
                "number": index,
                "short_dose": _short_dose(item.get("dose_text")),
                "progression": progression,
                "week_cells": _week_cells(progression, weeks),
                "pictures": _pictures(item, large),
            }
        )
    return {
        **context,
        "clinic": {
            **clinic,
            "paper": PAPER_SIZES.get(paper, "A4"),
            "accent_color": valid_accent(clinic.get("accent_color")),
            "logo_data_uri": logo if isinstance(logo, str) and _LOGO_RE.match(logo) else None,
            "contact_line": _one_line(clinic.get("contact"), 150),
        },
        "safety_line": _one_line(context.get("safety_note"), 220),
        # PDF metadata (Title, Author) is one line: no CR/LF or other controls from a name.
        "document_title": _one_line(
            f"{context.get('title') or ''} · {(context.get('client') or {}).get('name') or ''}"
        ),
        "document_author": _one_line(clinic.get("name")),
        "large_print": large,
        "audience": audience,
        "clinician_copy": audience == CLINICIAN_COPY,
        "stop_signs": context.get("stop_signs") or {"emergency": [], "doctor": []},
        "focus": context.get("focus") or [],
        "not_medical_advice": context.get("not_medical_advice") or "",
        "program": {**program, "week_numbers": list(range(1, weeks + 1))},
        "sessions": range(max(int(program.get("sessions_per_week") or 0), 0)),
        "items": items,
        # "loosen" only when a test found a muscle tight (the context marks no other)
        "map_loosen": bool(_regions(body_map.get("overactive"))),
        # "strengthen" only when a test found a muscle weak (a plan built without an
        # assessment shades nothing)
        "map_strengthen": bool(_regions(body_map.get("weak"))),
        # Printed as a raster like the drawings: painting its many paths cost about 57 ms.
        "cover_map": {
            "src": rasters.drawing_url(
                cover_map_svg(context), COVER_MAP_WIDTH_MM, dpi=COVER_MAP_DPI
            ),
            "alt": _cover_map_title(body_map),
        },
        "template_version": TEMPLATE_VERSION,
        "progress": _progress(context.get("progress")),
        "article_citation": ARTICLE_CITATION,
    }


def _cover_map_title(body_map: dict) -> str:
    return "Body map, front and back: muscles to strengthen are dark" + (
        ", muscles to loosen striped" if _regions(body_map.get("overactive")) else ""
    )


def cover_map_svg(context: dict) -> str:
    """The overview's body map of ``context`` as SVG (our own, no user text), before it is
    rasterised for print."""
    body_map = context.get("body_map") or {}
    return body_map_svg(
        weak=_regions(body_map.get("weak")),
        overactive=_regions(body_map.get("overactive")),
        width=200,
        legend=False,
        id_prefix="cover",
        title=_cover_map_title(body_map),
    )


def _progress(data) -> dict | None:
    """The progress part, its QR code titled: the tagged PDF's alternative text for it."""
    view = progress_view(data)
    if view and view.get("qr_svg"):
        view["qr_svg"] = titled_svg(str(view["qr_svg"]), "QR code of your progress link")
    return view


def plan_html(context: dict, *, templates_dir: Path | str | None = None) -> str:
    """Render the plan's HTML from ``templates/pdf/plan.html`` (autoescaped).

    :raise RenderError: if the context lacks a field the template needs.
    """
    env = _environment(str(templates_dir or TEMPLATES_DIR))
    try:
        return env.get_template("pdf/plan.html").render(**_view_model(context))
    except (TemplateError, TypeError, ValueError, AttributeError) as error:
        raise RenderError(f"The plan data is incomplete or malformed: {error}") from error


@functools.lru_cache(maxsize=1)
def _plan_stylesheet() -> weasyprint.CSS:
    """plan.css parsed once a process (parsing it cost about 25 ms a render), before forking."""
    return weasyprint.CSS(filename=str(STATIC_DIR / "pdf" / "plan.css"), font_config=_font_config())


@functools.lru_cache(maxsize=1)
def _image_cache() -> dict:
    """WeasyPrint's image cache (keyed by URL), shared by every render of this process: it holds
    our drawings' rasters decoded once, loaded in the process that forks the render (see
    :func:`_cache_drawings`); whatever a forked render adds stays in its child."""
    return {}


_cached_drawings: set[str] = set()


class _PrintRaster(weasyprint.images.RasterImage):
    """One of our rasters, its PDF image stream made once a process: WeasyPrint otherwise
    decodes and compresses the pixels of every image again on every render."""

    def get_x_object(self, interpolate, dpi_ratio):
        made = self.__dict__.setdefault("_made", {})
        if (interpolate, dpi_ratio) not in made:
            made[interpolate, dpi_ratio] = super().get_x_object(interpolate, dpi_ratio)
        stream = made[interpolate, dpi_ratio]
        # a new PDF object for each document, around the same bytes
        return pydyf.Stream(stream.stream, pydyf.Dictionary(stream.extra), stream.compress)


def _cache_drawings(html: str) -> None:
    """Decode into the shared image cache the drawings ``html`` shows that it does not hold."""
    missing = sorted({m for m in _DRAWING_SRC_RE.findall(html) if m not in _cached_drawings})
    if not missing:
        return
    cache, base_url = _image_cache(), path2url(str(STATIC_DIR) + os.sep)
    for src in missing:
        png = rasters.raster(src.rsplit("/", 1)[1])
        if png is None:  # made and forgotten since: the fetcher will refuse it
            continue
        url = urljoin(base_url, src)  # as WeasyPrint resolves the <img src> (its cache key)
        image_id = hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()
        cache[url] = _PrintRaster(
            PIL.Image.open(io.BytesIO(png)), image_id, png, cache=cache, orientation="none"
        )
        _cached_drawings.add(src)


def pdf_arguments(html: str) -> tuple[str, dict]:
    """The HTML and the ``write_pdf`` options of every render: the shared font configuration,
    the tagged PDF variant, the shared image cache holding the drawings ``html`` shows and, for
    a plan, its parsed stylesheet in place of the template's link to it (the benchmarks' bare
    renders use the same)."""
    _cache_drawings(html)
    options = {
        "font_config": _font_config(),
        "pdf_variant": PDF_VARIANT,
        "cache": _image_cache(),
    }
    if PLAN_STYLESHEET_LINK in html:
        html = html.replace(PLAN_STYLESHEET_LINK, "", 1)
        options["stylesheets"] = [_plan_stylesheet()]
    return html, options


def _write_pdf(html: str) -> bytes:
    fetcher = SafeURLFetcher(STATIC_DIR)
    html, options = pdf_arguments(html)
    document = weasyprint.HTML(string=html, base_url=str(STATIC_DIR) + os.sep, url_fetcher=fetcher)
    pdf = document.write_pdf(**options)
    if fetcher.refusals:  # belt and braces: refusals are fatal even if one was swallowed
        raise fetcher.refusals[0]
    return pdf


def _caused_by_memory(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, MemoryError):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _near_memory_limit(limit: int) -> bool:
    """True if this process's peak address space came within 64 MB of ``limit``."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmPeak:"):
                    return int(line.split()[1]) * 1024 >= limit - (64 << 20)
    except (OSError, ValueError, IndexError):
        pass
    return False


def _address_space_in_use() -> int:
    """This process's virtual address space in bytes (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _child(write_fd: int, html: str, memory_mb: int) -> None:
    """Body of the forked child: render, send status byte + payload, never return."""
    status, payload = _FAILED, b"unknown error"
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # The cap is on top of the address space inherited from the parent: a web or worker
        # process (or a long test run) may already map over a gigabyte of virtual memory (thread
        # stacks, malloc arenas), and an absolute cap below that fails every render at once.
        limit = _address_space_in_use() + memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        try:
            status, payload = _OK, _write_pdf(html)
        except MemoryError:
            status, payload = _MEMORY, b""
        except FetchRefused as error:
            status, payload = _REFUSED, str(error).encode("utf-8", "replace")
        except Exception as error:
            # C extensions that fail to allocate often surface as SystemError or similar.
            if _near_memory_limit(limit) or _caused_by_memory(error):
                status, payload = _MEMORY, b""
            else:
                status = _FAILED
                payload = f"{type(error).__name__}: {error}".encode("utf-8", "replace")[:2000]
    except BaseException:  # noqa: BLE001 - the child must always report and exit
        status, payload = _FAILED, b"renderer crashed"
    finally:
        try:
            view = memoryview(status + payload)
            while view:
                written = os.write(write_fd, view)
                view = view[written:]
        finally:
            os._exit(0)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue


def render_pdf(html: str, *, timeout_s: float = 60, memory_mb: int = 1024) -> bytes:
    """Render HTML to PDF bytes in a forked child limited to ``memory_mb`` and ``timeout_s``.

    :raise RenderError: on timeout, memory exhaustion, a refused fetch or any render failure.
    """
    pdf_arguments(html)  # fonts and the drawings made in the parent, shared by its children
    _plan_stylesheet()
    read_fd, write_fd = os.pipe()
    # Objects inherited from the parent are frozen out of the child's garbage collector:
    # otherwise each collection walks (and copies) every inherited page, which made forked
    # renders about 10% slower than in-process ones. The child is short-lived and capped.
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which exits via os._exit
        gc.disable()
        os.close(read_fd)
        _child(write_fd, html, memory_mb)
    gc.unfreeze()
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill(pid)
                raise RenderError(
                    f"Rendering the PDF took longer than {timeout_s:g} s and was stopped."
                )
            try:
                ready, _, _ = select.select([read_fd], [], [], remaining)
            except InterruptedError:
                continue
            if not ready:
                continue
            try:
                chunk = os.read(read_fd, 1 << 20)
            except OSError as error:
                if error.errno == errno.EINTR:
                    continue
                raise
            if not chunk:
                break
            chunks.append(chunk)
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(read_fd)
    wait_status = _reap(pid)
    data = b"".join(chunks)
    status, payload = data[:1], data[1:]
    if status == _OK and payload.startswith(b"%PDF"):
        return payload
    if status == _MEMORY:
        raise RenderError(f"Rendering the PDF ran out of memory (limit {memory_mb} MB).")
    if status == _REFUSED:
        raise RenderError(
            "The plan refers to a file or address that PDFs may not use ("
            + payload.decode("utf-8", "replace")
            + ")."
        )
    if status == _FAILED:
        raise RenderError("Rendering the PDF failed: " + payload.decode("utf-8", "replace"))
    if os.WIFSIGNALED(wait_status):
        raise RenderError(
            "The PDF renderer stopped unexpectedly (signal "
            f"{os.WTERMSIG(wait_status)}); it may have run out of memory."
        )
    raise RenderError("The PDF renderer stopped without producing a document.")


def render_plan(context: dict, **limits) -> bytes:
    """Render the plan for ``context`` to PDF bytes (``limits``: timeout_s, memory_mb)."""
    return render_pdf(plan_html(context), **limits)


def referral_html(context: dict, *, templates_dir: Path | str | None = None) -> str:
    """Render a referral letter's HTML from ``templates/pdf/referral.html`` (autoescaped).

    :raise RenderError: if the context lacks a field the template needs.
    """
    env = _environment(str(templates_dir or TEMPLATES_DIR))
    clinic = context.get("clinic") or {}
    try:
        return env.get_template("pdf/referral.html").render(
            **context,
            document_title=_one_line(
                f"Referral letter · {(context.get('client') or {}).get('name') or ''}"
            ),
            document_author=_one_line(clinic.get("name")),
        )
    except (TemplateError, TypeError, ValueError, AttributeError) as error:
        raise RenderError(f"The letter data is incomplete or malformed: {error}") from error


def render_referral(context: dict, **limits) -> bytes:
    """Render a referral letter to PDF bytes (``limits``: timeout_s, memory_mb)."""
    return render_pdf(referral_html(context), **limits)


def _session_view_model(context: dict) -> dict:
    context = _printable(context)
    clinic = dict(context.get("clinic") or {})
    paper = str(clinic.get("paper") or "A4").upper()
    items = [
        {
            **item,
            # Our own line drawings from library.figures (no user text in them).
            "figure_svgs": [Markup(svg) for svg in item.get("figures") or []],  # noqa: S704
        }
        for item in context.get("items") or []
    ]
    return {
        **context,
        "clinic": {
            **clinic,
            "paper": PAPER_SIZES.get(paper, "A4"),
            "accent_color": valid_accent(clinic.get("accent_color")),
        },
        "items": items,
        "progress_qr": _progress_qr(context.get("progress_url")),
        "document_title": _one_line(
            f"Session sheet · {(context.get('client') or {}).get('name') or ''}"
        ),
        "document_author": _one_line(clinic.get("name")),
        "template_version": TEMPLATE_VERSION,
    }


def _progress_qr(url) -> Markup | None:
    """The client's progress link (a URL we built) as our own QR code SVG, or None."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None
    return Markup(qr_svg(url))  # noqa: S704


def session_html(context: dict, *, templates_dir: Path | str | None = None) -> str:
    """Render the session sheet's HTML from ``templates/pdf/session.html`` (autoescaped).

    :raise RenderError: if the context lacks a field the template needs.
    """
    env = _environment(str(templates_dir or TEMPLATES_DIR))
    try:
        return env.get_template("pdf/session.html").render(**_session_view_model(context))
    except (TemplateError, TypeError, ValueError, AttributeError) as error:
        raise RenderError(f"The session sheet data is incomplete or malformed: {error}") from error


def render_session(context: dict, **limits) -> bytes:
    """Render a session sheet for ``context`` to PDF bytes (``limits`` as for a plan)."""
    return render_pdf(session_html(context), **limits)
