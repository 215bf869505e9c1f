"""referral letters, and deliveries that carry one instead of a plan

Revision ID: 8d2e4c7a1b35
Revises: 3f6b2d9e8c14
Create Date: 2026-12-01 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "8d2e4c7a1b35"
down_revision = "3f6b2d9e8c14"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "referral_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("reused_from_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_referral_letters_assessment_id_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_referral_letters_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_referral_letters_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_referral_letters_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reused_from_id"],
            ["referral_letters.id"],
            name=op.f("fk_referral_letters_reused_from_id_referral_letters"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_letters")),
        sa.UniqueConstraint("request_key", name=op.f("uq_referral_letters_request_key")),
    )
    with op.batch_alter_table("referral_letters", schema=None) as batch_op:
        for column in ("assessment_id", "client_id", "clinic_id", "fingerprint"):
            batch_op.create_index(
                batch_op.f(f"ix_referral_letters_{column}"), [column], unique=False
            )
        batch_op.create_index(
            "ix_referral_letters_status_queued_at", ["status", "queued_at"], unique=False
        )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_letter_id", sa.Integer(), nullable=True))
        batch_op.alter_column("plan_document_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_deliveries_referral_letter_id"), ["referral_letter_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_referral_letter_id_referral_letters"),
            "referral_letters",
            ["referral_letter_id"],
            ["id"],
        )


def downgrade():
    op.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN "
        "(SELECT id FROM deliveries WHERE plan_document_id IS NULL)"
    )
    op.execute("DELETE FROM deliveries WHERE plan_document_id IS NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_referral_letter_id_referral_letters"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_deliveries_referral_letter_id"))
        batch_op.alter_column("plan_document_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("referral_letter_id")
    op.drop_table("referral_letters")
