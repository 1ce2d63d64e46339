"""Audience prizes: the most voted entries per category at the close, and monthly leaders.

Votes are read only through contest.voting's narrow readers. The category prize reads the
votes themselves (``official_tally``): valid votes cast inside
the voting window, ties broken by who reached the final count first (the earlier last
vote), a tie that remains is marked for the organizers. Monthly leaders read the monthly
counters (Vietnam months); an entry that won an earlier month cannot win again, so the
next one in that month's order takes its place. Only approved entries can win.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.contests.models import Category, Contest
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.timeutil import vn_today
from contest.voting.counts import monthly_leaders
from contest.voting.services import Standing, month_of, official_tally

FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Placed:
    place: int  # 1, 2, 3 ...
    entry: Entry
    votes: int
    tied: bool = False  # same votes and same last-vote time as a neighbour: organizers decide


@dataclass(frozen=True)
class CategoryAward:
    category: Category
    placed: list[Placed]


@dataclass(frozen=True)
class MonthAward:
    month: date  # first day of the month
    placed: list[Placed]
    final: bool  # the month is over (or voting has closed)


def category_awards(session: Session, contest: Contest, places: int | None = None) -> list[CategoryAward]:
    """Per category, the ``places`` (contest setting by default) most voted approved entries."""
    places = contest.audience_prize_places if places is None else places
    by_category: dict[int, list[Standing]] = {}
    # Only the entries that can place or tie with a placed one (the runner-up) are read.
    for standing in official_tally(session, contest, top=places + 1):
        by_category.setdefault(standing.category_id, []).append(standing)
    ranked = {
        category_id: heapq.nsmallest(places + 1, standings, key=_rank_key)
        for category_id, standings in by_category.items()
    }
    entries = _approved(session, contest, [s.entry_id for top in ranked.values() for s in top[:places]])
    awards = []
    for category in contest.categories:
        top = ranked.get(category.id, [])
        placed = [
            Placed(index + 1, entries[standing.entry_id], standing.votes, _tied(top, index))
            for index, standing in enumerate(top[:places])
        ]
        awards.append(CategoryAward(category, placed))
    return awards


def _rank_key(standing: Standing):
    return (-standing.votes, standing.last_vote_at or FAR_FUTURE, standing.code)


def _tied(top: list[Standing], index: int) -> bool:
    here = top[index]
    neighbours = top[max(0, index - 1) : index] + top[index + 1 : index + 2]
    return any((n.votes, n.last_vote_at) == (here.votes, here.last_vote_at) for n in neighbours)


def monthly_awards(session: Session, contest: Contest, at: datetime | None = None) -> list[MonthAward]:
    """Leaders of each month of voting so far; the current month's are provisional."""
    winners_per_month = contest.monthly_prize_winners
    if winners_per_month <= 0:
        return []
    at = at or now_utc()
    first = month_of(vn_today(contest.voting_opens_at))
    last = month_of(vn_today(min(at, contest.voting_closes_at)))
    closed_month = month_of(vn_today(at)) if at < contest.voting_closes_at else None
    won: set[int] = set()
    awards = []
    for month in _months(first, last):
        rows = monthly_leaders(session, contest.id, month, limit=winners_per_month + len(won) + 1)
        eligible = [(entry_id, votes) for entry_id, votes in rows if entry_id not in won]
        chosen = eligible[:winners_per_month]
        runner_up = eligible[winners_per_month] if len(eligible) > winners_per_month else None
        entries = _approved(session, contest, [entry_id for entry_id, _ in chosen])
        placed = [
            Placed(index + 1, entries[entry_id], votes, tied=runner_up is not None and runner_up[1] == votes)
            for index, (entry_id, votes) in enumerate(chosen)
        ]
        awards.append(MonthAward(month, placed, final=month != closed_month))
        won.update(entry_id for entry_id, _ in chosen)
    return awards


def _approved(session: Session, contest: Contest, ids: list[int]) -> dict[int, Entry]:
    if not ids:
        return {}
    found = session.scalars(
        select(Entry).where(
            Entry.id.in_(ids), Entry.contest_id == contest.id, Entry.status == EntryStatus.approved
        )
    )
    return {entry.id: entry for entry in found}


def _months(first: date, last: date):
    month = first
    while month <= last:
        yield month
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
