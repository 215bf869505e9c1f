"""Import every domain's models so the metadata (and Alembic) sees all tables."""

from trainer_app.accounts.models import Clinic, LoginSession, User  # noqa: F401
from trainer_app.clients.models import Client  # noqa: F401
