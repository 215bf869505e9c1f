"""A client with a program and a personal link, signed in as their trainer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from trainer_app.extensions import db


@dataclass
class ProgressWorld:
    user: object
    client_id: int
    program_id: int
    slugs: list[str]
    url: str
    path: str
    today: date


def make_world(app, factories, **client_fields) -> ProgressWorld:
    from trainer_app.clients.models import Client
    from trainer_app.programs.models import ProgramVersion
    from trainer_app.progress import service

    user = factories.user()
    client = factories.client_record(user, name="Ada Lovelace", **client_fields)
    version_id = factories.program_version(user, client)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        link = service.ensure_link(db.session.get(Client, client.id), version.program)
        db.session.commit()
        url = service.link_url(link)
        slugs = [item["exercise_slug"] for item in version.content["items"]]
        today = service.now_local_date(user.clinic_id)
        return ProgressWorld(
            user=user,
            client_id=client.id,
            program_id=version.program_id,
            slugs=slugs,
            url=url,
            path=url.removeprefix(app.config["PUBLIC_URL"]),
            today=today,
        )


@pytest.fixture
def world(app, factories) -> ProgressWorld:
    return make_world(app, factories)


def entries(app, client_id: int):
    from trainer_app.progress import service

    with app.app_context():
        rows = service.entries_of(client_id)
        db.session.expunge_all()
        return rows
