"""The personal link on paper and in the email: a QR code on the plan PDF that decodes to the
client's current link, the progress charts in the next PDF, the link in the plan email."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.progress.conftest import make_world
from trainer_app.extensions import db


def _request_document(app, world, key: str):
    from trainer_app.accounts.models import User
    from trainer_app.plans import service as plans
    from trainer_app.programs.models import Program

    with app.app_context():
        version = db.session.get(Program, world.program_id).latest
        document, _ = plans.request_document(
            version,
            user=db.session.get(User, world.user.id),
            paper="A4",
            large_print=False,
            request_key=key,
        )
        db.session.commit()
        return document.id


def _decode_qr(pdf: bytes, tmp_path) -> list[str]:
    (tmp_path / "plan.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", str(tmp_path / "plan.pdf"), str(tmp_path / "page")],
        check=True,
    )
    found = []
    for image in sorted(tmp_path.glob("page*.png")):
        result = subprocess.run(
            ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True
        )
        found += [line for line in result.stdout.splitlines() if line]
    return found


@pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
    reason="zbarimg and pdftoppm are needed (apt-get install zbar-tools poppler-utils)",
)
def test_the_plan_pdf_prints_a_qr_code_of_the_current_link_and_the_progress_so_far(
    app, client, factories, tmp_path
):
    from trainer_app.plans import service as plans
    from trainer_app.plans.models import PlanDocument
    from trainer_app.plans.render import render_plan
    from trainer_app.progress import service

    world = make_world(app, factories)
    # the client logs two days, then the trainer revokes the link: the next plan gets a new one
    for n, pain in enumerate((3, 5)):
        client.post(
            world.path,
            data={
                "day": world.today.isoformat(),
                "done": world.slugs[:1],
                "pain": str(pain),
                "request_key": f"plan-entry-{n:012d}",
            },
        )
    with app.app_context():
        service.revoke_link(service.link_of(world.client_id))
        db.session.commit()
    document_id = _request_document(app, world, "qr-plan-000000001")
    with app.app_context():
        link = service.link_of(world.client_id)
        current = service.link_url(link)
        assert current != world.url and link.revoked_at is None
        context = plans.document_context(db.session.get(PlanDocument, document_id))
    assert context["progress"]["url"] == current
    assert context["progress"]["pain"] == [
        [world.today.isoformat(), 3],
        [world.today.isoformat(), 5],
    ]
    pdf = render_plan(context, timeout_s=120)
    assert current in _decode_qr(pdf, tmp_path)
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "Your progress so far" in text and "Week 1: 1 of" in text
    # The long personal address is not printed over three lines: the QR code and a short text.
    assert "/p/" not in text and "scan the code on page 1" in " ".join(text.split())
    # The charts' labels print at 7 pt or more (they were about 4 pt): the week labels under
    # the bars, read back with their boxes.
    boxes = subprocess.run(
        ["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    heights = [
        float(m.group(2)) - float(m.group(1))
        for m in re.finditer(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">W1</word>', boxes)
    ]
    assert heights and min(heights) >= 7, heights
    # The header keeps "for <client>" and the trainer's name each on one line.
    from trainer_app.plans.render import plan_html

    html = plan_html(context)
    assert 'class="for-client nowrap">for' in html
    assert f'Trainer: <span class="nowrap">{world.user.name}</span>' in html


def test_the_plan_email_carries_the_link_while_it_opens(app, factories):
    from trainer_app.delivery.service import plan_email
    from trainer_app.plans.models import PlanDocument
    from trainer_app.progress import service

    world = make_world(app, factories)
    document_id = _request_document(app, world, "email-plan-000001")
    with app.app_context():
        document = db.session.get(PlanDocument, document_id)
        email = plan_email(document, to_name="Ada Lovelace", to_email="ada@example.com").email
        assert world.url in email.text and world.url in (email.html or "")
        service.revoke_link(service.link_of(world.client_id))
        email = plan_email(document, to_name="Ada Lovelace", to_email="ada@example.com").email
        assert "/p/" not in email.text and "/p/" not in (email.html or "")


@pytest.mark.skipif(
    not (shutil.which("zbarimg") and shutil.which("pdftoppm")),
    reason="zbarimg and pdftoppm are needed (apt-get install zbar-tools poppler-utils)",
)
def test_the_session_sheet_prints_a_qr_code_of_the_clients_current_link(app, factories, tmp_path):
    from trainer_app.accounts.models import User
    from trainer_app.plans import service as plans
    from trainer_app.plans.models import SESSION, PlanDocument
    from trainer_app.plans.render import render_session
    from trainer_app.programs.models import Program

    world = make_world(app, factories)
    with app.app_context():
        version = db.session.get(Program, world.program_id).latest
        document, _ = plans.request_document(
            version,
            user=db.session.get(User, world.user.id),
            paper="A4",
            large_print=False,
            request_key="qr-session-00000001",
            kind=SESSION,
            session_day=world.today,
        )
        db.session.commit()
        context = plans.document_context(db.session.get(PlanDocument, document.id))
    pdf = render_session(context, timeout_s=120)
    assert _decode_qr(pdf, tmp_path) == [world.url]
