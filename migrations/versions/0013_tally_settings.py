"""How results are reckoned: each round's tally settings, each contest's place for public votes

- round_tally_settings: per round, normalisation (z-score per judge), trimmed mean, the ranking
  method (borda, schulze) and the tie rules in order ("median,firsts,code").
- results_settings: per contest, public votes as a separate audience prize (the default) or a
  share (0 to 0.5, CHECK) of the final round's figure.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "round_tally_settings",
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("normalise", sa.Boolean(), nullable=False),
        sa.Column("trimmed", sa.Boolean(), nullable=False),
        sa.Column("ranking_method", _enum("ranking_method", "borda", "schulze"), nullable=False),
        sa.Column("tie_break", sa.String(120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("tie_break != ''", name="ck_round_tally_settings_tie_break_given"),
    )
    op.create_table(
        "results_settings",
        sa.Column(
            "contest_id", sa.Integer(), sa.ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("audience_mode", _enum("audience_mode", "separate", "share"), nullable=False),
        sa.Column("audience_share", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "audience_share >= 0 AND audience_share <= 0.5", name="ck_results_settings_share_range"
        ),
        sa.CheckConstraint(
            "audience_mode = 'separate' OR audience_share > 0", name="ck_results_settings_share_given"
        ),
    )


def downgrade() -> None:
    op.drop_table("results_settings")
    op.drop_table("round_tally_settings")
