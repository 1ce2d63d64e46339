"""Prizes and the results' publication

- prize_slots: the prizes a contest awards (jury, audience, monthly), bilingual names, how many,
  per category or contest-wide.
- awards: a slot's place given to an entry, from which round, by whom, the reason when it
  departs from the proposal (CHECK), when the winner was told; one jury prize per entry and
  category (a partial unique index; kind and category copied from the slot through a
  composite foreign key).
- results_publications: a contest's results frozen, scheduled or published, with the dates.
- published_rankings: each round's ranking digest, recorded at the freeze.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = ("jury", "audience", "monthly")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    _create_slots()
    _create_awards()
    _create_publication()


def _create_slots() -> None:
    op.create_table(
        "prize_slots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "contest_id", sa.Integer(), sa.ForeignKey("contests.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("category_id", sa.Integer(), sa.ForeignKey("categories.id"), nullable=True),
        sa.Column("kind", _enum("prize_kind", *KINDS), nullable=False),
        sa.Column("name_vi", sa.String(120), nullable=False),
        sa.Column("name_en", sa.String(120), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _at("created_at"),
        sa.UniqueConstraint("id", "kind", "category_id", name="uq_prize_slots_id_kind_category_id"),
        sa.CheckConstraint("count BETWEEN 1 AND 100", name="count_range"),
        sa.CheckConstraint("kind != 'jury' OR category_id IS NOT NULL", name="jury_prize_has_category"),
        sa.CheckConstraint("name_vi != '' AND name_en != ''", name="names_given"),
    )
    _indexes("prize_slots", "contest_id", "category_id")


def _create_awards() -> None:
    op.create_table(
        "awards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slot_id", sa.Integer(), sa.ForeignKey("prize_slots.id"), nullable=False),
        sa.Column("kind", _enum("award_kind", *KINDS), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("entries.id"), nullable=False),
        sa.Column("proposed_entry_id", sa.Integer(), sa.ForeignKey("entries.id"), nullable=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=True),
        sa.Column("assigned_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        _at("sent_at", nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.UniqueConstraint("slot_id", "place", name="uq_awards_slot_id_place"),
        sa.ForeignKeyConstraint(
            ["slot_id", "kind", "category_id"],
            ["prize_slots.id", "prize_slots.kind", "prize_slots.category_id"],
            name="fk_awards_slot_kind_category",
            onupdate="CASCADE",
        ),
        sa.CheckConstraint("place >= 1", name="place_positive"),
        sa.CheckConstraint("kind != 'jury' OR category_id IS NOT NULL", name="jury_award_has_category"),
        sa.CheckConstraint(
            "(proposed_entry_id IS NOT NULL AND entry_id = proposed_entry_id)"
            " OR (reason IS NOT NULL AND reason != '')",
            name="departure_has_reason",
        ),
    )
    _indexes(
        "awards", "slot_id", "category_id", "entry_id", "proposed_entry_id", "round_id", "assigned_by_id"
    )
    op.create_index(
        "ux_awards_jury_entry",
        "awards",
        ["entry_id", "category_id"],
        unique=True,
        sqlite_where=sa.text("kind = 'jury'"),
        postgresql_where=sa.text("kind = 'jury'"),
    )


def _create_publication() -> None:
    op.create_table(
        "results_publications",
        sa.Column(
            "contest_id",
            sa.Integer(),
            sa.ForeignKey("contests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "state", _enum("publication_state", "draft", "frozen", "scheduled", "published"), nullable=False
        ),
        _at("frozen_at", nullable=True),
        sa.Column("frozen_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        _at("publish_at", nullable=True),
        _at("published_at", nullable=True),
        _at("updated_at"),
        sa.CheckConstraint("state = 'draft' OR frozen_at IS NOT NULL", name="frozen_when_not_draft"),
        sa.CheckConstraint(
            "state != 'scheduled' OR publish_at IS NOT NULL",
            name="scheduled_has_time",
        ),
        sa.CheckConstraint(
            "(state = 'published') = (published_at IS NOT NULL)",
            name="published_has_time",
        ),
    )
    _indexes("results_publications", "frozen_by_id")
    op.create_table(
        "published_rankings",
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("contest_id", sa.Integer(), sa.ForeignKey("contests.id"), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        _at("recorded_at"),
    )
    _indexes("published_rankings", "contest_id")


def downgrade() -> None:
    for table in ("published_rankings", "results_publications", "awards", "prize_slots"):
        op.drop_table(table)
