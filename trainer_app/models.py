"""Import every domain's models so the metadata (and Alembic) sees all tables."""

from trainer_app.accounts.models import (  # noqa: F401
    AccountEmail,
    Clinic,
    Invitation,
    LoginSession,
    User,
)
from trainer_app.appointments.models import Appointment  # noqa: F401
from trainer_app.assessments.models import Assessment  # noqa: F401
from trainer_app.audit.models import AuditEvent  # noqa: F401
from trainer_app.clients.models import Client  # noqa: F401
from trainer_app.delivery.models import Delivery, DeliveryAttempt  # noqa: F401
from trainer_app.library.models import ClinicExercise, ExerciseMedia  # noqa: F401
from trainer_app.plans.models import PlanDocument  # noqa: F401
from trainer_app.prints.models import PrintBatch, PrintItem  # noqa: F401
from trainer_app.privacy.models import DataExport, ErasedClient, RetentionPolicy  # noqa: F401
from trainer_app.programs.models import Program, ProgramTemplate, ProgramVersion  # noqa: F401
from trainer_app.progress.models import ProgressEntry, ProgressLink  # noqa: F401
from trainer_app.ratelimit import RateLimitCounter  # noqa: F401
from trainer_app.referrals.models import ReferralLetter  # noqa: F401
