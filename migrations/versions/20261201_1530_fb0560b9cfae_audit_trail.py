"""audit trail, append-only in the database

Revision ID: fb0560b9cfae
Revises: 5c1e7a0b9f21
Create Date: 2026-12-01 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "fb0560b9cfae"
down_revision = "5c1e7a0b9f21"
branch_labels = None
depends_on = None

MESSAGE = "audit_events is append-only"


def upgrade():
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_name", sa.String(length=160), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("what", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_clinic_at", ["clinic_id", "at"], unique=False)
        batch_op.create_index(
            "ix_audit_events_clinic_client", ["clinic_id", "client_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        # Row triggers refuse UPDATE and DELETE for every role but a superuser who disables
        # triggers on purpose (session_replication_role); a statement trigger refuses TRUNCATE.
        op.execute(
            f"""
            CREATE FUNCTION audit_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_refuse()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION audit_events_refuse()")
    else:
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute("DROP TRIGGER audit_events_no_update")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_clinic_client")
        batch_op.drop_index("ix_audit_events_clinic_at")
    op.drop_table("audit_events")
