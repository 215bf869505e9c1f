"""The longest value every form accepts, posted through its page: never a 500, never cut.

Each field's limit is read from the form itself (a Length validator, a {m,n} pattern or the
input's maxlength), so a longer limit added later is tested too; FORMS must name a page for
every form that has one. A value is found intact in the database afterwards, or the page
refuses it with a message; fields that are never stored as typed (passwords, request keys,
searches) must only be accepted. Runs on PostgreSQL, where an overlong value is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import Length, Regexp

from tests.assessments.test_views import valid_answers
from tests.library.test_views import form_data as exercise_data
from tests.programs.test_views import BUILD, edit_data, equipment
from tests.test_forms import _build, _seed, app_forms
from trainer_app.accounts import service as accounts
from trainer_app.accounts.models import User
from trainer_app.assessments.models import Assessment
from trainer_app.extensions import db
from trainer_app.formutil import _leaf_fields
from trainer_app.plans.models import PlanDocument
from trainer_app.programs import builder
from trainer_app.programs.models import Program, ProgramTemplate, ProgramVersion
from trainer_app.progress import service as progress
from trainer_app.referrals.models import ReferralLetter


def field_limit(f) -> int | None:
    """The most characters a field accepts, as the form itself says."""
    for validator in f.validators:
        if isinstance(validator, Length) and validator.max not in (None, -1):
            return validator.max
    for validator in f.validators:
        if isinstance(validator, Regexp):
            match = re.search(r"\{\d*,(\d+)\}\$?$", validator.regex.pattern)
            if match:
                return int(match.group(1))
    maxlength = (f.render_kw or {}).get("maxlength")
    return int(maxlength) if maxlength else None


def longest_email(length: int) -> str:
    """A valid address of exactly ``length`` (<= 254) characters: 64-character local part."""
    local = "a" * 64
    labels, remaining = [], length - len(local) - 1 - 4  # "@" and ".com"
    while remaining > 0:
        size = min(63, remaining - (1 if labels else 0))
        if labels:
            remaining -= 1
        labels.append("b" * size)
        remaining -= size
    return f"{local}@{'.'.join(labels)}.com"


def longest_value(f, length: int) -> str:
    """A value of exactly ``length`` characters that the field's own rules accept."""
    if isinstance(f, EmailField):
        return longest_email(length)
    patterns = [v.regex for v in f.validators if isinstance(v, Regexp)]
    for unit in ("Łódź-", "k", "1"):
        value = (unit * length)[: length - 1] + ("Z" if unit == "Łódź-" else unit[0])
        if isinstance(f, PasswordField):
            # varied, so the password rule (no common or one-letter passwords) takes it
            value = ("Correct horse battery staple 7 " * (length // 31 + 1))[:length]
        if all(p.fullmatch(value) for p in patterns):
            return value
    raise AssertionError(f"no value for {f.name}")


@dataclass
class Page:
    """How to post one form: its URL, the other fields it needs, what is never stored."""

    url: Callable[[dict], str]
    data: Callable[[dict], dict] = lambda ids: {}
    method: str = "post"
    anonymous: bool = False
    not_stored: set[str] = field(default_factory=set)
    extra: Callable[[dict, dict], dict] = lambda ids, values: {}


def _items(ids: dict) -> list:
    with db.session.no_autoflush:
        version = db.session.scalar(
            select(ProgramVersion)
            .where(ProgramVersion.program_id == ids["program"])
            .order_by(ProgramVersion.number.desc())
        )
        return list(builder.draft_from_dict(version.content).items)


def _edit_fields(ids: dict, values: dict) -> dict:
    data = edit_data(ids["items"], base=ids["base"], note=values["change_note"])
    data["items-0-notes"] = values["items-0-notes"]
    return data


FORMS: dict[str, Page] = {
    "SignUpForm": Page(lambda ids: "/account/sign-up", anonymous=True, not_stored={"password"}),
    "SignInForm": Page(
        lambda ids: "/account/sign-in",
        data=lambda ids: {"password": "not the password"},
        anonymous=True,
        not_stored={"email"},
    ),
    "ResetRequestForm": Page(lambda ids: "/account/reset", anonymous=True, not_stored={"email"}),
    "ResetPasswordForm": Page(
        lambda ids: f"/account/reset/{ids['reset_token']}", anonymous=True, not_stored={"password"}
    ),
    "ClientForm": Page(
        lambda ids: "/clients/new",
        data=lambda ids: {"primary_trainer_id": str(ids["user"]), "email_consent": "y"},
    ),
    "clients.SearchForm": Page(lambda ids: "/clients/", method="get", not_stored={"q"}),
    "ClinicSettingsForm": Page(
        lambda ids: "/clinic/settings", data=lambda ids: {"accent_color": "#2f6f8f"}
    ),
    "AddTrainerForm": Page(lambda ids: "/clinic/team"),
    "FilterForm": Page(lambda ids: "/library/", method="get", not_stored={"q"}),
    "ClinicExerciseForm": Page(lambda ids: "/library/custom/new", data=lambda ids: exercise_data()),
    "VideoLinkForm": Page(lambda ids: "/library/plank/video"),
    "BuildForm": Page(
        lambda ids: f"/programs/new/{ids['assessment']}",
        data=lambda ids: {**BUILD, **equipment()},
    ),
    "EditForm": Page(lambda ids: f"/programs/{ids['program']}/edit", extra=_edit_fields),
    "programs.SearchForm": Page(
        lambda ids: f"/programs/{ids['program']}/edit",
        data=lambda ids: {"find": "1"},
        method="get",
        not_stored={"q"},
    ),
    "AssessmentForm": Page(
        lambda ids: f"/assessments/new/{ids['client']}", data=lambda ids: valid_answers()
    ),
    "ClearanceForm": Page(
        lambda ids: f"/assessments/{ids['blocked']}/clearance",
        data=lambda ids: {
            "name": "Dr Anna Patel",
            "profession": "gp",
            "cleared_on": ids["today"],
        },
    ),
    "MakePdfForm": Page(
        lambda ids: f"/plans/versions/{ids['version']}/make",
        data=lambda ids: {"paper": "A4"},
        not_stored={"request_key"},
    ),
    "MakeLetterForm": Page(
        lambda ids: f"/referrals/assessments/{ids['blocked']}", not_stored={"request_key"}
    ),
    "EmailLetterForm": Page(
        lambda ids: f"/referrals/{ids['letter']}/email", not_stored={"request_key"}
    ),
    "SendPlanForm": Page(
        lambda ids: f"/deliveries/documents/{ids['document']}/send",
        not_stored={"idempotency_key"},
    ),
    "SaveTemplateForm": Page(lambda ids: f"/programs/{ids['program']}/template"),
    "StartFromTemplateForm": Page(
        lambda ids: f"/programs/start/{ids['client']}",
        data=lambda ids: {"template_id": str(ids["template"])},
    ),
    "CopyForm": Page(
        lambda ids: f"/programs/{ids['program']}/copy",
        data=lambda ids: {"client_id": str(ids["other_client"])},
    ),
    "EntryForm": Page(
        lambda ids: f"/clients/{ids['client']}/progress/log",
        data=lambda ids: {"day": ids["today"], "pain": "3"},
        not_stored={"request_key"},
    ),
    "AppointmentForm": Page(
        lambda ids: "/appointments/new",
        data=lambda ids: {
            "client_id": str(ids["client"]),
            "trainer_id": str(ids["user"]),
            "day": ids["today"],
            "start": "09:00",
            "minutes": "60",
        },
    ),
    "PrintForm": Page(
        lambda ids: "/prints/",
        data=lambda ids: {
            "client_ids": str(ids["other_client"]),
            "what": "sessions",
            "day": ids["today"],
        },
        not_stored={"request_key"},
    ),
    "ExportForm": Page(
        lambda ids: f"/privacy/clients/{ids['other_client']}/export", not_stored={"request_key"}
    ),
    "EraseForm": Page(
        lambda ids: f"/privacy/clients/{ids['other_client']}/erase",
        data=lambda ids: {"reason": "mistake"},
        not_stored={"confirm_name"},  # a name that is not the client's: refused, nothing erased
    ),
    "ChangePasswordForm": Page(
        lambda ids: "/account/password",
        data=lambda ids: {"current": ids["password"]},
        not_stored={"password", "current"},
    ),
}


def _key(form_class) -> str:
    short = form_class.__name__
    if sum(f.__name__ == short for f in app_forms()) > 1:
        return f"{form_class.__module__.split('.')[-2]}.{short}"
    return short


def limited_fields(app) -> dict[str, dict[str, tuple[object, int]]]:
    """Form key -> {field name: (field, limit)} for every field with a length limit."""
    found = {}
    with app.test_request_context(method="POST"):
        for form_class in app_forms():
            form = _build(form_class, _seed(_build(form_class, {})))
            limits = {
                f.name: (f, field_limit(f))
                for f in _leaf_fields(form)
                if field_limit(f) is not None and f.name != "csrf_token"
            }
            if limits:
                found[_key(form_class)] = limits
    return found


def stored_strings() -> list[str]:
    """Every string in every table (JSON documents included), to find a value in."""
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            walk(list(row))
    return found


def test_every_form_with_a_limit_has_a_page_here(app):
    assert sorted(limited_fields(app)) == sorted(FORMS)


def test_longest_accepted_values_are_stored_intact_or_refused(app, client, auth, factories):
    owner = factories.user(name="Ana Trainer")
    auth.login(email=owner.email)
    person = factories.client_record(owner, email="c@example.com", email_consent=True)
    version_id = factories.program_version(owner, person)
    document_id = factories.ready_document(owner, person, key="longest-values-01")
    other = factories.client_record(owner, name="Other Client")
    blocked = client.post(
        f"/assessments/new/{person.id}", data=valid_answers(saddle_numbness="yes")
    )
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        program = db.session.get(Program, version.program_id)
        template = ProgramTemplate(
            clinic_id=owner.clinic_id, name="Template", content=version.content, catalog_version="x"
        )
        db.session.add(template)
        db.session.commit()
        blocked_id = db.session.scalar(
            select(Assessment.id).where(Assessment.result["blocked"].as_boolean())
        )
        # The red flag came just before the program's version (a program saved before it waits
        # for the trainer's review after clearance, and the Make PDF form here must make one).
        flagged = db.session.get(Assessment, blocked_id)
        flagged.created_at = version.created_at - timedelta(microseconds=1)
        db.session.commit()
        letter = ReferralLetter(
            clinic_id=owner.clinic_id,
            client_id=person.id,
            assessment_id=blocked_id,
            request_key=f"{owner.clinic_id}:longest-letter",
            status="ready",
            pdf=b"%PDF-1.4\n%%EOF\n",
        )
        db.session.add(letter)
        db.session.commit()
        ids = {
            "user": owner.id,
            "client": person.id,
            "assessment": program.assessment_id,
            "program": program.id,
            "version": version_id,
            "document": document_id,
            "template": template.id,
            "other_client": other.id,
            "blocked": blocked_id,
            "letter": letter.id,
            "password": factories.PASSWORD,
            "today": progress.now_local_date(owner.clinic_id).isoformat(),
            "reset_token": accounts.make_password_token(
                db.session.get(User, owner.id), app.config["SECRET_KEY"]
            ),
        }
    assert blocked.status_code == 302 and blocked_id is not None

    problems = []
    for key, fields in limited_fields(app).items():
        page = FORMS[key]
        with app.app_context():
            ids["base"] = db.session.scalar(
                select(ProgramVersion.number)
                .where(ProgramVersion.program_id == ids["program"])
                .order_by(ProgramVersion.number.desc())
            )
            ids["items"] = _items(ids)
        values = {name: longest_value(f, limit) for name, (f, limit) in fields.items()}
        data = {**page.data(ids), **values, **page.extra(ids, values)}
        if "password" in values:
            data["confirm"] = values["password"]
        browser = app.test_client() if page.anonymous else client
        if page.method == "get":
            response = browser.get(page.url(ids), query_string=data)
        else:
            response = browser.post(page.url(ids), data=data)
        assert response.status_code != 500, key
        body = response.get_data(as_text=True)
        with app.app_context():
            everything = stored_strings()
        for name, value in values.items():
            if name in page.not_stored:
                # Never stored as typed: the form must take it (a search page, a redirect).
                if key == "SignInForm":  # the form took it; then the credentials decide
                    accepted = "Email or password is not right." in body
                elif key == "EraseForm":  # the form took it; then the client's name decides
                    accepted = "not the client&#39;s name as recorded" in body
                else:
                    expected = 200 if page.method == "get" else 302
                    accepted = response.status_code == expected and "invalid-feedback" not in body
                if not accepted:
                    problems.append(f"{key}.{name}: not accepted ({response.status_code})")
                continue
            stored = any(value in cell for cell in everything)
            refused = response.status_code == 200 and "invalid-feedback" in body
            if not (stored or refused):
                problems.append(
                    f"{key}.{name} ({len(value)} characters) neither stored nor refused"
                )
    assert problems == []
    with app.app_context():
        assert db.session.scalar(select(PlanDocument.id).where(PlanDocument.id != document_id))
