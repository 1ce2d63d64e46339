"""The panel's prefetch hits: a signed URL stays the same for a while (contest.signed_urls), so the
next entry's picture fetched ahead is the very URL its page then shows; and it still downloads,
from the local folder and from S3 over HTTP."""

from __future__ import annotations

import io
import re
import time
import types
import urllib.request

import pytest
from sqlalchemy import select

from contest import signed_urls
from contest.entries.models import EntryStatus
from contest.jury.models import Assignment, RoundKind
from contest.jury.rounds import open_round
from contest.storage import new_key, private_copy_key
from tests.jury_support import build_jury, new_round
from tests.support import log_in
from tests.test_jury_panel import add_media

LIFETIME = 3600  # the storages' default url_expires_s


@pytest.fixture
def clock(monkeypatch):
    """The signing clock, set by the test: it starts just after the start of the real time's
    slot (a start near the slot's end made the test's steps cross into the next slot)."""
    now = types.SimpleNamespace(value=signed_urls.slot_start(LIFETIME, time.time()) + 1)
    monkeypatch.setattr(signed_urls, "time", types.SimpleNamespace(time=lambda: now.value))
    return now


def fetch(client, url: str) -> tuple[int, bytes]:
    if url.startswith("/"):
        response = client.get(url)
        return response.status_code, response.data
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_a_slot_shares_one_expiry_at_least_half_a_lifetime_away():
    start = signed_urls.slot_start(LIFETIME, 1_000_000)
    for now in (start, start + 1, start + LIFETIME // 2 - 1):
        expiry = signed_urls.stable_expiry(LIFETIME, now)
        assert expiry == signed_urls.stable_expiry(LIFETIME, start)
        assert LIFETIME // 2 < expiry - now <= LIFETIME
    assert signed_urls.stable_expiry(LIFETIME, start + LIFETIME // 2) > expiry


def test_a_signed_url_is_the_same_within_a_slot_and_still_downloads(app, client, any_storage, clock):
    key = new_key("originals/t", ".jpg")
    any_storage.save(key, io.BytesIO(b"\xff\xd8 a picture"), content_type="image/jpeg")
    with app.test_request_context():
        first = any_storage.url(key)
        clock.value += 120
        again = any_storage.url(key)
        clock.value += LIFETIME // 2
        later = any_storage.url(key)
    assert first == again and later != first
    assert fetch(client, again) == (200, b"\xff\xd8 a picture")


def test_the_prefetched_picture_is_the_one_the_next_page_shows(db, client, contest, any_storage, clock):
    jury = build_jury(db, contest, judges=1, entries_each=2)
    round_ = new_round(db, jury, RoundKind.yes_no, quorum=1)
    open_round(db, round_, actor_id=None)
    for entry in jury.entries:
        add_media(db, any_storage, entry)
        for key in (a.storage_key for a in entry.assets if a.storage_key.startswith("public/")):
            any_storage.copy(key, private_copy_key(key), content_type="image/jpeg")
        entry.status = EntryStatus.pending_review  # back in review: renditions served signed
    db.commit()
    judge = jury.judges[0]
    first, second = db.scalars(
        select(Assignment.id).where(Assignment.round_id == round_.id).order_by(Assignment.id).limit(2)
    )
    log_in(client, judge)
    page = client.get(f"/jury/rounds/{round_.id}/entries/{first}").text
    prefetched = re.search(r'data-prefetch="([^"]+)"', page).group(1).replace("&amp;", "&")
    clock.value += 90  # the judge looks, types, saves and goes on...
    time.sleep(1.1)  # ...and the real clock moves too: a URL signed "now" would change
    following = client.get(f"/jury/rounds/{round_.id}/entries/{second}").text
    shown = re.search(r'<img src="([^"]+)"', following).group(1).replace("&amp;", "&")
    assert "private" in shown and shown == prefetched
    status, data = fetch(client, shown)
    assert status == 200 and data.startswith(b"\xff\xd8")
    if shown.startswith("/"):  # the browser may keep what it fetched ahead (for itself alone)
        kept = client.get(shown).headers["Cache-Control"]
        assert kept.startswith("private, max-age=") and int(kept.rsplit("=", 1)[1]) > LIFETIME // 2 - 100
