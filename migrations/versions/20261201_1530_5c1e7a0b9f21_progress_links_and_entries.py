"""progress links and entries

Revision ID: 5c1e7a0b9f21
Revises: a96b9d213285
Create Date: 2026-12-01 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5c1e7a0b9f21"
down_revision = "a96b9d213285"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "progress_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("renewed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_progress_links_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_progress_links_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_links")),
        sa.UniqueConstraint("client_id", name=op.f("uq_progress_links_client_id")),
    )
    with op.batch_alter_table("progress_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_progress_links_clinic_id"), ["clinic_id"], unique=False
        )

    op.create_table(
        "progress_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("exercises", sa.JSON(), nullable=False),
        sa.Column("session", sa.Boolean(), nullable=False),
        sa.Column("pain", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("warning_sign", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_progress_entries_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_progress_entries_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_progress_entries_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.id"], name=op.f("fk_progress_entries_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_entries")),
        sa.UniqueConstraint("request_key", name=op.f("uq_progress_entries_request_key")),
    )
    with op.batch_alter_table("progress_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_progress_entries_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_progress_entries_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_progress_entries_program_id"), ["program_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("progress_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_progress_entries_program_id"))
        batch_op.drop_index(batch_op.f("ix_progress_entries_clinic_id"))
        batch_op.drop_index(batch_op.f("ix_progress_entries_client_id"))
    op.drop_table("progress_entries")
    with op.batch_alter_table("progress_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_progress_links_clinic_id"))
    op.drop_table("progress_links")
