"""A clinic's own photo and video link per exercise: checks, storage, display, tenancy, QR code."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.support import services
from trainer_app.extensions import db
from trainer_app.library import media
from trainer_app.library.media import VideoLinkError, clean_video_url, qr_svg
from trainer_app.library.models import ClinicExercise, ExerciseMedia
from trainer_app.programs.models import ProgramVersion

FIGURE = 'class="exercise-figure"'


def image_bytes(fmt: str = "PNG", size=(800, 600), color=(47, 111, 143)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def upload(client, slug: str, payload: bytes, name: str = "photo.png"):
    return client.post(
        f"/library/{slug}/photo",
        data={"photo": (io.BytesIO(payload), name)},
        content_type="multipart/form-data",
    )


def exercise_form(name: str) -> dict:
    return {
        "name": name,
        "kind": "strength",
        "imbalances": ["upper_crossed"],
        "summary": "Back against a wall, slide the arms up and down.",
        "steps": "Stand with your back against a wall.\nRaise the arms.\nSlide them up and down.",
        "cues": "Ribs down.\nKeep contact with the wall.",
        "mistakes": "Arching the lower back.",
        "target_muscles": ["mid_back", "rear_deltoids"],
        "equipment": ["wall"],
        "sets": "2",
        "reps": "10",
        "hold_seconds": "",
        "rest_seconds": "45",
        "easier": "",
        "harder": "",
        "level": "beginner",
    }


def media_rows(app) -> list[ExerciseMedia]:
    with app.app_context():
        rows = list(db.session.scalars(select(ExerciseMedia)))
        db.session.expunge_all()
        return rows


def photo_src(page: str) -> str | None:
    found = re.search(r'<img class="exercise-photo" src="([^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


# --------------------------------------------------------------------------- drawings on pages


def test_exercise_page_shows_start_and_end_drawings(client, auth):
    auth.login()
    page = client.get("/library/hip_thrust").get_data(as_text=True)
    assert page.count(FIGURE) == 2
    assert 'aria-label="Start position"' in page and 'aria-label="End position"' in page


def test_library_cards_show_one_drawing_per_exercise(client, auth):
    auth.login()
    page = client.get("/library/").get_data(as_text=True)
    cards = page.count('<article class="card h-100')
    assert cards >= 30
    assert page.count(FIGURE) == cards


def test_program_page_shows_each_items_drawings(app, client, auth, factories):
    auth.login()
    version_id = factories.program_version(auth.user)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        program_id, count = version.program_id, len(version.content["items"])
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert page.count('class="program-item-pictures') == count
    assert page.count(FIGURE) >= 2 * count


def test_clinic_exercise_without_poses_shows_no_drawing_state(client, auth):
    auth.login()
    response = client.post("/library/custom/new", data=exercise_form("Wall angel"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert FIGURE not in page
    assert "No drawing" in page


# --------------------------------------------------------------------------- photos


def test_good_photo_is_reencoded_and_replaces_the_drawing_for_that_clinic_only(
    app, client, auth, factories
):
    auth.login()
    polyglot = image_bytes("JPEG", size=(2400, 1800)) + b"<script>alert(1)</script>"
    response = upload(client, "plank", polyglot, "plank.jpg")
    assert response.status_code == 302
    (row,) = media_rows(app)
    assert (row.exercise_slug, row.photo_mime) == ("plank", "image/jpeg")
    assert b"<script>" not in row.photo
    assert Image.open(io.BytesIO(row.photo)).size == (1200, 900)  # scaled down to store

    page = client.get("/library/plank").get_data(as_text=True)
    src = photo_src(page)
    assert src and src.startswith("/library/plank/photo?v=")
    assert FIGURE not in page
    served = client.get(src)
    assert (served.status_code, served.mimetype) == (200, "image/jpeg")
    assert served.data == row.photo
    cards = client.get("/library/?q=plank").get_data(as_text=True)
    assert "/library/plank/photo?v=" in cards

    other = factories.user()
    auth.logout()
    auth.login(other.email)
    page = client.get("/library/plank").get_data(as_text=True)
    assert photo_src(page) is None and page.count(FIGURE) == 2
    assert client.get("/library/plank/photo").status_code == 404


PNG_TRANSPARENT = None


@pytest.mark.parametrize(
    ("payload", "name", "message"),
    [
        (b"just text pretending to be a photo", "photo.png", "Upload a PNG or JPEG image."),
        (image_bytes("GIF"), "photo.gif", "Upload a PNG or JPEG image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "photo.svg", "Upload a PNG or JPEG image."),
        (image_bytes(size=(120, 90)), "photo.png", "each side must be between 200 and 6000"),
        (image_bytes(size=(6100, 300)), "photo.png", "each side must be between 200 and 6000"),
        (image_bytes(size=(5000, 5000)), "photo.png", "25.0 million pixels; the limit is 24"),
        (image_bytes()[:400], "photo.png", "The image file is damaged"),
    ],
)
def test_bad_photo_is_refused_with_a_message_and_nothing_saved(
    app, client, auth, payload, name, message
):
    auth.login()
    response = upload(client, "plank", payload, name)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert media_rows(app) == []


def test_too_big_photo_is_refused(app, client, auth, monkeypatch):
    # A lower limit keeps the upload small; the check is the same.
    monkeypatch.setattr(media, "MAX_PHOTO_BYTES", 20 * 1024)
    auth.login()
    noisy = Image.effect_noise((400, 400), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    response = upload(client, "plank", out.getvalue())
    assert "the limit is 20 KB" in response.get_data(as_text=True)
    assert media_rows(app) == []


def test_missing_file_is_refused(app, client, auth):
    auth.login()
    response = client.post("/library/plank/photo", data={}, content_type="multipart/form-data")
    assert "Choose a photo to upload." in response.get_data(as_text=True)
    assert media_rows(app) == []


def test_removing_the_photo_brings_the_drawing_back(app, client, auth):
    auth.login()
    upload(client, "plank", image_bytes())
    response = client.post("/library/plank/photo/remove")
    assert response.status_code == 302
    assert media_rows(app) == []
    page = client.get("/library/plank").get_data(as_text=True)
    assert photo_src(page) is None and page.count(FIGURE) == 2


def test_a_new_photo_replaces_the_old_one_and_changes_its_address(app, client, auth):
    auth.login()
    upload(client, "plank", image_bytes(color=(10, 10, 10)))
    first = photo_src(client.get("/library/plank").get_data(as_text=True))
    upload(client, "plank", image_bytes(color=(240, 240, 240)))
    second = photo_src(client.get("/library/plank").get_data(as_text=True))
    assert first != second
    assert len(media_rows(app)) == 1


def test_photo_shows_on_the_program_page(app, client, auth, factories):
    auth.login()
    version_id = factories.program_version(auth.user)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        program_id = version.program_id
        slug = version.content["items"][0]["exercise_slug"]
    upload(client, slug, image_bytes())
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert f"/library/{slug}/photo?v=" in page


# --------------------------------------------------------------------------- video links


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://www.youtube.com/watch?v=abc123", "https://www.youtube.com/watch?v=abc123"),
        ("  HTTPS://Clinic.Example.org/videos/plank#t=10  ", None),
        ("", None),
        ("   ", None),
    ],
)
def test_video_link_is_normalised(text, expected):
    cleaned = clean_video_url(text)
    if text.strip().upper().startswith("HTTPS://CLINIC"):
        assert cleaned == "https://clinic.example.org/videos/plank#t=10"
    else:
        assert cleaned == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http://www.youtube.com/watch?v=abc", "starts with https://"),
        ("javascript:alert(1)", "starts with https://"),
        ("www.youtube.com/watch?v=abc", "starts with https://"),
        ("https://user:secret@videos.example.com/a", "without a user name or password"),
        ("https://192.168.1.20/video", "video's web address"),
        ("https://localhost/video", "video's web address"),
        ("https://bad_host.example.com/x", "video's web address"),
        ("https://example.com/a b", "cannot contain spaces"),
        ("https://example.com/a\nb", "cannot contain spaces"),
        ("https://example.com:99999/x", "not a valid web link"),
        ("https://example.com/" + "a" * 300, "at most 300 characters"),
        ("https://", "needs a web address"),
    ],
)
def test_bad_video_link_is_refused(text, message):
    with pytest.raises(VideoLinkError, match=re.escape(message)):
        clean_video_url(text)


def test_video_link_is_saved_shown_and_removed(app, client, auth):
    auth.login()
    url = "https://videos.example.com/plank?lang=en&t=5"
    response = client.post("/library/plank/video", data={"video_url": url})
    assert response.status_code == 302
    (row,) = media_rows(app)
    assert row.video_url == url and row.photo is None
    page = client.get("/library/plank").get_data(as_text=True)
    assert 'href="https://videos.example.com/plank?lang=en&amp;t=5"' in page
    assert 'class="qr-code"' in page
    assert page.count(FIGURE) == 2  # a link does not replace the drawing

    client.post("/library/plank/video", data={"video_url": ""})
    assert media_rows(app) == []


def test_bad_video_link_on_the_page_changes_nothing(app, client, auth):
    auth.login()
    client.post("/library/plank/video", data={"video_url": "https://ok.example.com/v"})
    response = client.post("/library/plank/video", data={"video_url": "http://insecure.example"})
    assert response.status_code == 200
    assert "Use a secure link that starts with https://." in response.get_data(as_text=True)
    (row,) = media_rows(app)
    assert row.video_url == "https://ok.example.com/v"


def test_qr_code_is_one_compact_path():
    svg = qr_svg("https://videos.example.com/plank")
    assert svg.startswith("<svg") and svg.count("<path") == 1
    assert len(svg) < 4000


@pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")) and not services.REQUIRED,
    reason="needs zbarimg (zbar-tools) and pdftoppm (poppler-utils)",
)
def test_qr_code_printed_by_weasyprint_decodes_to_the_stored_link(tmp_path):
    import weasyprint

    url = "https://videos.example.com/plank?lang=en&t=5"
    html = (
        f"<html><body style='margin:1cm'><div style='width:4cm'>{qr_svg(url)}</div></body></html>"
    )
    (tmp_path / "qr.pdf").write_bytes(weasyprint.HTML(string=html).write_pdf())
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", tmp_path / "qr.pdf", tmp_path / "qr"],
        check=True,
    )
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", tmp_path / "qr.png"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert decoded.stdout.strip() == url


# --------------------------------------------------------------------------- tenancy


@pytest.fixture
def other_clinics_exercise(app, client, auth, factories):
    """A clinic exercise of another clinic (with a photo), then signs in as this clinic."""
    owner = factories.user()
    auth.login(owner.email)
    assert client.post("/library/custom/new", data=exercise_form("Secret drill")).status_code == 302
    with app.app_context():
        slug = db.session.scalar(select(ClinicExercise.slug))
    assert upload(client, slug, image_bytes()).status_code == 302
    auth.logout()
    auth.login()
    return slug


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/library/{slug}", None),
        ("get", "/library/{slug}/photo", None),
        ("post", "/library/{slug}/photo/remove", {}),
        ("post", "/library/{slug}/video", {"video_url": "https://x.example.com/v"}),
    ],
)
def test_another_clinics_exercise_is_not_found(
    app, client, other_clinics_exercise, method, path, data
):
    url = path.format(slug=other_clinics_exercise)
    response = getattr(client, method)(url, data=data)
    assert response.status_code == 404
    (row,) = media_rows(app)
    assert row.photo is not None and row.video_url is None


def test_uploading_to_another_clinics_exercise_is_not_found(app, client, other_clinics_exercise):
    response = upload(client, other_clinics_exercise, image_bytes(color=(1, 2, 3)))
    assert response.status_code == 404
    assert len(media_rows(app)) == 1


def test_unknown_exercise_is_not_found(client, auth):
    auth.login()
    assert upload(client, "no_such_exercise", image_bytes()).status_code == 404


def test_deleting_a_clinic_exercise_forgets_its_photo(app, client, auth, other_clinics_exercise):
    auth.logout()
    with app.app_context():
        row = db.session.scalar(select(ClinicExercise))
        owner_clinic, exercise_id = row.clinic_id, row.id
        from trainer_app.accounts.models import User

        owner = db.session.scalar(select(User).where(User.clinic_id == owner_clinic))
        email = owner.email
    auth.login(email)
    assert client.post(f"/library/custom/{exercise_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ExerciseMedia)) == 0


def test_pictures_for_the_pdf_carry_the_photo_as_a_data_uri(app, client, auth):
    auth.login()
    upload(client, "plank", image_bytes())
    client.post("/library/plank/video", data={"video_url": "https://v.example.com/p"})
    with app.app_context():
        found = media.pictures(auth.user.clinic_id, ["plank", "dead_bug"], with_photos=True)
    assert found["plank"].photo_data_uri.startswith("data:image/jpeg;base64,")
    assert found["plank"].qr_svg.startswith("<svg")
    assert found["dead_bug"].photo_data_uri is None and len(found["dead_bug"].figures) == 2
