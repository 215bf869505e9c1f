"""The personal link: signed, opaque, expiring, renewed with each plan, revocable."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from markupsafe import escape

from trainer_app.extensions import db


def _link(app, client_id: int):
    from trainer_app.progress import service

    with app.app_context():
        link = service.link_of(client_id)
        db.session.expunge(link)
        return link


def test_the_link_opens_the_clients_page_and_carries_no_health_data(app, client, world):
    response = client.get(world.path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ada Lovelace" in html and "Stop and seek help if" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    # The URL holds a signed id and nonce: no name, no email, no program, no pain.
    token = world.path.removeprefix("/p/")
    payload = token.split(".")[0]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert isinstance(decoded[0], int) and isinstance(decoded[1], str) and len(decoded) == 2
    assert "ada" not in world.url.lower() and "lovelace" not in world.url.lower()


def test_the_phone_page_lists_the_same_stop_signs_as_the_printed_plan(app, client, world):
    """Emergency signs and the see-a-doctor-within-days signs, in the plan's words."""
    from trainer_app.assessments.questionnaire import default_questionnaire

    html = client.get(world.path).get_data(as_text=True)
    box = html[html.index('<aside class="stop-box"') : html.index("</aside>")]
    flags = default_questionnaire().red_flags.questions
    emergency = [q for q in flags if q.urgency == "emergency"]
    urgent = [q for q in flags if q.urgency == "urgent"]
    assert emergency and urgent
    for question in emergency + urgent:
        assert escape(question.client_text) in box, question.id
    assert "Go to an emergency department today" in box
    assert "see your doctor within a few days if you notice" in box
    assert box.index(escape(emergency[0].client_text)) < box.index(escape(urgent[0].client_text))
    # The tick below covers every sign in the box.
    assert "I had one of the warning signs in the box above" in html


def test_a_tampered_link_reveals_nothing(app, client, world):
    token = world.path.removeprefix("/p/")
    payload, signature = token.split(".")
    swapped = base64.urlsafe_b64encode(json.dumps([999, "x"]).encode()).decode().rstrip("=")
    for bad in (
        payload + "." + signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB"),
        swapped + "." + signature,
        "not-a-token",
    ):
        response = client.get("/p/" + bad)
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "This link is not valid" in html
        assert "Ada" not in html and "Clinic" not in html and "exercise" not in html.lower()
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_revoking_stops_the_link_and_a_new_link_gives_another(app, client, auth, world):
    auth.login(email=world.user.email)
    page = client.get(f"/clients/{world.client_id}").get_data(as_text=True)
    assert world.url in page  # the trainer can copy it
    response = client.post(f"/clients/{world.client_id}/progress/revoke")
    assert response.status_code == 302
    auth.logout()
    revoked = client.get(world.path)
    assert revoked.status_code == 410
    assert "switched off" in revoked.get_data(as_text=True)
    assert "Ada" not in revoked.get_data(as_text=True)

    auth.login(email=world.user.email)
    page = client.get(f"/clients/{world.client_id}").get_data(as_text=True)
    assert world.url not in page and "was revoked" in page
    client.post(f"/clients/{world.client_id}/progress/link")
    fresh = _link(app, world.client_id)
    assert fresh.generation == 2 and fresh.revoked_at is None
    with app.app_context():
        from trainer_app.progress import service

        new_url = service.link_url(fresh)
    assert new_url != world.url
    auth.logout()
    assert client.get(new_url.removeprefix(app.config["PUBLIC_URL"])).status_code == 200
    assert client.get(world.path).status_code == 410  # the revoked URL stays dead


def test_expired_link_says_so(app, client, world):
    from trainer_app.progress.models import ProgressLink

    with app.app_context():
        link = db.session.query(ProgressLink).filter_by(client_id=world.client_id).one()
        link.expires_on = world.today - timedelta(days=1)
        db.session.commit()
    response = client.get(world.path)
    assert response.status_code == 410
    html = response.get_data(as_text=True)
    assert "expired" in html and "Ada" not in html


def test_each_new_plan_renews_the_link_and_keeps_its_url(app, world):
    from trainer_app.clients.models import Client
    from trainer_app.programs.models import Program
    from trainer_app.progress import service

    before = _link(app, world.client_id)
    with app.app_context():
        link = service.link_of(world.client_id)
        link.expires_on = world.today + timedelta(days=2)  # nearly over
        db.session.commit()
        program = db.session.get(Program, world.program_id)
        service.ensure_link(db.session.get(Client, world.client_id), program)
        db.session.commit()
        renewed = service.link_of(world.client_id)
        weeks = program.latest.content["weeks"]
        assert renewed.expires_on == world.today + timedelta(
            days=7 * weeks - 1 + service.GRACE_DAYS
        )
        assert service.link_url(renewed) == world.url
        assert renewed.generation == before.generation
