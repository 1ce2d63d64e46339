"""Visits and shares of entry pages, counted per entry, day and source, with no personal data.

A row is a counter: no address, cookie or account is kept, only how many times an entry's page
was opened (or shared) from a source on a Vietnam day.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from contest.db import Base, str_enum
from contest.entries.models import Entry
from contest.voting.models import Vote


class VisitSource(enum.StrEnum):
    facebook = "facebook"
    zalo = "zalo"
    direct = "direct"
    other = "other"


class VisitKind(enum.StrEnum):
    visit = "visit"  # the page was opened, coming from ``source``
    share = "share"  # a share button was pressed (``other``: the link was copied)


class PageVisit(Base):
    __tablename__ = "page_visits"
    __table_args__ = (CheckConstraint("count >= 0", name="count_not_negative"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)  # in Vietnam time
    kind: Mapped[VisitKind] = mapped_column(str_enum(VisitKind, "visit_kind"), primary_key=True)
    source: Mapped[VisitSource] = mapped_column(str_enum(VisitSource, "visit_source"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


# --- the indexes the figures read (migration 0027) ---------------------------------------------
# Each figure is one index-only scan of the edition's rows, in its GROUP BY's order.
_received = Entry.submitted_at.is_not(None)
_voided = Vote.voided_at.is_not(None)
# Entries per Vietnam day and category come from an expression index of PostgreSQL's alone
# (ix_entries_received_vn_day, the day computed in the index): it lives in migration 0027 only.
Index(
    "ix_entries_received_author",
    Entry.contest_id,
    Entry.author_id,
    postgresql_where=_received,
    sqlite_where=_received,
)
Index(
    "ix_entries_received_place",
    Entry.contest_id,
    Entry.place_id,
    postgresql_where=_received,
    sqlite_where=_received,
)
Index(
    "ix_entries_received_gps",
    Entry.contest_id,
    Entry.gps_check,
    postgresql_where=_received,
    sqlite_where=_received,
)
Index("ix_votes_contest_id_day", Vote.contest_id, Vote.day)
# The voided votes alone (a few): their count per day, and whether any changed (vote review).
Index(
    "ix_votes_voided",
    Vote.contest_id,
    Vote.day,
    Vote.voided_at,
    postgresql_where=_voided,
    sqlite_where=_voided,
)
