"""client list sort keys and open red flags: clients' last assessed and program changed times,
an assessment's blocked flag, each with an index

Revision ID: 7a4c2e9b1d63
Revises: 2b7e9c4d5a18
Create Date: 2026-12-01 19:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7a4c2e9b1d63"
down_revision = "2b7e9c4d5a18"
branch_labels = None
depends_on = None

ACTIVE = sa.text("archived_at IS NULL")
OPEN_FLAGS = sa.text("blocked AND cleared_at IS NULL")


def upgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_assessed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("program_changed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("blocked", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    # Existing rows get the values the app keeps from now on.
    op.execute(
        "UPDATE clients SET"
        " last_assessed_at = (SELECT max(a.created_at) FROM assessments a"
        " WHERE a.client_id = clients.id),"
        " program_changed_at = (SELECT max(v.created_at) FROM program_versions v"
        " JOIN programs p ON p.id = v.program_id WHERE p.client_id = clients.id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE assessments SET blocked = coalesce((result ->> 'blocked')::boolean, false)"
        )
    else:
        op.execute(
            "UPDATE assessments SET blocked = coalesce(json_extract(result, '$.blocked'), 0) != 0"
        )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clients_active_assessed",
            ["clinic_id", "last_assessed_at", "id"],
            unique=False,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        )
        batch_op.create_index(
            "ix_clients_active_program",
            ["clinic_id", "program_changed_at", "id"],
            unique=False,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessments_open_red_flags",
            ["clinic_id", "client_id"],
            unique=False,
            postgresql_where=OPEN_FLAGS,
            sqlite_where=OPEN_FLAGS,
        )


def downgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_open_red_flags")
        batch_op.drop_column("blocked")
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index("ix_clients_active_program")
        batch_op.drop_index("ix_clients_active_assessed")
        batch_op.drop_column("program_changed_at")
        batch_op.drop_column("last_assessed_at")
