"""What the vote counters say, for readers outside voting: the month's most voted entries
(the monthly prize), the live ranking (the public ranking page) and the contest's vote totals.

Narrow reads: contest.results decides the prizes from these and from ``services.official_tally``
without reaching into the vote tables itself.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.contests.models import Category, Contest
from contest.entries.models import Entry, EntryStatus
from contest.voting.models import MonthlyVoteCount, Vote


def monthly_leaders(session: Session, contest_id: int, month: date, limit: int) -> list[tuple[int, int]]:
    """(entry id, votes) of the month's most voted approved entries, from the monthly counters."""
    rows = session.execute(
        select(MonthlyVoteCount.entry_id, MonthlyVoteCount.votes)
        .join(Entry, Entry.id == MonthlyVoteCount.entry_id)
        .where(
            MonthlyVoteCount.contest_id == contest_id,
            MonthlyVoteCount.month == month,
            MonthlyVoteCount.votes > 0,
            Entry.status == EntryStatus.approved,
        )
        .order_by(MonthlyVoteCount.votes.desc(), Entry.code)
        .limit(limit)
    )
    return [(entry_id, votes) for entry_id, votes in rows]


def vote_totals(session: Session, contest_id: int) -> tuple[int, int]:
    """(votes recorded, votes voided) in the contest: the audience page's context."""
    total, voided = session.execute(
        select(func.count(), func.count().filter(Vote.voided_at.is_not(None))).where(
            Vote.contest_id == contest_id
        )
    ).one()
    return total, voided


def live_ranking(
    session: Session, contest: Contest, category: Category | None, limit: int = 20
) -> list[Entry]:
    """The most voted approved entries now, from the counters (for the public ranking page).

    An entry without a vote holds no place: it is not listed."""
    query = select(Entry).where(
        Entry.contest_id == contest.id, Entry.status == EntryStatus.approved, Entry.vote_count > 0
    )
    if category is not None:
        query = query.where(Entry.category_id == category.id)
    return list(session.scalars(query.order_by(Entry.vote_count.desc(), Entry.code).limit(limit)))


def places(ranked: list[Entry]) -> list[tuple[int, Entry]]:
    """(place, entry) down a ranking: entries with as many votes share a place (1, 2, 2, 4)."""
    placed: list[tuple[int, Entry]] = []
    for i, entry in enumerate(ranked):
        tied = placed and placed[-1][1].vote_count == entry.vote_count
        placed.append((placed[-1][0] if tied else i + 1, entry))
    return placed
