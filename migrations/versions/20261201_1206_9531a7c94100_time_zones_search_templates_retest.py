"""clinic time zone, folded client search, program templates, re-test date, personal note

Revision ID: 9531a7c94100
Revises: fd72575126d2
Create Date: 2026-12-01 12:06:00.000000
"""

import sqlalchemy as sa
from alembic import op

from trainer_app.clients.search import fold

revision = "9531a7c94100"
down_revision = "fd72575126d2"
branch_labels = None
depends_on = None

SEARCH_TEXT_MAX = 400


def upgrade():
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        # Trigram operator classes for the contains-search index; pg_trgm is a trusted
        # extension, so the database owner may create it without superuser rights.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    op.create_table(
        "program_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("catalog_version", sa.String(length=80), nullable=False),
        sa.Column("source_program_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_program_templates_clinic_id_clinics")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_program_templates_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_program_id"],
            ["programs.id"],
            name=op.f("fk_program_templates_source_program_id_programs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_templates")),
    )
    with op.batch_alter_table("program_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_templates_clinic_id"), ["clinic_id"], unique=False
        )

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal_note", sa.Text(), nullable=True))

    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retest_on", sa.Date(), nullable=True))

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "search_text",
                sa.String(length=SEARCH_TEXT_MAX),
                server_default="",
                nullable=False,
            )
        )
    # The app keeps the column up to date from now on; fill it for the clients already there.
    clients = sa.table(
        "clients",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("email", sa.String),
        sa.column("search_text", sa.String),
    )
    rows = bind.execute(sa.select(clients.c.id, clients.c.name, clients.c.email)).all()
    for client_id, name, email in rows:
        bind.execute(
            clients.update()
            .where(clients.c.id == client_id)
            .values(search_text=fold(f"{name or ''} {email or ''}")[:SEARCH_TEXT_MAX])
        )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clients_search_text_trgm",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )


def downgrade():
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_clients_search_text_trgm",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.drop_column("search_text")

    with op.batch_alter_table("programs", schema=None) as batch_op:
        batch_op.drop_column("retest_on")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("personal_note")

    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("time_zone")

    with op.batch_alter_table("program_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_templates_clinic_id"))

    op.drop_table("program_templates")
    # pg_trgm stays: other objects in the database may use it, and it holds no data.
