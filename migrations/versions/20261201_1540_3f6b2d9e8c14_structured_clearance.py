"""structured clearance: who cleared the client, their profession, the date, restrictions

Revision ID: 3f6b2d9e8c14
Revises: 5c1e7a9d2b40
Create Date: 2026-12-01 15:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "3f6b2d9e8c14"
down_revision = "5c1e7a9d2b40"
branch_labels = None
depends_on = None


def upgrade():
    # Clearances recorded before this revision keep their free-text note (clearance_note).
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clearance_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("clearance_profession", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("cleared_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("clearance_restrictions", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("clearance_restrictions")
        batch_op.drop_column("cleared_on")
        batch_op.drop_column("clearance_profession")
        batch_op.drop_column("clearance_name")
