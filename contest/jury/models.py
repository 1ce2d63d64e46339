"""The jury's data: judges of a contest, conflicts, rounds, criteria, the deal and the scores.

The rules that must hold whatever a form or a service does are the database's:

* a score is a whole number of the criterion's steps, ``0 <= steps <= max_steps``, where
  ``max_steps`` is copied from the criterion through a composite foreign key (so it cannot
  disagree with it, and the criterion's scale cannot change under a given score);
* a score belongs to an assignment and to a criterion of the same round (``round_id`` is
  part of both foreign keys), and an assignment to an entry of its round;
* one value per (assignment, criterion), one assignment per (round, entry, judge).
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import get_locale
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base, now_utc, str_enum

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class RoundKind(enum.StrEnum):
    yes_no = "yes_no"  # keep or drop
    score = "score"  # weighted criteria on a scale
    ranking = "ranking"  # each judge orders a shortlist


class RoundStatus(enum.StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


# The one place where a round's status may change. Reopening (closed -> open) needs a
# reason, which contest.jury.rounds records in the audit log.
ROUND_TRANSITIONS: dict[RoundStatus, frozenset[RoundStatus]] = {
    RoundStatus.draft: frozenset({RoundStatus.open}),
    RoundStatus.open: frozenset({RoundStatus.closed}),
    RoundStatus.closed: frozenset({RoundStatus.open}),
}


class InvalidRoundTransition(ValueError):
    pass


class SourceRule(enum.StrEnum):
    """Which entries a round starts with."""

    approved_entries = "approved_entries"  # every approved entry of its categories
    top_n = "top_n"  # the previous round's best N by score
    min_score = "min_score"  # the previous round's entries scoring at least the threshold
    min_yes = "min_yes"  # the previous round's entries with at least K "yes"


class AssignmentState(enum.StrEnum):
    assigned = "assigned"
    recused = "recused"  # the judge stood aside, with a reason; the entry went to another


class JuryMember(Base):
    """A judge on a contest's jury; removal is soft, so that their given scores stay."""

    __tablename__ = "jury_members"
    __table_args__ = (UniqueConstraint("contest_id", "judge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True, nullable=False)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    added_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    removed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    judge = relationship("User")

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Conflict(Base):
    """A judge may not judge an entrant's entries (declared by the judge or an organizer)."""

    __tablename__ = "jury_conflicts"
    __table_args__ = (
        UniqueConstraint("contest_id", "judge_id", "entrant_id"),
        CheckConstraint("reason != ''", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True, nullable=False)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    entrant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    declared_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)


round_categories = Table(
    "round_categories",
    Base.metadata,
    Column("round_id", ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id"), primary_key=True, index=True),
)


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("opens_at < closes_at", name="window"),
        CheckConstraint("quorum IS NULL OR quorum >= 1", name="quorum_positive"),
        CheckConstraint(
            "(source_rule = 'approved_entries' AND source_round_id IS NULL AND source_threshold IS NULL)"
            " OR (source_rule != 'approved_entries' AND source_round_id IS NOT NULL"
            " AND source_threshold IS NOT NULL)",
            name="source_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True, nullable=False)
    name_vi: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[RoundKind] = mapped_column(str_enum(RoundKind, "round_kind"), nullable=False)
    status: Mapped[RoundStatus] = mapped_column(
        str_enum(RoundStatus, "round_status"), nullable=False, default=RoundStatus.draft
    )
    opens_at: Mapped[datetime] = mapped_column(nullable=False)
    closes_at: Mapped[datetime] = mapped_column(nullable=False)
    # Judges per entry; None: every judge of the jury (a full panel).
    quorum: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Drawn at the first deal; each later rebalance draws from (seed, deal_count).
    seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    deal_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    source_rule: Mapped[SourceRule] = mapped_column(
        str_enum(SourceRule, "source_rule"), nullable=False, default=SourceRule.approved_entries
    )
    source_round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True, nullable=True)
    # N (top_n), the score (min_score) or K (min_yes).
    source_threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)

    categories = relationship("Category", secondary=round_categories, order_by="Category.position")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="round", order_by="Criterion.position", cascade="all, delete-orphan"
    )

    @property
    def name(self) -> str:
        lang = str(get_locale() or "vi")
        return getattr(self, f"name_{lang}", None) or self.name_vi

    @property
    def is_full_panel(self) -> bool:
        return self.quorum is None

    def transition(self, new: RoundStatus) -> None:
        if new not in ROUND_TRANSITIONS[self.status]:
            raise InvalidRoundTransition(f"round {self.id}: {self.status.value} -> {new.value}")
        self.status = new

    def __repr__(self) -> str:
        return f"<Round {self.id} {self.kind.value} {self.status.value}>"


class Criterion(Base):
    """A criterion of a score round: weight and scale ``scale_min + k * scale_step``, k = 0..max_steps."""

    __tablename__ = "criteria"
    __table_args__ = (
        # What a score's composite foreign key points at (its round, its scale).
        UniqueConstraint("round_id", "id", "max_steps"),
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("scale_step > 0", name="step_positive"),
        CheckConstraint("max_steps BETWEEN 1 AND 1000", name="max_steps_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name_vi: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    scale_min: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    scale_step: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    max_steps: Mapped[int] = mapped_column(Integer, nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    round: Mapped[Round] = relationship(back_populates="criteria")

    @property
    def name(self) -> str:
        lang = str(get_locale() or "vi")
        return getattr(self, f"name_{lang}", None) or self.name_vi

    @property
    def scale_max(self) -> float:
        return self.scale_min + self.max_steps * self.scale_step

    def value(self, steps: int) -> float:
        return self.scale_min + steps * self.scale_step

    def steps_for(self, value: float) -> int | None:
        """The whole number of steps ``value`` is, or None when it is off the scale."""
        steps = round((value - self.scale_min) / self.scale_step)
        exact = abs(self.value(steps) - value) < 1e-9
        return steps if exact and 0 <= steps <= self.max_steps else None


class RoundEntry(Base):
    """An entry in a round; a disqualified one keeps its row (and scores) and can be restored."""

    __tablename__ = "round_entries"
    __table_args__ = (
        UniqueConstraint("round_id", "entry_id"),
        CheckConstraint(
            "(disqualified_at IS NULL AND disqualified_reason IS NULL)"
            " OR (disqualified_at IS NOT NULL AND disqualified_reason IS NOT NULL)",
            name="disqualification_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False
    )  # indexed by the unique constraint
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True, nullable=False)
    added_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    disqualified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    disqualified_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Assignment(Base):
    """One entry dealt to one judge in one round, and the judge's verdict, rank and comment.

    ``scored_at`` is set by the judge's first save of any value: from then on the deal never
    moves it; ``updated_at`` by every save and recusal (the judge's last activity). A recused
    assignment keeps its row (its rank cleared), so the judge is never dealt the entry again.
    A judge's ranks in a round are unique; on PostgreSQL the check waits for the commit, so that
    an order may be rewritten in one transaction (SQLite checks each statement: see
    contest.jury.scores.save_ranking).
    """

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("round_id", "entry_id", "judge_id"),
        UniqueConstraint("round_id", "id"),  # what a score's foreign key points at
        ForeignKeyConstraint(
            ["round_id", "entry_id"],
            ["round_entries.round_id", "round_entries.entry_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("(state = 'recused') = (recusal_reason IS NOT NULL)", name="recusal_has_reason"),
        CheckConstraint("rank IS NULL OR rank >= 1", name="rank_positive"),
        UniqueConstraint("round_id", "judge_id", "rank", deferrable=True, initially="DEFERRED"),
        Index("ix_assignments_round_id_judge_id", "round_id", "judge_id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True, nullable=False)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    state: Mapped[AssignmentState] = mapped_column(
        str_enum(AssignmentState, "assignment_state"), nullable=False, default=AssignmentState.assigned
    )
    recusal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    verdict: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # yes/no rounds
    rank: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)  # ranking rounds
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    scored_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)


class Score(Base):
    """A judge's value on one criterion, as a whole number of the criterion's steps."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("assignment_id", "criterion_id"),
        ForeignKeyConstraint(
            ["round_id", "assignment_id"], ["assignments.round_id", "assignments.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["round_id", "criterion_id", "max_steps"],
            ["criteria.round_id", "criteria.id", "criteria.max_steps"],
        ),
        CheckConstraint("steps BETWEEN 0 AND max_steps", name="steps_on_scale"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, index=True, nullable=False)
    assignment_id: Mapped[int] = mapped_column(BIG_ID, nullable=False)
    criterion_id: Mapped[int] = mapped_column(Integer, index=True, nullable=False)
    max_steps: Mapped[int] = mapped_column(Integer, nullable=False)
    steps: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc, onupdate=now_utc)
