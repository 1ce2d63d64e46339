"""Bilingual entries: an English title and description beside the Vietnamese ones

Both optional: "" when the entrant gave none (the Vietnamese is shown instead). On
PostgreSQL the English title gets the trigram index the gallery's search uses for the
Vietnamese one (migration 0004).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TRGM_INDEX = "ix_entries_title_en_trgm"


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("title_en", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=False, server_default=""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {TRGM_INDEX} ON entries USING gin (lower(title_en) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {TRGM_INDEX}")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("description_en")
        batch.drop_column("title_en")
