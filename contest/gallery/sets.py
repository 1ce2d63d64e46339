"""How many entries a gallery filter finds, and all of them at once when they are few.

What a filter finds is read whole when it is small (a place, most searches: ``whole_set``)
and every page, in every order, is cut from that copy; a large set (the whole gallery, a
category) is read a page at a time through the indexes (contest.gallery.listing). The
sizes, counted once per (category, place), tell the two apart without reading the rows.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.entries.models import Entry, EntryStatus
from contest.gallery.cache import TTLCache
from contest.gallery.filters import GalleryFilter, Sort
from contest.gallery.public_contest import GalleryContest
from contest.gallery.search import matching_entries

# A filter that finds at most this many entries (a place, a search) is read whole, and its
# pages in every order and from every starting point are cut from that copy (kept a while).
SMALL_SET = 500
ROW_BYTES = 1024  # about what one kept row weighs in memory (measured: 1 KB), to bound the cache


@dataclass(frozen=True)
class WholeSet:
    """Every entry a filter finds, when they are few, in the gallery's three orders."""

    by_key: tuple  # by (shuffle_key, id): the random order read from 0
    keys: tuple[int, ...]
    newest: tuple
    most_voted: tuple

    @classmethod
    def of(cls, rows: list) -> WholeSet:
        by_key = tuple(sorted(rows, key=lambda r: (r.shuffle_key, r.id)))
        return cls(
            by_key=by_key,
            keys=tuple(r.shuffle_key for r in by_key),
            # As the database orders them (approved_at DESC, id DESC), an unknown date last.
            newest=tuple(
                sorted(
                    rows, key=lambda r: (r.approved_at is not None, r.approved_at or 0, r.id), reverse=True
                )
            ),
            most_voted=tuple(sorted(rows, key=lambda r: (r.vote_count, r.id), reverse=True)),
        )

    def __len__(self) -> int:
        return len(self.keys)

    def ordered(self, sort: Sort, start: int) -> tuple:
        if sort is Sort.random:
            cut = bisect_left(self.keys, start)
            return self.by_key[cut:] + self.by_key[:cut]
        return self.newest if sort is Sort.newest else self.most_voted


def set_sizes(
    cache: TTLCache, keep_s: float, session: Session, contest: GalleryContest
) -> dict[tuple[int, int], int]:
    """How many approved entries each (category, place) of the contest has.

    One small GROUP BY tells how large any filter without a search is, so that the large
    sets (the whole gallery, a category, a big place) are known as such without reading
    SMALL_SET rows to find out. Only an approval or a take-down changes it, and either
    moves the contest's version on: it is kept while the version holds (``keep_s`` at most).
    """

    def read() -> dict[tuple[int, int], int]:
        rows = session.execute(
            select(Entry.category_id, Entry.place_id, func.count())
            .where(Entry.contest_id == contest.id, Entry.status == EntryStatus.approved)
            .group_by(Entry.category_id, Entry.place_id)
        )
        return {(category_id, place_id): count for category_id, place_id, count in rows}

    return cache.get_or_compute(("gallery_set_sizes", contest.id, contest.version), keep_s, read)


def filter_size(sizes: dict[tuple[int, int], int], flt: GalleryFilter) -> int:
    """How many entries ``flt``'s category and place find (its search aside)."""
    return sum(
        count
        for (category_id, place_id), count in sizes.items()
        if flt.category_id in (None, category_id) and flt.place_id in (None, place_id)
    )


def whole_set(
    cache: TTLCache, ttl_s: float, session: Session, contest: GalleryContest, flt: GalleryFilter
) -> WholeSet | None:
    """Every entry the filter finds when they are at most SMALL_SET, else None (kept ``ttl_s``:
    its "most voted" order moves with the votes)."""
    if not flt.q and filter_size(set_sizes(cache, ttl_s, session, contest), flt) > SMALL_SET:
        return None

    def read() -> WholeSet | None:
        stmt = matching_entries(contest.id, flt).add_columns(Entry.shuffle_key, Entry.approved_at)
        rows = session.execute(stmt.limit(SMALL_SET + 1)).all()
        return WholeSet.of(rows) if len(rows) <= SMALL_SET else None

    key = ("gallery_set", contest.id, contest.version, flt.category_id, flt.place_id, flt.q)
    return cache.get_or_compute(key, ttl_s, read, size=lambda whole: ROW_BYTES * len(whole or ()))


def found_size(
    cache: TTLCache,
    ttl_s: float,
    keep_s: float,
    session: Session,
    contest: GalleryContest,
    flt: GalleryFilter,
) -> int | None:
    """How many entries the filter finds, None when more than SMALL_SET: what the random
    order's starting points depend on (order_buckets), asked before a kept page is looked up.

    Which entries a filter finds changes only with the contest's version, so the answer is
    kept while it holds (``keep_s`` at most): a kept page is found without reading its set.
    """
    if not flt.q:
        size = filter_size(set_sizes(cache, keep_s, session, contest), flt)
        return size if size <= SMALL_SET else None

    def read() -> int | None:
        whole = whole_set(cache, ttl_s, session, contest, flt)
        return len(whole) if whole is not None else None

    key = ("gallery_set_size", contest.id, contest.version, flt.category_id, flt.place_id, flt.q)
    return cache.get_or_compute(key, keep_s, read)
