"""Job rows are recorded once per key, even when a duplicate request races in."""

from __future__ import annotations

from sqlalchemy import func, select

from trainer_app.accounts.models import LoginSession
from trainer_app.extensions import db
from trainer_app.jobs import record_once


def test_record_once_returns_the_row_that_won_the_race(app, factories):
    user = factories.user()
    with app.app_context():
        first, created = record_once(
            LoginSession(token="same-key", user_id=user.id), LoginSession.token
        )
        db.session.commit()
        assert created is True
        # A second request with the same key gets past its own look-up, then loses at the insert.
        second, created = record_once(
            LoginSession(token="same-key", user_id=user.id), LoginSession.token
        )
        assert created is False and second.id == first.id
        assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 1
