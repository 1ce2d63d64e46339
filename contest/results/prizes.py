"""Prizes: the slots a contest awards, the awards given, and the results' publication.

The rules that must hold whatever a form or a service does are the database's:

* an award names its slot's kind and category through a composite foreign key, so that
  "an entry holds at most one jury prize per category" is a unique index of the awards;
* one entry per (slot, place), and a place within the slot's count;
* an award that departs from the pre-filled proposal says why (``departure_has_reason``);
* the publication's dates agree with its state; its transitions live in ``PUBLICATION_TRANSITIONS``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import get_locale
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base, now_utc, str_enum


class PrizeKind(enum.StrEnum):
    jury = "jury"  # from the final round's tally, per category
    audience = "audience"  # the most voted entries (per category, or contest-wide)
    monthly = "monthly"  # the most voted entries of each month (contest-wide)


class PublicationState(enum.StrEnum):
    draft = "draft"  # awards may change
    frozen = "frozen"  # awards fixed, digests recorded; not public
    scheduled = "scheduled"  # frozen, and the worker publishes at publish_at
    published = "published"  # public; final


# The one place where a contest's results may change state. Unfreezing (back to draft) needs
# a reason, recorded in the audit log by contest.results.publication; publication is final.
PUBLICATION_TRANSITIONS: dict[PublicationState, frozenset[PublicationState]] = {
    PublicationState.draft: frozenset({PublicationState.frozen}),
    PublicationState.frozen: frozenset(
        {PublicationState.draft, PublicationState.scheduled, PublicationState.published}
    ),
    PublicationState.scheduled: frozenset(
        {PublicationState.draft, PublicationState.frozen, PublicationState.published}
    ),
    PublicationState.published: frozenset(),
}


class InvalidPublicationTransition(ValueError):
    pass


def _localized(obj, field: str) -> str:
    lang = str(get_locale() or "vi")
    return getattr(obj, f"{field}_{lang}", None) or getattr(obj, f"{field}_vi")


class PrizeSlot(Base):
    """A prize the contest awards ``count`` times, e.g. "2nd prize" x2 in the photo category."""

    __tablename__ = "prize_slots"
    __table_args__ = (
        # What an award's composite foreign key points at.
        UniqueConstraint("id", "kind", "category_id"),
        CheckConstraint("count BETWEEN 1 AND 100", name="count_range"),
        CheckConstraint("kind != 'jury' OR category_id IS NOT NULL", name="jury_prize_has_category"),
        CheckConstraint("name_vi != '' AND name_en != ''", name="names_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("contests.id", ondelete="CASCADE"), index=True, nullable=False
    )
    # None: contest-wide (a monthly prize, an audience prize over every category).
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True, nullable=True)
    kind: Mapped[PrizeKind] = mapped_column(str_enum(PrizeKind, "prize_kind"), nullable=False)
    name_vi: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)

    category = relationship("Category")

    @property
    def name(self) -> str:
        return _localized(self, "name")


class Award(Base):
    """One place of a slot given to an entry, by whom, from which round, and why if it departs
    from the proposal (the tally's or the votes' order). ``sent_at``: the winner was told."""

    __tablename__ = "awards"
    __table_args__ = (
        UniqueConstraint("slot_id", "place"),
        ForeignKeyConstraint(
            ["slot_id", "kind", "category_id"],
            ["prize_slots.id", "prize_slots.kind", "prize_slots.category_id"],
            name="fk_awards_slot_kind_category",
            onupdate="CASCADE",
        ),
        CheckConstraint("place >= 1", name="place_positive"),
        CheckConstraint("kind != 'jury' OR category_id IS NOT NULL", name="jury_award_has_category"),
        CheckConstraint(
            "(proposed_entry_id IS NOT NULL AND entry_id = proposed_entry_id)"
            " OR (reason IS NOT NULL AND reason != '')",
            name="departure_has_reason",
        ),
        # An entry holds at most one jury prize of its category.
        Index(
            "ux_awards_jury_entry",
            "entry_id",
            "category_id",
            unique=True,
            sqlite_where=text("kind = 'jury'"),
            postgresql_where=text("kind = 'jury'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("prize_slots.id"), index=True, nullable=False)
    kind: Mapped[PrizeKind] = mapped_column(str_enum(PrizeKind, "award_kind"), nullable=False)
    category_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    place: Mapped[int] = mapped_column(Integer, nullable=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True, nullable=False)
    proposed_entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"), index=True, nullable=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"), index=True, nullable=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc, onupdate=now_utc)

    slot: Mapped[PrizeSlot] = relationship(
        primaryjoin="Award.slot_id == PrizeSlot.id", foreign_keys=[slot_id]
    )
    entry = relationship("Entry", foreign_keys=[entry_id])


class Publication(Base):
    """A contest's results: frozen, scheduled, published. Times in UTC (entered in Vietnam time)."""

    __tablename__ = "results_publications"
    __table_args__ = (
        CheckConstraint("state = 'draft' OR frozen_at IS NOT NULL", name="frozen_when_not_draft"),
        CheckConstraint("state != 'scheduled' OR publish_at IS NOT NULL", name="scheduled_has_time"),
        CheckConstraint("(state = 'published') = (published_at IS NOT NULL)", name="published_has_time"),
    )

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[PublicationState] = mapped_column(
        str_enum(PublicationState, "publication_state"), nullable=False, default=PublicationState.draft
    )
    frozen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    frozen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    publish_at: Mapped[datetime | None] = mapped_column(nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc, onupdate=now_utc)

    def transition(self, new: PublicationState) -> None:
        if new not in PUBLICATION_TRANSITIONS[self.state]:
            raise InvalidPublicationTransition(f"contest {self.contest_id}: {self.state} -> {new}")
        self.state = new


class PublishedRanking(Base):
    """A round's ranking digest (contest.results.readout.ranking_digest), recorded at the freeze:
    anyone can check a recomputation from the raw-score file against it once it is published."""

    __tablename__ = "published_rankings"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
