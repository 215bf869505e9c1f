"""program version weeks: content["weeks"] as a column, so lists over many programs read it
without their content

Revision ID: 4d8e1f2a6b95
Revises: 7a4c2e9b1d63
Create Date: 2026-12-01 19:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "4d8e1f2a6b95"
down_revision = "7a4c2e9b1d63"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("program_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("weeks", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )
    # Existing versions get the length their content says (at least one week).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE program_versions SET weeks = greatest(1, coalesce("
            "(CASE WHEN content ->> 'weeks' ~ '^[0-9]+$' THEN (content ->> 'weeks')::integer END),"
            " 1))"
        )
    else:
        op.execute(
            "UPDATE program_versions SET weeks = max(1, coalesce("
            "CAST(json_extract(content, '$.weeks') AS INTEGER), 1))"
        )


def downgrade():
    with op.batch_alter_table("program_versions", schema=None) as batch_op:
        batch_op.drop_column("weeks")
