"""``flask contest seed-demo`` (the 2025 edition, demo accounts) and ``python -m worker.demo_gallery``
(its gallery): safe to run twice."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from pathlib import Path
from tempfile import mkdtemp

import pytest
from PIL import Image
from sqlalchemy import func, select

from contest.auth.models import Role, User
from contest.contests.demo import DEMO_ACCOUNTS, DEMO_ENTRIES, DEMO_SLUG
from contest.contests.models import Category, CategoryKind, Contest, Place
from contest.contests.services import seed_demo
from contest.entries.models import AssetKind, Entry, EntryFlag, EntryStatus
from contest.models import Base
from contest.voting.models import Vote
from tests.support import login
from tests.test_gallery import listed_codes, tags
from worker import demo_gallery
from worker.demo_gallery import seed_demo_gallery

ACCOUNTS = {
    "organizer@demo.happynghean.vn": Role.organizer,
    "judge@demo.happynghean.vn": Role.judge,
    "entrant@demo.happynghean.vn": Role.entrant,
    "minh@demo.happynghean.vn": Role.entrant,
    "mai@demo.happynghean.vn": Role.entrant,
    "huy@demo.happynghean.vn": Role.entrant,
    "voter@demo.happynghean.vn": Role.entrant,
}
VOTER = "voter@demo.happynghean.vn"
SEEDED_TABLES = ("contests", "categories", "places", "users", "entries", "media_assets")
EN = {"Accept-Language": "en"}
# The renditions the worker records for each photo, and for a video.
PHOTO_RENDITIONS = {
    AssetKind.thumb_jpeg,
    AssetKind.thumb_webp,
    AssetKind.display_jpeg,
    AssetKind.display_webp,
}
VIDEO_RENDITIONS = {
    (AssetKind.video_mp4, "720p"),
    (AssetKind.video_mp4, "480p"),
    (AssetKind.poster_jpeg, ""),
    (AssetKind.poster_webp, ""),
    (AssetKind.frame_jpeg, "1"),
    (AssetKind.frame_jpeg, "2"),
    (AssetKind.frame_jpeg, "3"),
}


@pytest.fixture(autouse=True)
def _own_storage(storage):
    """The demo gallery's files go to a fresh folder of the test's own."""
    return storage


@pytest.fixture(scope="session")
def made_works(tmp_path_factory) -> tuple[Path, dict]:
    """A folder for the demo works made in this test session, and those works by title."""
    return tmp_path_factory.mktemp("demo-works"), {}


@pytest.fixture(autouse=True)
def _make_each_work_once(monkeypatch, made_works):
    """Draw and render each demo work once per session (about 5 s); every seed still stores and records them.

    The works are the same on every run (drawn from fixed seeds): what each test checks is
    what the seed stores and records, and the first seed of the session checks the making.
    """
    root, works = made_works
    make = demo_gallery.make_works

    def once(demos, categories, tmp):
        works.update(make([d for d in demos if d.title not in works], categories, Path(mkdtemp(dir=root))))
        return {demo.title: works[demo.title] for demo in demos}

    monkeypatch.setattr(demo_gallery, "make_works", once)


def seed(app, *args: str):
    return app.test_cli_runner().invoke(args=["contest", "seed-demo", *args])


def seed_gallery(app):
    """The worker's command (``python -m worker.demo_gallery``), run on the test's application."""
    return app.test_cli_runner().invoke(demo_gallery.seed_command)


def printed_passwords(output: str) -> dict[str, str]:
    passwords = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 3 and words[1] in ACCOUNTS:
            passwords[words[1]] = words[2]
    return passwords


def snapshot(db) -> dict[str, list[tuple]]:
    tables = Base.metadata.tables
    return {
        name: [tuple(row) for row in db.execute(select(tables[name]).order_by(tables[name].c.id))]
        for name in SEEDED_TABLES
    }


def test_seed_demo_creates_the_2025_edition_and_accounts(app, db):
    result = seed(app)
    assert result.exit_code == 0, result.output

    contest = db.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    assert contest is not None
    assert contest.submission_open() and contest.voting_open()
    categories = {c.kind: c for c in contest.categories}
    assert set(categories) == {CategoryKind.photo, CategoryKind.photo_series, CategoryKind.video}
    for kind in (CategoryKind.photo, CategoryKind.photo_series):
        photo = categories[kind]
        assert photo.allowed_formats == ["jpeg"]
        assert (photo.min_long_edge_px, photo.min_bytes) == (3000, 3_000_000)
    video = categories[CategoryKind.video]
    assert video.allowed_formats == ["mp4", "mov"]  # MP4, and MOV as phones write it
    assert (video.max_duration_s, video.max_bytes) == (300, 200_000_000)
    for category in contest.categories:
        assert (category.works_from, category.works_until) == (date(2023, 1, 1), date(2025, 10, 1))
    assert db.scalar(select(func.count(Place.id)).where(Place.contest_id == contest.id)) == 21

    passwords = printed_passwords(result.output)
    assert set(passwords) == set(ACCOUNTS)
    for email, role in ACCOUNTS.items():
        user = db.scalar(select(User).where(User.email == email))
        assert user.role is role
        assert user.is_verified and user.active
        assert user.check_password(passwords[email])
    entrant = db.scalar(select(User).where(User.email == "entrant@demo.happynghean.vn"))
    assert (entrant.country, entrant.birth_year) == ("VN", 1995)
    assert entrant.full_name.strip()
    assert "http://127.0.0.1:5000" in result.output
    # The gallery is the worker's to make (contest/ never imports worker/): the command says how.
    assert "python -m worker.demo_gallery" in result.output
    assert db.scalar(select(func.count(Entry.id))) == 0


def test_the_gallery_needs_the_demo_edition_first(app, db):
    result = seed_gallery(app)
    assert result.exit_code != 0
    assert "run `flask --app wsgi contest seed-demo` first" in result.output
    assert db.scalar(select(func.count(Entry.id))) == 0


def test_second_run_changes_nothing(app, db, storage):
    assert seed(app).exit_code == 0
    assert seed_gallery(app).exit_code == 0
    before = snapshot(db)
    assert {name: len(rows) for name, rows in before.items()} == {
        "contests": 1,
        "categories": 3,
        "places": 21,
        "users": 7,
        "entries": 9,
        # 11 photos (an original and 4 renditions each), 2 videos (an original and 7 renditions).
        "media_assets": 11 * 5 + 2 * 8,
    }
    objects = sorted(storage.keys())
    # Every object, and the public copies of the renditions of the approved demo entries.
    assert len(objects) == 11 * 5 + 2 * 8 + 11 * 4 + 2 * 7

    again = seed(app)
    gallery_again = seed_gallery(app)

    assert again.exit_code == 0, again.output
    assert "already there" in again.output
    assert gallery_again.exit_code == 0, gallery_again.output
    assert "Demo gallery: 9 entries (0 created)" in gallery_again.output
    assert "nothing changed" in again.output
    assert snapshot(db) == before
    assert sorted(storage.keys()) == objects
    assert set(printed_passwords(again.output)) == set(ACCOUNTS)


def test_existing_account_is_left_alone(app, db):
    """A demo e-mail already registered keeps its own role and password."""
    user = User(email="judge@demo.happynghean.vn", full_name="Real Judge", role=Role.entrant, birth_year=1980)
    user.set_password("my own password")
    db.add(user)
    db.commit()

    result = seed(app)

    assert result.exit_code == 0, result.output
    db.expire_all()
    assert user.role is Role.entrant and user.check_password("my own password")
    assert "keep the password they had" in result.output
    assert db.scalar(select(func.count(User.id))) == len(DEMO_ACCOUNTS)


def test_refused_in_production_without_force(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")

    refused = seed(app)

    assert refused.exit_code != 0
    assert "production" in refused.output
    assert db.scalar(select(func.count(Contest.id))) == 0
    assert db.scalar(select(func.count(User.id))) == 0
    assert db.scalar(select(func.count(Category.id))) == 0
    assert db.scalar(select(func.count(Entry.id))) == 0

    forced = seed(app, "--force-production")
    assert forced.exit_code == 0, forced.output
    assert db.scalar(select(func.count(User.id))) == len(DEMO_ACCOUNTS)
    assert not [a.password for a in DEMO_ACCOUNTS if a.password in forced.output]  # none published
    assert "not shown in production" in forced.output


# --- the demo gallery -----------------------------------------------------------------------
def test_seed_demo_makes_a_gallery_to_browse_and_vote_in(app, db, client, storage):
    result = seed(app)
    assert result.exit_code == 0, result.output
    gallery = seed_gallery(app)
    assert gallery.exit_code == 0, gallery.output
    assert "Demo gallery: 9 entries (9 created)" in gallery.output

    entries = db.scalars(select(Entry).order_by(Entry.id)).all()
    assert [e.title for e in entries] == [demo.title for demo in DEMO_ENTRIES]
    assert all(e.status is EntryStatus.approved and e.approved_at and e.submitted_at for e in entries)
    assert Counter(e.category.kind for e in entries) == {
        CategoryKind.photo: 5,
        CategoryKind.photo_series: 2,
        CategoryKind.video: 2,
    }
    assert len({e.place.code for e in entries}) == 9 and len({e.author.email for e in entries}) == 3
    for entry in entries:
        check_stored_like_the_worker(entry, storage)
    # The drawn pictures do not look alike: nothing for the organizers' duplicate page.
    assert db.scalar(select(func.count(EntryFlag.id))) == 0

    gallery = client.get("/gallery", headers=EN)
    assert sorted(listed_codes(gallery)) == sorted(e.code for e in entries)
    assert "Bình minh trên biển Cửa Lò" in gallery.get_data(as_text=True)

    photo = entries[0]
    display = photo.asset(AssetKind.display_jpeg)
    page = client.get(f"/e/{photo.code}", headers=EN)
    zoom = tags(page, "a", **{"data-zoom": ""})[0]["href"]
    with app.test_request_context():
        assert zoom == storage.url(display.storage_key)
    served = client.get(zoom)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(served.data)) as image:
        image.load()
        assert (
            (image.format, image.size) == ("JPEG", (1600, 1067)) == ("JPEG", (display.width, display.height))
        )

    video = next(e for e in entries if e.category.kind is CategoryKind.video)
    sources = tags(client.get(f"/e/{video.code}", headers=EN), "source", type="video/mp4")
    assert [s["data-label"] for s in sources] == ["720p", "480p"]
    assert client.get(sources[0]["src"]).data[4:8] == b"ftyp"

    voter_password = printed_passwords(result.output)[VOTER]
    assert login(client, VOTER, voter_password).status_code == 302
    vote = client.post(f"/e/{photo.code}/vote", headers={**EN, "Accept": "application/json"})
    assert vote.status_code == 200, vote.get_data(as_text=True)
    assert vote.get_json()["ok"] is True and vote.get_json()["count"] == 1
    db.expire_all()
    assert db.scalar(select(func.count(Vote.id)).where(Vote.entry_id == photo.id)) == 1


def check_stored_like_the_worker(entry: Entry, storage) -> None:
    """Each work has its original (private, with the worker's facts) and its renditions, all stored."""
    works = len(next(demo.pictures for demo in DEMO_ENTRIES if demo.title == entry.title))
    originals = entry.originals()
    assert [o.position for o in originals] == list(range(works))
    for original in originals:
        assert original.storage_key.startswith(f"originals/{DEMO_SLUG}/")
        assert original.sha256 and original.width and original.height
        assert storage.path(original.storage_key).stat().st_size == original.bytes
    renditions = [a for a in entry.assets if a.kind is not AssetKind.original]
    for asset in renditions:
        assert asset.storage_key.startswith("public/r/")
        assert storage.path(asset.storage_key).stat().st_size == asset.bytes
    if entry.category.kind is CategoryKind.video:
        assert {(a.kind, a.label) for a in renditions} == VIDEO_RENDITIONS
        assert originals[0].duration_s == pytest.approx(4, abs=0.1)
    else:
        assert all(o.phash for o in originals)
        for position in range(works):
            assert {a.kind for a in renditions if a.position == position} == PHOTO_RENDITIONS


def test_without_ffmpeg_the_videos_wait_for_a_later_run(app, db, storage):
    with app.app_context():
        contest = seed_demo(db).contest
        first = seed_demo_gallery(db, contest, with_video=False)
        kinds = Counter(e.category.kind for e in db.scalars(select(Entry)))
        later = seed_demo_gallery(db, contest, with_video=True)

    assert (first.entries, first.created, first.videos_left_out) == (7, 7, 2)
    assert (
        first.summary() == "Demo gallery: 7 entries (7 created); 2 videos left out: ffmpeg is not installed"
    )
    assert CategoryKind.video not in kinds and sum(kinds.values()) == 7
    assert (later.entries, later.created, later.videos_left_out) == (9, 2, 0)
    assert db.scalar(select(func.count(Entry.id))) == 9
