"""SafeURLFetcher: static files and small PNG/JPEG data URIs only; refusals stop the render."""

import base64
import urllib.request

import pytest
from weasyprint.urls import FatalURLFetchingError

from tests.plans import sample_context as samples
from tests.plans import servers
from trainer_app.plans.fetcher import (
    MAX_DATA_URI_BYTES,
    STATIC_DIR,
    FetchRefused,
    SafeURLFetcher,
)
from trainer_app.plans.render import RenderError, render_pdf

PNG = samples.tiny_png(4, 4)
CSS_URL = (STATIC_DIR / "pdf" / "plan.css").as_uri()


@pytest.fixture
def fetcher():
    return SafeURLFetcher()


def test_static_file_is_served(fetcher):
    response = fetcher.fetch(CSS_URL)
    assert b"@page" in response.read()
    assert response.content_type == "text/css"
    assert not fetcher.refusals


def test_static_file_via_relative_path_within_static_is_served(fetcher):
    url = STATIC_DIR.as_uri() + "/pdf/../pdf/plan.css"
    assert b"@page" in fetcher.fetch(url).read()


@pytest.mark.parametrize(
    "suffix",
    [
        "/../plans/fetcher.py",
        "/pdf/../../__init__.py",
        "/%2e%2e/plans/render.py",
        "/../../pyproject.toml",
    ],
)
def test_dot_dot_escape_is_refused(fetcher, suffix):
    with pytest.raises(FetchRefused):
        fetcher.fetch(STATIC_DIR.as_uri() + suffix)
    assert fetcher.refusals


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "file://evil.example/etc/passwd",
        "file:///etc/passwd?x=1",
        "file:///nonexistent/file.png",
    ],
)
def test_files_outside_static_are_refused(fetcher, url):
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)


def test_static_directory_itself_is_refused(fetcher):
    with pytest.raises(FetchRefused):
        fetcher.fetch(STATIC_DIR.as_uri())


def test_symlink_escape_is_refused(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (static / "ok.css").write_text("p{}")
    (static / "link.css").symlink_to(secret)
    (static / "dir").symlink_to(tmp_path)
    fetcher = SafeURLFetcher(static)
    assert fetcher.fetch((static / "ok.css").as_uri()).read() == b"p{}"
    with pytest.raises(FetchRefused):
        fetcher.fetch((static / "link.css").as_uri())
    with pytest.raises(FetchRefused):
        fetcher.fetch((static / "dir" / "secret.txt").as_uri())


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/logo.png",
        "ftp://example.com/x",
        "//example.com/x",
        "javascript:alert(1)",
        "relative/path.png",
        "mailto:a@b.c",
    ],
)
def test_other_schemes_are_refused(fetcher, url):
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)


def test_http_is_refused_without_any_request():
    with (
        servers.RecordingServer() as target,
        servers.RecordingServer(redirect_to=target.url) as redirector,
    ):
        fetcher = SafeURLFetcher()
        for url in (target.url, redirector.url, target.url + "x.png"):
            with pytest.raises(FetchRefused):
                fetcher.fetch(url)
        # the listener is real: a plain client reaches it
        urllib.request.urlopen(target.url + "probe", timeout=5).close()  # noqa: S310
        assert target.requests == ["/probe"]
        assert redirector.requests == []


def test_refusal_is_fatal_for_weasyprint():
    assert issubclass(FetchRefused, FatalURLFetchingError)
    assert not issubclass(FetchRefused, Exception)


def data_uri(mime, body):
    return f"data:{mime};base64," + base64.b64encode(body).decode()


def test_small_png_and_jpeg_data_uris_are_allowed(fetcher):
    response = fetcher.fetch(data_uri("image/png", PNG))
    assert response.read() == PNG
    assert response.content_type == "image/png"
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    assert fetcher.fetch(data_uri("image/jpeg", jpeg)).read() == jpeg


def test_big_data_uri_is_refused(fetcher):
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (MAX_DATA_URI_BYTES + 10)
    with pytest.raises(FetchRefused, match="2 MB"):
        fetcher.fetch(data_uri("image/png", big))


@pytest.mark.parametrize(
    "url",
    [
        data_uri("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
        data_uri("text/html", b"<p>hi</p>"),
        data_uri("text/css", b"@import url(http://127.0.0.1/)"),
        data_uri("image/png", b"GIF89a not a png"),
        "data:image/png;base64,%%%notbase64",
        "data:image/png,plain",
        "data:,hello",
    ],
)
def test_other_data_uris_are_refused(fetcher, url):
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)


@pytest.mark.parametrize(
    "snippet",
    [
        '<img src="file:///etc/passwd">',
        '<img src="{url}">',
        '<link rel="attachment" href="{url}">',
        '<link rel="attachment" href="file:///etc/passwd">',
        "<style>@import url({url});</style>",
        '<link rel="stylesheet" href="{url}">',
        '<div style="background: url({url})">x</div>',
        '<svg width="10" height="10"><image href="{url}" width="10" height="10"/></svg>',
        '<img src="../plans/fetcher.py">',
    ],
)
def test_a_refusal_aborts_render_pdf(snippet):
    with servers.RecordingServer() as target:
        html = "<html><body><p>before</p>" + snippet.format(url=target.url) + "</body></html>"
        with pytest.raises(RenderError, match="may not use"):
            render_pdf(html, timeout_s=60)
        assert target.requests == []


def test_allowed_resources_render(tmp_path):
    html = (
        '<html><head><link rel="stylesheet" href="pdf/plan.css"></head><body>'
        f'<img src="{data_uri("image/png", PNG)}"><p>ok</p></body></html>'
    )
    assert render_pdf(html).startswith(b"%PDF")


def test_only_the_drawings_this_process_rasterised_are_served_from_drawings():
    from trainer_app.library.figures import exercise_figures
    from trainer_app.plans import rasters

    src = rasters.drawing_url(exercise_figures("plank")[0].svg, 23.5)
    png = SafeURLFetcher().fetch((STATIC_DIR / src).as_uri()).read()
    assert png == rasters.raster(src.rsplit("/", 1)[1]) and png.startswith(b"\x89PNG")
    for other in ("drawings/0123abcd-278.png", "drawings/../pdf/plan.css.png", "pdf/x.png"):
        with pytest.raises(FetchRefused, match="not found|outside"):
            SafeURLFetcher().fetch((STATIC_DIR / other).as_uri())
    # an SVG, even one of ours, is never taken from a data URI (it could fetch what it likes)
    with pytest.raises(FetchRefused, match="only PNG and JPEG"):
        SafeURLFetcher().fetch(data_uri("image/svg+xml", exercise_figures("plank")[0].svg.encode()))
