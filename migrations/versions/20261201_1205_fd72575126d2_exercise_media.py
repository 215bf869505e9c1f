"""Exercise media: a clinic's own photo and video link per exercise

Revision ID: fd72575126d2
Revises: 07e45e8dfb1f
Create Date: 2026-12-01 12:05:55.261639
"""

import sqlalchemy as sa
from alembic import op

revision = "fd72575126d2"
down_revision = "07e45e8dfb1f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "exercise_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("exercise_slug", sa.String(length=80), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_mime", sa.String(length=30), nullable=True),
        sa.Column("video_url", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_exercise_media_clinic_id_clinics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_media")),
        sa.UniqueConstraint("clinic_id", "exercise_slug", name="uq_exercise_media_slug"),
    )
    with op.batch_alter_table("exercise_media", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exercise_media_clinic_id"), ["clinic_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("exercise_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_media_clinic_id"))

    op.drop_table("exercise_media")
