"""The rate limits' in-process storage (contest.ratelimit): limits' counting, no thread per request."""

from __future__ import annotations

import time

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from contest import create_app
from contest.config import load_settings
from contest.extensions import limiter
from contest.ratelimit import SWEEP_EVERY_S, LazyMemoryStorage
from tests.support import make_test_config, migrate


def new_storage() -> LazyMemoryStorage:
    storage = storage_from_string("lazy-memory://")
    assert isinstance(storage, LazyMemoryStorage)
    storage.timer.join(1)  # the parent's first timer, cancelled at once
    return storage


def test_it_counts_as_limits_memory_storage_does():
    limiter = FixedWindowRateLimiter(new_storage())
    two = RateLimitItemPerMinute(2)
    assert [limiter.hit(two, "voter:1") for _ in range(3)] == [True, True, False]
    assert limiter.hit(two, "voter:2")  # another key, its own count


def test_counting_starts_no_thread():
    storage = new_storage()
    for i in range(20):
        storage.incr(f"key:{i % 3}", expiry=60)
        # limits' own memory storage has a fresh Timer thread alive here, after every count
        assert not storage.timer.is_alive()
        time.sleep(0.012)  # longer than that Timer's 10 ms: it would have to start again


def test_expired_counters_are_swept_inline_at_most_once_per_period():
    storage = new_storage()
    storage.incr("short", expiry=0.01)
    time.sleep(0.02)
    storage.incr("other", expiry=60)
    assert "short" in storage.storage and storage.sweeps == 0  # not yet: the last sweep is recent
    assert storage.get("short") == 0  # yet an expired counter never counts

    storage.incr("short-again", expiry=0.01)
    time.sleep(0.02)
    storage.next_sweep = time.monotonic()  # as when SWEEP_EVERY_S has passed
    storage.incr("other", expiry=60)
    assert storage.sweeps == 1 and "short-again" not in storage.storage
    assert storage.next_sweep > time.monotonic() + SWEEP_EVERY_S / 2
    assert storage.get("other") == 2


def test_the_embedded_default_is_the_lazy_storage(tmp_path):
    assert load_settings({})["RATELIMIT_STORAGE_URI"] == "lazy-memory://"
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", RATELIMIT_ENABLED=True)
    config["RATELIMIT_STORAGE_URI"] = load_settings({})["RATELIMIT_STORAGE_URI"]
    app = create_app(config)
    with app.app_context():
        assert isinstance(limiter.storage, LazyMemoryStorage)


def limited_client(tmp_path, **settings):
    """A client of an app of its own, rate limits on, over a fresh SQLite database."""
    config = make_test_config(
        tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", RATELIMIT_ENABLED=True, **settings
    )
    migrate(config["DATABASE_URL"])
    return create_app(config).test_client()


def with_a_default_limit(tmp_path, patch):
    """A client whose app has RATELIMIT_DEFAULT "2 per day". The one Limiter keeps the first
    default limit it is given for every later app: ``patch`` (a monkeypatch) drops it after."""
    patch.setattr(limiter.limit_manager, "_default_limits", [])
    return limited_client(
        tmp_path,
        RATELIMIT_DEFAULT="2 per day",
        VOTE_RATE_LIMIT="100 per minute",
        VOTE_RATE_LIMIT_PER_ADDRESS="100 per minute",
    )


def test_flask_limiters_own_check_leaves_out_a_view_that_counts_its_limits(tmp_path, monkeypatch):
    """A default limit (RATELIMIT_DEFAULT) is applied by Flask-Limiter's check before each
    request; the vote counts its own limits (VOTE_RATE_LIMIT...) and that check skips it."""
    client = with_a_default_limit(tmp_path, monkeypatch)
    assert [client.get("/account/login").status_code for _ in range(3)] == [200, 200, 429]
    # No such entry: each vote is answered by the view itself (404), never refused by the default.
    assert [client.post("/e/NONE-0001/vote").status_code for _ in range(3)] == [404, 404, 404]


def test_a_default_limit_is_not_left_to_later_apps(tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        limited = with_a_default_limit(tmp_path / "first", patch)
        assert [limited.get("/account/login").status_code for _ in range(3)] == [200, 200, 429]
    later = limited_client(tmp_path / "later")
    assert [later.get("/account/login").status_code for _ in range(3)] == [200, 200, 200]
