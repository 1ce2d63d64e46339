"""The public pages' version per contest (contests.public_version)

A number that moves on with every write of what the gallery and the entry pages show (an
approval, a take-down, an edited title, an author's new name, the contest's own settings;
contest.gallery.versions). The pages kept for visitors are keyed by it: they live as long
as their parts, and a change shows at once instead of when a copy expires.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        batch_op.add_column(sa.Column("public_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        batch_op.drop_column("public_version")
