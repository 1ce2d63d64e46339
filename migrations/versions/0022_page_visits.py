"""Figures: visits and shares of entry pages by source, one counter per entry, day, kind and source

No address, cookie or account: counters only (contest.figures.models).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "page_visits",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", _enum("visit_kind", "visit", "share"), nullable=False),
        sa.Column("source", _enum("visit_source", "facebook", "zalo", "direct", "other"), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_page_visits_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_page_visits_entry_id_entries"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("entry_id", "day", "kind", "source", name=op.f("pk_page_visits")),
    )


def downgrade() -> None:
    op.drop_table("page_visits")
