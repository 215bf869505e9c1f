"""job heartbeats and rate limit counters

Revision ID: a96b9d213285
Revises: 9531a7c94100
Create Date: 2026-12-01 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a96b9d213285"
down_revision = "9531a7c94100"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_limit_counters",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_rate_limit_counters")),
    )
    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rate_limit_counters_expires_at"), ["expires_at"], unique=False
        )

    with op.batch_alter_table("account_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("plan_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))

    # Jobs claimed before this revision last showed life when they were claimed.
    op.execute("UPDATE account_emails SET heartbeat_at = claimed_at WHERE status = 'sending'")
    op.execute("UPDATE deliveries SET heartbeat_at = claimed_at WHERE status = 'sending'")
    op.execute("UPDATE plan_documents SET heartbeat_at = started_at WHERE status = 'rendering'")


def downgrade():
    with op.batch_alter_table("plan_documents", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")

    with op.batch_alter_table("account_emails", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")

    with op.batch_alter_table("rate_limit_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_counters_expires_at"))

    op.drop_table("rate_limit_counters")
