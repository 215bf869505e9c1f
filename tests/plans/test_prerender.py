"""Plans rendered ahead: recorded with the save, hidden until a click adopts them, replaced by
later saves, re-recorded on a branding change. (The renders themselves: tests/worker.)"""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.assessments.test_views import valid_answers
from tests.clinics.test_settings import post_settings
from tests.programs.test_views import edit_data
from tests.support.factories import Factories
from trainer_app.accounts.models import User
from trainer_app.audit.models import AuditEvent
from trainer_app.extensions import db
from trainer_app.jobs import BULK, PRERENDER, URGENT
from trainer_app.plans import prerender, service
from trainer_app.plans.models import CLICK, FAILED, QUEUED, READY, PlanDocument
from trainer_app.plans.models import PRERENDER as AHEAD
from trainer_app.programs import builder
from trainer_app.programs import service as programs
from trainer_app.programs.models import ProgramVersion


@pytest.fixture
def ahead_app(app, make_app, tmp_path):
    """The app as deployed: pre-rendering on, tasks published to an embedded queue (no worker)."""
    return make_app(
        PRERENDER_PLANS=True,
        CELERY_TASK_ALWAYS_EAGER=False,
        CELERY_BROKER_URL="filesystem://",
        CELERY_QUEUE_FOLDER=str(tmp_path / "queue"),
    )


def _queued_messages(tmp_path) -> list[str]:
    """Names of the messages waiting in the embedded queue (they start with their priority)."""
    folder = tmp_path / "queue"
    return sorted(p.name for p in folder.glob("*.msg")) if folder.exists() else []


def _rows(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(PlanDocument).order_by(PlanDocument.id)).all()
        found = [
            (r.id, r.program_version.number, r.origin, r.status, r.priority, r.paper_size)
            for r in rows
        ]
        db.session.remove()
        return found


def _signed_in(app):
    factories = Factories(app)
    user = factories.user()
    browser = app.test_client()
    browser.post("/account/sign-in", data={"email": user.email, "password": Factories.PASSWORD})
    return factories, user, browser


def _program_of(app, version_id: int):
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        found = version.program_id, builder.draft_from_dict(version.content).items
        db.session.remove()
        return found


def _save(app, browser, version_id: int, reps: int = 5) -> int:
    """Save a new version of ``version_id``'s program through the edit form; its id."""
    program_id, items = _program_of(app, version_id)
    target = next(i for i in items if i.kind == "strength" and i.reps is not None)
    with app.app_context():
        base = db.session.get(ProgramVersion, version_id).number
        db.session.remove()
    edit = edit_data(items, base=base, note="Fewer reps", **{target.exercise_slug: {"reps": reps}})
    assert browser.post(f"/programs/{program_id}/edit", data=edit).status_code == 302
    with app.app_context():
        latest = db.session.scalar(
            select(ProgramVersion.id)
            .where(ProgramVersion.program_id == program_id)
            .order_by(ProgramVersion.number.desc())
            .limit(1)
        )
        db.session.remove()
        return latest


def test_each_save_records_one_hidden_pre_render_of_the_latest_version(ahead_app, tmp_path):
    factories, user, browser = _signed_in(ahead_app)
    version_id = factories.program_version(user)
    assert _rows(ahead_app) == []  # made outside a web request (seeding, imports): not ahead
    _save(ahead_app, browser, version_id)
    [(_id, number, origin, status, priority, paper)] = _rows(ahead_app)
    assert (number, origin, status, priority, paper) == (2, AHEAD, QUEUED, PRERENDER, "A4")

    program_id, _ = _program_of(ahead_app, version_id)
    assert browser.post(f"/programs/{program_id}/versions/1/restore").status_code == 302
    # Version 2's waiting pre-render was replaced; only version 3's is kept.
    assert [row[1:3] for row in _rows(ahead_app)] == [(3, AHEAD)]
    # One quiet-period task per save, published after each commit at pre-render priority.
    messages = _queued_messages(tmp_path)
    assert len(messages) == 2 and all(name.startswith(f"{PRERENDER}_") for name in messages)
    page = browser.get(f"/programs/{program_id}").get_data(as_text=True)
    assert "No PDF yet" in page


def test_make_pdf_adopts_the_waiting_pre_render_and_publishes_it_as_urgent(ahead_app, tmp_path):
    factories, user, browser = _signed_in(ahead_app)
    version_id = _save(ahead_app, browser, factories.program_version(user))
    [(ahead_id, *_)] = _rows(ahead_app)
    response = browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "adopting-click-0001"},
        follow_redirects=True,
    )
    assert "The PDF is being prepared" in response.get_data(as_text=True)
    assert _rows(ahead_app) == [(ahead_id, 2, CLICK, QUEUED, URGENT, "A4")]
    assert f'id="document-{ahead_id}"' in response.get_data(as_text=True)
    assert sum(name.startswith(f"{URGENT}_") for name in _queued_messages(tmp_path)) == 1
    # The same click again (a double click) is still that one document.
    browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "adopting-click-0001"},
    )
    assert len(_rows(ahead_app)) == 1


def test_a_failed_pre_render_is_not_shown_and_the_next_click_renders_afresh(ahead_app):
    factories, user, browser = _signed_in(ahead_app)
    version_id = _save(ahead_app, browser, factories.program_version(user))
    [(ahead_id, *_)] = _rows(ahead_app)
    with ahead_app.app_context():
        db.session.get(PlanDocument, ahead_id).status = FAILED
        db.session.get(PlanDocument, ahead_id).error = "The render ran out of memory."
        db.session.commit()
    dashboard = browser.get("/dashboard").get_data(as_text=True)
    assert "PDF failed" not in dashboard and "ran out of memory" not in dashboard
    browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "after-a-failed-one-01"},
    )
    rows = _rows(ahead_app)
    assert rows[0] == (ahead_id, 2, AHEAD, FAILED, PRERENDER, "A4")
    assert rows[1][1:] == (2, CLICK, QUEUED, URGENT, "A4")
    program_id, _ = _program_of(ahead_app, version_id)
    assert "ran out of memory" not in browser.get(f"/programs/{program_id}").get_data(as_text=True)


def test_a_pre_render_superseded_before_its_turn_is_deleted_unrendered(app, factories):
    user = factories.user()
    version_id = factories.program_version(user)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        ahead_id = prerender.record_version(version, PRERENDER)
        draft = programs.draft_of(version)
        first = replace(draft.items[0], sets=draft.items[0].sets + 1)
        changed = replace(draft, items=(first, *draft.items[1:]))
        programs.save_version(version.program, 1, changed, note="", user_id=user.id)
        db.session.commit()
        assert service.render_document(ahead_id, claim_id="test-claim") == "superseded"
        assert db.session.get(PlanDocument, ahead_id) is None


def test_a_branding_change_re_records_the_clinics_plans_at_bulk_priority(ahead_app, tmp_path):
    factories, user, browser = _signed_in(ahead_app)
    printed = factories.program_version(user)
    ahead_only = _save(ahead_app, browser, factories.program_version(user))
    factories.program_version(user)  # never printed nor rendered ahead: left alone
    with ahead_app.app_context():
        document, _ = service.request_document(
            db.session.get(ProgramVersion, printed),
            user=db.session.get(User, user.id),
            paper="A4",
            large_print=False,
            request_key="printed-before-branding",
        )
        db.session.commit()
        printed_id, old_fingerprint = document.id, document.fingerprint
    assert post_settings(browser, accent_color="#117733").status_code == 302
    assert sum(name.startswith(f"{BULK}_") for name in _queued_messages(tmp_path)) == 1
    with ahead_app.app_context():
        recorded = prerender.rebrand(user.clinic_id)
        db.session.commit()
        rows = [db.session.get(PlanDocument, i) for i in recorded]
        assert sorted(r.program_version_id for r in rows) == sorted([printed, ahead_only])
        assert {(r.origin, r.priority, r.paper_size) for r in rows} == {(AHEAD, BULK, "Letter")}
        assert old_fingerprint not in {r.fingerprint for r in rows}
        # The old-branding pre-render is gone; the trainer's document stays.
        kept = db.session.scalars(select(PlanDocument.id).order_by(PlanDocument.id)).all()
        assert kept == sorted([printed_id, *recorded])


def test_the_page_asks_again_when_the_render_should_be_done(app, factories, client, auth):
    auth.login()
    version_id = factories.program_version(auth.user)
    with app.app_context():
        document, _ = service.request_document(
            db.session.get(ProgramVersion, version_id),
            user=db.session.get(User, auth.user.id),
            paper="A4",
            large_print=False,
            request_key="poll-timing-0000001",
        )
        db.session.commit()
        now = document.queued_at
        assert service.next_check_ms(document, now) == service.FIRST_CHECK_MS
        assert service.next_check_ms(document, now + timedelta(seconds=20)) == 3000
        document.status, document.started_at = "rendering", now
        typical = service.DEFAULT_RENDER_SECONDS  # nothing rendered in this clinic yet
        assert service.next_check_ms(document, now + timedelta(seconds=0.5)) == int(
            (typical - 0.5) * 1000
        )
        assert service.next_check_ms(document, now + timedelta(seconds=typical)) == 100
        late = service.next_check_ms(document, now + timedelta(seconds=typical + 2))
        assert 100 < late < 3000  # late: backing off, gently
        db.session.commit()
        document_id = document.id
    row = client.get(f"/plans/{document_id}/status").get_data(as_text=True)
    assert re.search(r'data-poll-in="\d+"', row) and "<noscript>" in row


# --------------------------------------------------------------------- answered in place

FETCH = {"X-Requested-With": "fetch"}  # what static/js/app.js sends with the form


def _ready_ahead(app, browser, factories, user) -> tuple[int, int, int]:
    """A saved version whose pre-render is ready: (version id, pre-render id, program id)."""
    version_id = _save(app, browser, factories.program_version(user))
    [(ahead_id, *_)] = _rows(app)
    with app.app_context():
        document = db.session.get(PlanDocument, ahead_id)
        document.status, document.pdf = READY, b"%PDF-1.7\n% rendered ahead\n%%EOF\n"
        document.size_bytes, document.page_count = len(document.pdf), 1
        db.session.commit()
    program_id, _ = _program_of(app, version_id)
    return version_id, ahead_id, program_id


def _audited(app, what: str) -> list[str]:
    with app.app_context():
        found = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.what == what).order_by(AuditEvent.id)
        ).all()
        db.session.remove()
        return found


def test_make_pdf_from_the_page_script_answers_with_the_ready_row(ahead_app, tmp_path):
    factories, user, browser = _signed_in(ahead_app)
    version_id, ahead_id, program_id = _ready_ahead(ahead_app, browser, factories, user)
    page = browser.get(f"/programs/{program_id}").get_data(as_text=True)
    assert re.search(r"<form [^>]*data-make-in-place", page)  # app.js sends this form itself
    published = _queued_messages(tmp_path)

    answer = browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "in-place-click-0001"},
        headers=FETCH,
    )
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    body = answer.get_json()
    assert body["message"] == "The PDF is ready."
    assert f'<tr id="document-{ahead_id}"' in body["row"] and "Ready" in body["row"]
    assert f'href="/plans/{ahead_id}/download"' in body["row"]
    assert "data-poll-url" not in body["row"]
    # a fresh key for the form's next click (this one is spent)
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", body["request_key"])
    assert body["request_key"] != "in-place-click-0001"
    # The pre-render became the trainer's document: no new row, nothing rendered or published.
    assert _rows(ahead_app) == [(ahead_id, 2, CLICK, READY, URGENT, "A4")]
    assert _queued_messages(tmp_path) == published
    assert _audited(ahead_app, "plans.make") == ["change"]
    download = browser.get(f"/plans/{ahead_id}/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert download.headers["Cache-Control"] == "no-store"
    assert _audited(ahead_app, "plans.download") == ["download"]
    # the page loaded later lists it as any clicked PDF
    page = browser.get(f"/programs/{program_id}").get_data(as_text=True)
    assert f'id="document-{ahead_id}"' in page and "No PDF yet" not in page


def test_the_same_click_without_javascript_still_reloads_the_page(ahead_app):
    factories, user, browser = _signed_in(ahead_app)
    version_id, ahead_id, program_id = _ready_ahead(ahead_app, browser, factories, user)
    response = browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "no-script-click-0001"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/programs/{program_id}#documents"
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "The PDF is ready." in page and f'href="/plans/{ahead_id}/download"' in page
    assert _rows(ahead_app) == [(ahead_id, 2, CLICK, READY, URGENT, "A4")]

    # Asked again with nothing changed: counted on the row, and said so on the page, with or
    # without the page's script (which loads the page it is told to).
    again = browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "no-script-click-0002"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Nothing changed since the PDF of version 2 requested" in again
    assert "Asked for again 1 time" in again
    answer = browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "in-place-click-0003"},
        headers=FETCH,
    ).get_json()
    assert answer == {"location": f"/programs/{program_id}#document-{ahead_id}"}
    page = browser.get(answer["location"]).get_data(as_text=True)
    assert "Nothing changed since the PDF of version 2 requested" in page
    assert "Asked for again 2 times" in page
    assert [row[0] for row in _rows(ahead_app)][0] == ahead_id and len(_rows(ahead_app)) == 3


def test_a_held_client_is_refused_with_the_reason_when_asked_in_place(ahead_app):
    factories, user, browser = _signed_in(ahead_app)
    version_id, ahead_id, program_id = _ready_ahead(ahead_app, browser, factories, user)
    with ahead_app.app_context():
        client_id = db.session.get(ProgramVersion, version_id).program.client_id
        db.session.remove()
    flagged = browser.post(
        f"/assessments/new/{client_id}", data=valid_answers(saddle_numbness="yes")
    )
    assert flagged.status_code == 302
    answer = browser.post(
        f"/plans/versions/{version_id}/make",
        data={"paper": "A4", "request_key": "held-in-place-0001"},
        headers=FETCH,
    )
    assert answer.status_code == 200
    assert answer.get_json() == {"location": f"/programs/{program_id}"}
    page = html.unescape(browser.get(f"/programs/{program_id}").get_data(as_text=True))
    assert "No PDF was made." in page and "reported a red flag" in page
    # nothing adopted, nothing to download
    assert _rows(ahead_app) == [(ahead_id, 2, AHEAD, READY, PRERENDER, "A4")]
    assert browser.get(f"/plans/{ahead_id}/download").status_code == 302


def test_the_page_sends_make_pdf_itself_only_for_a_version_rendered_ahead(ahead_app):
    factories, user, browser = _signed_in(ahead_app)
    version_id = factories.program_version(user)  # made outside a request: nothing ahead
    program_id, _ = _program_of(ahead_app, version_id)
    page = browser.get(f"/programs/{program_id}").get_data(as_text=True)
    assert "data-make-in-place" not in page and "No PDF yet" in page
    _save(ahead_app, browser, version_id)
    page = browser.get(f"/programs/{program_id}").get_data(as_text=True)
    assert re.search(r"<form [^>]*data-make-in-place", page) and "No PDF yet" in page
