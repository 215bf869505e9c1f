"""client list indexes: active clients by name and by last change, per clinic

Revision ID: 7d2e4c1f8a30
Revises: fb0560b9cfae
Create Date: 2026-12-01 15:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7d2e4c1f8a30"
down_revision = "fb0560b9cfae"
branch_labels = None
depends_on = None

ACTIVE = sa.text("archived_at IS NULL")


def upgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clients_active_name",
            ["clinic_id", "search_text", "id"],
            unique=False,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        )
        batch_op.create_index(
            "ix_clients_active_updated",
            ["clinic_id", "updated_at", "id"],
            unique=False,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        )


def downgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index("ix_clients_active_updated")
        batch_op.drop_index("ix_clients_active_name")
