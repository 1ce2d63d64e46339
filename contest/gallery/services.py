"""The gallery's query (filters, search, the three orders, pages) and the entry page's lookup.

Pages never count all rows: a page fetches one row more than it shows to know whether
there is a next one. The random order is a fixed random number per entry (``shuffle_key``)
read from a point drawn per visitor and wrapping around, so every visitor sees the whole
gallery once, in a stable order, starting somewhere else.
"""

from __future__ import annotations

import enum
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask_babel import get_locale
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload, load_only, selectinload

from contest.auth.models import User
from contest.contests.models import Category, Contest, Place
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.gallery import pictures
from contest.gallery.pictures import Picture

PER_PAGE = 24
LAST_PAGE = 10_000
SEARCH_MAX_CHARS = 100
# shuffle_key is drawn in [0, 2**31) (contest.entries.models.new_shuffle_key).
SEED_SPACE = 2**31
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


@dataclass(frozen=True)
class GalleryFilter:
    """What the visitor asked for, checked against the contest (hashable: a cache key)."""

    category_id: int | None = None
    place_id: int | None = None
    q: str = ""
    sort: Sort = Sort.random
    page: int = 1


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


@dataclass(frozen=True)
class GalleryPage:
    cards: tuple[GalleryCard, ...]
    page: int
    has_next: bool
    exact_code: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1


# --- the visitor's request, checked ---------------------------------------------------
def find_category(contest: Contest, value: str | None) -> Category | None:
    """The contest's category named by slug or by id; None when unknown or empty."""
    value = (value or "").strip()
    return next((c for c in contest.categories if value in (c.slug, str(c.id))), None) if value else None


def find_place(contest: Contest, code: str | None) -> Place | None:
    code = (code or "").strip().lower()
    return next((p for p in contest.places if p.code == code), None) if code else None


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
    contest: Contest,
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


# --- the query ------------------------------------------------------------------------
def _approved(contest: Contest, flt: GalleryFilter) -> Select:
    """Approved entries of the contest and the filters, with the author's name (one join)."""
    stmt = (
        select(Entry, User.full_name)
        .join(User, User.id == Entry.author_id)
        .where(Entry.contest_id == contest.id, Entry.status == EntryStatus.approved)
    )
    if flt.category_id is not None:
        stmt = stmt.where(Entry.category_id == flt.category_id)
    if flt.place_id is not None:
        stmt = stmt.where(Entry.place_id == flt.place_id)
    return stmt


def _fetch(session: Session, stmt: Select) -> list:
    """The rows, loading only what a card shows."""
    return session.execute(
        stmt.options(
            load_only(Entry.id, Entry.code, Entry.title, Entry.category_id, Entry.place_id, Entry.vote_count),
            selectinload(Entry.assets.and_(_CARD_ASSETS)).load_only(
                MediaAsset.kind,
                MediaAsset.position,
                MediaAsset.label,
                MediaAsset.storage_key,
                MediaAsset.width,
                MediaAsset.height,
            ),
        )
    ).all()


def _text_search(stmt: Select, q: str) -> Select:
    needle = q.lower()
    return stmt.where(
        or_(
            func.lower(Entry.title).contains(needle, autoescape=True),
            func.lower(User.full_name).contains(needle, autoescape=True),
        )
    )


def _count(session: Session, stmt: Select) -> int:
    return (
        session.scalar(stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)) or 0
    )


def _random_rows(session: Session, stmt: Select, seed: int, offset: int, limit: int) -> list:
    """Rows ``offset``.. of the order that starts at ``seed`` and wraps around.

    Two range scans of the (contest|category, status, shuffle_key) index: keys from the
    seed up, then keys below it. The first part is counted only on the page that follows
    its end, never on the first pages.
    """
    upper = stmt.where(Entry.shuffle_key >= seed)
    rows = _fetch(session, upper.order_by(Entry.shuffle_key, Entry.id).offset(offset).limit(limit))
    if len(rows) == limit:
        return rows
    skip = offset - _count(session, upper) if not rows and offset else 0
    lower = stmt.where(Entry.shuffle_key < seed).order_by(Entry.shuffle_key, Entry.id)
    return rows + _fetch(session, lower.offset(skip).limit(limit - len(rows)))


def _ordered_rows(
    session: Session, stmt: Select, flt: GalleryFilter, seed: int, offset: int, limit: int
) -> list:
    if flt.sort is Sort.random:
        return _random_rows(session, stmt, seed, offset, limit)
    order = (
        (Entry.approved_at.desc(), Entry.id.desc())
        if flt.sort is Sort.newest
        else (Entry.vote_count.desc(), Entry.id.desc())
    )
    return _fetch(session, stmt.order_by(*order).offset(offset).limit(limit))


def _card(contest: Contest, entry: Entry, author_name: str, counts_visible: bool) -> GalleryCard:
    # The contest's few categories and places are loaded once per page, not per entry.
    category = next(c for c in contest.categories if c.id == entry.category_id)
    place = next(p for p in contest.places if p.id == entry.place_id)
    return GalleryCard(
        code=entry.code,
        title=entry.title,
        author_name=author_name,
        category_name=category.name,
        place_name=place.name,
        kind=category.kind.value,
        photo_count=pictures.photo_count(entry.assets),
        vote_count=entry.vote_count if counts_visible else None,
        picture=pictures.preview(category.kind, entry.assets),
    )


def _search(session: Session, contest: Contest, flt: GalleryFilter, seed: int) -> tuple[list, bool]:
    """(rows of the page plus one, whether the query was an entry's exact code)."""
    stmt = _approved(contest, flt)
    if flt.q and _CODE_RE.match(flt.q):
        rows = _fetch(session, stmt.where(Entry.code == flt.q.upper()))
        if rows:
            return (rows if flt.page == 1 else []), True
    if flt.q:
        stmt = _text_search(stmt, flt.q)
    offset = (flt.page - 1) * PER_PAGE
    return _ordered_rows(session, stmt, flt, seed, offset, PER_PAGE + 1), False


def gallery_page(
    session: Session, contest: Contest, flt: GalleryFilter, *, seed: int, counts_visible: bool
) -> GalleryPage:
    rows, exact = _search(session, contest, flt, seed)
    cards = tuple(_card(contest, entry, author, counts_visible) for entry, author in rows[:PER_PAGE])
    return GalleryPage(cards=cards, page=flt.page, has_next=len(rows) > PER_PAGE, exact_code=exact)


def cached_gallery_page(
    cache: TTLCache,
    ttl_s: int,
    session: Session,
    contest: Contest,
    flt: GalleryFilter,
    *,
    seed: int,
    counts_visible: bool,
) -> GalleryPage:
    """gallery_page(), reused for ``ttl_s`` seconds by this process (public data only)."""
    key = (
        contest.id,
        flt,
        seed if flt.sort is Sort.random else None,
        counts_visible,
        str(get_locale() or ""),
    )
    return cache.get_or_compute(
        key, ttl_s, lambda: gallery_page(session, contest, flt, seed=seed, counts_visible=counts_visible)
    )


class TTLCache:
    """A small in-process cache of query results that every visitor may see."""

    def __init__(self, max_items: int = 1024) -> None:
        self.max_items = max_items
        self._items: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, ttl_s: float, compute: Callable[[], object]):
        if ttl_s <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[0] > now:
                self._items.move_to_end(key)
                return hit[1]
        value = compute()
        with self._lock:
            self._items[key] = (now + ttl_s, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


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
