"""Clinic settings: branding, paper size and a logo checked by its content."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from trainer_app.accounts.models import Clinic
from trainer_app.extensions import db


def image_bytes(fmt: str = "PNG", size=(120, 60), color=(47, 111, 143)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def post_settings(client, **overrides):
    data = {
        "name": "Core Studio",
        "contact": "1 High St · 555 0100",
        "accent_color": "#aa3300",
        "paper_size": "Letter",
    }
    data.update(overrides)
    return client.post("/clinic/settings", data=data, content_type="multipart/form-data")


def clinic_row(app, clinic_id):
    with app.app_context():
        row = db.session.get(Clinic, clinic_id)
        db.session.expunge(row)
        return row


def test_settings_save_branding_and_logo(app, client, auth):
    auth.login()
    response = post_settings(client, logo_file=(io.BytesIO(image_bytes()), "logo.png"))
    assert response.status_code == 302
    row = clinic_row(app, auth.user.clinic_id)
    assert (row.name, row.accent_color, row.paper_size) == ("Core Studio", "#aa3300", "Letter")
    assert row.logo_mime == "image/png"
    assert Image.open(io.BytesIO(row.logo)).size == (120, 60)
    page = client.get("/clinic/settings").get_data(as_text=True)
    assert "data:image/png;base64," in page


def test_logo_is_reencoded_so_appended_data_is_dropped(app, client, auth):
    auth.login()
    polyglot = image_bytes("JPEG") + b"<script>alert(1)</script>"
    post_settings(client, logo_file=(io.BytesIO(polyglot), "logo.jpg"))
    row = clinic_row(app, auth.user.clinic_id)
    assert row.logo_mime == "image/jpeg"
    assert b"<script>" not in row.logo


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (image_bytes("GIF"), "Upload a PNG or JPEG image."),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Upload a PNG or JPEG image."),
        (b"just text pretending to be a png", "Upload a PNG or JPEG image."),
        (image_bytes(size=(2400, 100)), "each side must be between 16 and 2000 pixels"),
        (image_bytes(size=(8, 8)), "each side must be between 16 and 2000 pixels"),
    ],
)
def test_bad_logo_is_refused_and_nothing_changes(app, client, auth, payload, message):
    auth.login()
    before = clinic_row(app, auth.user.clinic_id)
    response = post_settings(client, logo_file=(io.BytesIO(payload), "logo.png"))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    after = clinic_row(app, auth.user.clinic_id)
    assert (after.name, after.logo, after.paper_size) == (before.name, None, before.paper_size)


def test_oversized_logo_is_refused(app, client, auth, monkeypatch):
    # A smaller limit keeps the upload under the test client's 500 KB spill-to-disk threshold.
    monkeypatch.setattr("trainer_app.clinics.service.MAX_LOGO_BYTES", 100 * 1024)
    auth.login()
    payload = b"\x89PNG\r\n\x1a\n" + b"\x00" * (150 * 1024)
    response = post_settings(client, logo_file=(io.BytesIO(payload), "logo.png"))
    assert "The logo is 150 KB; the limit is 100 KB." in response.get_data(as_text=True)
    assert clinic_row(app, auth.user.clinic_id).logo is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("accent_color", "red; background:url(http://x)", "Use a colour like #2f6f8f."),
        ("name", "", "Enter the clinic&#39;s name."),
        ("paper_size", "A3", "Not a valid choice"),
        ("contact", "x" * 301, "Field cannot be longer than 300 characters."),
        ("name", "Core \u202eoidutS", "formatting character (U+202E)"),
        ("name", "Core\u2028Studio", "formatting character (U+2028)"),
    ],
)
def test_settings_validation(app, client, auth, field, value, message):
    auth.login()
    before = clinic_row(app, auth.user.clinic_id).name
    response = post_settings(client, **{"paper_size": "Letter", field: value})
    assert message in response.get_data(as_text=True)
    row = clinic_row(app, auth.user.clinic_id)
    assert (row.paper_size, row.name) == ("A4", before)


def test_remove_logo(app, client, auth):
    auth.login()
    post_settings(client, logo_file=(io.BytesIO(image_bytes()), "logo.png"))
    post_settings(client, remove_logo="y")
    assert clinic_row(app, auth.user.clinic_id).logo is None


def test_settings_need_sign_in_and_only_touch_own_clinic(app, client, auth, factories):
    assert client.get("/clinic/settings").status_code == 302
    other = factories.user(clinic_name="Other Clinic")
    auth.login()
    post_settings(client, name="Mine Now")
    assert clinic_row(app, other.clinic_id).name == "Other Clinic"
    assert clinic_row(app, auth.user.clinic_id).name == "Mine Now"


def test_default_paper_size_preselected_for_pdfs(app, client, auth, factories):
    auth.login()
    post_settings(client, paper_size="Letter")
    factories.program_version(auth.user)
    with app.app_context():
        from trainer_app.programs.models import Program

        program_id = db.session.query(Program.id).scalar()
    page = client.get(f"/programs/{program_id}").get_data(as_text=True)
    assert '<option selected value="Letter">' in page or 'value="Letter" selected' in page
