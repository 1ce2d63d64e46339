"""The rate limits' in-process storage: ``limits``' memory storage without a thread per request.

``limits``' own ``memory://`` storage drops expired counters in a ``threading.Timer`` that
fires 10 ms after it is armed, and every counted request re-arms it: under load, each vote
starts a new thread, and the thread then walks every counter. The counters themselves never
need it: a fixed window's counter is read through ``get``, which drops it once expired. So
this storage sweeps inline, at most once every SWEEP_EVERY_S, in the request that finds the
last sweep old enough; what a sweep does and what the limits count are ``limits``' own.

``RATELIMIT_STORAGE_URI=lazy-memory://`` (the embedded default) selects it; production gives
every web machine the same counters with ``redis://``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache

from flask import current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage

SWEEP_EVERY_S = 1.0


class LazyMemoryStorage(MemoryStorage):
    """In-process counters whose expired entries are swept inline (registered as ``lazy-memory``)."""

    STORAGE_SCHEME = ["lazy-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()  # the parent's first timer: sweeps are inline from now on
        self.next_sweep = time.monotonic() + SWEEP_EVERY_S
        self.sweeps = 0

    # MemoryStorage calls this (its name, mangled) before every counted request.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + SWEEP_EVERY_S
            self.sweeps += 1
            self._MemoryStorage__expire_events()

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self.timer.cancel()


# --- limits counted by a view itself -------------------------------------------------------
def counts_own_limits(view: Callable) -> Callable:
    """Mark a view that counts its limits itself (``within``): Flask-Limiter's check before
    every request skips it (``skips_views_counting_own_limits``): measured, 5% of a vote's CPU.
    A default limit (RATELIMIT_DEFAULT) does not apply to such a view either: its own do."""
    view.counts_own_limits = True  # type: ignore[attr-defined]
    return view


def skips_views_counting_own_limits() -> bool:
    """Flask-Limiter's request filter: True (no generic check) for a view marked above."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "counts_own_limits", False)


@lru_cache(maxsize=32)
def parsed(limits: str) -> tuple[RateLimitItem, ...]:
    """``"20 per minute;200 per hour"`` as limits' items, parsed once per string."""
    return tuple(parse_many(limits))


def within(limits: str, *identifiers: str) -> bool:
    """Count one request against each of ``limits`` for ``identifiers``: False when one is spent.

    For the vote, the busiest write of the site: the same counters, storage and strategy as
    Flask-Limiter's own decorator (``limiter.limiter``, RATELIMIT_STORAGE_URI), without the
    decorator's generic work (exemption scopes, limit resolution, headers), which cost a
    quarter of a vote's CPU. Every limit is counted, as the decorator does, even after one
    is spent. RATELIMIT_ENABLED off turns it off like the rest.
    """
    from contest.extensions import limiter  # which imports this module for the storage above

    if not limiter.enabled:
        return True
    strategy = limiter.limiter
    counted = [strategy.hit(item, *identifiers) for item in parsed(limits)]
    return all(counted)


def wait_s(limits: str, *identifiers: str) -> float:
    """Seconds until every one of ``limits`` for ``identifiers`` has room again (0: it has), counting nothing.

    For limits counted on failures only (``within`` after each one, e.g. wrong passwords): the
    next attempt is refused while one is spent, whether or not it would have failed.
    """
    from contest.extensions import limiter

    if not limiter.enabled:
        return 0.0
    strategy = limiter.limiter
    now = time.time()
    spent = [item for item in parsed(limits) if not strategy.test(item, *identifiers)]
    return max([strategy.get_window_stats(item, *identifiers).reset_time - now for item in spent] + [0.0])


def forget(limits: str, *identifiers: str) -> None:
    """Drop the counts of ``limits`` for ``identifiers`` (a success ends a run of failures)."""
    from contest.extensions import limiter

    if limiter.enabled:
        for item in parsed(limits):
            limiter.limiter.clear(item, *identifiers)
