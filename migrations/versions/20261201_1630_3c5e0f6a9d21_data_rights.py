"""data rights: exports, erased-client tombstones, retention policies

Client ids are never handed out again on SQLite either (AUTOINCREMENT), so an audit row naming
an erased client's id keeps meaning that client.

Revision ID: 3c5e0f6a9d21
Revises: 8d2e4c7a1b35
Create Date: 2026-12-01 16:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "3c5e0f6a9d21"
down_revision = "8d2e4c7a1b35"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("zip", sa.LargeBinary(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_data_exports_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_data_exports_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_data_exports_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
        sa.UniqueConstraint("request_key", name=op.f("uq_data_exports_request_key")),
    )
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_exports_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_exports_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            "ix_data_exports_status_queued_at", ["status", "queued_at"], unique=False
        )

    op.create_table(
        "erased_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.Column("erased_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_erased_clients_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["erased_by_id"],
            ["users.id"],
            name=op.f("fk_erased_clients_erased_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erased_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_erased_clients_client_id")),
    )
    with op.batch_alter_table("erased_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erased_clients_clinic_id"), ["clinic_id"], unique=False
        )
    op.create_table(
        "retention_policies",
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("archived_months", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_retention_policies_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_retention_policies_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("clinic_id", name=op.f("pk_retention_policies")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite would otherwise give the next client the id of an erased one that had the
        # highest id; PostgreSQL's sequence never reuses one.
        with op.batch_alter_table(
            "clients", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade():
    op.drop_table("retention_policies")
    with op.batch_alter_table("erased_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erased_clients_clinic_id"))
    op.drop_table("erased_clients")
    with op.batch_alter_table("data_exports", schema=None) as batch_op:
        batch_op.drop_index("ix_data_exports_status_queued_at")
        batch_op.drop_index(batch_op.f("ix_data_exports_clinic_id"))
        batch_op.drop_index(batch_op.f("ix_data_exports_client_id"))
    op.drop_table("data_exports")
