"""Moderation sticks: what an edit of an approved entry does, and whose renditions are public

- contests.edits_after_approval: "review" (the edit is saved and the entry goes back to
  review, out of the gallery) or "refused" (approved entries can no longer be changed).
- entries.media_published: whether the public copies of the entry's renditions exist. From
  now on the worker keeps renditions under private/ keys and contest.media.publication copies
  them to their public keys while the entry is approved only. Until now every rendition was
  written at its public key, so entries that have renditions start as published; the sweep
  (or `flask --app wsgi contest media-sync`) then keeps a private copy of each and deletes
  the public ones of the entries that are not approved. No key in the database changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        batch_op.add_column(
            sa.Column("edits_after_approval", sa.String(length=20), nullable=False, server_default="review")
        )
        batch_op.create_check_constraint(
            "edits_after_approval", "edits_after_approval IN ('review', 'refused')"
        )
    with op.batch_alter_table("entries") as batch_op:
        batch_op.add_column(
            sa.Column("media_published", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE entries SET media_published = TRUE WHERE id IN "
        "(SELECT entry_id FROM media_assets WHERE kind != 'original')"
    )


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch_op:
        batch_op.drop_column("media_published")
    with op.batch_alter_table("contests") as batch_op:
        batch_op.drop_constraint(op.f("ck_contests_edits_after_approval"), type_="check")
        batch_op.drop_column("edits_after_approval")
