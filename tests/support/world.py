"""One clinic with a row of every kind a URL can name, and the values that fill each URL.

The route matrices (tenancy, CSRF, oversized ids) build URLs from ``app.url_map``. Every URL
parameter must be listed here, either with a value from a clinic (``ClinicWorld.url_values``)
or in ``NOT_CLINIC_DATA`` with the reason it names nothing of a clinic. A route added later
with a new parameter makes those suites fail until its factory is added here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from tests.support.factories import Factories
from trainer_app.extensions import db

# Parameters that do not name a row of a clinic, and why.
NOT_CLINIC_DATA = {
    "filename": "static files are the same for everyone",
    "token": "a signed, expiring token; it names no id an attacker could swap",
}
# Tables whose rows a request may change without changing clinic data.
VOLATILE_TABLES = {"rate_limit_counters"}


@dataclass
class ClinicWorld:
    """Ids of one clinic's rows, one of each kind a URL can name."""

    owner: object
    trainer: object
    front_desk: object
    member_id: int
    client_id: int
    assessment_id: int
    program_id: int
    version_id: int
    version_number: int
    document_id: int
    delivery_id: int
    letter_id: int
    export_id: int
    exercise_id: int
    exercise_slug: str
    outbox_name: str
    invitation_id: int
    template_id: int
    appointment_id: int
    batch_id: int
    reset_token: str
    invite_token: str
    confirm_token: str
    progress_token: str

    def url_values(self) -> dict[str, object]:
        """A value for each URL parameter that names this clinic's data."""
        return {
            "client_id": self.client_id,
            "assessment_id": self.assessment_id,
            "program_id": self.program_id,
            "number": self.version_number,
            "version_id": self.version_id,
            "document_id": self.document_id,
            "delivery_id": self.delivery_id,
            "letter_id": self.letter_id,
            "export_id": self.export_id,
            "exercise_id": self.exercise_id,
            "user_id": self.member_id,
            "invitation_id": self.invitation_id,
            "template_id": self.template_id,
            "appointment_id": self.appointment_id,
            "batch_id": self.batch_id,
            "slug": self.exercise_slug,
            "name": self.outbox_name,
        }

    def values_for(self, rule) -> dict[str, object]:
        """Values for every parameter of ``rule``; fails loudly on one nobody filled yet."""
        own = self.url_values()
        tokens = {
            "accounts.reset_password": self.reset_token,
            "accounts.accept_invitation": self.invite_token,
            "accounts.confirm_email": self.confirm_token,
            "progress.page": self.progress_token,
        }
        values = {}
        for name in rule.arguments:
            if name in own:
                values[name] = own[name]
            elif name == "token" and rule.endpoint in tokens:
                values[name] = tokens[rule.endpoint]
            elif name == "filename":
                values[name] = "css/app.css"
            else:
                raise AssertionError(
                    f"route {rule.rule} ({rule.endpoint}) has a parameter {name!r} that "
                    "tests/support/world.py cannot fill: add a factory to ClinicWorld (or, if it "
                    "names nothing of a clinic, a reason to NOT_CLINIC_DATA)"
                )
        return values


def bounced_letter_email(person, letter_id: int, error: str) -> int:
    """A referral letter's email to ``person`` that failed with ``error``; call inside an app
    context. Returns the delivery id."""
    from trainer_app.delivery.models import Delivery

    bounced = Delivery(
        clinic_id=person.clinic_id,
        client_id=person.id,
        referral_letter_id=letter_id,
        idempotency_key=f"{person.clinic_id}:bounced-letter",
        to_name=person.name,
        to_email=person.email,
        status="failed",
        last_error=error,
    )
    db.session.add(bounced)
    db.session.commit()
    return bounced.id


def build_world(app, factories: Factories) -> ClinicWorld:
    """A clinic with an owner, a team member and one row of each kind."""
    from tests.library.test_service import exercise_data
    from trainer_app.accounts import service as accounts
    from trainer_app.accounts.models import Clinic, Invitation, User
    from trainer_app.appointments.models import Appointment
    from trainer_app.delivery.models import Delivery
    from trainer_app.library import service as library
    from trainer_app.library.catalog import default_catalog
    from trainer_app.mail import outbox_folder as clinic_outbox
    from trainer_app.plans.models import READY, PlanDocument
    from trainer_app.prints.models import PrintBatch, PrintItem
    from trainer_app.privacy.models import DataExport
    from trainer_app.programs import service as programs
    from trainer_app.programs.models import ProgramVersion
    from trainer_app.progress import service as progress
    from trainer_app.referrals.models import ReferralLetter
    from trainer_app.timeutil import utcnow

    owner = factories.user(role="owner")
    with app.app_context():
        clinic = db.session.get(Clinic, owner.clinic_id)
        db.session.expunge(clinic)
    member = factories.user(clinic=clinic, role="trainer")
    front_desk = factories.user(clinic=clinic, role="front_desk")
    unconfirmed = factories.user(clinic=clinic, role="trainer")
    client = factories.client_record(owner, email="world@example.com", email_consent=True)
    version_id = factories.program_version(owner, client)
    with app.app_context():
        version = db.session.get(ProgramVersion, version_id)
        program = version.program
        pdf = b"%PDF-1.4\n% a stand-in document\n%%EOF\n"
        document = PlanDocument(
            clinic_id=owner.clinic_id,
            program_version_id=version_id,
            request_key=f"{owner.clinic_id}:world-document-0001",
            paper_size="A4",
            status=READY,
            pdf=pdf,
            size_bytes=len(pdf),
            page_count=1,
            fingerprint=hashlib.sha256(pdf).hexdigest(),
            created_by_id=owner.id,
        )
        db.session.add(document)
        db.session.flush()
        delivery = Delivery(
            clinic_id=owner.clinic_id,
            client_id=client.id,
            plan_document_id=document.id,
            idempotency_key=f"{owner.clinic_id}:world-delivery-0001",
            to_name=client.name,
            to_email=client.email,
            status="sent",
            attempts=1,
            sent_at=utcnow(),
            created_by_id=owner.id,
        )
        db.session.add(delivery)
        letter = ReferralLetter(
            clinic_id=owner.clinic_id,
            client_id=client.id,
            assessment_id=program.assessment_id,
            request_key=f"{owner.clinic_id}:world-letter-0001",
            status=READY,
            pdf=pdf,
            size_bytes=len(pdf),
            created_by_id=owner.id,
        )
        db.session.add(letter)
        export = DataExport(
            clinic_id=owner.clinic_id,
            client_id=client.id,
            scope="client",
            request_key=f"{owner.clinic_id}:world-export-0001",
            status="ready",
            zip=b"PK\x05\x06" + bytes(18),
            size_bytes=22,
            expires_at=utcnow() + timedelta(hours=1),
            created_by_id=owner.id,
        )
        db.session.add(export)
        # Slugs are per clinic: a name of its own, so another clinic's slug is not its too.
        invitation = Invitation(
            clinic_id=owner.clinic_id,
            name="Invited Trainer",
            email=f"invited{owner.clinic_id}@example.com",
            invited_by_id=owner.id,
        )
        db.session.add(invitation)
        unconfirmed_row = db.session.get(User, unconfirmed.id)
        unconfirmed_row.email_confirmed_at = None
        exercise = library.create_clinic_exercise(
            owner.clinic_id, exercise_data(name=f"Wall angel {owner.clinic_id}")
        )
        template = programs.save_template(
            program, f"World template {owner.clinic_id}", default_catalog(), user_id=owner.id
        )
        link = progress.ensure_link(program.client, program)
        appointment = Appointment(
            clinic_id=owner.clinic_id,
            client_id=client.id,
            trainer_id=member.id,
            starts_at=utcnow(),
            ends_at=utcnow() + timedelta(hours=1),
            note="World session",
        )
        db.session.add(appointment)
        batch = PrintBatch(
            clinic_id=owner.clinic_id,
            request_key=f"{owner.clinic_id}:world-print-batch-0001",
            what="plans",
            day=utcnow().date(),
            paper_size="A4",
            status="ready",
            total=1,
            pdf=pdf,
            page_count=1,
            expires_at=utcnow() + timedelta(hours=1),
            items=[
                PrintItem(
                    clinic_id=owner.clinic_id, position=0, client_id=client.id, status="printed"
                )
            ],
        )
        db.session.add(batch)
        db.session.commit()
        folder = clinic_outbox(owner.clinic_id)
        folder.mkdir(parents=True, exist_ok=True)
        outbox_name = f"world-{owner.clinic_id}.eml"
        (folder / outbox_name).write_bytes(
            b"From: a@example.com\r\nTo: b@example.com\r\nSubject: World\r\n\r\nHello\r\n"
        )
        secret = app.config["SECRET_KEY"]
        owner_row = db.session.get(User, owner.id)
        world = ClinicWorld(
            owner=owner,
            trainer=member,
            front_desk=front_desk,
            member_id=member.id,
            client_id=client.id,
            assessment_id=program.assessment_id,
            program_id=program.id,
            version_id=version_id,
            version_number=version.number,
            document_id=document.id,
            delivery_id=delivery.id,
            letter_id=letter.id,
            export_id=export.id,
            exercise_id=exercise.id,
            exercise_slug=exercise.slug,
            outbox_name=outbox_name,
            invitation_id=invitation.id,
            template_id=template.id,
            appointment_id=appointment.id,
            batch_id=batch.id,
            reset_token=accounts.make_password_token(owner_row, secret),
            invite_token=accounts.make_invitation_token(invitation, secret),
            confirm_token=accounts.make_confirm_token(unconfirmed_row, secret),
            progress_token=progress.link_token(link),
        )
    return world


def snapshot(app) -> dict:
    """Every row of every table (but counters) and every outbox file, to prove nothing changed."""
    state: dict = {}
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                if table.name in VOLATILE_TABLES:
                    continue
                order = list(table.primary_key.columns)
                rows = conn.execute(select(table).order_by(*order)).all()
                state[table.name] = [tuple(row) for row in rows]
        outbox = Path(app.config["OUTBOX_FOLDER"])
        state["outbox files"] = sorted(
            (str(path.relative_to(outbox)), path.read_bytes())
            for path in outbox.rglob("*")
            if path.is_file()
        )
    return state


def state_changes(before: dict, after: dict) -> list[str]:
    """Names of the tables (and the outbox) whose contents differ."""
    return [name for name in before if before[name] != after.get(name)]
