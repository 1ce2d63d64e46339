"""The public gallery and the entry page, through real requests.

Real databases (SQLite and PostgreSQL), real rendition files (JPEG and WebP made with
Pillow, real MP4 footage) stored through the storage and served back by the app.
"""

from __future__ import annotations

import html
import io
import itertools
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from PIL import Image
from sqlalchemy import event, select, update

from contest.contests.models import Category, CategoryKind, Contest, Place, VoteCountDisplay
from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.gallery import ranks
from contest.gallery.cache import CachedPage, GalleryCaches, SharedPages, TTLCache
from contest.gallery.filters import GalleryFilter
from contest.gallery.listing import PER_PAGE
from contest.gallery.public_contest import gallery_contest
from contest.gallery.random_order import RANDOM_ORDER_BUCKETS, SEED_SPACE, order_buckets, random_start
from contest.gallery.sets import filter_size, found_size, whole_set
from contest.gallery.share import qr_svg
from contest.gallery.views import SEED_SESSION_KEY
from contest.storage import new_key
from tests.support import IN_CI, PASSWORD, category, create_user, log_in, make_entry, real_video_source

EN = {"Accept-Language": "en"}
DAY = date(2025, 6, 1)  # the random order's starting points turn each day: the tests pin it
BASE = "http://127.0.0.1:5000"  # PUBLIC_BASE_URL's default: the tests' configuration keeps it


# --- helpers ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fixed_day(monkeypatch):
    monkeypatch.setattr("contest.gallery.views.vn_today", lambda: DAY)


@dataclass(frozen=True)
class Reads:
    """How the gallery reads a page: by its own query, or cut from the whole set of a filter
    that finds few entries (what it does for sets up to SMALL_SET)."""

    mode: str

    def buckets(self, size: int) -> int:
        """The random order's starting points for a set of ``size`` entries."""
        return RANDOM_ORDER_BUCKETS if self.mode == "by_page" else order_buckets(size)


@pytest.fixture(params=["by_page", "whole_set"])
def reads(request, monkeypatch) -> Reads:
    if request.param == "by_page":
        monkeypatch.setattr("contest.gallery.sets.SMALL_SET", 0)
    return Reads(request.param)


def start_of(seed: int, buckets: int = RANDOM_ORDER_BUCKETS) -> int:
    return random_start(seed, DAY, buckets)


def set_seed(client, seed: int) -> None:
    with client.session_transaction() as session:
        session[SEED_SESSION_KEY] = seed


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


_IMAGES: dict[tuple, bytes] = {}


def image_bytes(size: tuple[int, int], fmt: str, color: tuple[int, int, int]) -> bytes:
    """A real small image: a colour gradient saved by Pillow as JPEG or WebP."""
    key = (size, fmt, color)
    if key not in _IMAGES:
        image = Image.linear_gradient("L").resize(size).convert("RGB")
        image = Image.blend(image, Image.new("RGB", size, color), 0.5)
        out = io.BytesIO()
        image.save(out, format=fmt, quality=80)
        _IMAGES[key] = out.getvalue()
    return _IMAGES[key]


PHOTO_RENDITIONS = [
    (AssetKind.thumb_jpeg, "thumb.jpg", "JPEG", "image/jpeg", (400, 300)),
    (AssetKind.thumb_webp, "thumb.webp", "WEBP", "image/webp", (400, 300)),
    (AssetKind.display_jpeg, "display.jpg", "JPEG", "image/jpeg", (1600, 1200)),
    (AssetKind.display_webp, "display.webp", "WEBP", "image/webp", (1600, 1200)),
]
POSTER_RENDITIONS = [
    (AssetKind.poster_jpeg, "poster.jpg", "JPEG", "image/jpeg", (1280, 720)),
    (AssetKind.poster_webp, "poster.webp", "WEBP", "image/webp", (1280, 720)),
]


def store(
    db, storage, entry: Entry, kind: AssetKind, name: str, data: bytes, mime: str, **fields
) -> MediaAsset:
    key = new_key("public/r", f"/{name}")
    size = storage.save(key, io.BytesIO(data), content_type=mime)
    asset = MediaAsset(entry_id=entry.id, kind=kind, storage_key=key, mime_type=mime, bytes=size, **fields)
    db.add(asset)
    return asset


def add_photo_renditions(db, storage, entry: Entry, position: int = 0) -> dict[AssetKind, MediaAsset]:
    color = (40 * position % 256, 120, 200)
    assets = {
        kind: store(
            db,
            storage,
            entry,
            kind,
            name,
            image_bytes(size, fmt, color),
            mime,
            position=position,
            width=size[0],
            height=size[1],
        )
        for kind, name, fmt, mime, size in PHOTO_RENDITIONS
    }
    db.commit()
    return assets


def add_video_renditions(db, storage, entry: Entry) -> dict[str, MediaAsset]:
    assets = {
        kind.value: store(
            db,
            storage,
            entry,
            kind,
            name,
            image_bytes(size, fmt, (200, 90, 30)),
            mime,
            width=size[0],
            height=size[1],
        )
        for kind, name, fmt, mime, size in POSTER_RENDITIONS
    }
    footage = real_video_source().read_bytes()
    for label, width, height in (("1080p", 1920, 1080), ("480p", 854, 480), ("720p", 1280, 720)):
        assets[label] = store(
            db,
            storage,
            entry,
            AssetKind.video_mp4,
            f"{label}.mp4",
            footage,
            "video/mp4",
            label=label,
            width=width,
            height=height,
            duration_s=5.3,
        )
    db.commit()
    return assets


class TagCollector(HTMLParser):
    """Every start tag of a page with its attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def tags(response, tag: str, **match) -> list[dict[str, str]]:
    parser = TagCollector()
    parser.feed(response.get_data(as_text=True))
    return [a for t, a in parser.tags if t == tag and all(a.get(k) == v for k, v in match.items())]


def meta(response, key: str) -> str | None:
    """The content of <meta property=key> (Open Graph) or <meta name=key> (Twitter)."""
    found = tags(response, "meta", property=key) or tags(response, "meta", name=key)
    return found[0]["content"] if found else None


def listed_codes(response) -> list[str]:
    """The entry codes of the gallery's cards, in page order."""
    return [
        a["href"].rsplit("/", 1)[1] for a in tags(response, "a") if "gallery-card-link" in a.get("class", "")
    ]


def gallery(client, **params):
    response = client.get("/gallery", query_string=params, headers=EN)
    assert response.status_code == 200
    return response


# --- fixtures -----------------------------------------------------------------------------
@pytest.fixture
def author(db):
    return create_user(db, "author@example.com", full_name="Trần Thị Hoa")


@pytest.fixture
def stranger(db):
    return create_user(db, "stranger@example.com", full_name="Lê Văn Bình")


@pytest.fixture
def url_of(app, storage):
    """The URL the pages give for a stored rendition."""

    def url(asset: MediaAsset) -> str:
        with app.test_request_context():
            return storage.url(asset.storage_key)

    return url


@pytest.fixture
def older_contest(db, contest) -> Contest:
    """Last year's edition: published, but not the current one."""
    start = contest.submission_opens_at - timedelta(days=365)
    older = Contest(
        slug="happy-nghean-2024",
        code_prefix="HNA24",
        title_vi="Nghệ An Hạnh phúc 2024",
        title_en="Happy Nghe An 2024",
        submission_opens_at=start,
        submission_closes_at=start + timedelta(days=60),
        voting_opens_at=start + timedelta(days=10),
        voting_closes_at=start + timedelta(days=90),
        categories=[Category(slug="photo", kind=CategoryKind.photo, name_vi="Ảnh", name_en="Photo")],
        places=[Place(code="vinh", name_vi="Thành phố Vinh", name_en="Vinh City")],
    )
    db.add(older)
    db.commit()
    return older


# --- the gallery: what is listed --------------------------------------------------------------
def test_only_approved_entries_of_the_current_contest_are_listed(
    client, db, contest, older_contest, author, reads
):
    shown = make_entry(db, contest, author, title="Bình minh Cửa Lò")
    hidden = [
        make_entry(db, contest, author, status=status, title=f"Hidden {status.value}")
        for status in (
            EntryStatus.submitted,
            EntryStatus.processing,
            EntryStatus.pending_review,
            EntryStatus.rejected,
            EntryStatus.withdrawn,
            EntryStatus.failed,
        )
    ]
    last_year = make_entry(db, older_contest, author, title="Last year's entry")

    response = gallery(client)

    assert listed_codes(response) == [shown.code]
    page = text_of(response)
    assert "Bình minh Cửa Lò" in page and "Trần Thị Hoa" in page and "Vinh City" in page
    for entry in [*hidden, last_year]:
        assert entry.code not in page and entry.title not in page


def test_empty_gallery_says_so(client, contest):
    response = gallery(client)
    assert listed_codes(response) == []
    assert "No entry is public yet." in text_of(response)


def test_filter_by_category_slug_or_id_and_by_place(client, db, contest, author, reads):
    photo = make_entry(db, contest, author, place_code="vinh")
    series = make_entry(db, contest, author, kind=CategoryKind.photo_series, place_code="cua-lo")
    video = make_entry(db, contest, author, kind=CategoryKind.video, place_code="cua-lo")
    video_category = category(contest, CategoryKind.video)

    assert set(listed_codes(gallery(client, category="photo-series"))) == {series.code}
    assert set(listed_codes(gallery(client, category=str(video_category.id)))) == {video.code}
    assert set(listed_codes(gallery(client, place="cua-lo"))) == {series.code, video.code}
    assert set(listed_codes(gallery(client, place="vinh"))) == {photo.code}
    assert set(listed_codes(gallery(client, place="cua-lo", category="video"))) == {video.code}
    # Unknown values are ignored rather than answered with an error.
    assert set(listed_codes(gallery(client, category="nope", place="atlantis"))) == {
        photo.code,
        series.code,
        video.code,
    }
    # A category given by id is shown selected by its slug.
    selected = tags(gallery(client, category=str(video_category.id)), "option", value="video")
    assert selected and "selected" in selected[0]


def test_search_by_exact_code_any_case(client, db, contest, author, reads):
    wanted = make_entry(db, contest, author, title="Chợ quê")
    # Another entry whose title contains the code must not be listed with it.
    make_entry(db, contest, author, title=f"Not {wanted.code}")

    response = gallery(client, q=f"  {wanted.code.lower()} ")

    assert listed_codes(response) == [wanted.code]
    assert f"The entry with code {wanted.code}:" in text_of(response)


def test_search_title_or_author_case_insensitive(client, db, contest, author, stranger, reads):
    rice = make_entry(db, contest, author, title="Cánh đồng lúa Đô Lương")
    sea = make_entry(db, contest, stranger, title="Biển Cửa Lò")
    make_entry(db, contest, author, title="Rejected đồng", status=EntryStatus.rejected)

    # Vietnamese capitals fold like ASCII ones, on SQLite as on PostgreSQL.
    assert listed_codes(gallery(client, q="ĐỒNG LÚA")) == [rice.code]
    assert listed_codes(gallery(client, q="đô lương")) == [rice.code]
    assert listed_codes(gallery(client, q="lê văn")) == [sea.code]
    assert set(listed_codes(gallery(client, q="a"))) == {rice.code, sea.code}
    # LIKE's wildcards are matched as text.
    assert listed_codes(gallery(client, q="%")) == []
    assert listed_codes(gallery(client, q="_")) == []
    nothing = gallery(client, q="không có")
    assert listed_codes(nothing) == [] and "No entry matches your search." in text_of(nothing)
    # A code that is not an entry's is searched as text.
    assert listed_codes(gallery(client, q="HNA25-9999")) == []


def test_sort_newest(client, db, contest, author, reads):
    # Keys whose random order (from any start) is not the newest-first order.
    entries = [
        make_entry(db, contest, author, minutes_ago=minutes, shuffle_key=key)
        for minutes, key in ((30, 3000), (10, 2000), (20, 1000))
    ]
    expected = [e.code for e in sorted(entries, key=lambda e: e.approved_at, reverse=True)]
    assert listed_codes(gallery(client, sort="newest")) == expected


def test_sort_by_votes_while_counts_are_live(client, db, contest, author, reads):
    entries = [
        make_entry(db, contest, author, vote_count=count, shuffle_key=key)
        for count, key in ((5, 1000), (120, 2000), (0, 3000), (42, 4000))
    ]
    expected = [e.code for e in sorted(entries, key=lambda e: e.vote_count, reverse=True)]

    response = gallery(client, sort="votes")

    assert listed_codes(response) == expected
    assert tags(response, "option", value="votes")
    page = text_of(response)
    assert "120 votes" in page and "42 votes" in page


def test_votes_order_and_counts_hidden_until_the_close(client, db, contest, author, reads):
    contest.vote_counts = VoteCountDisplay.after_close
    db.commit()
    entries = [
        make_entry(db, contest, author, vote_count=count, shuffle_key=key)
        for count, key in ((5, 100), (120, 300), (42, 200))
    ]
    set_seed(client, 0)

    response = gallery(client, sort="votes")

    # Ignored: the random order from the visitor's seed, not the (secret) counts.
    by_key = [e.code for e in sorted(entries, key=lambda e: e.shuffle_key)]
    assert listed_codes(response) == by_key
    assert not tags(response, "option", value="votes")
    assert tags(response, "option", value="random")[0].get("selected") is not None
    assert "gallery-votes" not in response.get_data(as_text=True)


def test_votes_order_offered_again_after_the_close(client, db, contest, author, reads):
    contest.vote_counts = VoteCountDisplay.after_close
    contest.voting_opens_at = now_utc() - timedelta(days=20)
    contest.voting_closes_at = now_utc() - timedelta(days=1)
    db.commit()
    low, high = make_entry(db, contest, author, vote_count=1), make_entry(db, contest, author, vote_count=9)
    assert listed_codes(gallery(client, sort="votes")) == [high.code, low.code]


def test_a_large_sets_most_voted_order_follows_the_votes_as_the_pages_do(
    client, db, contest, author, cache_on, monkeypatch
):
    """A large set's "most voted" pages sort by the counters' copy (rank_votes), made again
    when the gallery's kept data expires (GALLERY_CACHE_S): as fresh as the pages."""
    monkeypatch.setattr("contest.gallery.sets.SMALL_SET", 0)  # read page by page
    low, high = make_entry(db, contest, author, vote_count=1), make_entry(db, contest, author, vote_count=5)
    assert listed_codes(gallery(client, sort="votes")) == [high.code, low.code]
    db.expire_all()
    assert (low.rank_votes, high.rank_votes) == (1, 5)  # copied before the page was read

    low.vote_count = 9  # votes come in (no index holds the counter)
    db.commit()
    assert listed_codes(gallery(client, sort="votes")) == [high.code, low.code]  # the kept order
    cache_on.clear()  # what is kept expires
    assert listed_codes(gallery(client, sort="votes")) == [low.code, high.code]


def test_the_counters_copy_edits_no_entry(db, contest, author):
    entries = [make_entry(db, contest, author, vote_count=count) for count in (0, 3, 7)]
    db.execute(update(Entry).values(rank_votes=1, updated_at=Entry.updated_at))
    db.commit()
    edited, version = [e.updated_at for e in entries], public_version(db, contest)

    assert ranks.refresh(db, contest.id) == 3
    db.expire_all()
    assert [e.rank_votes for e in entries] == [0, 3, 7]
    assert [e.updated_at for e in entries] == edited
    assert public_version(db, contest) == version  # the public pages stay as they are
    assert ranks.refresh(db, contest.id) == 0  # nothing differs any more


# --- the random order ------------------------------------------------------------------------
@pytest.fixture
def forty_entries(db, contest, author) -> list[Entry]:
    # Keys spread over the whole range, in a scrambled creation order.
    keys = [(i * 7919 % 40) * 50_000_000 + 12_345 for i in range(40)]
    return [
        make_entry(db, contest, author, shuffle_key=key, title=f"Entry {i}") for i, key in enumerate(keys)
    ]


def wrapped_order(entries: list[Entry], start: int) -> list[str]:
    ordered = sorted(entries, key=lambda e: (e.shuffle_key, e.id))
    return [e.code for e in ordered if e.shuffle_key >= start] + [
        e.code for e in ordered if e.shuffle_key < start
    ]


def seed_starting_near(target: int, buckets: int) -> tuple[int, int]:
    """A seed whose random order starts at ``target`` or above it (the nearest) on DAY, and that start."""
    seed = min(range(buckets), key=lambda s: (start_of(s, buckets) - target) % SEED_SPACE)
    return seed, start_of(seed, buckets)


def test_random_order_is_stable_per_visitor_and_differs_between_visitors(app, db, forty_entries, reads):
    first, second = app.test_client(), app.test_client()
    set_seed(first, 2)
    set_seed(second, 3)
    buckets = reads.buckets(40)

    first_page = listed_codes(gallery(first))
    second_page = listed_codes(gallery(second))

    assert first_page == wrapped_order(forty_entries, start_of(2, buckets))[:PER_PAGE]
    assert second_page == wrapped_order(forty_entries, start_of(3, buckets))[:PER_PAGE]
    assert first_page[0] != second_page[0] and first_page != second_page
    # The same visitor sees the same order on every visit.
    assert listed_codes(gallery(first)) == first_page
    assert listed_codes(gallery(first, sort="random")) == first_page


def test_visitors_share_one_of_the_bucket_orders(app, db, forty_entries, reads):
    """Seeds that pick the same starting point see the same pages (what makes them cacheable)."""
    first, second = app.test_client(), app.test_client()
    set_seed(first, 5)
    set_seed(second, 5 + 7 * RANDOM_ORDER_BUCKETS)
    assert listed_codes(gallery(first)) == listed_codes(gallery(second))


def test_the_starting_points_are_evenly_spread_and_shared_by_smaller_sets():
    starts = sorted({start_of(seed) for seed in range(3 * RANDOM_ORDER_BUCKETS)})
    assert len(starts) == RANDOM_ORDER_BUCKETS
    assert {b - a for a, b in itertools.pairwise(starts)} == {SEED_SPACE // RANDOM_ORDER_BUCKETS}
    # A small set's few points are some of the large set's: a seed keeps its place among them.
    for buckets in (1, 2, 4, 8, 16):
        assert {start_of(seed, buckets) for seed in range(64)} < set(starts)


@pytest.mark.parametrize(
    ("size", "buckets"),
    [(0, 1), (1, 1), (24, 1), (25, 2), (48, 2), (49, 4), (96, 4), (97, 8), (143, 8), (400, 32), (None, 32)],
)
def test_a_set_gets_about_one_starting_point_per_page(size, buckets):
    assert order_buckets(size) == buckets


def test_the_starting_points_turn_each_day(client, forty_entries, monkeypatch, reads):
    set_seed(client, 3)
    today = listed_codes(gallery(client))
    tomorrow = DAY + timedelta(days=1)
    monkeypatch.setattr("contest.gallery.views.vn_today", lambda: tomorrow)

    turned = listed_codes(gallery(client))

    assert turned == wrapped_order(forty_entries, random_start(3, tomorrow, reads.buckets(40)))[:PER_PAGE]
    assert turned != today


def test_random_order_wraps_around_and_covers_every_entry_once(client, forty_entries, reads):
    keys = sorted(e.shuffle_key for e in forty_entries)
    seed, start = seed_starting_near(keys[1] + 1, reads.buckets(40))  # keys above it first, then below
    assert keys[0] < start < keys[-1]
    set_seed(client, seed)

    page_one = gallery(client)
    page_two = gallery(client, page=2)
    page_three = gallery(client, page=3)

    seen = listed_codes(page_one) + listed_codes(page_two)
    assert seen == wrapped_order(forty_entries, start)
    assert len(seen) == len(set(seen)) == 40
    assert listed_codes(page_three) == []
    assert tags(page_one, "a", rel="next") and not tags(page_two, "a", rel="next")


def test_random_order_page_after_the_wrap(client, db, contest, author, reads):
    """The second page starts inside the keys below the start (the first part is counted)."""
    seed, start = seed_starting_near(2**30, reads.buckets(3 + PER_PAGE + 5))
    high = [make_entry(db, contest, author, shuffle_key=start + i) for i in range(3)]
    low = [make_entry(db, contest, author, shuffle_key=i) for i in range(PER_PAGE + 5)]
    set_seed(client, seed)

    assert listed_codes(gallery(client)) == [e.code for e in high + low][:PER_PAGE]
    assert listed_codes(gallery(client, page=2)) == [e.code for e in low[PER_PAGE - 3 :]]


def test_a_new_visitor_gets_a_seed_kept_in_the_session(client, db, contest, author):
    for _ in range(3):
        make_entry(db, contest, author)
    gallery(client)
    with client.session_transaction() as session:
        seed = session[SEED_SESSION_KEY]
    assert isinstance(seed, int) and 0 <= seed < 2**31
    gallery(client, page=2)
    with client.session_transaction() as session:
        assert session[SEED_SESSION_KEY] == seed


def test_a_broken_seed_is_replaced(client, db, contest, author):
    make_entry(db, contest, author)
    set_seed(client, -5)
    gallery(client)
    with client.session_transaction() as session:
        assert 0 <= session[SEED_SESSION_KEY] < 2**31


# --- pages ------------------------------------------------------------------------------------
def test_pagination_with_previous_and_next(client, db, contest, author, reads):
    entries = [make_entry(db, contest, author, minutes_ago=i) for i in range(PER_PAGE + 6)]

    first = gallery(client, sort="newest", place="vinh")
    second = gallery(client, sort="newest", place="vinh", page=2)

    assert listed_codes(first) == [e.code for e in entries[:PER_PAGE]]
    assert listed_codes(second) == [e.code for e in entries[PER_PAGE:]]
    next_link = tags(first, "a", rel="next")[0]["href"]
    assert parse_qs(urlsplit(next_link).query) == {"sort": ["newest"], "place": ["vinh"], "page": ["2"]}
    assert not tags(first, "a", rel="prev")
    previous_link = tags(second, "a", rel="prev")[0]["href"]
    assert parse_qs(urlsplit(previous_link).query) == {"sort": ["newest"], "place": ["vinh"]}
    assert not tags(second, "a", rel="next")
    assert "Page 2" in text_of(second)
    assert gallery(client, page="abc").status_code == 200


def test_gallery_queries_do_not_grow_with_the_page(app, client, db, contest, author, storage):
    """No N+1: a full page costs as many queries as a page of one entry."""
    engine = app.extensions["db"].engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries_for_page() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            gallery(client, sort="newest")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    first = make_entry(db, contest, author)
    add_photo_renditions(db, storage, first)
    one = queries_for_page()
    for _ in range(PER_PAGE):
        add_photo_renditions(db, storage, make_entry(db, contest, author))
    assert queries_for_page() == one


def test_result_cache_serves_logged_in_visitors_per_filter(app, client, db, contest, author, cache_on):
    """Logged-in visitors get their own page, built from the shared query results."""
    log_in(client, author)
    first = make_entry(db, contest, author)
    assert listed_codes(gallery(client, sort="newest")) == [first.code]
    second = make_entry(db, contest, author)
    # The same query within the lifetime: the stored result.
    assert listed_codes(gallery(client, sort="newest")) == [first.code]
    # Another filter is another result.
    assert set(listed_codes(gallery(client, sort="newest", place="vinh"))) == {first.code, second.code}
    # The stored rows show in the visitor's language.
    with client.session_transaction() as session:
        session["lang"] = "vi"
    assert "Thành phố Vinh" in text_of(client.get("/gallery?sort=newest"))


# --- the page cache (anonymous visitors) -----------------------------------------------------
@pytest.fixture
def cache_on(app, monkeypatch):
    """The gallery's caches on (the tests' configuration has them off), empty before and after.

    The contest's public version is looked at again only when a test asks for it
    (``version_checked_each_request``), never by chance of the clock."""
    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 3600)
    monkeypatch.setattr("contest.gallery.views.VERSION_CHECK_S", 3600)
    caches = app.extensions["gallery_cache"]
    caches.clear()
    yield caches
    caches.clear()


@contextmanager
def sql_statements(app) -> Iterator[list[str]]:
    """The SQL statements the application runs inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    engine = app.extensions["db"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def photo(db, contest, author, storage) -> Entry:
    entry = make_entry(db, contest, author, title="Hoa sen")
    add_photo_renditions(db, storage, entry)
    return entry


def test_an_anonymous_repeat_is_served_from_the_page_cache(app, client, db, contest, author, photo, cache_on):
    first_gallery, first_entry = gallery(client), client.get(f"/e/{photo.code}", headers=EN)

    with sql_statements(app) as seen:
        again_gallery, again_entry = gallery(client), client.get(f"/e/{photo.code}", headers=EN)

    assert seen == []
    assert again_gallery.data == first_gallery.data and again_entry.data == first_entry.data
    assert listed_codes(again_gallery) == [photo.code]
    for response in (again_gallery, again_entry):
        assert response.cache_control.public and 0 < response.cache_control.max_age <= 3600
        assert {"Cookie", "Accept-Language"} <= set(response.vary)
        assert response.get_etag()[0]


@pytest.fixture
def version_checked_each_request(monkeypatch):
    """Every request looks at the contest's public version (a web process does every second)."""
    monkeypatch.setattr("contest.gallery.views.VERSION_CHECK_S", 0)


def public_version(db, contest) -> int:
    return db.scalar(select(Contest.public_version).where(Contest.id == contest.id))


def test_an_approval_and_a_take_down_show_at_once_on_kept_pages(
    app, client, db, contest, author, photo, cache_on, version_checked_each_request
):
    assert listed_codes(gallery(client)) == [photo.code]
    assert client.get(f"/e/{photo.code}", headers=EN).status_code == 200
    waiting = make_entry(db, contest, author, status=EntryStatus.pending_review, title="Chờ duyệt")
    with sql_statements(app) as seen:
        assert listed_codes(gallery(client)) == [photo.code]
    reads = [s for s in seen if s.startswith("SELECT")]
    assert len(reads) == 1 and "public_version" in reads[0]  # not public yet: the kept page holds

    waiting.transition(EntryStatus.approved)
    db.commit()
    assert sorted(listed_codes(gallery(client))) == sorted([photo.code, waiting.code])

    photo.transition(EntryStatus.withdrawn)
    db.commit()
    assert listed_codes(gallery(client)) == [waiting.code]
    assert client.get(f"/e/{photo.code}", headers=EN).status_code == 404


def test_an_edited_title_shows_at_once_on_kept_pages(
    app, client, db, contest, photo, cache_on, version_checked_each_request
):
    assert "Hoa sen" in text_of(gallery(client))
    photo.title = "Hoa sen Kim Liên"
    db.commit()
    assert "Hoa sen Kim Liên" in text_of(gallery(client))
    assert "Hoa sen Kim Liên" in text_of(client.get(f"/e/{photo.code}", headers=EN))


def test_a_vote_fills_its_count_into_the_kept_page_without_making_it_again(
    app, client, db, forty_entries, cache_on, monkeypatch
):
    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 15)  # the page itself: 5 minutes (its cards')
    clock = [time.monotonic()]
    monkeypatch.setattr("contest.gallery.cache.time.monotonic", lambda: clock[0])
    set_seed(client, 3)
    first = gallery(client, sort="newest")
    top = forty_entries[-1]
    # As the vote's own statement does: the counter moves outside the ORM.
    db.execute(update(Entry).where(Entry.id == top.id).values(vote_count=41))
    db.commit()
    assert gallery(client, sort="newest").data == first.data  # the counts' copy still lives
    clock[0] += 16  # it expires; the page does not

    with sql_statements(app) as seen:
        again = gallery(client, sort="newest")

    assert "41 votes" in text_of(again) and text_of(again).count("0 votes") == PER_PAGE - 1
    read_entries = [s for s in seen if "FROM entries" in s]
    assert len(read_entries) == 1 and "entries.id IN" in read_entries[0]  # the counts, by id
    assert not [s for s in seen if "media_assets" in s or "ORDER BY entries" in s]
    assert again.get_etag()[0] != first.get_etag()[0]
    stale = client.get("/gallery?sort=newest", headers={**EN, "If-None-Match": first.headers["ETag"]})
    assert stale.status_code == 200 and stale.data == again.data


def test_what_moves_the_public_version_on(db, contest, author, storage):
    before = public_version(db, contest)
    entry = make_entry(db, contest, author, status=EntryStatus.pending_review)  # moves the code counter
    entry.title = "Chưa công khai"
    add_photo_renditions(db, storage, entry)
    db.commit()
    assert public_version(db, contest) == before  # nothing of it is public yet

    entry.transition(EntryStatus.approved)
    db.commit()
    assert public_version(db, contest) == before + 1
    entry.vote_count += 5  # the counts are filled in as pages are served
    db.commit()
    assert public_version(db, contest) == before + 1

    changes = {
        "title": lambda: setattr(entry, "title", "Đã sửa"),
        "author's name": lambda: setattr(author, "full_name", "Tên mới"),
        "rendition": lambda: add_photo_renditions(db, storage, entry, position=1),
        "category": lambda: setattr(category(contest, CategoryKind.photo), "name_en", "Photographs"),
        "contest": lambda: setattr(contest, "title_en", "Happy Nghe An 2026"),
        "take-down": lambda: entry.transition(EntryStatus.withdrawn),
    }
    for what, change in changes.items():
        before = public_version(db, contest)
        change()
        db.commit()
        assert public_version(db, contest) > before, what


def test_a_cached_page_answers_a_conditional_request(app, client, photo, cache_on):
    etag = client.get(f"/e/{photo.code}", headers=EN).get_etag()[0]
    with sql_statements(app) as seen:
        response = client.get(f"/e/{photo.code}", headers={**EN, "If-None-Match": f'"{etag}"'})
    assert response.status_code == 304 and response.data == b""
    assert seen == []


@pytest.mark.parametrize("page", ["/gallery", "/e/{code}"])
def test_a_logged_in_visitor_never_gets_the_anonymous_page(app, db, photo, stranger, cache_on, page):
    anonymous, voter = app.test_client(), app.test_client()
    log_in(voter, stranger)
    path = page.format(code=photo.code)

    before = anonymous.get(path, headers=EN)
    with sql_statements(app) as seen:
        own = voter.get(path, headers=EN)
    after = anonymous.get(path, headers=EN)

    assert seen, "the logged-in visitor's page is made for them"
    assert "Log out" in text_of(own) and "Log out" not in text_of(before) + text_of(after)
    assert own.cache_control.private and not own.cache_control.public
    assert after.data == before.data
    if page == "/e/{code}":
        assert "Vote for this entry" in text_of(own) and 'name="csrf_token"' in text_of(own)
        assert "Log in to vote" in text_of(after) and "Vote for this entry" not in text_of(after)


@pytest.mark.parametrize("page", ["/gallery", "/e/{code}"])
def test_a_visitor_known_only_by_the_remember_cookie_never_gets_the_anonymous_page(
    app, db, photo, stranger, cache_on, page
):
    anonymous, returning = app.test_client(), app.test_client()
    path = page.format(code=photo.code)
    # In the account's language (Vietnamese), so that the anonymous copy is the one its key finds.
    kept = anonymous.get(path)
    login = {"email": stranger.email, "password": PASSWORD, "remember": "y"}
    assert returning.post("/account/login", data=login).status_code == 302
    returning.delete_cookie("session")  # a new browser session: only "keep me logged in" is left

    own = returning.get(path)

    logout_form = 'action="/account/logout"'  # in the account's own language: look for the form
    assert logout_form in text_of(own) and logout_form not in text_of(kept)
    assert own.cache_control.private


@pytest.mark.parametrize("page", ["/gallery", "/e/{code}"])
def test_a_logged_in_visitors_page_is_never_kept_for_others(app, db, photo, stranger, cache_on, page):
    anonymous, voter = app.test_client(), app.test_client()
    log_in(voter, stranger)
    path = page.format(code=photo.code)

    voter.get(path, headers=EN)
    seen_by_anonymous = text_of(anonymous.get(path, headers=EN))

    assert "Log out" not in seen_by_anonymous and "My entries" not in seen_by_anonymous
    assert "csrf_token" not in seen_by_anonymous


def test_anonymous_pages_hold_nothing_of_the_session(app, photo, cache_on):
    first, second = app.test_client(), app.test_client()
    token = "5e0b8f0d8a1c4f2e9b7d6c5a4f3e2d1c0b9a8f7e"
    with first.session_transaction() as session:
        session["csrf_token"] = token  # as after a form page: what the old language forms embedded
    set_seed(first, 7)
    set_seed(second, 7 + RANDOM_ORDER_BUCKETS)  # another visitor, same order

    for path in ("/gallery", f"/e/{photo.code}", "/gallery?q=sen&page=1"):
        mine, theirs = first.get(path, headers=EN), second.get(path, headers=EN)
        assert mine.data == theirs.data  # the second visitor's copy is the first one's
        page = mine.get_data(as_text=True)
        assert "csrf_token" not in page and token not in page


def test_a_flashed_message_is_never_shared(app, photo, cache_on):
    flashed, other = app.test_client(), app.test_client()
    set_seed(flashed, 3)
    set_seed(other, 3)
    with flashed.session_transaction() as session:
        session["_flashes"] = [("success", "Your vote counts: thank you!")]

    assert "Your vote counts: thank you!" in text_of(flashed.get("/gallery", headers=EN))
    assert "Your vote counts: thank you!" not in text_of(other.get("/gallery", headers=EN))


def test_cache_keys_separate_languages(app, photo, cache_on):
    visitor = app.test_client()
    set_seed(visitor, 3)
    for path in ("/gallery", f"/e/{photo.code}"):
        english = visitor.get(path, headers=EN)
        vietnamese = visitor.get(path)
        assert '<html lang="en">' in english.get_data(as_text=True)
        assert '<html lang="vi">' in vietnamese.get_data(as_text=True)
        assert '<html lang="en">' in visitor.get(path, headers=EN).get_data(as_text=True)


def test_cache_keys_separate_random_order_buckets(app, forty_entries, cache_on):
    first, second, third = app.test_client(), app.test_client(), app.test_client()
    set_seed(first, 2)
    set_seed(second, 3)
    set_seed(third, 2 + RANDOM_ORDER_BUCKETS)
    buckets = order_buckets(40)  # 40 entries: read whole, 2 pages, 2 starting points

    first_page, second_page = listed_codes(gallery(first)), listed_codes(gallery(second))
    with sql_statements(app) as seen:
        third_page = listed_codes(gallery(third))

    assert first_page == wrapped_order(forty_entries, start_of(2, buckets))[:PER_PAGE]
    assert second_page == wrapped_order(forty_entries, start_of(3, buckets))[:PER_PAGE]
    assert first_page != second_page
    assert third_page == first_page and seen == []


def test_an_exact_code_search_is_one_page_for_every_order(app, forty_entries, cache_on):
    first, second = app.test_client(), app.test_client()
    set_seed(first, 3)
    set_seed(second, 17)
    code = forty_entries[5].code

    assert listed_codes(gallery(first, q=code.lower())) == [code]
    with sql_statements(app) as seen:
        assert listed_codes(gallery(second, q=code.lower())) == [code]
    assert seen == []


def test_the_entry_page_copy_ends_when_voting_closes(client, db, contest, photo, cache_on):
    contest.voting_closes_at = now_utc() + timedelta(seconds=30)
    db.commit()
    client.get(f"/e/{photo.code}", headers=EN)  # the visitor's first answer sets their cookie

    again = client.get(f"/e/{photo.code}", headers=EN)

    assert again.cache_control.public and again.cache_control.max_age <= 30


def test_the_cards_are_rendered_once_for_every_page_they_appear_in(app, client, forty_entries, cache_on):
    set_seed(client, 3)
    gallery(client, sort="newest")
    with sql_statements(app) as seen:
        gallery(client, sort="newest", place="vinh")  # the same 24 cards, another page
    assert not [s for s in seen if "media_assets" in s]


def test_a_vote_moves_the_count_on_a_kept_card_without_rendering_it_again(
    app, client, db, contest, forty_entries, cache_on
):
    set_seed(client, 3)
    first = gallery(client, sort="newest")
    top = forty_entries[-1]
    assert f"{top.code}" in text_of(first)
    top.vote_count = 41
    db.commit()
    cache_on.data.clear()  # the page's rows are read again (their copy lives GALLERY_CACHE_S)
    cache_on.counts.clear()  # and so are the counts (theirs too)
    cache_on.pages.clear()

    with sql_statements(app) as seen:
        again = text_of(gallery(client, sort="newest"))

    assert "41 votes" in again and again.count("0 votes") == PER_PAGE - 1
    assert not [s for s in seen if "media_assets" in s]  # every card came from the cache


def test_a_large_filter_is_known_as_large_without_reading_its_rows(
    app, db, contest, author, cache_on, monkeypatch
):
    monkeypatch.setattr("contest.gallery.sets.SMALL_SET", 3)
    for i in range(5):
        make_entry(db, contest, author, title=f"Entry {i}")
    vinh = next(p.id for p in contest.places if p.code == "vinh")
    elsewhere = next(p.id for p in contest.places if p.code != "vinh")
    shown = gallery_contest(contest, version=public_version(db, contest))
    with sql_statements(app) as seen:
        for flt in (GalleryFilter(), GalleryFilter(), GalleryFilter(place_id=vinh)):  # all 5: large
            assert whole_set(cache_on.data, 60, db, shown, flt) is None
        # None there: read whole (and found empty).
        assert len(whole_set(cache_on.data, 60, db, shown, GalleryFilter(place_id=elsewhere))) == 0

    reads = [s for s in seen if s.startswith("SELECT")]
    assert len(reads) == 2 and "GROUP BY" in reads[0]  # the sizes once, then the small set's rows
    assert filter_size({(1, 1): 4, (1, 2): 2, (2, 1): 7}, GalleryFilter(place_id=1)) == 11


def test_a_searchs_size_is_kept_per_category_and_place(db, contest, author, forty_entries, cache_on):
    video = make_entry(db, contest, author, kind=CategoryKind.video, title="Entry on video")
    shown = gallery_contest(contest, version=public_version(db, contest))
    sizes = [
        found_size(cache_on.data, 60, 60, db, shown, flt)
        for flt in (
            GalleryFilter(q="Entry"),
            GalleryFilter(q="Entry", category_id=video.category_id),
            GalleryFilter(q="Entry", place_id=next(p.id for p in contest.places if p.code != "vinh")),
        )
    ]
    assert sizes == [41, 1, 0]  # each its own, though the first one was kept


def test_the_page_follows_when_vote_counts_become_public(app, client, db, contest, author, cache_on):
    contest.vote_counts = VoteCountDisplay.after_close
    db.commit()
    make_entry(db, contest, author, vote_count=7)
    assert "gallery-votes" not in gallery(client).get_data(as_text=True)

    contest.voting_closes_at = now_utc() - timedelta(minutes=1)
    contest.voting_opens_at = now_utc() - timedelta(days=9)
    db.commit()
    cache_on.data.clear()  # the contest's copy expires (its pages are still kept)

    assert "7 votes" in text_of(gallery(client))


def test_a_large_set_is_read_page_by_page_with_the_cache_on(
    app, client, db, contest, author, cache_on, monkeypatch
):
    monkeypatch.setattr("contest.gallery.sets.SMALL_SET", 3)
    entries = [make_entry(db, contest, author, minutes_ago=i) for i in range(PER_PAGE + 2)]
    assert listed_codes(gallery(client, sort="newest")) == [e.code for e in entries[:PER_PAGE]]
    assert listed_codes(gallery(client, sort="newest", page=2)) == [e.code for e in entries[PER_PAGE:]]


@pytest.mark.parametrize("sort", ["newest", "votes"])
def test_ties_are_ordered_by_the_newest_entry(client, db, contest, author, reads, sort):
    entries = [make_entry(db, contest, author, vote_count=3) for _ in range(4)]
    same_time = entries[0].approved_at
    for entry in entries:
        entry.approved_at = same_time
    db.commit()
    assert listed_codes(gallery(client, sort=sort)) == [e.code for e in reversed(entries)]


def test_ttl_cache_forgets_expired_items(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("contest.gallery.cache.time.monotonic", lambda: now[0])
    cache = TTLCache()
    cache.put("a", 1, ttl_s=10)
    assert cache.get("a") == 1
    now[0] += 10
    assert cache.get("a") is None and len(cache) == 0


def test_ttl_cache_is_bounded_by_count_and_by_size():
    by_count = TTLCache(max_items=2)
    for key in "abc":
        by_count.put(key, key, ttl_s=60)
    assert [by_count.get(key) for key in "abc"] == [None, "b", "c"]

    by_size = TTLCache(max_bytes=100)
    by_size.put("a", "a", ttl_s=60, size=40)
    by_size.put("b", "b", ttl_s=60, size=40)
    by_size.get("a")  # used: "b" is now the least recently used
    by_size.put("c", "c", ttl_s=60, size=40)
    assert [by_size.get(key) for key in "abc"] == ["a", None, "c"]
    by_size.put("big", "big", ttl_s=60, size=101)  # larger than the whole cache: not kept
    assert [by_size.get(key) for key in ("a", "c", "big")] == ["a", "c", None]


def test_ttl_cache_computes_without_keeping_while_off():
    cache, calls = TTLCache(), []
    for _ in range(2):
        cache.get_or_compute("k", 0, lambda: calls.append(1))
    assert len(calls) == 2 and len(cache) == 0
    for _ in range(2):
        cache.get_or_compute("k", 60, lambda: calls.append(1) or "v")
    assert len(calls) == 3 and cache.get("k") == "v"


# --- the language switch -----------------------------------------------------------------------
def test_the_language_switch_is_a_link_back_to_the_page(client, photo):
    page = client.get("/gallery?sort=newest&place=vinh", headers=EN)

    links = {a["hreflang"]: a["href"] for a in tags(page, "a") if "hreflang" in a}

    assert set(links) == {"vi", "en"}
    target = urlsplit(links["vi"])
    assert target.path == "/language/vi"
    assert parse_qs(target.query) == {"next": ["/gallery?sort=newest&place=vinh"]}
    assert not tags(page, "form", action="/language/vi")


def test_the_entry_pages_language_links_ignore_its_query_string(client, photo):
    page = client.get(f"/e/{photo.code}?fbclid=abc123", headers=EN)
    links = [a["href"] for a in tags(page, "a") if "hreflang" in a]
    assert links and all(parse_qs(urlsplit(link).query) == {"next": [f"/e/{photo.code}"]} for link in links)


def test_language_switch_by_get(client, contest):
    response = client.get("/language/en?next=/rules")
    assert response.status_code == 302 and response.headers["Location"] == "/rules"
    assert '<html lang="en">' in client.get("/rules").get_data(as_text=True)
    client.get("/language/vi", query_string={"next": "/gallery?sort=newest"})
    assert '<html lang="vi">' in client.get("/rules", headers=EN).get_data(as_text=True)
    assert client.get("/language/en?next=https://evil.example/").headers["Location"] == "/"
    assert client.get("/language/en?next=//evil.example/").headers["Location"] == "/"
    assert client.get("/language/fr").status_code == 404


def test_language_switch_by_get_is_kept_in_the_account(client, db, author):
    log_in(client, author, lang=None)
    client.get("/language/vi?next=/")
    db.refresh(author)
    assert author.locale == "vi"


# --- cards ------------------------------------------------------------------------------------
def test_cards_use_webp_and_jpeg_srcsets(client, db, contest, author, storage, url_of):
    photo = make_entry(db, contest, author, title="Hoa sen")
    assets = add_photo_renditions(db, storage, photo)

    response = gallery(client)

    webp = tags(response, "source", type="image/webp")
    assert len(webp) == 1
    assert webp[0]["srcset"] == (
        f"{url_of(assets[AssetKind.thumb_webp])} 400w, {url_of(assets[AssetKind.display_webp])} 1600w"
    )
    assert "50vw" in webp[0]["sizes"]
    # The card's link is named by the title beside the picture: the picture does not say it again.
    (image,) = tags(response, "img", alt="")
    assert "Hoa sen" not in str(tags(response, "img"))
    assert image["src"] == url_of(assets[AssetKind.thumb_jpeg])
    assert image["srcset"].endswith(f"{url_of(assets[AssetKind.display_jpeg])} 1600w")
    assert (image["width"], image["height"]) == ("400", "300")
    assert (
        client.get(image["src"]).data == storage.path(assets[AssetKind.thumb_jpeg].storage_key).read_bytes()
    )


def test_series_and_video_cards(client, db, contest, author, storage, url_of):
    series = make_entry(db, contest, author, kind=CategoryKind.photo_series, title="Bốn mùa")
    for position in range(4):
        add_photo_renditions(db, storage, series, position)
    video = make_entry(db, contest, author, kind=CategoryKind.video, title="Lễ hội")
    poster = add_video_renditions(db, storage, video)

    response = gallery(client)
    page = text_of(response)

    assert "4 photos" in page
    assert len(tags(response, "source", type="image/webp")) == 2
    video_image = tags(response, "img", src=url_of(poster["poster_jpeg"]))[0]
    assert video_image["alt"] == ""
    assert video_image["src"] == url_of(poster["poster_jpeg"])
    assert len(tags(response, "li", **{"class": "gallery-card gallery-card-video"})) == 1
    assert 'class="badge badge-play"' in response.get_data(as_text=True)


# --- the entry page ------------------------------------------------------------------------
def test_photo_page_shows_the_display_image_with_zoom(client, db, contest, author, storage, url_of):
    photo = make_entry(
        db,
        contest,
        author,
        title="Bình minh trên biển",
        description="Thuyền về bến.\nSáng sớm.",
        place_code="cua-lo",
    )
    assets = add_photo_renditions(db, storage, photo)

    response = client.get(f"/e/{photo.code}", headers=EN)

    assert response.status_code == 200
    page = text_of(response)
    for text in ("Bình minh trên biển", "Thuyền về bến.", "Trần Thị Hoa", "Cua Lo Town", "Photo", photo.code):
        assert text in page
    assert "Jun 1, 2024" in page
    zoom = tags(response, "a", **{"data-zoom": ""})
    assert len(zoom) == 1 and zoom[0]["href"] == url_of(assets[AssetKind.display_jpeg])
    source = tags(response, "source", type="image/webp")[0]
    assert source["srcset"].endswith(f"{url_of(assets[AssetKind.display_webp])} 1600w")
    assert "1068px" in source["sizes"]
    assert tags(response, "script", src="/static/js/gallery.js")
    assert tags(response, "section", **{"class": "vote-box"}) or "data-vote-box" in response.get_data(
        as_text=True
    )


def test_series_page_has_a_carousel_with_counters(client, db, contest, author, storage, url_of):
    series = make_entry(db, contest, author, kind=CategoryKind.photo_series, title="Mùa vàng")
    assets = [add_photo_renditions(db, storage, series, position) for position in range(3)]

    response = client.get(f"/e/{series.code}", headers=EN)

    page = text_of(response)
    slides = tags(response, "li", **{"data-series-slide": ""})
    assert [s["id"] for s in slides] == ["photo-1", "photo-2", "photo-3"]
    assert re.findall(r'class="series-counter">(\d / \d)<', page) == ["1 / 3", "2 / 3", "3 / 3"]
    assert [a["href"] for a in tags(response, "a", **{"data-series-go": ""})] == [
        "#photo-2",
        "#photo-1",
        "#photo-3",
        "#photo-2",
    ]
    zooms = [a["href"] for a in tags(response, "a", **{"data-zoom": ""})]
    assert zooms == [url_of(a[AssetKind.display_jpeg]) for a in assets]
    assert "Mùa vàng, photo 2" in page


def test_video_page_has_a_player_with_poster_and_renditions(client, db, contest, author, storage, url_of):
    video = make_entry(db, contest, author, kind=CategoryKind.video, title="Lễ hội đền Cuông")
    assets = add_video_renditions(db, storage, video)

    response = client.get(f"/e/{video.code}", headers=EN)

    player = tags(response, "video")
    assert len(player) == 1
    assert {"controls", "playsinline"} <= set(player[0]) and player[0]["preload"] == "metadata"
    assert player[0]["poster"] == url_of(assets["poster_jpeg"])
    sources = tags(response, "source", type="video/mp4")
    assert [s["data-label"] for s in sources] == ["720p", "1080p", "480p"]
    assert [s["src"] for s in sources] == [url_of(assets[label]) for label in ("720p", "1080p", "480p")]
    links = [a["href"] for a in tags(response, "a", type="video/mp4")]
    assert links == [s["src"] for s in sources]
    assert client.get(sources[0]["src"]).data == real_video_source().read_bytes()


def test_open_graph_and_twitter_tags(client, db, contest, author, storage):
    photo = make_entry(db, contest, author, title="Làng sen quê Bác", description="Mùa sen nở. " * 40)
    add_photo_renditions(db, storage, photo)

    response = client.get(f"/e/{photo.code}", headers=EN)

    canonical = f"{BASE}/e/{photo.code}"
    image = f"{BASE}/e/{photo.code}/og.jpg"
    assert meta(response, "og:type") == "article"
    assert meta(response, "og:title") == "Làng sen quê Bác"
    assert meta(response, "og:url") == canonical
    assert meta(response, "og:image") == image
    assert meta(response, "og:image:type") == "image/jpeg"
    assert (meta(response, "og:image:width"), meta(response, "og:image:height")) == ("1600", "1200")
    assert meta(response, "og:image:alt") == "Làng sen quê Bác"
    assert meta(response, "og:site_name") == "Happy Nghe An"
    assert meta(response, "og:locale") == "en_US"
    description = meta(response, "og:description")
    assert description.startswith("Mùa sen nở.") and description.endswith("…") and len(description) <= 200
    assert meta(response, "twitter:card") == "summary_large_image"
    assert meta(response, "twitter:title") == "Làng sen quê Bác"
    assert meta(response, "twitter:description") == description
    assert meta(response, "twitter:image") == image
    assert tags(response, "link", rel="canonical")[0]["href"] == canonical
    # In Vietnamese, the same tags say so.
    assert meta(client.get(f"/e/{photo.code}"), "og:locale") == "vi_VN"


def test_description_falls_back_to_author_and_place(client, db, contest, author, storage):
    photo = make_entry(db, contest, author, title="Không lời", place_code="nam-dan")
    add_photo_renditions(db, storage, photo)
    response = client.get(f"/e/{photo.code}", headers=EN)
    assert meta(response, "og:description") == "By Trần Thị Hoa, Nam Dan District. Happy Nghe An 2025"


def test_share_links_and_qr_code(client, db, contest, author, storage, app):
    photo = make_entry(db, contest, author)
    add_photo_renditions(db, storage, photo)
    canonical = f"{BASE}/e/{photo.code}"

    response = client.get(f"/e/{photo.code}", headers=EN)

    facebook = tags(response, "a", **{"class": "button share-facebook"})[0]["href"]
    assert facebook.startswith("https://www.facebook.com/sharer/sharer.php?")
    # The shared links name their channel (?src=), which the figures count visits by.
    assert parse_qs(urlsplit(facebook).query) == {"u": [canonical + "?src=facebook"]}
    zalo = tags(response, "button", **{"data-share-zalo": ""})[0]
    assert zalo["data-url"] == canonical + "?src=zalo"
    assert tags(response, "input", id="share-url")[0]["value"] == canonical
    assert tags(response, "button", **{"data-copy-link": ""})
    qr = tags(response, "img", **{"class": "qr-code"})[0]
    assert qr["src"] == f"/e/{photo.code}/qr.svg" and qr["alt"] == "QR code of the link to this entry"

    image = client.get(qr["src"])
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    with app.app_context():
        assert image.data == qr_svg(canonical)  # the code of the canonical short link
    root = ElementTree.fromstring(image.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == root.get("height")
    assert image.headers["Cache-Control"] == "public, max-age=86400"
    again = client.get(qr["src"], headers={"If-None-Match": image.headers["ETag"]})
    assert again.status_code == 304


def test_no_qr_code_for_an_entry_not_yet_public_not_even_for_its_author(client, db, contest, author):
    pending = make_entry(db, contest, author, status=EntryStatus.pending_review)
    assert client.get(f"/e/{pending.code}/qr.svg").status_code == 404
    assert client.get("/e/HNA25-9999/qr.svg").status_code == 404
    log_in(client, author)  # a preview shares nothing (issue 17)
    assert client.get(f"/e/{pending.code}/qr.svg").status_code == 404


def test_og_image_redirects_to_the_display_jpeg(client, db, contest, author, storage):
    photo = make_entry(db, contest, author)
    assets = add_photo_renditions(db, storage, photo)

    response = client.get(f"/e/{photo.code.lower()}/og.jpg")

    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert response.location.startswith(f"{BASE}/media/public/")
    served = client.get(response.location)
    expected = storage.path(assets[AssetKind.display_jpeg].storage_key).read_bytes()
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == expected
    with Image.open(io.BytesIO(served.data)) as image:
        assert (image.format, image.size) == ("JPEG", (1600, 1200))


def test_og_image_of_a_series_and_a_video(client, db, contest, author, storage):
    series = make_entry(db, contest, author, kind=CategoryKind.photo_series)
    first = add_photo_renditions(db, storage, series, 0)
    add_photo_renditions(db, storage, series, 1)
    video = make_entry(db, contest, author, kind=CategoryKind.video)
    poster = add_video_renditions(db, storage, video)

    series_image = client.get(client.get(f"/e/{series.code}/og.jpg").location)
    video_image = client.get(client.get(f"/e/{video.code}/og.jpg").location)

    assert series_image.data == storage.path(first[AssetKind.display_jpeg].storage_key).read_bytes()
    assert video_image.data == storage.path(poster["poster_jpeg"].storage_key).read_bytes()
    video_page = client.get(f"/e/{video.code}", headers=EN)
    assert (meta(video_page, "og:image:width"), meta(video_page, "og:image:height")) == ("1280", "720")


def test_og_image_missing_or_not_public_is_404(client, db, contest, author, storage):
    no_renditions = make_entry(db, contest, author)
    pending = make_entry(db, contest, author, status=EntryStatus.pending_review)
    add_photo_renditions(db, storage, pending)
    assert client.get(f"/e/{no_renditions.code}/og.jpg").status_code == 404
    assert client.get(f"/e/{pending.code}/og.jpg").status_code == 404
    assert client.get("/e/HNA25-9999/og.jpg").status_code == 404


def test_short_link_is_case_insensitive(client, db, contest, author):
    entry = make_entry(db, contest, author)
    response = client.get(f"/e/{entry.code.lower()}", headers=EN)
    assert response.status_code == 301
    assert urlsplit(response.location).path == f"/e/{entry.code}"
    assert client.get(response.location, headers=EN).status_code == 200
    assert client.get("/e/HNA25-9999", headers=EN).status_code == 404
    assert client.get("/e/hna25-9999", headers=EN, follow_redirects=True).status_code == 404


@pytest.mark.parametrize("status", [EntryStatus.pending_review, EntryStatus.rejected, EntryStatus.withdrawn])
@pytest.mark.parametrize("viewer", ["anonymous", "stranger", "judge"])
def test_non_public_entry_is_404_to_others(request, client, db, contest, author, status, viewer):
    entry = make_entry(db, contest, author, status=status)
    if viewer != "anonymous":
        log_in(client, request.getfixturevalue(viewer))
    response = client.get(f"/e/{entry.code}", headers=EN)
    assert response.status_code == 404
    assert entry.title not in text_of(response)


@pytest.mark.parametrize("viewer", ["author", "organizer"])
def test_author_and_organizers_preview_a_non_public_entry(
    request, client, db, contest, author, storage, viewer
):
    entry = make_entry(db, contest, author, status=EntryStatus.pending_review, title="Chờ duyệt")
    add_photo_renditions(db, storage, entry)
    log_in(client, request.getfixturevalue(viewer))

    response = client.get(f"/e/{entry.code}", headers=EN)

    assert response.status_code == 200
    page = text_of(response)
    assert "This entry is not public" in page and "Awaiting review" in page and "Chờ duyệt" in page
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert "no-store" in response.headers["Cache-Control"]
    assert "Vote for this entry" not in page


def test_public_entry_has_no_preview_banner(client, db, contest, author):
    entry = make_entry(db, contest, author)
    log_in(client, author)
    response = client.get(f"/e/{entry.code}", headers=EN)
    assert response.status_code == 200
    assert "This entry is not public" not in text_of(response)
    assert "X-Robots-Tag" not in response.headers


# --- access and languages ----------------------------------------------------------------------
PUBLIC_ROUTES = ["/gallery", "/e/{code}", "/e/{code}/og.jpg", "/e/{code}/qr.svg"]


@pytest.mark.parametrize("route", PUBLIC_ROUTES)
@pytest.mark.parametrize("role", ["anonymous", "entrant", "judge", "organizer"])
def test_access_matrix(request, client, db, contest, author, storage, route, role):
    entry = make_entry(db, contest, author)
    add_photo_renditions(db, storage, entry)
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.get(route.format(code=entry.code), headers=EN)
    assert response.status_code == (302 if route.endswith("og.jpg") else 200)


def test_no_contest_no_gallery(client, db):
    assert client.get("/gallery", headers=EN).status_code == 404


def test_pages_in_vietnamese_by_default_and_in_english_on_request(client, db, contest, author):
    entry = make_entry(db, contest, author, place_code="vinh")

    vi_gallery, en_gallery = client.get("/gallery"), client.get("/gallery", headers=EN)
    vi_entry, en_entry = client.get(f"/e/{entry.code}"), client.get(f"/e/{entry.code}", headers=EN)

    assert '<html lang="vi">' in vi_gallery.get_data(as_text=True)
    assert '<html lang="en">' in en_gallery.get_data(as_text=True)
    assert "Thành phố Vinh" in text_of(vi_gallery) and "Ảnh đơn" in text_of(vi_gallery)
    assert "Vinh City" in text_of(en_gallery) and "All categories" in text_of(en_gallery)
    assert "Địa điểm" in text_of(vi_entry) and "Ngày chụp" in text_of(vi_entry)
    assert "Place" in text_of(en_entry) and "Date taken" in text_of(en_entry)
    assert "Thành phố Vinh" in text_of(vi_entry) and "Vinh City" in text_of(en_entry)


# --- pages shared by every web process (PAGE_CACHE_URL, Redis) ---------------------------------
@pytest.fixture
def redis_url():
    """A real Redis on loopback (the production page cache); its keys are this test's own."""
    import redis

    url = "redis://127.0.0.1:6379/9"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis must run in CI but is not reachable: {exc}")
        pytest.skip(f"Redis not reachable: {exc}")
    return url


@pytest.fixture
def shared_cache(app, monkeypatch, redis_url):
    """The gallery's caches on, with the shared layer under a key prefix of this test's own."""
    import redis

    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 3600)
    monkeypatch.setattr("contest.gallery.views.VERSION_CHECK_S", 3600)
    prefix = f"test:{uuid.uuid4().hex}:"
    caches = GalleryCaches.create()
    caches = GalleryCaches(caches.data, caches.fragments, caches.pages, SharedPages(redis_url, prefix=prefix))
    monkeypatch.setitem(app.extensions, "gallery_cache", caches)
    yield caches
    server = redis.Redis.from_url(redis_url)
    for name in server.scan_iter(f"{prefix}*"):
        server.delete(name)


@pytest.mark.parametrize("page", ["/gallery", "/e/{code}"])
def test_a_page_made_by_one_process_is_served_by_the_others(app, db, photo, shared_cache, page):
    path = page.format(code=photo.code)
    first = app.test_client().get(path, headers=EN)
    # Written outside the ORM (the contest's version stays): it shows only on a page made again.
    db.execute(update(Entry).where(Entry.id == photo.id).values(title="A new title, not on the kept page"))
    db.commit()
    shared_cache.pages.clear()  # another process: none of this one's copies

    with sql_statements(app) as seen:
        other = app.test_client().get(path, headers=EN)

    assert other.status_code == 200 and other.data == first.data
    assert other.headers["ETag"] == first.headers["ETag"]
    assert not [s for s in seen if "FROM entries" in s]  # no page was made again
    # This process keeps its own copy now (of the gallery's, also the copy as served, counts filled in).
    assert len(shared_cache.pages) == (2 if page == "/gallery" else 1)


def test_a_shared_page_lives_what_is_left_of_its_life(app, redis_url):
    shared = SharedPages(redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    page = CachedPage(b"<p>kept</p>", "0" * 32, 0.0)
    shared.put(("/gallery", (), "en"), page, ttl_s=0.3)

    found = shared.get(("/gallery", (), "en"))
    assert found.body == page.body and found.etag == page.etag
    assert 0 < found.expires_at - time.monotonic() <= 0.3
    assert shared.get(("/gallery", (), "vi")) is None
    time.sleep(0.35)
    assert shared.get(("/gallery", (), "en")) is None


def test_an_unreachable_page_cache_leaves_the_pages_working(app, db, photo, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 3600)
    closed = SharedPages("redis://127.0.0.1:1/0", timeout_s=0.2)
    kept = GalleryCaches.create()
    monkeypatch.setitem(
        app.extensions, "gallery_cache", GalleryCaches(kept.data, kept.fragments, kept.pages, closed)
    )
    client = app.test_client()

    assert client.get("/gallery", headers=EN).status_code == 200
    assert "unreachable" in caplog.text
    started = time.monotonic()
    assert client.get(f"/e/{photo.code}", headers=EN).status_code == 200  # not asked again for a while
    assert time.monotonic() - started < 0.2
