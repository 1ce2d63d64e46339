"""The jury: judges of a contest, conflicts, rounds and their criteria, the deal and the scores

- jury_members: a contest's judges (removal is soft: their scores stay).
- jury_conflicts: a judge may not judge an entrant's entries, with the reason.
- rounds (+ round_categories): kind (yes/no, score, ranking), status, dates, quorum (NULL: the
  full panel), the deal's seed, and where its entries come from (a previous round's result).
- criteria: a score round's weighted criteria, each on a scale of max_steps steps.
- round_entries: which entries are in a round; a disqualification keeps the row, with a reason.
- assignments: an entry dealt to a judge (unique per round, entry and judge), recusal, verdict,
  rank and comment.
- scores: a whole number of steps per assignment and criterion; the database enforces the scale
  (max_steps is copied from the criterion through a composite foreign key, CHECK steps BETWEEN
  0 AND max_steps) and the round (round_id is part of both composite foreign keys).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = (
    "jury_members",
    "jury_conflicts",
    "rounds",
    "round_categories",
    "criteria",
    "round_entries",
    "assignments",
    "scores",
)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, **kw) -> sa.Column:
    return sa.Column(column, sa.Integer(), sa.ForeignKey(f"{table}.id", **kw), nullable=False)


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    _create_jury()
    _create_rounds()
    _create_round_entries_and_assignments()
    _create_scores()


def _create_jury() -> None:
    op.create_table(
        "jury_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("contest_id", "contests"),
        _fk("judge_id", "users"),
        _at("added_at"),
        _at("removed_at", nullable=True),
        sa.UniqueConstraint("contest_id", "judge_id", name="uq_jury_members_contest_id_judge_id"),
    )
    _indexes("jury_members", "contest_id", "judge_id")
    op.create_table(
        "jury_conflicts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("contest_id", "contests"),
        _fk("judge_id", "users"),
        _fk("entrant_id", "users"),
        _fk("declared_by_id", "users"),
        sa.Column("reason", sa.Text(), nullable=False),
        _at("created_at"),
        sa.CheckConstraint("reason != ''", name="ck_jury_conflicts_reason_given"),
        sa.UniqueConstraint(
            "contest_id", "judge_id", "entrant_id", name="uq_jury_conflicts_contest_id_judge_id_entrant_id"
        ),
    )
    _indexes("jury_conflicts", "contest_id", "judge_id", "entrant_id", "declared_by_id")


def _create_rounds() -> None:
    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("contest_id", "contests"),
        sa.Column("name_vi", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("kind", _enum("round_kind", "yes_no", "score", "ranking"), nullable=False),
        sa.Column("status", _enum("round_status", "draft", "open", "closed"), nullable=False),
        _at("opens_at"),
        _at("closes_at"),
        sa.Column("quorum", sa.Integer(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("deal_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "source_rule",
            _enum("source_rule", "approved_entries", "top_n", "min_score", "min_yes"),
            nullable=False,
        ),
        sa.Column("source_round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=True),
        sa.Column("source_threshold", sa.Float(), nullable=True),
        _at("created_at"),
        sa.CheckConstraint("opens_at < closes_at", name="ck_rounds_window"),
        sa.CheckConstraint("quorum IS NULL OR quorum >= 1", name="ck_rounds_quorum_positive"),
        sa.CheckConstraint(
            "(source_rule = 'approved_entries' AND source_round_id IS NULL AND source_threshold IS NULL)"
            " OR (source_rule != 'approved_entries' AND source_round_id IS NOT NULL"
            " AND source_threshold IS NOT NULL)",
            name="ck_rounds_source_complete",
        ),
    )
    _indexes("rounds", "contest_id", "source_round_id")
    op.create_table(
        "round_categories",
        _fk("round_id", "rounds", ondelete="CASCADE"),
        _fk("category_id", "categories"),
        sa.PrimaryKeyConstraint("round_id", "category_id", name="pk_round_categories"),
    )
    _indexes("round_categories", "category_id")
    op.create_table(
        "criteria",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("round_id", "rounds", ondelete="CASCADE"),
        sa.Column("name_vi", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("scale_min", sa.Float(), nullable=False),
        sa.Column("scale_step", sa.Float(), nullable=False),
        sa.Column("max_steps", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("round_id", "id", "max_steps", name="uq_criteria_round_id_id_max_steps"),
        sa.CheckConstraint("weight > 0", name="ck_criteria_weight_positive"),
        sa.CheckConstraint("scale_step > 0", name="ck_criteria_step_positive"),
        sa.CheckConstraint("max_steps BETWEEN 1 AND 1000", name="ck_criteria_max_steps_range"),
    )
    _indexes("criteria", "round_id")


def _create_round_entries_and_assignments() -> None:
    op.create_table(
        "round_entries",
        sa.Column("id", BIG_ID, primary_key=True),
        _fk("round_id", "rounds", ondelete="CASCADE"),
        _fk("entry_id", "entries"),
        _at("added_at"),
        _at("disqualified_at", nullable=True),
        sa.Column("disqualified_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("round_id", "entry_id", name="uq_round_entries_round_id_entry_id"),
        sa.CheckConstraint(
            "(disqualified_at IS NULL AND disqualified_reason IS NULL)"
            " OR (disqualified_at IS NOT NULL AND disqualified_reason IS NOT NULL)",
            name="ck_round_entries_disqualification_has_reason",
        ),
    )
    _indexes("round_entries", "entry_id")
    op.create_table(
        "assignments",
        sa.Column("id", BIG_ID, primary_key=True),
        _fk("round_id", "rounds", ondelete="CASCADE"),
        _fk("entry_id", "entries"),
        _fk("judge_id", "users"),
        sa.Column("state", _enum("assignment_state", "assigned", "recused"), nullable=False),
        sa.Column("recusal_reason", sa.Text(), nullable=True),
        sa.Column("verdict", sa.Boolean(), nullable=True),
        sa.Column("rank", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        _at("scored_at", nullable=True),
        _at("created_at"),
        sa.UniqueConstraint(
            "round_id", "entry_id", "judge_id", name="uq_assignments_round_id_entry_id_judge_id"
        ),
        sa.UniqueConstraint("round_id", "id", name="uq_assignments_round_id_id"),
        sa.ForeignKeyConstraint(
            ["round_id", "entry_id"],
            ["round_entries.round_id", "round_entries.entry_id"],
            name="fk_assignments_round_id_round_entries",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "(state = 'recused') = (recusal_reason IS NOT NULL)", name="ck_assignments_recusal_has_reason"
        ),
        sa.CheckConstraint("rank IS NULL OR rank >= 1", name="ck_assignments_rank_positive"),
    )
    _indexes("assignments", "entry_id", "judge_id")
    op.create_index("ix_assignments_round_id_judge_id", "assignments", ["round_id", "judge_id"])


def _create_scores() -> None:
    op.create_table(
        "scores",
        sa.Column("id", BIG_ID, primary_key=True),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", BIG_ID, nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("max_steps", sa.Integer(), nullable=False),
        sa.Column("steps", sa.SmallInteger(), nullable=False),
        _at("updated_at"),
        sa.UniqueConstraint("assignment_id", "criterion_id", name="uq_scores_assignment_id_criterion_id"),
        sa.ForeignKeyConstraint(
            ["round_id", "assignment_id"],
            ["assignments.round_id", "assignments.id"],
            name="fk_scores_round_id_assignments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id", "criterion_id", "max_steps"],
            ["criteria.round_id", "criteria.id", "criteria.max_steps"],
            name="fk_scores_round_id_criteria",
        ),
        sa.CheckConstraint("steps BETWEEN 0 AND max_steps", name="ck_scores_steps_on_scale"),
    )
    _indexes("scores", "round_id", "criterion_id")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
