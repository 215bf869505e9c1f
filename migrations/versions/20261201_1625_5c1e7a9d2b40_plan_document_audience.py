"""plan document audience: a client copy or a clinician copy

Revision ID: 5c1e7a9d2b40
Revises: 8d3f4b6a1c27
Create Date: 2026-12-01 16:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5c1e7a9d2b40"
down_revision = "8d3f4b6a1c27"
branch_labels = None
depends_on = None


def upgrade():
    # Every PDF made before this revision was the one copy there was, written for the client.
    with op.batch_alter_table("plan_documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audience", sa.String(length=10), server_default="client", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("plan_documents", schema=None) as batch_op:
        batch_op.drop_column("audience")
