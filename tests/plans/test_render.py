"""Plan PDF: content read back from the PDF, paper sizes, hostile input, limits, fingerprint."""

import copy
import faulthandler
import io
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.plans import sample_context as samples
from tests.plans import servers
from trainer_app.library.figures import exercise_figures
from trainer_app.plans import render
from trainer_app.plans.render import (
    TEMPLATE_VERSION,
    TEMPLATES_DIR,
    RenderError,
    fingerprint,
    plan_html,
    render_pdf,
    render_plan,
)


def pdftotext(pdf: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode("utf-8")


def squash(text: str) -> str:
    """Remove all whitespace, so line wrapping in the PDF does not matter."""
    return re.sub(r"\s+", "", text)


def count_images(reader: PdfReader) -> int:
    """Image XObjects reachable from every page, including inside form XObjects."""
    seen = set()

    def walk(resources):
        xobjects = resources.get("/XObject") if resources else None
        if not xobjects:
            return
        for ref in xobjects.get_object().values():
            obj = ref.get_object()
            key = getattr(ref, "idnum", id(obj))
            if key in seen:
                continue
            seen.add(key)
            if obj.get("/Subtype") == "/Image":
                images.append(key)
            elif obj.get("/Subtype") == "/Form":
                walk(obj.get("/Resources"))

    images = []
    for page in reader.pages:
        walk(page.get("/Resources"))
    return len(images)


@pytest.fixture(scope="module")
def sample_pdf():
    return render_plan(samples.sample_context())


@pytest.fixture(scope="module")
def sample_text(sample_pdf):
    return pdftotext(sample_pdf)


def test_templates_folder_is_found():
    assert Path(render.__file__).resolve().parents[2] / "templates" == TEMPLATES_DIR
    assert (TEMPLATES_DIR / "pdf" / "plan.html").is_file()


def test_sample_has_twelve_exercises():
    assert len(samples.sample_context()["items"]) == 12


def test_client_and_header_facts_are_printed(sample_text):
    text = squash(sample_text)
    ctx = samples.sample_context()
    for value in (
        ctx["client"]["name"],
        ctx["clinic"]["name"],
        ctx["trainer"]["name"],
        ctx["trainer"]["email"],
        ctx["date"],
        ctx["title"],
        ctx["program"]["retest_on"],
    ):
        assert squash(value) in text
    assert squash("3 times a week, about 35 minutes, for 6 weeks") in text


def test_every_exercise_with_steps_and_dose(sample_text):
    text = squash(sample_text)
    for item in samples.sample_context()["items"]:
        assert squash(item["name"]) in text
        assert squash(item["dose_text"]) in text
        for step in item["steps"]:
            assert squash(step) in text, step
        assert squash(item["why"]) in text


def test_focus_tips_changes_stop_signs_and_safety(sample_text):
    text = squash(sample_text)
    ctx = samples.sample_context()
    for area in ctx["focus"]:
        assert squash(area["name"]) in text
    for tip in ctx["tips"]:
        assert squash(tip["title"]) in text and squash(tip["text"]) in text
    assert "Whatchangedsinceyourlastplan" in text
    for change in ctx["changes"]:
        assert squash(change) in text
    assert squash(ctx["safety_note"]) in text
    assert "Stopandseekhelpif" in text
    for sign in ctx["stop_signs"]["emergency"] + ctx["stop_signs"]["doctor"]:
        assert squash(sign) in text, sign
    assert "doesnotreplacemedicaladvice" in text


def test_tracking_table(sample_text):
    assert "Trackyourprogress" in squash(sample_text)
    assert "backpainfrom0(none)to10" in squash(sample_text)
    for week in range(1, 7):
        assert re.search(rf"^\s*{week}\s*$", sample_text, re.M), week
    assert sample_text.count("/10") == 6


def test_page_numbers_and_footer_on_every_page(sample_pdf):
    reader = PdfReader(io.BytesIO(sample_pdf))
    total = len(reader.pages)
    assert 4 <= total <= 6
    for number, page in enumerate(reader.pages, start=1):
        text = squash(page.extract_text())
        assert f"Page{number}of{total}" in text
        assert "NorthsideMovementClinic" in text
        assert "Stopanyexercise" in text


def test_a4_page_size(sample_pdf):
    for page in PdfReader(io.BytesIO(sample_pdf)).pages:
        assert abs(float(page.mediabox.width) - 595) <= 1
        assert abs(float(page.mediabox.height) - 842) <= 1


def test_letter_page_size():
    ctx = samples.sample_context()
    ctx["clinic"]["paper"] = "Letter"
    reader = PdfReader(io.BytesIO(render_plan(ctx)))
    assert 4 <= len(reader.pages) <= 6
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - 612) <= 1
        assert abs(float(page.mediabox.height) - 792) <= 1


def test_unknown_paper_falls_back_to_a4():
    ctx = samples.sample_context()
    ctx["clinic"]["paper"] = "A4; } body { display: none"
    html = plan_html(ctx)
    assert "size: A4;" in html
    assert "display: none" not in html


def test_unicode_names_print():
    ctx = samples.sample_context(
        client={"name": "王芳 Ольга Zoë Łukasiewicz"},
        trainer={"name": "Søren Ødegaard", "email": "s@example.com"},
    )
    text = pdftotext(render_plan(ctx))
    for word in ("王芳", "Ольга", "Zoë", "Łukasiewicz", "Søren", "Ødegaard"):
        assert word in text


def test_bidi_overrides_and_line_breaks_in_names_do_not_print():
    """U+202E would print "Anna Smith" as "htimS annA"; CR/LF would split the PDF's Title."""
    ctx = samples.sample_context(
        client={"name": "\u202eAnna Smith\r\nJr\x00"},
        trainer={"name": "Søren \u2067Ødegaard\u2069\u200f", "email": "s@example.com"},
        title="Back\ncare",
    )
    pdf = render_plan(ctx)
    text = pdftotext(pdf)
    assert "Anna Smith" in text and "htimS annA" not in text
    assert "Søren Ødegaard" in text
    assert not set(text) & {"\u202e", "\u2067", "\u2069", "\u200f", "\x00"}
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert metadata.title == "Back care · Anna Smith Jr"
    assert metadata.author == samples.sample_context()["clinic"]["name"]


def test_first_plan_omits_changes_section():
    html = plan_html(samples.sample_context(changes=[]))
    assert "What changed since your last plan" not in html
    assert "What changed since your last plan" in plan_html(samples.sample_context())


def test_drawings_are_grey_images_at_print_resolution_each_embedded_once(sample_pdf):
    """Each drawing is one greyscale image of at least 300 dpi wherever it prints (the overview
    tile shows its card's start drawing again from the same image); besides, the body map
    (600 dpi) and the logo."""
    drawings = {
        figure.svg
        for item in samples.sample_context()["items"]
        for figure in exercise_figures(item["slug"])
    }
    assert count_images(PdfReader(io.BytesIO(sample_pdf))) == 2 + len(drawings)
    listed = subprocess.run(
        ["pdfimages", "-list", "-"], input=sample_pdf, capture_output=True, check=True
    ).stdout.decode()
    rows = [line.split() for line in listed.splitlines()[2:]]
    shown = [row for row in rows if row[5] == "gray"]
    assert len(shown) == len(rows) - 1 == 3 * len(samples.sample_context()["items"]) + 1
    assert min(int(row[12]) for row in shown) >= 300 and min(int(row[13]) for row in shown) >= 300
    assert max(int(row[12]) for row in shown if row[0] == "1") >= 600  # the body map


def test_logo_that_is_not_a_png_or_jpeg_data_uri_is_dropped():
    for logo in (
        "file:///etc/passwd",
        "http://127.0.0.1/x.png",
        "data:image/svg+xml;base64,PHN2Zy8+",
        'data:image/png;base64,AA" onerror="x',
    ):
        ctx = samples.sample_context()
        ctx["clinic"]["logo_data_uri"] = logo
        html = plan_html(ctx)
        assert 'class="logo"' not in html


def test_accent_colour_is_validated():
    ctx = samples.sample_context()
    ctx["clinic"]["accent_color"] = "#AB12cd"
    assert "#ab12cd" in plan_html(ctx)
    for bad in (
        "red",
        "#12345",
        "#1234567",
        "#12345g",
        "#123456; } body { display:none",
        "url(http://127.0.0.1/)",
        None,
        123,
    ):
        ctx["clinic"]["accent_color"] = bad
        html = plan_html(ctx)
        assert render.DEFAULT_ACCENT in html
        assert "display:none" not in html and "127.0.0.1" not in html


def test_template_override_argument(tmp_path):
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "plan.html").write_text("<p>{{ client.name }}</p>")
    html = plan_html(
        samples.sample_context(client={"name": "<b>A & B</b>"}), templates_dir=tmp_path
    )
    assert html == "<p>&lt;b&gt;A &amp; B&lt;/b&gt;</p>"


def test_incomplete_context_is_a_render_error():
    ctx = samples.sample_context()
    del ctx["items"][3]["steps"]
    with pytest.raises(RenderError, match="incomplete"):
        plan_html(ctx)
    with pytest.raises(RenderError):
        plan_html(samples.sample_context(program={"weeks": "six"}))


# --- hostile input ------------------------------------------------------------------------


def hostile(url: str, redirect: str) -> str:
    return (
        f'<img src="file:///etc/passwd"> <img src="{url}img"> <img src="{redirect}r"> '
        f'<link rel="attachment" href="{url}att"> '
        f"<style>@import url({url}css);</style> "
        f'<svg><image href="{url}svg"/></svg> '
        f'<link rel="stylesheet" href="{redirect}css"> '
        f"<script>alert(1)</script> {{{{ 7*7 }}}} &amp; ']]>"
    )


def hostile_context(payload: str) -> dict:
    ctx = samples.clinician_context()
    ctx["client"]["name"] = "Client " + payload
    ctx["clinic"]["name"] = "Clinic " + payload
    ctx["clinic"]["contact"] = "Contact " + payload
    ctx["trainer"]["name"] = "Trainer " + payload
    ctx["trainer"]["email"] = payload
    ctx["title"] = "Title " + payload
    ctx["date"] = payload
    ctx["safety_note"] = "Safety " + payload
    ctx["findings"][0]["name"] = payload
    ctx["findings"][0]["severity"] = payload
    ctx["findings"][0]["findings"][0].update(
        text="Reason " + payload, value=payload, threshold=payload, source=payload
    )
    ctx["focus"] = [{"name": "Focus " + payload, "why": payload}]
    ctx["stop_signs"] = {"emergency": ["Sign " + payload], "doctor": [payload]}
    item = ctx["items"][0]
    item.update(
        name="Exercise " + payload,
        dose_text=payload,
        notes="Notes " + payload,
        reason=payload,
        why=payload,
        dose_reason=payload,
        video_url=payload,
        photo_data_uri=payload,
        slug=payload,
        easier=payload,
        harder=payload,
        steps=[payload],
        cues=[payload],
        mistakes=[payload],
        target_muscle_names=[payload],
    )
    item["weekly"][0]["dose_text"] = payload
    ctx["tips"] = [{"title": "Tip " + payload, "text": payload}]
    ctx["changes"] = ["Change " + payload]
    return ctx


def test_hostile_text_is_neither_fetched_nor_embedded_and_prints_literally():
    with (
        servers.RecordingServer() as target,
        servers.RecordingServer(redirect_to=target.url) as redirector,
    ):
        payload = hostile(target.url, redirector.url)
        ctx = hostile_context(payload)
        html = plan_html(ctx)
        assert "<script" not in html and '<img src="file' not in html
        pdf = render_plan(ctx)
        assert target.requests == []
        assert redirector.requests == []
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.attachments
    assert "/EmbeddedFiles" not in str(reader.trailer["/Root"].get("/Names", {}))
    # the clinic logo, the body map and our own drawings of the other exercises only
    drawings = {f.svg for item in ctx["items"] for f in exercise_figures(str(item["slug"]))}
    assert count_images(reader) == 2 + len(drawings)
    text = squash(pdftotext(pdf))
    for label in (
        "Client",
        "Clinic",
        "Trainer",
        "Notes",
        "Reason",
        "Tip",
        "Change",
        "Exercise",
        "Title",
        "Focus",
        "Sign",
    ):
        assert squash(f"{label} {payload}") in text, label
    # the safety note prints in every page's footer, shortened to two lines
    assert squash(f"Safety {payload}")[:120] in text
    assert squash(payload) in text
    assert "{{7*7}}" in text


# --- limits -------------------------------------------------------------------------------


def test_timeout_raises_render_error_and_kills_child(monkeypatch):
    forked: list[int] = []
    real_fork = os.fork

    def recording_fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording_fork)
    big = plan_html(samples.sample_context(items=samples.sample_context()["items"] * 4))
    with pytest.raises(RenderError, match="took longer than 0.01 s"):
        render_pdf(big, timeout_s=0.01)
    [child] = forked
    # Killed and reaped: the pid is no longer our child (other test children may exist).
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)


def test_memory_limit_raises_render_error_and_parent_survives(monkeypatch):
    html = plan_html(samples.sample_context())
    real = render._write_pdf

    def greedy(html):  # a render needing far more than the cap (the child inherits this)
        hoard = bytearray(512 << 20)
        return real(html) + bytes(hoard[:0])

    monkeypatch.setattr(render, "_write_pdf", greedy)
    with pytest.raises(RenderError, match="memory"):
        render_pdf(html, memory_mb=64)
    monkeypatch.undo()
    assert render_pdf("<p>still alive</p>").startswith(b"%PDF")


def test_a_parent_with_a_large_address_space_still_renders():
    """The cap is on top of what the child inherits: a long-running worker (or test run) maps
    over a gigabyte of virtual memory, and an absolute 1 GB cap failed every render at once."""
    import mmap

    reserved = mmap.mmap(-1, 1536 << 20)  # address space only: untouched pages cost no memory
    try:
        assert render_pdf("<p>still renders</p>").startswith(b"%PDF")
    finally:
        reserved.close()


def test_crashed_child_is_a_render_error(monkeypatch):
    def crash(html):
        faulthandler.disable()  # pytest's crash dump from the child would only be noise
        os.kill(os.getpid(), signal.SIGSEGV)

    monkeypatch.setattr(render, "_write_pdf", crash)
    with pytest.raises(RenderError, match="stopped unexpectedly"):
        render_pdf("<p>x</p>")


def test_render_failure_is_a_render_error(monkeypatch):
    def boom(html):
        raise RuntimeError("kaput")

    monkeypatch.setattr(render, "_write_pdf", boom)
    with pytest.raises(RenderError, match="kaput"):
        render_pdf("<p>x</p>")


# --- fingerprint --------------------------------------------------------------------------


def test_fingerprint_is_stable_for_equal_contexts():
    a = samples.sample_context()
    b = copy.deepcopy(a)
    b["clinic"] = dict(reversed(list(b["clinic"].items())))
    assert fingerprint(a) == fingerprint(b)
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint(a))


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["client"].update(name="Someone else"),
        lambda c: c["clinic"].update(accent_color="#000000"),
        lambda c: c["clinic"].update(paper="Letter"),
        lambda c: c.update(large_print=True),
        lambda c: c.update(audience="clinician"),
        lambda c: c["items"][0].update(video_url="https://videos.example/hip"),
        lambda c: c["items"][0].update(photo_data_uri="data:image/jpeg;base64,/9j/"),
        lambda c: c["program"].update(retest_on="1 March 2027"),
        lambda c: c.update(drawings_version="2027.1.1"),
        lambda c: c["items"][5]["steps"].append("One more step."),
        lambda c: c["items"][11]["weekly"][2].update(dose_text="changed"),
        lambda c: c["body_map"]["weak"].remove("glutes"),
        lambda c: c["program"].update(weeks=7),
        lambda c: c["changes"].clear(),
        lambda c: c.update(safety_note=c["safety_note"] + "!"),
    ],
)
def test_fingerprint_changes_when_any_field_changes(change):
    base = samples.sample_context()
    changed = copy.deepcopy(base)
    change(changed)
    assert fingerprint(base) != fingerprint(changed)


def test_fingerprint_depends_on_template_version(monkeypatch):
    ctx = samples.sample_context()
    before = fingerprint(ctx)
    monkeypatch.setattr(render, "TEMPLATE_VERSION", TEMPLATE_VERSION + "-next")
    assert fingerprint(ctx) != before


def test_the_map_key_says_loosen_only_when_a_test_found_a_muscle_tight():
    # physiotherapist review: the client is never told to loosen a region no test found tight
    untested = plan_html(samples.sample_context(body_map={"weak": ["glutes"], "overactive": []}))
    assert "loosen" not in untested
    tight = {"weak": ["glutes"], "overactive": ["hip_flexors"]}
    assert "loosen" in plan_html(samples.sample_context(body_map=tight))
