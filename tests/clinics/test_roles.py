"""Roles in a clinic: the owner invites front desk staff, changes roles, reassigns clients; the
front desk runs the day without clinical data; invitation links are refused when expired,
reused or tampered with."""

from __future__ import annotations

import re

import itsdangerous.timed
from sqlalchemy import select

from tests.clinics.test_team import invitation_link
from tests.support import mailbox
from trainer_app.accounts import service as accounts
from trainer_app.accounts.models import Clinic, Invitation, User
from trainer_app.clients.models import Client
from trainer_app.extensions import db

JOIN = {"password": "a long enough secret", "confirm": "a long enough secret"}


def _clinic(app, user):
    with app.app_context():
        clinic = db.session.get(Clinic, user.clinic_id)
        db.session.expunge(clinic)
        return clinic


def test_invited_front_desk_joins_with_that_role_and_is_kept_from_clinical_pages(
    app, client, auth, factories
):
    auth.login()
    mailbox.clear(app)
    owner = auth.user
    shared = factories.client_record(owner, name="Dana Desk", notes="Disc bulge L4/L5, see MRI")
    client.post(
        "/clinic/team",
        data={"name": "Fran Front", "email": "fran@example.com", "role": "front_desk"},
    )
    team = client.get("/clinic/team").get_data(as_text=True)
    assert "Invited (expires " in team and "Front desk" in team and "Revoke" in team
    desk = app.test_client()
    assert desk.post(invitation_link(app, "fran@example.com"), data=JOIN).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.email == "fran@example.com")) == (
            "front_desk"
        )

    page = desk.get(f"/clients/{shared.id}").get_data(as_text=True)
    assert "Dana Desk" in page and "Disc bulge" not in page and "Assessments" not in page
    refused = desk.get(f"/assessments/new/{shared.id}")
    assert refused.status_code == 403
    assert "does not open this page" in refused.get_data(as_text=True)
    # Contact details are the front desk's; the clinical notes stay as the trainer wrote them.
    form = desk.get(f"/clients/{shared.id}/edit").get_data(as_text=True)
    assert 'name="notes"' not in form
    saved = desk.post(
        f"/clients/{shared.id}/edit",
        data={"name": "Dana Desk", "phone": "+45 1234 5678", "primary_trainer_id": owner.id},
    )
    assert saved.status_code == 302
    with app.app_context():
        row = db.session.get(Client, shared.id)
        assert (row.phone, row.notes) == ("+45 1234 5678", "Disc bulge L4/L5, see MRI")


def test_owner_changes_a_role_which_applies_at_once(app, client, auth, factories):
    auth.login()
    trainer = factories.user(clinic=_clinic(app, auth.user), role="trainer")
    theirs = factories.client_record(auth.user)
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": trainer.email, "password": factories.PASSWORD})
    assert browser.get(f"/assessments/new/{theirs.id}").status_code == 200
    assert (
        client.post(f"/clinic/team/{trainer.id}/role", data={"role": "front_desk"}).status_code
        == 302
    )
    assert browser.get(f"/assessments/new/{theirs.id}").status_code == 403
    # Nobody can be made owner, and the owner's own role does not change.
    client.post(f"/clinic/team/{trainer.id}/role", data={"role": "owner"})
    changed = client.post(
        f"/clinic/team/{auth.user.id}/role", data={"role": "trainer"}, follow_redirects=True
    )
    assert "keeps the owner" in changed.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, trainer.id).role == "front_desk"
        assert db.session.get(User, auth.user.id).role == "owner"


def test_deactivated_members_clients_move_to_another_trainer_in_one_step(
    app, client, auth, factories
):
    auth.login()
    clinic = _clinic(app, auth.user)
    leaving = factories.user(clinic=clinic, role="trainer", name="Leaving Lou")
    staying = factories.user(clinic=clinic, role="trainer", name="Staying Sam")
    desk = factories.user(clinic=clinic, role="front_desk", name="Desk Dee")
    stranger = factories.user(name="Other Clinic")
    mine = [factories.client_record(leaving).id for _ in range(3)]
    kept = factories.client_record(staying).id
    client.post(f"/clinic/team/{leaving.id}/deactivate")
    # Not to the front desk, not to another clinic's member: nothing moves.
    for target in (desk.id, stranger.id):
        client.post(f"/clinic/team/{leaving.id}/reassign", data={"to_user_id": target})
    with app.app_context():
        owners = set(
            db.session.scalars(select(Client.primary_trainer_id).where(Client.id.in_(mine)))
        )
        assert owners == {leaving.id}
    done = client.post(
        f"/clinic/team/{leaving.id}/reassign",
        data={"to_user_id": staying.id},
        follow_redirects=True,
    )
    assert "3 clients of Leaving Lou now have Staying Sam as primary trainer" in done.get_data(
        as_text=True
    )
    with app.app_context():
        owners = set(
            db.session.scalars(select(Client.primary_trainer_id).where(Client.id.in_(mine)))
        )
        assert owners == {staying.id}
        assert db.session.get(Client, kept).primary_trainer_id == staying.id

    # "My clients" shows the four that are now Sam's, and nobody else's.
    sam = app.test_client()
    sam.post("/account/sign-in", data={"email": staying.email, "password": factories.PASSWORD})
    listed = sam.get("/clients/?mine=1").get_data(as_text=True)
    assert len(re.findall(r'href="/clients/\d+"', listed)) == 4
    everyone = factories.client_record(auth.user, name="Owner's Olga")
    assert "Owner&#39;s Olga" not in listed
    assert "Owner&#39;s Olga" in sam.get("/clients/").get_data(as_text=True)
    assert everyone


def test_invitation_links_refused_when_expired_reused_or_tampered(app, client, auth, monkeypatch):
    auth.login()
    mailbox.clear(app)
    client.post("/clinic/team", data={"name": "Ivy New", "email": "ivy@example.com"})
    link = invitation_link(app, "ivy@example.com")
    token = link.rsplit("/", 1)[1]

    # Tampered: one character of the signature changed. Its first character, not its last: the
    # last base64 character also carries padding bits, so some changes decode to the same bytes
    # and the "forged" link was sometimes still valid.
    signed, signature = token.rsplit(".", 1)
    forged = f"{signed}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    for bad in (forged, token + "x", "not-a-token"):
        response = app.test_client().get(f"/account/welcome/{bad}")
        assert response.status_code == 302 and response.headers["Location"] == "/account/sign-in"

    # Expired: a token signed eight days ago.
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        real_time = itsdangerous.timed.time.time
        monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 8 * 24 * 3600)
        old = accounts.make_invitation_token(invitation, app.config["SECRET_KEY"])
        monkeypatch.undo()
    expired = app.test_client().get(f"/account/welcome/{old}", follow_redirects=True)
    assert "That invitation has expired or was already used" in expired.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "ivy@example.com")) is None

    # Reused: the link works once; the second visit (and a second POST) is refused.
    assert app.test_client().post(link, data=JOIN).status_code == 302
    again = app.test_client().post(link, data=JOIN)
    assert again.status_code == 302 and again.headers["Location"] == "/account/sign-in"
    with app.app_context():
        assert (
            len(db.session.scalars(select(User).where(User.email == "ivy@example.com")).all()) == 1
        )


def test_front_desk_never_opens_or_sends_a_clinician_copy(app, client, auth, factories):
    """A clinician copy lists findings: the front desk gets client copies only (attack probe)."""
    from trainer_app.plans.models import PlanDocument

    auth.login()
    owner = auth.user
    desk = factories.user(clinic=_clinic(app, owner), role="front_desk")
    record = factories.client_record(owner, name="Cora Copies")
    version_id = factories.program_version(owner, record)
    documents = {}
    for audience in ("client", "clinician"):
        made = client.post(
            f"/plans/versions/{version_id}/make",
            data={"paper": "A4", "audience": audience, "request_key": f"copy-{audience}-000001"},
        )
        assert made.status_code == 302
        with app.app_context():
            documents[audience] = db.session.scalar(
                select(PlanDocument.id).where(PlanDocument.audience == audience)
            )
    clinician, plain = documents["clinician"], documents["client"]
    assert client.get(f"/plans/{clinician}/download").status_code == 200  # the owner may
    # ... but nobody emails it to the client: the program page offers no Email for it
    compose = client.get(f"/deliveries/documents/{clinician}/compose")
    assert compose.status_code == 403 and "not emailed to clients" in compose.get_data(as_text=True)
    assert client.get(f"/deliveries/documents/{plain}/compose").status_code == 200

    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": desk.email, "password": factories.PASSWORD})
    page = browser.get(f"/clients/{record.id}").get_data(as_text=True)
    assert f"/plans/{plain}/download" in page
    assert f"/plans/{clinician}/download" not in page
    assert browser.get(f"/plans/{plain}/download").status_code == 200
    for method, url in [
        ("GET", f"/plans/{clinician}/download"),
        ("GET", f"/plans/{clinician}/status"),
        ("GET", f"/deliveries/documents/{clinician}/compose"),
        ("POST", f"/deliveries/documents/{clinician}/preview"),
        ("POST", f"/deliveries/documents/{clinician}/send"),
    ]:
        refused = browser.open(url, method=method, data={"idempotency_key": "k" * 20})
        assert refused.status_code == 403, url
        assert "clinician copy" in refused.get_data(as_text=True)
    with app.app_context():
        from trainer_app.delivery.models import Delivery

        assert db.session.scalar(select(Delivery.id)) is None
