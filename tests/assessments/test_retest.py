"""A re-assessment starts with the same tests as the last one, showing last time's results."""

from __future__ import annotations

import re

from tests.support.factories import ASSESSMENT_ANSWERS


def _checked(html: str, name: str) -> str | None:
    for tag in re.findall(r"<input[^>]*>", html, flags=re.S):
        if f'name="{name}"' in tag and "checked" in tag:
            return re.search(r'value="([^"]*)"', tag).group(1)
    return None


def test_a_reassessment_starts_with_last_times_tests(app, client, auth, factories):
    auth.login()
    person = factories.client_record(auth.user, name="Re Test")
    first = client.get(f"/assessments/new/{person.id}").get_data(as_text=True)
    assert "Re-test:" not in first and "Last time:" not in first

    answers = dict(ASSESSMENT_ANSWERS)
    answers["front_plank_hold"] = "not_tested"  # not done last time
    form = {
        key: ("yes" if v is True else "no" if v is False else str(v)) for key, v in answers.items()
    }
    for key, value in answers.items():
        if isinstance(value, int) and not isinstance(value, bool):
            form[f"{key}__status"] = "measured"
    form["front_plank_hold__status"] = "not_tested"
    form["front_plank_hold"] = ""
    saved = client.post(f"/assessments/new/{person.id}", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]

    again = client.get(f"/assessments/new/{person.id}").get_data(as_text=True)
    assert "Re-test: the same tests as on" in again
    # measured last time: empty, to be measured again, with last time's result beside it
    assert "Last time: 12 s" in again and "Last time: 25 s" in again
    assert _checked(again, "single_leg_bridge_hold_left__status") == "measured"
    # not done last time: starts as not tested, so the comparison stays like for like
    assert _checked(again, "front_plank_hold__status") == "not_tested"
    assert _checked(again, "thomas_test_left") == "not_tested"
    # questions are asked afresh: no answer is carried over
    assert "Last time: Yes" in again and _checked(again, "hip_drop_left") is None
    assert _checked(again, "bladder_bowel_control") is None
