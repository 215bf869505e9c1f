"""Role matrix: every route of the URL map, called by each role of a clinic, answers as the
role table below says; a refused request changes nothing; and the front desk of another clinic
gets 404 (or the role's 403) for every route that names this clinic's data.

A route added later without an entry in ``expected`` fails here until someone decides who may
use it.
"""

from __future__ import annotations

from tests.security.routes import (
    PROBE_FORM,
    STATE_CHANGING,
    methods,
    names_clinic_data,
    routes,
    sign_in,
    url_for_rule,
)
from tests.support.world import build_world, snapshot, state_changes

OK, FORBIDDEN, HIDDEN = "ok", 403, 404
# Pages anyone may open, signed in or not: no role applies.
OPEN = {"main.index", "main.healthz", "static", "bootstrap.static", "progress.page"}
OWNER, TRAINER, FRONT_DESK = "owner", "trainer", "front_desk"
# Let in, but answering 404 for a reason of the world's own.
ABSENT = {"library.photo": "the world's exercise has no photo"}


def expected(endpoint: str, method: str, role: str) -> str | int | None:
    """What ``role`` gets from ``endpoint`` (None: no role applies to this route)."""
    area = endpoint.split(".")[0]
    if endpoint in OPEN or area == "accounts":
        return None
    if area == "clinics":  # the owner's settings and team do not exist for anyone else
        return OK if role == OWNER else HIDDEN
    if endpoint in ("delivery.outbox", "delivery.outbox_message", "audit.index"):
        return OK if role == OWNER else FORBIDDEN
    # Data rights: the owner (a client's own trainer may export them; the world's client is
    # the owner's, and tests/privacy covers the trainer).
    if area == "privacy":
        return OK if role == OWNER else FORBIDDEN
    # Pain scores and progress notes are clinical as much as findings are.
    # Referral letters name the client's red flags: clinical too.
    clinical = area in ("assessments", "programs", "progress", "referrals")
    clinical = clinical or endpoint == "plans.make"
    clinical = clinical or (area == "library" and method != "GET")
    if clinical:
        return FORBIDDEN if role == FRONT_DESK else OK
    if area in ("main", "clients", "plans", "delivery", "library", "appointments", "prints"):
        return OK
    raise AssertionError(
        f"{endpoint} has no entry in the role table of tests/security/test_role_matrix.py: "
        "decide which roles may use it"
    )


def test_every_route_answers_each_role_as_the_role_table_says(app, factories):
    world = build_world(app, factories)
    users = {OWNER: world.owner, TRAINER: world.trainer, FRONT_DESK: world.front_desk}
    wrong, refused_tried = [], 0
    browsers = {role: app.test_client() for role in users}
    for role, user in users.items():
        sign_in(browsers[role], user.email)
    before = snapshot(app)
    for role, browser in browsers.items():
        for rule in routes(app):
            for method in methods(rule):
                want = expected(rule.endpoint, method, role)
                if want is None or (want == OK and method in STATE_CHANGING):
                    # Allowed changes are the feature tests' business: here they would
                    # archive, delete and deactivate the rows the rest of the matrix needs.
                    continue
                url = url_for_rule(app, rule, world, method)
                data = PROBE_FORM if method in STATE_CHANGING else None
                response = browser.open(url, method=method, data=data)
                got = response.status_code
                if want == OK:
                    if got not in (200, 302) and not (got == 404 and rule.endpoint in ABSENT):
                        wrong.append(f"{role} {method} {url}: {got}, expected to be let in")
                    continue
                refused_tried += 1
                if got != want:
                    wrong.append(f"{role} {method} {url}: {got}, expected {want}")
                elif (
                    want == FORBIDDEN
                    and "does not open this page" not in response.get_data(as_text=True)
                    and rule.endpoint not in ("delivery.outbox", "delivery.outbox_message")
                ):
                    wrong.append(f"{role} {method} {url}: 403 without the role's explanation")
    assert wrong == [], "\n".join(wrong)
    # Pages the roles may open record who saw them (the audit trail); refused ones change nothing.
    changed = [name for name in state_changes(before, snapshot(app)) if name != "audit_events"]
    assert changed == [], "a refused request changed data"
    # The front desk was really refused the clinical areas (not merely absent from the map).
    assert refused_tried > 30


def test_another_clinics_front_desk_gets_404_or_its_roles_403(app, factories):
    victim = build_world(app, factories)
    attacker = build_world(app, factories)
    browser = app.test_client()
    sign_in(browser, attacker.front_desk.email)
    before = snapshot(app)
    wrong = []
    for rule in routes(app):
        if not names_clinic_data(rule):
            continue
        for method in methods(rule):
            want = expected(rule.endpoint, method, FRONT_DESK)
            url = url_for_rule(app, rule, victim, method)
            data = PROBE_FORM if method in STATE_CHANGING else None
            got = browser.open(url, method=method, data=data).status_code
            allowed = {HIDDEN, want} if want == FORBIDDEN else {HIDDEN}
            if want is not None and got not in allowed:
                wrong.append(f"{method} {url}: {got}")
    assert wrong == [], "another clinic's data answered the front desk:\n" + "\n".join(wrong)
    assert state_changes(before, snapshot(app)) == []
