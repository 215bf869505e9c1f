"""Every page of the journey fits a 390 px phone and a 1280 px desktop, and axe-core finds no
serious or critical accessibility violation on it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.journey import EXCLUDED, KNOWN_VIOLATIONS, PAGES, Journey, Page
from tests.support.factories import Factories, baseline_answers
from tests.support.world import build_world
from trainer_app.timeutil import utcnow

pytestmark = pytest.mark.browser
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}
AXE = Axe()

# Problems a person would see: the page wider than the screen, an action button cut off by the
# screen's edge or by a container that hides or scrolls its overflow.
LAYOUT_PROBLEMS = """() => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  }
  const buttons = 'a.btn, button, input[type=submit], input[type=button]';
  for (const el of document.querySelectorAll(buttons)) {
    if (el.closest('.visually-hidden, [aria-hidden="true"]')) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;  // not shown (a closed menu)
    const name = (el.innerText || el.value || el.getAttribute('aria-label') || '')
      .trim().replace(/\\s+/g, ' ').slice(0, 60);
    if (box.left < -0.5 || box.right > width + 0.5) {
      problems.push(`button "${name}" spans ${Math.round(box.left)}..${Math.round(box.right)} px`);
      continue;
    }
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX === 'visible') continue;
      const outer = up.getBoundingClientRect();
      if (box.left < outer.left - 0.5 || box.right > outer.right + 0.5) {
        problems.push(`button "${name}" is cut off by its container`);
        break;
      }
    }
  }
  return problems;
}"""


def test_every_get_route_is_in_the_journey_or_excluded(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    listed = {page.endpoint for page in PAGES}
    missing = routes - listed - set(EXCLUDED)
    assert not missing, (
        f"GET routes in neither PAGES nor EXCLUDED of tests/browser/journey.py: {sorted(missing)}"
    )
    assert not listed & set(EXCLUDED), "a route is both a page and excluded"
    assert not (listed | set(EXCLUDED)) - routes, "journey.py names routes the app no longer has"


def _journey(app, factories) -> Journey:
    """The world's clinic, plus a client with red flags and a re-assessed client."""
    from trainer_app.appointments.models import Appointment
    from trainer_app.assessments.models import Assessment
    from trainer_app.assessments.questionnaire import default_questionnaire
    from trainer_app.assessments.scoring import result_to_dict, score
    from trainer_app.clients.models import Client
    from trainer_app.extensions import db

    world = build_world(app, factories)
    owner = world.owner
    questionnaire = default_questionnaire()
    flagged = factories.client_record(owner, name="Rasmus Holm")

    def assess(client_id: int, answers: dict) -> int:
        result = score(questionnaire, answers)
        row = Assessment(
            clinic_id=owner.clinic_id,
            client_id=client_id,
            trainer_id=owner.id,
            questionnaire_version=result.questionnaire_version,
            answers=answers,
            result=result_to_dict(result),
        )
        db.session.add(row)
        db.session.flush()
        return row.id

    with app.app_context():
        blocked = assess(flagged.id, baseline_answers(saddle_numbness=True, front_plank_hold=12))
        client = db.session.get(Client, world.client_id)
        again = assess(client.id, baseline_answers(front_plank_hold=25))
        unmatched = Appointment(
            clinic_id=owner.clinic_id,
            starts_at=utcnow(),
            ends_at=utcnow() + timedelta(minutes=45),
            title="Peter Newcomer",
            attendee_email="peter.newcomer@example.com",
        )
        db.session.add(unmatched)
        db.session.commit()
        unmatched_id = unmatched.id
    return Journey(
        world=world,
        blocked_assessment_id=blocked,
        reassessment_id=again,
        unmatched_id=unmatched_id,
    )


def _url(app, page: Page, journey: Journey) -> str:
    rule = next(
        r for r in app.url_map.iter_rules() if r.endpoint == page.endpoint and "GET" in r.methods
    )
    values = {**journey.world.values_for(rule), **(page.values(journey) if page.values else {})}
    return app.url_map.bind("localhost").build(page.endpoint, {**values, **page.query})


def _problems(page, known: dict[str, str], seen: set[str]) -> list[str]:
    found = list(page.evaluate(LAYOUT_PROBLEMS))
    for violation in AXE.run(page).response["violations"]:
        if violation["id"] in known:
            seen.add(violation["id"])
        elif violation["impact"] in ("serious", "critical"):
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            found.append(
                f"axe {violation['impact']} {violation['id']}: {violation['help']} ({targets})"
            )
    return found


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_fits_and_passes_axe(app, factories, live_app, live_server, browser, viewport):
    from trainer_app.mail import outbox_folder

    journey = _journey(app, factories)
    world = journey.world
    with app.app_context():
        written = outbox_folder(world.owner.clinic_id) / world.outbox_name
        message = written.read_bytes()
        # tests share one app per backend: leave its outbox as empty as it was
        written.unlink()
    with live_app.app_context():  # the live server keeps its outbox in its own instance folder
        folder = outbox_folder(world.owner.clinic_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / world.outbox_name).write_bytes(message)
    width, height = VIEWPORTS[viewport]
    failures: dict[str, list[str]] = {}
    for signed_in in (False, True):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        if signed_in:
            page.goto(live_server + "/account/sign-in")
            page.get_by_label("Email").fill(journey.world.owner.email)
            page.get_by_label("Password").fill(Factories.PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/dashboard")
        for spec in (p for p in PAGES if p.signed_in == signed_in):
            response = page.goto(live_server + _url(app, spec, journey))
            found = [] if response.ok else [f"HTTP {response.status}"]
            known = KNOWN_VIOLATIONS.get(spec.endpoint, {})
            seen: set[str] = set()
            found += _problems(page, known, seen)
            stale = set(known) - seen
            if stale and viewport == "phone":
                found.append(f"no longer found, remove from KNOWN_VIOLATIONS: {sorted(stale)}")
            found += [f"console: {text}" for text in errors]
            errors.clear()
            if found:
                failures[spec.name] = found
        context.close()
    assert not failures, "\n".join(
        f"{name}: {'; '.join(problems)}" for name, problems in failures.items()
    )
