"""A judge's ranks in a round are unique; an assignment's last activity

- assignments.updated_at: set by every save and recusal (the organizer's "last activity"),
  backfilled from the assignment's latest score, else its first save, else its creation.
- unique (round_id, judge_id, rank): a judge cannot give two entries the same rank. PostgreSQL:
  a constraint DEFERRABLE INITIALLY DEFERRED (checked at the commit, so an order can be rewritten
  in one transaction). SQLite has no deferrable unique constraint: a unique index of the same
  name, checked per statement (contest.jury.scores.save_ranking never collides mid-statement).
  Before it, recused assignments lose their rank and each judge's ranks are renumbered 1, 2, ...
  in their order (ties by id), so existing data satisfies it.
- SQLite cannot drop a column's default without rebuilding the table (and a rebuild of
  assignments would cascade to the scores): there updated_at keeps the backfill's constant
  default, which the application never relies on (it always writes the column).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

UNIQUE_RANK = "uq_assignments_round_id_judge_id_rank"
EPOCH = "1970-01-01 00:00:00+00:00"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.add_column(
        "assignments",
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=EPOCH),
    )
    op.execute(
        "UPDATE assignments SET updated_at = COALESCE("
        "(SELECT MAX(scores.updated_at) FROM scores WHERE scores.assignment_id = assignments.id),"
        " scored_at, created_at)"
    )
    if not _is_sqlite():
        op.alter_column("assignments", "updated_at", server_default=None)
    op.execute("UPDATE assignments SET rank = NULL WHERE state = 'recused' AND rank IS NOT NULL")
    op.execute(
        "UPDATE assignments SET rank = (SELECT n FROM (SELECT id, ROW_NUMBER() OVER"
        " (PARTITION BY round_id, judge_id ORDER BY rank, id) AS n FROM assignments"
        " WHERE rank IS NOT NULL) AS numbered WHERE numbered.id = assignments.id)"
        " WHERE rank IS NOT NULL"
    )
    if _is_sqlite():
        op.create_index(UNIQUE_RANK, "assignments", ["round_id", "judge_id", "rank"], unique=True)
    else:
        op.create_unique_constraint(
            UNIQUE_RANK,
            "assignments",
            ["round_id", "judge_id", "rank"],
            deferrable=True,
            initially="DEFERRED",
        )


def downgrade() -> None:
    if _is_sqlite():
        op.drop_index(UNIQUE_RANK, "assignments")
    else:
        op.drop_constraint(UNIQUE_RANK, "assignments", type_="unique")
    # Not in a batch: on SQLite a batch rebuilds the table, and dropping the old one would
    # cascade to the scores (SQLite drops a plain column in place).
    op.drop_column("assignments", "updated_at")
