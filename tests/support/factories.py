"""Small factories for test data, writing through the same service functions as the app."""

from __future__ import annotations

import itertools
from functools import cache

from trainer_app.extensions import db

_counter = itertools.count(1)


@cache
def _password_hash(password: str) -> str:
    # Hashing at production strength is slow on purpose; hash each test password once.
    from trainer_app.accounts.passwords import hash_password

    return hash_password(password)


class Factories:
    PASSWORD = "correct horse battery"

    def __init__(self, app) -> None:
        self.app = app

    def user(
        self, *, name: str | None = None, email: str | None = None, clinic=None, clinic_name=None
    ):
        from trainer_app.accounts.models import Clinic, User

        n = next(_counter)
        with self.app.app_context():
            if clinic is None:
                clinic = Clinic(name=clinic_name or f"Clinic {n}", contact=f"clinic{n}@example.com")
                db.session.add(clinic)
            else:
                clinic = db.session.merge(clinic)
            user = User(
                clinic=clinic,
                name=name or f"Trainer {n}",
                email=email or f"trainer{n}@example.com",
                password_hash=_password_hash(self.PASSWORD),
            )
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge_all()
            return user

    def client_record(self, user, **fields):
        from trainer_app.clients.models import Client

        n = next(_counter)
        with self.app.app_context():
            data = {
                "name": f"Client {n}",
                "email": f"client{n}@example.com",
                "email_consent": False,
                "notes": "",
            }
            data.update(fields)
            client = Client(clinic_id=user.clinic_id, primary_trainer_id=user.id, **data)
            db.session.add(client)
            db.session.commit()
            db.session.refresh(client)
            db.session.expunge(client)
            return client
