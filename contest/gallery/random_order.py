"""Where a visitor's random order of the gallery starts.

The random order is a fixed random number per entry (``shuffle_key``) read from a starting
point and wrapping around, so every visitor sees the whole gallery once, in a stable order,
starting somewhere else. The starting points are few (a page in random order is then one of
few, and can be kept) and turn each Vietnam day.
"""

from __future__ import annotations

import secrets
from datetime import date

from contest.gallery.listing import PER_PAGE

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
    (``size`` None: more than SMALL_SET, contest.gallery.sets).
    """
    if size is None:
        return RANDOM_ORDER_BUCKETS
    pages = max(1, -(-size // PER_PAGE))
    return min(RANDOM_ORDER_BUCKETS, 1 << (pages - 1).bit_length())
