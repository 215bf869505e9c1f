"""plan documents rendered ahead: origin and broker priority

Revision ID: c3e1d5a0b713
Revises: 3c5e0f6a9d21
Create Date: 2026-12-01 16:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c3e1d5a0b713"
down_revision = "3c5e0f6a9d21"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan_documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=10), server_default="click", nullable=False)
        )
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    # Pre-renders nobody asked for are not documents of the older schema.
    op.execute("DELETE FROM plan_documents WHERE origin = 'prerender'")
    with op.batch_alter_table("plan_documents", schema=None) as batch_op:
        batch_op.drop_column("priority")
        batch_op.drop_column("origin")
