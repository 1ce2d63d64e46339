"""Public votes and the counts kept from them.

One row per vote. The contest's policy is enforced by unique constraints, so that two
clicks that race each other count once whatever the web processes do:

* ``(entry_id, voter_id, period)``: ``period`` is "" under "once per entry" and the
  Vietnam day ("2025-06-01") under the daily policies;
* ``(contest_id, voter_id, day, slot)``: under "N votes a day", each vote takes one of
  the day's slots 1..N.

A voided vote keeps its row (and its place under those constraints: the account cannot
vote again in its stead) and leaves every tally. The signals kept for review are hashed:
no address or user-agent is stored in clear.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base, now_utc

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (
        UniqueConstraint("entry_id", "voter_id", "period"),
        UniqueConstraint("contest_id", "voter_id", "day", "slot"),
        CheckConstraint("slot IS NULL OR slot >= 1", name="slot_positive"),
        CheckConstraint(
            "(voided_at IS NULL AND void_reason IS NULL) OR (voided_at IS NOT NULL AND void_reason IS NOT NULL)",
            name="void_has_reason",
        ),
        Index("ix_votes_entry_id_created_at", "entry_id", "created_at"),
        Index("ix_votes_contest_id_created_at", "contest_id", "created_at"),
        Index("ix_votes_net_hash_created_at", "net_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), nullable=False)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), nullable=False)
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    day: Mapped[date] = mapped_column(nullable=False)  # in Vietnam time
    period: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    slot: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    # Signals for review: keyed hashes (16 hex digits) of the client address, its network
    # (/24 for IPv4, /48 for IPv6) and the user-agent; the account's age when it voted; the
    # time between the entry page being served and the vote (None: no page was seen).
    ip_hash: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    net_hash: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    ua_hash: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    account_age_s: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    since_view_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    void_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    entry = relationship("Entry")
    voter = relationship("User", foreign_keys=[voter_id])
    voided_by = relationship("User", foreign_keys=[voided_by_id])

    @property
    def is_valid(self) -> bool:
        return self.voided_at is None

    def __repr__(self) -> str:
        return f"<Vote {self.id} entry={self.entry_id} voter={self.voter_id} {self.day}>"


class MonthlyVoteCount(Base):
    """Valid votes an entry received in one calendar month (Vietnam time), kept incrementally."""

    __tablename__ = "monthly_vote_counts"
    __table_args__ = (
        CheckConstraint("votes >= 0", name="votes_not_negative"),
        Index("ix_monthly_vote_counts_contest_id_month_votes", "contest_id", "month", "votes"),
    )

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)  # the month's first day
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), nullable=False)
    votes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
