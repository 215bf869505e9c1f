"""session sheets and print batches: a plan document's kind and day, the day's print

Revision ID: 2b7e9c4d5a18
Revises: c3e1d5a0b713
Create Date: 2026-12-01 16:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "2b7e9c4d5a18"
down_revision = "c3e1d5a0b713"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan_documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=12), server_default="plan", nullable=False)
        )
        batch_op.add_column(sa.Column("session_day", sa.Date(), nullable=True))

    op.create_table(
        "print_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("what", sa.String(length=10), nullable=False),
        sa.Column("duplex", sa.Boolean(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("paper_size", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("blank_pages", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_print_batches_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_print_batches_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_batches")),
        sa.UniqueConstraint("request_key", name=op.f("uq_print_batches_request_key")),
    )
    with op.batch_alter_table("print_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_print_batches_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            "ix_print_batches_status_queued_at", ["status", "queued_at"], unique=False
        )
    op.create_table(
        "print_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("session_document_id", sa.Integer(), nullable=True),
        sa.Column("plan_document_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_print_items_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["print_batches.id"],
            name=op.f("fk_print_items_batch_id_print_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_print_items_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_print_items_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["plan_document_id"],
            ["plan_documents.id"],
            name=op.f("fk_print_items_plan_document_id_plan_documents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_document_id"],
            ["plan_documents.id"],
            name=op.f("fk_print_items_session_document_id_plan_documents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_items")),
        sa.UniqueConstraint("batch_id", "client_id", name=op.f("uq_print_items_batch_id")),
    )
    with op.batch_alter_table("print_items", schema=None) as batch_op:
        for column in (
            "batch_id",
            "clinic_id",
            "client_id",
            "session_document_id",
            "plan_document_id",
        ):
            batch_op.create_index(batch_op.f(f"ix_print_items_{column}"), [column], unique=False)


def downgrade():
    op.drop_table("print_items")
    op.drop_table("print_batches")
    with op.batch_alter_table("plan_documents", schema=None) as batch_op:
        batch_op.drop_column("session_day")
        batch_op.drop_column("kind")
