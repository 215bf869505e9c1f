"""invitation roles: an invitation names the role the member gets

Revision ID: 5c1e7a2b9d04
Revises: 7d2e4c1f8a30
Create Date: 2026-12-01 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5c1e7a2b9d04"
down_revision = "7d2e4c1f8a30"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=20), server_default="trainer", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("role")
