"""The organizers' dashboard: every contest with its entry counts; the contest chooser's list.

Contest and category settings are in contest.contests.settings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from contest.contests.models import Contest
from contest.entries.models import Entry, EntryStatus


# --- overview ---------------------------------------------------------------------------
@dataclass
class ContestOverview:
    contest: Contest
    # category id -> status -> number of entries
    counts: dict[int, dict[EntryStatus, int]] = field(default_factory=dict)

    def count(self, category_id: int, status: EntryStatus) -> int:
        return self.counts.get(category_id, {}).get(status, 0)

    def total(self, category_id: int) -> int:
        return sum(self.counts.get(category_id, {}).values())


def contest_overview(session: Session) -> list[ContestOverview]:
    """Every contest, newest first, with its entry counts per category and status."""
    contests = session.scalars(
        select(Contest).options(selectinload(Contest.categories)).order_by(Contest.submission_opens_at.desc())
    ).all()
    counts = entry_counts(session)
    return [ContestOverview(contest, counts.get(contest.id, {})) for contest in contests]


def entry_counts(session: Session) -> dict[int, dict[int, dict[EntryStatus, int]]]:
    """contest id -> category id -> status -> count, from one grouped query."""
    rows = session.execute(
        select(Entry.contest_id, Entry.category_id, Entry.status, func.count(Entry.id)).group_by(
            Entry.contest_id, Entry.category_id, Entry.status
        )
    )
    counts: dict[int, dict[int, dict[EntryStatus, int]]] = defaultdict(lambda: defaultdict(dict))
    for contest_id, category_id, status, number in rows:
        counts[contest_id][category_id][status] = number
    return counts


# --- the contest chooser --------------------------------------------------------------------------------
def all_contests(session: Session) -> list[Contest]:
    """Every contest, newest first (published or not): the organizers' choice of contest."""
    return list(session.scalars(select(Contest).order_by(Contest.submission_opens_at.desc())))
