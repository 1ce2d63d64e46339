"""Visits and shares of entry pages, counted per entry, day and source, with no personal data.

A row is a counter: no address, cookie or account is kept, only how many times an entry's page
was opened (or shared) from a source on a Vietnam day.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from contest.db import Base, str_enum


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
