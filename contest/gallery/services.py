"""The gallery's query (filters, search, the three orders, pages) and the entry page's lookup.

Pages never count all rows: a page fetches one row more than it shows to know whether
there is a next one. The random order is a fixed random number per entry (``shuffle_key``)
read from a starting point and wrapping around, so every visitor sees the whole gallery
once, in a stable order, starting somewhere else (see ``random_start``).

What a filter finds is read whole when it is small (a place, most searches: ``whole_set``)
and every page, in every order, is cut from that copy; a large set (the whole gallery, a
category) is read a page at a time through the indexes. Either way the gallery reads plain
rows (SQLAlchemy Core), not ORM objects: it builds nothing it does not show.
"""

from __future__ import annotations

import enum
import re
import secrets
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, func, or_, select, union
from sqlalchemy.orm import Session, joinedload, selectinload

from contest.auth.models import User
from contest.contests.models import (
    CategoryKind,
    Contest,
    VoteCountDisplay,
    _localized,
    current_public_version,
)
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.gallery import pictures, ranks
from contest.gallery.cache import TTLCache
from contest.gallery.pictures import Picture

PER_PAGE = 24
LAST_PAGE = 10_000
SEARCH_MAX_CHARS = 100
# shuffle_key is drawn in [0, 2**31) (contest.entries.models.new_shuffle_key).
SEED_SPACE = 2**31
# The random order starts at one of this many points, evenly spaced over the keys, so that a
# page in random order is one of few and can be served from the page cache. The trade-off:
# visitors share 32 orders instead of each having their own, so on one day 32 x 24 entries
# are on someone's first page. A visitor keeps theirs (their seed, kept in their session,
# picks the point), and the points turn each Vietnam day (see random_start): over the days
# every entry gets its turn near the top, while one day's browsing, page after page, stays
# one stable order. A small set needs fewer points (order_buckets).
RANDOM_ORDER_BUCKETS = 32
_GOLDEN = 0x9E3779B1  # spreads consecutive days far apart over the keys
# A filter that finds at most this many entries (a place, a search) is read whole, and its
# pages in every order and from every starting point are cut from that copy (kept a while).
SMALL_SET = 500
ROW_BYTES = 1024  # about what one kept row weighs in memory (measured: 1 KB), to bound the cache
_CODE_RE = re.compile(r"^[A-Za-z0-9]{1,12}-\d{1,8}$")
# The renditions a card needs: thumbnails of every photo (their number is a series' photo
# count), the first display image (the srcset's large candidate) and a video's poster.
_CARD_ASSETS = or_(
    MediaAsset.kind.in_(
        (AssetKind.thumb_jpeg, AssetKind.thumb_webp, AssetKind.poster_jpeg, AssetKind.poster_webp)
    ),
    and_(MediaAsset.kind.in_((AssetKind.display_jpeg, AssetKind.display_webp)), MediaAsset.position == 0),
)


class Sort(enum.StrEnum):
    random = "random"
    newest = "newest"
    votes = "votes"


# --- the contest as the gallery sees it ------------------------------------------------------
@dataclass(frozen=True)
class GalleryCategory:
    id: int
    slug: str
    kind: CategoryKind
    name_vi: str
    name_en: str

    @property
    def name(self) -> str:
        return _localized(self, "name")


@dataclass(frozen=True)
class GalleryPlace:
    id: int
    code: str
    name_vi: str
    name_en: str

    @property
    def name(self) -> str:
        return _localized(self, "name")


@dataclass(frozen=True)
class GalleryContest:
    """The current contest's public face: a plain copy that the requests of one process share
    for a few seconds (an ORM object never outlives its session)."""

    id: int
    title_vi: str
    title_en: str
    vote_counts: VoteCountDisplay
    voting_closes_at: datetime
    categories: tuple[GalleryCategory, ...]
    places: tuple[GalleryPlace, ...]
    # The names cards and the filter form show, as one number (part of their cache keys:
    # an organizer's renaming makes new ones).
    names: int
    # The contest's public_version when this copy was made (contest.gallery.versions): part
    # of the key of everything kept of the gallery, so nothing outlives a change.
    version: int

    @property
    def title(self) -> str:
        return _localized(self, "title")

    def vote_counts_visible(self, at: datetime | None = None) -> bool:
        # The contest's own rule, applied to this copy of the fields it reads.
        return Contest.vote_counts_visible(self, at)  # type: ignore[arg-type]

    def category(self, category_id: int) -> GalleryCategory:
        return next(c for c in self.categories if c.id == category_id)

    def place(self, place_id: int) -> GalleryPlace:
        return next(p for p in self.places if p.id == place_id)


def gallery_contest(contest: Contest, version: int) -> GalleryContest:
    categories = tuple(
        GalleryCategory(c.id, c.slug, c.kind, c.name_vi, c.name_en) for c in contest.categories
    )
    places = tuple(GalleryPlace(p.id, p.code, p.name_vi, p.name_en) for p in contest.places)
    return GalleryContest(
        id=contest.id,
        title_vi=contest.title_vi,
        title_en=contest.title_en,
        vote_counts=contest.vote_counts,
        voting_closes_at=contest.voting_closes_at,
        categories=categories,
        places=places,
        names=hash((categories, places)),
        version=version,
    )


def current_gallery_contest(
    cache: TTLCache, session: Session, *, check_s: float, keep_s: float
) -> GalleryContest | None:
    """The current contest (contest.contests.models.current_contest) as the gallery shows it.

    Which contest is current and its public version are read again every ``check_s``
    seconds (one small query); the contest's copy is kept while that version holds, for
    ``keep_s`` at most.
    """
    found = cache.get_or_compute("current_public_version", check_s, lambda: current_public_version(session))
    if found is None:
        return None
    contest_id, version = found

    def load() -> GalleryContest | None:
        contest = session.get(Contest, contest_id)
        return gallery_contest(contest, version) if contest is not None else None

    return cache.get_or_compute(("gallery_contest", contest_id, version), keep_s, load)


# --- the visitor's request, checked ---------------------------------------------------
@dataclass(frozen=True)
class GalleryFilter:
    """What the visitor asked for, checked against the contest (hashable: a cache key)."""

    category_id: int | None = None
    place_id: int | None = None
    q: str = ""
    sort: Sort = Sort.random
    page: int = 1


def find_category(contest: GalleryContest, value: str | None) -> GalleryCategory | None:
    """The contest's category named by slug or by id; None when unknown or empty."""
    value = (value or "").strip()
    return next((c for c in contest.categories if value in (c.slug, str(c.id))), None) if value else None


def find_place(contest: GalleryContest, code: str | None) -> GalleryPlace | None:
    code = (code or "").strip().lower()
    return next((p for p in contest.places if p.code == code), None) if code else None


def looks_like_code(q: str) -> bool:
    return bool(_CODE_RE.match(normalize_query(q)))


def normalize_query(q: str | None) -> str:
    return " ".join((q or "").split())[:SEARCH_MAX_CHARS]


def choose_sort(value: str | None, counts_visible: bool) -> Sort:
    """The asked order; "votes" only while counts are public (it would reveal them)."""
    try:
        sort = Sort(value or Sort.random)
    except ValueError:
        return Sort.random
    return Sort.random if sort is Sort.votes and not counts_visible else sort


def gallery_filter(
    contest: GalleryContest,
    *,
    category: str | None,
    place: str | None,
    q: str | None,
    sort: str | None,
    page: int | None,
    counts_visible: bool,
) -> GalleryFilter:
    found_category, found_place = find_category(contest, category), find_place(contest, place)
    return GalleryFilter(
        category_id=found_category.id if found_category else None,
        place_id=found_place.id if found_place else None,
        q=normalize_query(q),
        sort=choose_sort(sort, counts_visible),
        page=min(max(page or 1, 1), LAST_PAGE),
    )


def valid_seed(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < SEED_SPACE


def new_seed() -> int:
    return secrets.randbelow(SEED_SPACE)


def random_start(seed: int, day: date, buckets: int = RANDOM_ORDER_BUCKETS) -> int:
    """Where the random order of a visitor with ``seed`` starts on ``day`` (a Vietnam day).

    The seed picks one of ``buckets`` points evenly spaced over the keys; the points turn
    together each day by a step drawn from the date, the same in every process. ``buckets``
    is a power of two up to RANDOM_ORDER_BUCKETS: fewer points are some of the same points.
    """
    turn = day.toordinal() * _GOLDEN % SEED_SPACE
    return ((seed % buckets) * (SEED_SPACE // buckets) + turn) % SEED_SPACE


def order_buckets(size: int | None) -> int:
    """How many starting points the random order of a set needs: about one per page.

    More points than pages would only shift the same cards by a place or two (a place with
    50 entries has 2 pages: 2 points show every entry on someone's first page), and each
    point is one more copy to make. A power of two; RANDOM_ORDER_BUCKETS for a large set
    (``size`` None: more than SMALL_SET).
    """
    if size is None:
        return RANDOM_ORDER_BUCKETS
    pages = max(1, -(-size // PER_PAGE))
    return min(RANDOM_ORDER_BUCKETS, 1 << (pages - 1).bit_length())


# --- the query ------------------------------------------------------------------------
@dataclass(frozen=True)
class CardRow:
    """One card's data as the page's query reads it (hashable: it keys the card's fragment)."""

    id: int
    code: str
    title: str
    author_name: str
    category_id: int
    place_id: int
    vote_count: int | None  # None while counts are not public

    def card_key(self) -> tuple:
        """What the entry's kept card shows of this row: all of it but the count (filled in apart)."""
        return (self.id, self.code, self.title, self.author_name, self.category_id, self.place_id)


@dataclass(frozen=True)
class GalleryPage:
    rows: tuple[CardRow, ...]
    page: int
    has_next: bool
    exact_code: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _approved(contest_id: int, flt: GalleryFilter) -> Select:
    """Approved entries of the contest and the filters: what a card shows, in one join."""
    stmt = (
        select(
            Entry.id,
            Entry.code,
            Entry.title,
            User.full_name,
            Entry.category_id,
            Entry.place_id,
            Entry.vote_count,
        )
        .join(User, User.id == Entry.author_id)
        .where(Entry.contest_id == contest_id, Entry.status == EntryStatus.approved)
    )
    if flt.category_id is not None:
        stmt = stmt.where(Entry.category_id == flt.category_id)
    if flt.place_id is not None:
        stmt = stmt.where(Entry.place_id == flt.place_id)
    return stmt


def _text_search(stmt: Select, q: str) -> Select:
    """Entries whose title or author's name contains ``q`` (any case).

    Each side is its own subquery on ``lower(entries.title)`` / ``lower(users.full_name)``,
    the expressions of the trigram indexes (migration 0004) that PostgreSQL then uses; one
    OR across the join would read every approved entry instead.
    """
    pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    titles = select(Entry.id).where(func.lower(Entry.title).like(pattern, escape="\\"))
    authors = (
        select(Entry.id)
        .join(User, User.id == Entry.author_id)
        .where(func.lower(User.full_name).like(pattern, escape="\\"))
    )
    return stmt.where(Entry.id.in_(union(titles, authors).subquery().select()))


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


def _found(contest_id: int, flt: GalleryFilter) -> Select:
    stmt = _approved(contest_id, flt)
    return _text_search(stmt, flt.q) if flt.q else stmt


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
        stmt = _found(contest.id, flt).add_columns(Entry.shuffle_key, Entry.approved_at)
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


def _search(
    session: Session, contest_id: int, flt: GalleryFilter, whole: WholeSet | None, start: int
) -> tuple[list, bool]:
    """(rows of the page plus one, whether the query was an entry's exact code)."""
    if flt.q and looks_like_code(flt.q):
        rows = session.execute(_approved(contest_id, flt).where(Entry.code == flt.q.upper())).all()
        if rows:
            return (rows if flt.page == 1 else []), True
    offset = (flt.page - 1) * PER_PAGE
    if whole is not None:
        return list(whole.ordered(flt.sort, start)[offset : offset + PER_PAGE + 1]), False
    return _ordered_rows(session, _found(contest_id, flt), flt, start, offset, PER_PAGE + 1), False


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
        rows, exact = _search(session, contest.id, flt, whole, start)
        cards = tuple(
            CardRow(
                r.id,
                r.code,
                r.title,
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
    """The vote counts of these entries (a page's cards), by id: one query by primary key,
    kept ``ttl_s`` for the pages that show the same cards."""

    def read() -> dict[int, int]:
        rows = session.execute(select(Entry.id, Entry.vote_count).where(Entry.id.in_(ids)))
        return dict(rows.all())

    return cache.get_or_compute(("vote_counts", ids), ttl_s, read, size=lambda counts: 64 * len(counts))


# --- cards -----------------------------------------------------------------------------
@dataclass(frozen=True)
class GalleryCard:
    code: str
    title: str
    author_name: str
    category_name: str
    place_name: str
    kind: str
    photo_count: int
    vote_count: int | None
    picture: Picture | None


def gallery_cards(
    session: Session, contest: GalleryContest, rows: Iterable[CardRow]
) -> dict[int, GalleryCard]:
    """The cards of ``rows`` by entry id, in the current language, with their renditions
    read in one query (plain rows: the picture needs six columns of a few assets)."""
    rows = list(rows)
    assets = defaultdict(list)
    if rows:
        found = session.execute(
            select(
                MediaAsset.entry_id,
                MediaAsset.kind,
                MediaAsset.position,
                MediaAsset.label,
                MediaAsset.storage_key,
                MediaAsset.width,
                MediaAsset.height,
            ).where(MediaAsset.entry_id.in_([r.id for r in rows]), _CARD_ASSETS)
        )
        for asset in found:
            assets[asset.entry_id].append(asset)
    return {row.id: _card(contest, row, assets[row.id]) for row in rows}


def _card(contest: GalleryContest, row: CardRow, assets: list) -> GalleryCard:
    category = contest.category(row.category_id)
    return GalleryCard(
        code=row.code,
        title=row.title,
        author_name=row.author_name,
        category_name=category.name,
        place_name=contest.place(row.place_id).name,
        kind=category.kind.value,
        photo_count=pictures.photo_count(assets),
        vote_count=row.vote_count,
        picture=pictures.preview(category.kind, assets),
    )


# --- one entry ------------------------------------------------------------------------
def entry_by_code(session: Session, code: str) -> Entry | None:
    """The entry with this code (any case), with what its page shows; None if unknown."""
    return session.scalar(
        select(Entry)
        .where(Entry.code == code.upper())
        .options(
            selectinload(Entry.assets),
            joinedload(Entry.author),
            joinedload(Entry.place),
            joinedload(Entry.category),
            joinedload(Entry.contest),
        )
    )


def is_public(entry: Entry) -> bool:
    return entry.status is EntryStatus.approved and entry.contest.is_published


def may_preview(user, entry: Entry) -> bool:
    """The author and the organizers see an entry's page before it is public."""
    return bool(user.is_authenticated and (user.id == entry.author_id or user.is_organizer))
