"""Client operations scoped to a clinic. They flush; the caller commits."""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from trainer_app.accounts.models import User
from trainer_app.clients.models import Client
from trainer_app.extensions import db
from trainer_app.timeutil import utcnow

SORTS = {
    "name": (Client.name.asc(), Client.id.asc()),
    "-updated": (Client.updated_at.desc(), Client.id.desc()),
    "-created": (Client.created_at.desc(), Client.id.desc()),
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def client_query(
    clinic_id: int, *, q: str = "", status: str = "active", sort: str = "name"
) -> Select:
    """Clients of ``clinic_id`` matching a search, an archive status and a sort."""
    stmt = select(Client).where(Client.clinic_id == clinic_id)
    if status == "active":
        stmt = stmt.where(Client.archived_at.is_(None))
    elif status == "archived":
        stmt = stmt.where(Client.archived_at.is_not(None))
    if q.strip():
        pattern = f"%{_escape_like(q.strip().lower())}%"
        stmt = stmt.where(
            or_(
                Client.name.ilike(pattern, escape="\\"),
                Client.email.ilike(pattern, escape="\\"),
            )
        )
    return stmt.order_by(*SORTS.get(sort, SORTS["name"]))


def trainer_choices(clinic_id: int) -> list[tuple[int, str]]:
    """(id, name) of the clinic's active trainers, for the primary-trainer select."""
    users = db.session.scalars(
        select(User)
        .where(User.clinic_id == clinic_id, User.is_active_user.is_(True))
        .order_by(User.name)
    )
    return [(u.id, u.name) for u in users]


def apply_form(client: Client, data: dict, *, clinic_id: int) -> None:
    """Copy validated form data onto ``client``; consent keeps the date it was first given."""
    trainer_ids = {tid for tid, _ in trainer_choices(clinic_id)}
    if data["primary_trainer_id"] not in trainer_ids:
        raise ValueError("The primary trainer must belong to this clinic.")
    client.name = data["name"].strip()
    client.email = (data["email"] or "").strip().lower() or None
    client.phone = (data["phone"] or "").strip() or None
    client.date_of_birth = data["date_of_birth"]
    client.notes = (data["notes"] or "").strip()
    client.primary_trainer_id = data["primary_trainer_id"]
    consent = bool(data["email_consent"]) and client.email is not None
    if consent and not client.email_consent:
        client.email_consent_at = utcnow()
    if not consent:
        client.email_consent_at = None
    client.email_consent = consent


def create_client(clinic_id: int, data: dict) -> Client:
    """A new client in ``clinic_id``."""
    client = Client(clinic_id=clinic_id)
    apply_form(client, data, clinic_id=clinic_id)
    db.session.add(client)
    db.session.flush()
    return client


def archive(client: Client) -> None:
    """Hide the client from the active list; nothing is deleted."""
    if client.archived_at is None:
        client.archived_at = utcnow()


def restore(client: Client) -> None:
    """Bring an archived client back to the active list."""
    client.archived_at = None
