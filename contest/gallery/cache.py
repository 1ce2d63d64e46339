"""What the public pages reuse within one web process: pages, parts of pages, the contest.

Everything kept here is public (what any visitor may see). Whatever shows votes, approvals
or the gallery's order lives ``GALLERY_CACHE_S`` seconds at most, so a vote, an approval or
an organizer's edit shows within that time. Parts of pages that depend only on what their
key holds (a card: its entry's row and the contest's names; the filter form) live longer,
FRAGMENT_CACHE_S: what they hold besides is an entry's renditions and their URLs.

The rendered-page cache serves anonymous visitors only (no logged-in user, no flashed message
waiting): their pages carry nothing of their own session. Its key is everything a page
depends on: the path, the query string (every argument, in order within a name: a page's
links repeat them, so one visitor's arguments never show in another's page), the language,
whether vote counts are public, where the visitor's random order starts, and the contest's
public version (contest.gallery.versions), which every change of what the page shows moves
on. A gallery page keeps a slot for each card's vote count (``votes_slot``), filled in as
it is served (contest.gallery.views): the counts move by the second, the rest of the page
only with the version, so the page itself can live as long as its cards.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property

from flask import Response, current_app, request, session
from flask_babel import get_locale
from markupsafe import Markup

from contest.auth.policy import is_anonymous

# Per process: each of gunicorn's workers keeps its own. A gallery page is about 30 KB, an entry
# page 8 KB; least recently used pages go first. A gallery page is kept twice: as made (with
# slots for its vote counts) and as served (the counts filled in).
PAGE_CACHE_BYTES = 96 * 2**20
FRAGMENT_CACHE_BYTES = 16 * 2**20
DATA_CACHE_BYTES = 32 * 2**20
COUNT_ITEMS = 100_000
# At most a quarter of a signed media URL's life (MEDIA_URL_EXPIRES_S): a kept card's links
# still work long after it is served.
FRAGMENT_CACHE_S = 300
_MISSING = object()


class TTLCache:
    """An in-process LRU cache whose items expire, bounded by count and optionally by size."""

    def __init__(self, max_items: int = 1024, max_bytes: int | None = None) -> None:
        self.max_items, self.max_bytes = max_items, max_bytes
        self._items: OrderedDict[Hashable, tuple[float, object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        """The live value of ``key``, or ``default``."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return default
            if item[0] <= time.monotonic():
                self._drop(key)
                return default
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, value: object, ttl_s: float, size: int = 0) -> None:
        if ttl_s <= 0 or (self.max_bytes is not None and size > self.max_bytes):
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (time.monotonic() + ttl_s, value, size)
            self._bytes += size
            while self._items and (
                len(self._items) > self.max_items
                or (self.max_bytes is not None and self._bytes > self.max_bytes)
            ):
                self._drop(next(iter(self._items)))

    def get_or_compute(
        self,
        key: Hashable,
        ttl_s: float,
        compute: Callable[[], object],
        size: Callable[[object], int] | None = None,
    ):
        """The live value of ``key``, else ``compute()`` kept ``ttl_s`` (weighing ``size(value)``)."""
        value = self.get(key, _MISSING) if ttl_s > 0 else _MISSING
        if value is _MISSING:
            value = compute()
            self.put(key, value, ttl_s, size=size(value) if size else 0)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def _drop(self, key: Hashable) -> None:
        self._bytes -= self._items.pop(key)[2]


@dataclass(frozen=True)
class GalleryCaches:
    """The app's caches (``app.extensions["gallery_cache"]``); clear() empties them all."""

    data: TTLCache  # the current contest, what the gallery's filters find
    fragments: TTLCache  # gallery cards rendered in one language
    pages: TTLCache  # whole pages for anonymous visitors
    shared_pages: SharedPages | None = None  # the same pages, for every process (PAGE_CACHE_URL)
    # Each entry's vote count as the public pages show it (contest.gallery.listing.vote_counts):
    # one item per entry, kept apart so that a large gallery's counts never push the rest out.
    counts: TTLCache = field(
        default_factory=lambda: TTLCache(max_items=COUNT_ITEMS, max_bytes=COUNT_ITEMS * 64)
    )

    @classmethod
    def create(cls, shared_url: str = "") -> GalleryCaches:
        return cls(
            data=TTLCache(max_bytes=DATA_CACHE_BYTES),
            fragments=TTLCache(max_items=50_000, max_bytes=FRAGMENT_CACHE_BYTES),
            pages=TTLCache(max_items=10_000, max_bytes=PAGE_CACHE_BYTES),
            shared_pages=SharedPages(shared_url) if shared_url else None,
        )

    def clear(self) -> None:
        for cache in (self.data, self.fragments, self.pages, self.counts):
            cache.clear()


def caches() -> GalleryCaches:
    return current_app.extensions["gallery_cache"]


def ttl_s() -> int:
    return current_app.config["GALLERY_CACHE_S"]


def fragment_ttl_s() -> int:
    """How long a part of a page is kept (not at all while the cache is off)."""
    if ttl_s() <= 0:
        return 0
    return max(ttl_s(), min(FRAGMENT_CACHE_S, current_app.config["MEDIA_URL_EXPIRES_S"] // 4))


def fragment(key: Hashable, render: Callable[[], str]) -> Markup:
    """Part of a page that any visitor may see, rendered once per key and kept."""
    html = caches().fragments.get(key)
    if html is None:
        html = Markup(render())
        caches().fragments.put(key, html, fragment_ttl_s(), size=len(html))
    return html


# --- whole pages for anonymous visitors ------------------------------------------------------
# Where a card's vote count goes in a kept page: a comment (no entry's text can make one, it
# is escaped), naming the entry.
_VOTES_SLOT = re.compile(rb"<!--votes:(\d+)-->")


def votes_slot(entry_id: int) -> Markup:
    return Markup(f"<!--votes:{int(entry_id)}-->")


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    etag: str
    expires_at: float  # time.monotonic()

    @classmethod
    def made(cls, body: bytes, ttl: float) -> CachedPage:
        return cls(body, hashlib.blake2b(body, digest_size=16).hexdigest(), time.monotonic() + ttl)

    @cached_property
    def slots(self) -> tuple[tuple[bytes, ...], tuple[int, ...]]:
        """The body cut at its vote-count slots: (the texts around them, the entries' ids)."""
        pieces = _VOTES_SLOT.split(self.body)
        return tuple(pieces[::2]), tuple(int(entry_id) for entry_id in pieces[1::2])

    def filled(self, counts: Callable[[tuple[int, ...]], list[bytes]]) -> bytes:
        """The body with every slot filled: ``counts(ids)`` gives the slots' HTML, in order."""
        texts, ids = self.slots
        if not ids:
            return self.body
        parts = [texts[0]]
        for html, text in zip(counts(ids), texts[1:], strict=True):
            parts += (html, text)
        return b"".join(parts)


def page_key(*parts: Hashable, with_query: bool = True) -> tuple | None:
    """The page's key for this request, or None when its page must not be shared.

    Not shared: a logged-in visitor's page (their name, their vote), one that shows a
    flashed message, or any page while the cache is off.
    """
    if ttl_s() <= 0 or "_flashes" in session or not is_anonymous():
        return None
    query = tuple(sorted(request.args.items(multi=True), key=lambda item: item[0])) if with_query else ()
    return (request.path, query, str(get_locale()), *parts)


def cached_page(key: tuple | None) -> CachedPage | None:
    """The page kept under ``key`` by this process or, failing that, by another one."""
    if key is None:
        return None
    kept = caches()
    page = kept.pages.get(key)
    if page is None and kept.shared_pages is not None:
        page = kept.shared_pages.get(key)  # made by another process: kept here too, as long as it lives
        if page is not None:
            kept.pages.put(key, page, page.expires_at - time.monotonic(), size=len(page.body))
    return page


def keep_page(key: tuple | None, body: str, ttl: float) -> CachedPage:
    """The page made of ``body``, kept ``ttl`` seconds for the next visitors when ``key`` says
    it may be shared."""
    page = CachedPage.made(body.encode(), ttl)
    if key is not None:
        kept = caches()
        kept.pages.put(key, page, ttl, size=len(page.body))
        if kept.shared_pages is not None:
            kept.shared_pages.put(key, page, ttl)
    return page


def cached_response(key: tuple | None) -> Response | None:
    page = cached_page(key)
    return _respond(page) if page is not None else None


def store_and_respond(key: tuple | None, body: str, max_ttl_s: float | None = None) -> Response:
    """The page's response; kept for the next visitors when ``key`` says it may be shared."""
    ttl = ttl_s() if max_ttl_s is None else max(0.0, min(ttl_s(), max_ttl_s))
    return page_response(key, keep_page(key, body, ttl))


def page_response(key: tuple | None, page: CachedPage) -> Response:
    """The answer with ``page``: a shared copy's headers when ``key`` says the page may be
    shared, else a private answer."""
    if key is None:
        response = current_app.response_class(page.body, mimetype="text/html")
        response.cache_control.private = True
        return response
    return _respond(page)


def _respond(page: CachedPage) -> Response:
    if request.if_none_match.contains_weak(page.etag):
        response = current_app.response_class(status=304)
    else:
        response = current_app.response_class(page.body, mimetype="text/html")
    headers = response.headers
    headers["ETag"] = f'"{page.etag}"'
    headers["Vary"] = "Cookie, Accept-Language"
    if current_app.session_interface.should_set_cookie(current_app, session):
        # This answer sets the visitor's cookie (their first visit): never a shared copy.
        headers["Cache-Control"] = "private"
    else:
        # Shared caches keep one copy per cookie and language (Vary): a logged-in visitor's
        # cookie never matches an anonymous one's.
        headers["Cache-Control"] = f"public, max-age={max(0, int(page.expires_at - time.monotonic()))}"
    return response


class SharedPages:
    """Whole anonymous pages kept in Redis, behind each process's own copies.

    Without it, every web process (4 per machine, several machines) makes each page once per
    GALLERY_CACHE_S for itself; with it, the first one to make it serves the others. Redis
    keeps each page for what is left of its life (PX). A Redis that fails to answer within
    ``timeout_s`` is left alone for ``retry_after_s``: pages are then made as without it,
    never an error page.
    """

    def __init__(
        self, url: str, *, prefix: str = "hna:page:", timeout_s: float = 0.25, retry_after_s: float = 5.0
    ) -> None:
        import redis

        self.prefix = prefix
        self._errors = redis.RedisError
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        self._retry_after_s = retry_after_s
        self._down_until = 0.0

    def get(self, key: tuple) -> CachedPage | None:
        if time.monotonic() < self._down_until:
            return None
        name = self._name(key)
        try:
            raw, left_ms = self._redis.pipeline(transaction=False).get(name).pttl(name).execute()
        except self._errors as exc:
            self._down(exc)
            return None
        if raw is None or left_ms <= 0:
            return None
        # The value: the 32 hex digits of the ETag, then the body.
        return CachedPage(raw[32:], raw[:32].decode(), time.monotonic() + left_ms / 1000)

    def put(self, key: tuple, page: CachedPage, ttl_s: float) -> None:
        if time.monotonic() < self._down_until or ttl_s < 0.001:
            return
        try:
            self._redis.set(self._name(key), page.etag.encode() + page.body, px=int(ttl_s * 1000))
        except self._errors as exc:
            self._down(exc)

    def _name(self, key: tuple) -> str:
        # repr: the key holds only strings, numbers, booleans and None, the same in every process.
        return self.prefix + hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()

    def _down(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self._retry_after_s
        logging.getLogger(__name__).warning(
            "page cache (PAGE_CACHE_URL) unreachable, not used for %.0f s: %s", self._retry_after_s, exc
        )
