"""The home page's featured photograph

- contests.featured_entry_id: the approved entry an organizer chose for the home page
  (nullable: none chosen, the page picks one), set to NULL when that entry is deleted.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        batch_op.add_column(sa.Column("featured_entry_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_contests_featured_entry_id_entries"),
            "entries",
            ["featured_entry_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(op.f("ix_contests_featured_entry_id"), ["featured_entry_id"])


def downgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        batch_op.drop_index(op.f("ix_contests_featured_entry_id"))
        batch_op.drop_constraint(op.f("fk_contests_featured_entry_id_entries"), type_="foreignkey")
        batch_op.drop_column("featured_entry_id")
