"""Who may vote is contest configuration: judges, organizers and an entry's author, each off by default

Three contest settings (contest.voting.eligibility holds the rule): judges_may_vote,
organizers_may_vote and authors_may_vote_for_own. Existing contests get the safe default
(false): judges and organizers do not vote and nobody votes for their own entry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SETTINGS = ("judges_may_vote", "organizers_may_vote", "authors_may_vote_for_own")


def upgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        for name in SETTINGS:
            batch_op.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        for name in reversed(SETTINGS):
            batch_op.drop_column(name)
