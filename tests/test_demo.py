"""The demo data (`trainer-app demo`) tells one story in order: Maria became a client, was
assessed, got her program built from that assessment, then logged her sessions."""

from __future__ import annotations

from sqlalchemy import select

from trainer_app.extensions import db


def test_the_demo_dates_follow_each_other(app, runner, client, auth):
    from trainer_app.assessments.models import Assessment
    from trainer_app.clients.models import Client
    from trainer_app.demo import DEMO_PASSWORD
    from trainer_app.programs.models import Program
    from trainer_app.programs.service import clinic_zone
    from trainer_app.progress.models import ProgressEntry
    from trainer_app.progress.service import now_local_date, program_start
    from trainer_app.timeutil import format_local

    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        maria = db.session.scalar(select(Client).where(Client.name == "Maria Jensen"))
        zone = clinic_zone(maria.clinic_id)
        assessment = db.session.scalar(select(Assessment).where(Assessment.client_id == maria.id))
        program = db.session.scalar(select(Program).where(Program.client_id == maria.id))
        (version,) = program.versions
        days = list(
            db.session.scalars(
                select(ProgressEntry.day)
                .where(ProgressEntry.client_id == maria.id)
                .order_by(ProgressEntry.id)
            )
        )
        assert maria.created_at < assessment.created_at <= assessment.confirmed_at
        assert assessment.confirmed_at <= program.created_at <= version.created_at
        assessed_on = format_local(assessment.created_at, zone, "date")
        assert version.change_note == f"Built from assessment of {assessed_on}"
        assert maria.last_assessed_at == assessment.created_at
        assert maria.program_changed_at == version.created_at
        start = program_start(program, zone)
        assert (
            days == sorted(days)
            and start <= days[0]
            and days[-1] <= now_local_date(maria.clinic_id)
        )
        client_since = format_local(maria.created_at, zone, "date")
        maria_id = maria.id
    auth.login(email="demo@example.com", password=DEMO_PASSWORD)
    response = client.get("/clients/")
    assert response.status_code == 200, response.headers.get("Location")
    listing = response.get_data(as_text=True)
    row = listing[listing.index("Maria Jensen") :]
    row = row[: row.index("</tr>")]
    assert assessed_on in row  # the list's "Last assessment" is the assessment's day
    page = client.get(f"/clients/{maria_id}").get_data(as_text=True)
    assert f"Client since {client_since}" in page and assessed_on in page
