"""A page of the gallery: its cards' rows in the asked order, kept a while, and their counts.

Pages never count all rows: a page fetches one row more than it shows to know whether there
is a next one. A page is cut from the filter's whole set when it is small (contest.gallery.sets)
or read through the indexes in one of the three orders; the random order wraps around its
starting point (contest.gallery.random_order).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from contest.entries.models import Entry
from contest.gallery import ranks
from contest.gallery.cache import TTLCache
from contest.gallery.filters import GalleryFilter, Sort
from contest.gallery.public_contest import GalleryContest
from contest.gallery.search import exact_code, matching_entries
from contest.gallery.sets import ROW_BYTES, WholeSet

PER_PAGE = 24


@dataclass(frozen=True)
class CardRow:
    """One card's data as the page's query reads it (hashable: it keys the card's fragment)."""

    id: int
    code: str
    title: str
    title_en: str
    author_name: str
    category_id: int
    place_id: int
    vote_count: int | None  # None while counts are not public

    def card_key(self) -> tuple:
        """What the entry's kept card shows of this row: all of it but the count (filled in apart)."""
        return (
            self.id,
            self.code,
            self.title,
            self.title_en,
            self.author_name,
            self.category_id,
            self.place_id,
        )


@dataclass(frozen=True)
class GalleryPage:
    rows: tuple[CardRow, ...]
    page: int
    has_next: bool
    exact_code: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _count(session: Session, stmt: Select) -> int:
    return (
        session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)) or 0
    )


def _random_rows(session: Session, stmt: Select, start: int, offset: int, limit: int) -> list:
    """Rows ``offset``.. of the order that starts at ``start`` and wraps around.

    Two range scans of the (contest|category, status, shuffle_key) index: keys from the
    start up, then keys below it. The first part is counted only on the page that follows
    its end, never on the first pages.
    """
    upper = stmt.where(Entry.shuffle_key >= start)
    rows = session.execute(upper.order_by(Entry.shuffle_key, Entry.id).offset(offset).limit(limit)).all()
    if len(rows) == limit:
        return rows
    skip = offset - _count(session, upper) if not rows and offset else 0
    lower = stmt.where(Entry.shuffle_key < start).order_by(Entry.shuffle_key, Entry.id)
    return rows + session.execute(lower.offset(skip).limit(limit - len(rows))).all()


def _ordered_rows(
    session: Session, stmt: Select, flt: GalleryFilter, start: int, offset: int, limit: int
) -> list:
    if flt.sort is Sort.random:
        return _random_rows(session, stmt, start, offset, limit)
    order = (
        (Entry.approved_at.desc(), Entry.id.desc())
        if flt.sort is Sort.newest
        else (Entry.rank_votes.desc(), Entry.id.desc())  # the indexed copy (contest.gallery.ranks)
    )
    return session.execute(stmt.order_by(*order).offset(offset).limit(limit)).all()


def _page_rows(
    session: Session, contest_id: int, flt: GalleryFilter, whole: WholeSet | None, start: int
) -> tuple[list, bool]:
    """(rows of the page plus one, whether the query was an entry's exact code)."""
    rows = exact_code(session, contest_id, flt)
    if rows:
        return (rows if flt.page == 1 else []), True
    offset = (flt.page - 1) * PER_PAGE
    if whole is not None:
        return list(whole.ordered(flt.sort, start)[offset : offset + PER_PAGE + 1]), False
    return _ordered_rows(session, matching_entries(contest_id, flt), flt, start, offset, PER_PAGE + 1), False


def gallery_page(
    cache: TTLCache,
    ttl_s: float,
    session: Session,
    contest: GalleryContest,
    flt: GalleryFilter,
    whole: WholeSet | None,
    *,
    start: int,
    counts_visible: bool,
) -> GalleryPage:
    """The page's rows, cut from ``whole`` (whole_set) or read by their own query and then
    reused for ``ttl_s`` seconds by this process (public data only); ``start`` is where the
    random order starts (random_start)."""

    def read() -> GalleryPage:
        if whole is None and flt.sort is Sort.votes:
            ranks.keep_fresh(cache, ttl_s, session, contest.id)
        rows, exact = _page_rows(session, contest.id, flt, whole, start)
        cards = tuple(
            CardRow(
                r.id,
                r.code,
                r.title,
                r.title_en,
                r.full_name,
                r.category_id,
                r.place_id,
                r.vote_count if counts_visible else None,
            )
            for r in rows[:PER_PAGE]
        )
        return GalleryPage(rows=cards, page=flt.page, has_next=len(rows) > PER_PAGE, exact_code=exact)

    order_start = start if flt.sort is Sort.random else None
    key = ("gallery_page", contest.id, contest.version, flt, order_start, counts_visible)
    return cache.get_or_compute(key, ttl_s, read, size=lambda page: ROW_BYTES * len(page.rows))


def vote_counts(cache: TTLCache, ttl_s: float, session: Session, ids: tuple[int, ...]) -> dict[int, int]:
    """The vote counts of these entries (a page's cards), by id, as kept ``ttl_s``: one copy
    per entry, so that every page showing an entry (the gallery's, the entry's own, its
    votes.json) shows the same count. The missing ones are read in one query by primary key."""
    found: dict[int, int] = {}
    for entry_id in ids:
        count = cache.get(("vote_count", entry_id)) if ttl_s > 0 else None
        if count is not None:
            found[entry_id] = count
    missing = [entry_id for entry_id in ids if entry_id not in found]
    if missing:
        rows = dict(session.execute(select(Entry.id, Entry.vote_count).where(Entry.id.in_(missing))).all())
        for entry_id, count in rows.items():
            cache.put(("vote_count", entry_id), count, ttl_s, size=64)
        found.update(rows)
    return found
