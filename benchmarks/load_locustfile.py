"""The simulated trainers of benchmarks/load.py (a Locust file; run by load.py, not alone).

Each simulated trainer signs in with an account of its own from the plan file ``LOAD_PLAN``
(written by load.py: accounts, their clients and programs) and works like a person at a desk,
through the pages' own forms (fields and CSRF tokens read from the HTML, as a browser sends
them): browse and search the client list, open clients, programs and the dashboard, save
assessments, edit programs, make PDFs and email ready ones. Every trainer keeps to its own
programs, so two trainers never edit one program at the same moment (which the app rightly
refuses as a stale edit). A form that answers with anything but its redirect counts as an error.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from html.parser import HTMLParser
from pathlib import Path

from locust import HttpUser, between, task

from trainer_app.assessments.questionnaire import default_questionnaire

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
_accounts = itertools.count()
_signed_in = itertools.count(1)
_SKIPPED_INPUTS = {"submit", "button", "image", "file", "reset"}


def _answers() -> dict[str, str]:
    """A desk worker's assessment: every yes/no question "no" but two, measured holds and reps."""
    questionnaire = default_questionnaire()
    groups = (questionnaire.screening, questionnaire.red_flags, questionnaire.health)
    answers = {q.id: "no" for group in groups for q in group.questions}
    answers.update(
        morning_stiffness="yes",
        pain_standing_sitting="yes",
        single_leg_bridge_hold_left="15",
        single_leg_bridge_hold_right="40",
        front_plank_hold="70",
        hamstring_bridge_reps_left="25",
        hamstring_bridge_reps_right="24",
        forward_head_shoulders="mild",
        notes="Load test: desk job.",
    )
    return answers


ANSWERS = _answers()


class _Forms(HTMLParser):
    """Every form of a page: its id, action and the fields a browser would submit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: tuple[dict, str] | None = None
        self._first_option: str | None = None
        self._textarea: tuple[dict, str] | None = None

    def _target(self, attrs: dict) -> dict | None:
        owner = attrs.get("form")
        if owner:
            return next((f for f in self.forms if f["id"] == owner), None)
        return self._form

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {"id": attrs.get("id", ""), "action": attrs.get("action", "")}
            self._form["fields"] = []
            self.forms.append(self._form)
            return
        if tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self._select[0]["fields"].append((self._select[1], value))
                self._select = None
            return
        form = self._target(attrs)
        name = attrs.get("name")
        if form is None or not name or "disabled" in attrs:
            return
        if tag == "input":
            kind = attrs.get("type", "text").lower()
            unticked = kind in ("checkbox", "radio") and "checked" not in attrs
            if kind in _SKIPPED_INPUTS or unticked:
                return
            form["fields"].append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select":
            self._select, self._first_option = (form, name), None
        elif tag == "textarea":
            self._textarea = (form, name)
            form["fields"].append((name, ""))

    def handle_data(self, data):
        if self._textarea is not None:
            form, name = self._textarea
            so_far = form["fields"][-1][1]
            if not so_far:  # a browser drops the newline right after <textarea>
                data = data.removeprefix("\r").removeprefix("\n")
            form["fields"][-1] = (name, so_far + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            # nothing selected: a browser submits the first option
            self._select[0]["fields"].append((self._select[1], self._first_option or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_of(html: str, *, action_contains: str = "", form_id: str = "") -> dict | None:
    """The first form whose action contains ``action_contains`` (or with id ``form_id``)."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if form_id and form["id"] == form_id:
            return form
        if form_id:
            continue
        if action_contains and action_contains in form["action"]:
            return form
        if not action_contains and form["action"] in ("", "#"):  # posts to its own page
            return form
    return None


def with_values(fields: list[tuple[str, str]], values: dict[str, str]) -> list[tuple[str, str]]:
    """The form's fields with ``values`` replacing (or adding) the named ones."""
    kept = [(k, v) for k, v in fields if k not in values]
    return kept + list(values.items())


class Trainer(HttpUser):
    """One trainer of the clinic, signed in for the whole run."""

    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.account = PLAN["trainers"][next(_accounts) % len(PLAN["trainers"])]
        page = self.client.get("/account/sign-in", name="/account/sign-in")
        form = form_of(page.text)
        data = with_values(
            form["fields"] if form else [],
            {"email": self.account["email"], "password": PLAN["password"]},
        )
        with self.client.post(
            "/account/sign-in", data=data, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302 or "sign-in" in response.headers.get("Location", ""):
                response.failure(f"sign-in answered {response.status_code}")
        # The figures cover the work once every trainer is in: the last sign-in starts them
        # afresh (a sign-in hashes a password at full strength, seconds on a busy machine).
        if next(_signed_in) == self.environment.parsed_options.num_users:
            self.environment.runner.stats.reset_all()

    def _get(self, url: str, name: str):
        """GET a page; a redirect to the sign-in page (session lost) counts as an error."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if "/account/sign-in" in response.url:
                response.failure("sent to the sign-in page")
        return response

    def _post_form(
        self, page_url: str, name: str, post_name: str, values: dict, *, expect: str, **where
    ) -> None:
        """Open a form's page, submit the form with ``values``; anything but a redirect to a
        URL containing ``expect`` (where the page goes on success) fails."""
        page = self._get(page_url, name)
        form = form_of(page.text, **where)
        action = (form or {}).get("action") or page_url
        with self.client.post(
            action,
            data=with_values(form["fields"], values) if form else [],
            allow_redirects=False,
            catch_response=True,
            name=post_name,
        ) as response:
            if form is None:
                response.failure(f"no form on {page_url}")
            elif response.status_code != 302:
                response.failure(f"expected a redirect, got {response.status_code}")
            elif expect not in response.headers.get("Location", ""):
                response.failure(f"refused: sent to {response.headers.get('Location')}")

    @task(5)
    def client_list(self) -> None:
        sort = random.choice(["name", "name", "-assessed", "-program", "-updated"])
        page = random.randint(1, PLAN["list_pages"])
        self._get(f"/clients/?sort={sort}&page={page}", "/clients/ (list)")

    @task(3)
    def search(self) -> None:
        q = random.choice(PLAN["searches"])
        self._get(f"/clients/?q={q}", "/clients/?q= (search)")

    @task(4)
    def client_page(self) -> None:
        client_id = random.choice(self.account["clients"])
        self._get(f"/clients/{client_id}", "/clients/<id>")

    @task(3)
    def program_page(self) -> None:
        program_id = random.choice(self.account["programs"])
        self._get(f"/programs/{program_id}", "/programs/<id>")

    @task(1)
    def dashboard(self) -> None:
        self._get("/dashboard", "/dashboard")

    @task(3)
    def healthz(self) -> None:
        # the minimal route the client list's p95 is compared with
        self._get("/healthz", "/healthz")

    @task(1)
    def save_assessment(self) -> None:
        client_id = random.choice(self.account["clients"])
        self._post_form(
            f"/assessments/new/{client_id}",
            "/assessments/new/<id>",
            "/assessments/new/<id> (submit)",
            ANSWERS,
            expect="/assessments/",
            action_contains="/assessments/new/",
        )

    @task(1)
    def edit_program(self) -> None:
        program_id = random.choice(self.account["programs"])
        url = f"/programs/{program_id}/edit"
        page = self._get(url, "/programs/<id>/edit")
        form = form_of(page.text, form_id="edit-form")
        fields = dict(form["fields"]) if form else {}
        sets = "3" if fields.get("items-0-sets") == "2" else "2"
        with self.client.post(
            url,
            data=with_values(form["fields"], {"items-0-sets": sets, "change_note": "Load test"})
            if form
            else [],
            allow_redirects=False,
            catch_response=True,
            name="/programs/<id>/edit (submit)",
        ) as response:
            if form is None:
                response.failure("no edit form")
            elif response.status_code != 302:
                response.failure(f"expected a redirect, got {response.status_code}")

    @task(1)
    def make_pdf(self) -> None:
        program_id = random.choice(self.account["programs"])
        self._post_form(
            f"/programs/{program_id}",
            "/programs/<id>",
            "/plans/versions/<id>/make",
            {},
            expect="#document",
            action_contains="/plans/versions/",
        )

    @task(1)
    def email_plan(self) -> None:
        program_id = random.choice(self.account["emailable_programs"])
        page = self._get(f"/programs/{program_id}", "/programs/<id>")
        ready = re.findall(r'href="(/deliveries/documents/\d+/compose)"', page.text)
        if not ready:  # no PDF ready yet: make one, as the trainer would
            form = form_of(page.text, action_contains="/plans/versions/")
            if form:
                self.client.post(
                    form["action"], data=form["fields"], name="/plans/versions/<id>/make"
                )
            return
        compose = self._get(ready[0], "/deliveries/documents/<id>/compose")
        form = form_of(compose.text, action_contains="/send")
        with self.client.post(
            form["action"] if form else ready[0],
            data=with_values(form["fields"], {"personal_note": "See you on Tuesday."})
            if form
            else [],
            allow_redirects=False,
            catch_response=True,
            name="/deliveries/documents/<id>/send",
        ) as response:
            if form is None:
                response.failure("no send form")
            elif response.status_code != 302:
                response.failure(f"expected a redirect, got {response.status_code}")
