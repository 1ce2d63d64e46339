"""Uploads refused before their body is read: too large for the category, or too frequent.

The request body is a stream that records whether it was read at all: the refusal must
come from ``Content-Length`` alone, ahead of the CSRF check (which reads the form), and leave
no entry, no stored object and no temporary file.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from contest import create_app
from contest.contests.demo import build_demo_contest
from contest.contests.models import CategoryKind
from contest.entries.models import Entry
from contest.extensions import db as db_ext
from tests.support import create_user, make_test_config, migrate
from tests.test_entries import EN, assert_nothing_stored, log_in, photo_category

MB = 1_000_000
JSON = {"Accept": "application/json", **EN}


class WatchedBody(io.RawIOBase):
    """A request body of ``size`` bytes that records whether it was read (it holds nothing).
    Seekable only so that Werkzeug's test client can tell its Content-Length."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.was_read = size, 0, False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = self.size + offset if whence == io.SEEK_END else offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        self.was_read = True
        return 0  # as if the client had gone


def send_upload(client, size: int, query: str = "", headers=EN):
    """POST an upload of ``size`` bytes to the entry form: the answer, and whether it was read."""
    body = WatchedBody(size)
    answer = client.post(
        f"/entries/new{query}",
        input_stream=body,
        content_type="multipart/form-data; boundary=x",
        headers=headers,
    )
    return answer, body.was_read


def test_an_upload_larger_than_its_category_is_refused_unread(app, db, contest, entrant, client, storage):
    log_in(client, entrant)
    photo = photo_category(contest)  # 60 MB a file in the demo contest
    answer, read = send_upload(client, 62 * MB, f"?category={photo.id}")
    assert answer.status_code == 413 and not read
    assert "This upload is 62 MB: an entry in “Photo” may send 60 MB at most." in answer.text
    assert answer.headers["Connection"] == "close"
    assert_nothing_stored(db, app, storage, contest)


def test_without_a_category_the_contests_largest_limit_applies(app, db, contest, entrant, client, storage):
    """The demo's series may send 10 x 60 MB, more than the site's cap (MAX_UPLOAD_BYTES, 260 MiB)."""
    log_in(client, entrant)
    answer, read = send_upload(client, 300 * MB, headers=JSON)
    assert answer.status_code == 413 and not read
    assert answer.json == {
        "ok": False,
        "message": "This upload is 300 MB: an entry may send 272.6 MB at most. "
        "Nothing was saved: please choose a smaller file.",
    }
    assert_nothing_stored(db, app, storage, contest)


def test_an_upload_within_the_bound_is_read(app, db, contest, entrant, client, storage):
    """Within the chosen category's bound the request goes on to the form (and reads the body)."""
    log_in(client, entrant)
    video = next(c for c in contest.categories if c.kind is CategoryKind.video)  # 200 MB
    answer, read = send_upload(client, 61 * MB, f"?category={video.id}")
    assert read and answer.status_code != 413


# --- an app of its own: CSRF and the rate limits on, as in production ----------------------------
@pytest.fixture
def guarded(tmp_path):
    """A client of an app with CSRF and SUBMIT_RATE_LIMIT "2 per hour" on, logged in as an entrant."""
    config = make_test_config(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        WTF_CSRF_ENABLED=True,
        RATELIMIT_ENABLED=True,
        SUBMIT_RATE_LIMIT="2 per hour",
    )
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        build_demo_contest(db_ext.session)
        entrant = create_user(db_ext.session, f"guarded-{tmp_path.name}@example.com")
        db_ext.session.commit()
    client = app.test_client()
    log_in(client, entrant)
    yield app, client
    app.extensions["db"].dispose()


def entries(app) -> int:
    with app.app_context():
        return db_ext.session.scalar(select(func.count(Entry.id)))


def test_the_size_is_checked_before_the_csrf_token(guarded):
    app, client = guarded
    answer, read = send_upload(client, 300 * MB)
    assert answer.status_code == 413 and not read and "272.6 MB at most" in answer.text
    assert entries(app) == 0


def test_new_entries_are_rate_limited_per_account(guarded):
    app, client = guarded
    for _ in range(2):  # refused for their missing CSRF token, but sent: they count
        assert client.post("/entries/new", data={"title": "x"}, headers=EN).status_code == 400
    answer, read = send_upload(client, 10 * MB)
    assert answer.status_code == 429 and not read
    assert "You have tried too many times" in answer.text
    assert client.get("/entries/new", headers=EN).status_code == 200  # the page itself is not limited
    assert entries(app) == 0
