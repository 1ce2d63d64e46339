"""Figures and vote review at scale: the indexes the figures read, and stored vote review runs

The figures group the edition's entries and votes from indexes alone (entries per Vietnam
day from an expression index, PostgreSQL only; votes per day and the few voided votes from
their own). A vote review run stores every rule's findings so that the case pages read them
rather than examining millions of votes on each view.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

RECEIVED = sa.text("submitted_at IS NOT NULL")
VOIDED = sa.text("voided_at IS NOT NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_entries_received_vn_day",
            "entries",
            [
                "contest_id",
                sa.text("CAST(timezone('Asia/Ho_Chi_Minh', submitted_at) AS DATE)"),
                "category_id",
            ],
            postgresql_include=["submitted_at"],
            postgresql_where=RECEIVED,
        )
    for name, column in (("author", "author_id"), ("place", "place_id"), ("gps", "gps_check")):
        op.create_index(
            f"ix_entries_received_{name}",
            "entries",
            ["contest_id", column],
            postgresql_where=RECEIVED,
            sqlite_where=RECEIVED,
        )
    op.create_index("ix_votes_contest_id_day", "votes", ["contest_id", "day"])
    op.create_index(
        "ix_votes_voided",
        "votes",
        ["contest_id", "day", "voided_at"],
        postgresql_where=VOIDED,
        sqlite_where=VOIDED,
    )
    op.create_table(
        "vote_review_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("last_vote_id", sa.BigInteger(), nullable=True),
        sa.Column("voided_votes", sa.Integer(), nullable=False),
        sa.Column("last_voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"],
            ["contests.id"],
            name=op.f("fk_vote_review_runs_contest_id_contests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_review_runs")),
    )
    op.create_index(op.f("ix_vote_review_runs_contest_id"), "vote_review_runs", ["contest_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_vote_review_runs_contest_id"), table_name="vote_review_runs")
    op.drop_table("vote_review_runs")
    op.drop_index("ix_votes_voided", table_name="votes")
    op.drop_index("ix_votes_contest_id_day", table_name="votes")
    for name in ("gps", "place", "author"):
        op.drop_index(f"ix_entries_received_{name}", table_name="entries")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_entries_received_vn_day", table_name="entries")
