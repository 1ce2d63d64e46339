"""The "most voted" order's copy of the vote counters (``entries.rank_votes``).

A vote adds one to its entry's ``vote_count``, which no index holds: PostgreSQL updates the
row on its own page without touching any of the table's indexes (a HOT update), which
halves the write-ahead log a vote writes. The gallery's "most voted" pages of a large set
(read a page at a time through an index) sort by ``rank_votes`` instead, and ``keep_fresh``
copies the counters over before such a page is read, at most once every GALLERY_CACHE_S per
process: the order is as fresh as the gallery's kept pages, which live that long anyway.
A small set is sorted in memory from the counters themselves, and the audience ranking
and prizes read ``vote_count`` (or the votes): they never depend on this copy.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from contest.entries.models import Entry
from contest.gallery.cache import TTLCache

log = logging.getLogger(__name__)

# The first key of the refresh's advisory lock (PostgreSQL); the contest's id is the second.
LOCK_KEY = 0x52414E4B  # "RANK"


def refresh(session: Session, contest_id: int) -> int:
    """Copy ``vote_count`` to ``rank_votes`` where they differ, in one UPDATE, and commit.

    Returns how many entries moved. On PostgreSQL one process at a time refreshes a contest
    (an advisory lock held to the commit); another that finds it taken skips: the copy is
    being made. A failure (a lock wait cut short, a deadlock with an organizer's change of
    several entries) leaves the previous copy in place and is logged: the order is stale a
    little longer, the page is still served.
    """
    try:
        if session.get_bind().dialect.name == "postgresql" and not session.scalar(
            select(func.pg_try_advisory_xact_lock(LOCK_KEY, contest_id))
        ):
            session.rollback()
            return 0
        moved = session.execute(
            update(Entry)
            .where(Entry.contest_id == contest_id, Entry.rank_votes != Entry.vote_count)
            # Named, so that updated_at's onupdate does not fire: no entry was edited.
            .values(rank_votes=Entry.vote_count, updated_at=Entry.updated_at)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        log.warning("the most voted order of contest %s was not refreshed", contest_id, exc_info=True)
        return 0
    return moved


def keep_fresh(cache: TTLCache, ttl_s: float, session: Session, contest_id: int) -> None:
    """``refresh`` unless this process did it less than ``ttl_s`` ago (every time at 0)."""
    cache.get_or_compute(("rank_votes", contest_id), ttl_s, lambda: refresh(session, contest_id))
