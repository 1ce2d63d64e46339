"""Photo series: one entry, an ordered set of photos, each checked and rendered like a single photo.

Through the real upload form, the real photo-series job (called as the worker calls it),
real databases and real storage (a local folder and S3 over HTTP).
"""

from __future__ import annotations

import hashlib
import html
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contest.contests.models import Category, CategoryKind, Contest
from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import create_job
from contest.storage import new_key, private_copy_key
from tests.support import login_id, wallpaper
from worker.tasks import process_media

EN = {"Accept-Language": "en"}
SERIES = [("Volna", "IMG_0001.JPG"), ("Flow", "IMG_0002.JPG"), ("SafeLanding", "IMG_0003.JPG")]
PHOTO_RENDITIONS = {
    AssetKind.display_jpeg: (1600, 900),
    AssetKind.display_webp: (1600, 900),
    AssetKind.thumb_jpeg: (400, 225),
    AssetKind.thumb_webp: (400, 225),
}


# --- helpers ------------------------------------------------------------------------------
def series_category(contest: Contest) -> Category:
    return next(c for c in contest.categories if c.kind is CategoryKind.photo_series)


def log_in(client, user) -> None:
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"], session["lang"] = (
            login_id(client.application, user),
            True,
            "en",
        )


def post_series(client, contest: Contest, photos: list[tuple[bytes, str]]):
    data = {
        "category": str(series_category(contest).id),
        "title": "Một ngày ở Cửa Lò",
        "description": "From dawn to dusk.",
        "place": str(contest.places[1].id),
        "taken_on": "2024-05-01",
        "accept_own_work": "y",
        "accept_promo_use": "y",
        "accept_not_awarded": "y",
        "photos": [(io.BytesIO(content), name) for content, name in photos],
    }
    return client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)


def real_series() -> list[tuple[bytes, str]]:
    return [(wallpaper(name).read_bytes(), filename) for name, filename in SERIES]


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def counts(db) -> tuple[int, int, int]:
    db.expire_all()
    return tuple(db.scalar(select(func.count(model.id))) for model in (Entry, MediaAsset, ProcessingJob))


def read_object(storage, key: str) -> bytes:
    out = io.BytesIO()
    storage.download(key, out)
    return out.getvalue()


def run_job(app, job_id: int) -> None:
    with app.app_context():
        process_media(job_id)


@pytest.fixture
def entrant_client(client, entrant):
    log_in(client, entrant)
    return client


# --- through the form, to renditions ----------------------------------------------------------
def test_a_three_photo_series_goes_from_the_form_to_renditions(app, db, contest, entrant_client, any_storage):
    photos = real_series()

    response = post_series(entrant_client, contest, photos)

    assert response.status_code == 302
    db.expire_all()
    entry = db.scalars(select(Entry)).one()
    assert response.headers["Location"].endswith(f"/entries/mine?sent={entry.code}")
    assert (entry.category_id, entry.status) == (series_category(contest).id, EntryStatus.submitted)
    originals = entry.originals()
    assert [o.position for o in originals] == [0, 1, 2]
    assert [o.original_filename for o in originals] == [filename for _, filename in SERIES]
    for original, (content, _name) in zip(originals, photos, strict=True):  # the entrant's order
        stored = read_object(any_storage, original.storage_key)
        assert hashlib.sha256(stored).digest() == hashlib.sha256(content).digest()
        assert (original.mime_type, original.width, original.height) == ("image/jpeg", 5120, 2880)
    job = db.scalars(select(ProcessingJob)).one()
    assert (job.kind, job.state) == (JobKind.photo_series, JobState.queued)
    assert "Processing your photos" in text_of(entrant_client.get("/entries/mine", headers=EN))

    run_job(app, job.id)

    db.expire_all()
    entry = db.get(Entry, entry.id)
    assert entry.status is EntryStatus.pending_review
    assert db.get(ProcessingJob, job.id).state is JobState.succeeded
    renditions = [a for a in entry.assets if a.is_public]
    assert sorted((a.position, a.kind) for a in renditions) == sorted(
        (position, kind) for position in range(3) for kind in PHOTO_RENDITIONS
    )
    for asset in renditions:
        assert (asset.width, asset.height) == PHOTO_RENDITIONS[asset.kind]
        # Kept privately: the entry is not approved, so nothing is at its public key yet.
        assert asset.storage_key.startswith("public/r/") and not any_storage.exists(asset.storage_key)
        assert any_storage.exists(private_copy_key(asset.storage_key))
    for original, (content, _name) in zip(entry.originals(), photos, strict=True):
        assert original.sha256 == hashlib.sha256(content).hexdigest()
        assert (original.width, original.height) == (5120, 2880)
    # Each position holds its own photo: the three thumbnails differ.
    thumbs = {
        read_object(any_storage, private_copy_key(entry.asset(AssetKind.thumb_jpeg, p).storage_key))
        for p in range(3)
    }
    assert len(thumbs) == 3
    assert len(list(any_storage.keys())) == 3 + 12 + 3  # and a jury copy of each original
    assert {a.position for a in entry.assets if a.kind is AssetKind.jury_original} == {0, 1, 2}

    page = text_of(entrant_client.get("/entries/mine", headers=EN))
    # The first photo stands for the series (the URL is the storage's: local or presigned S3,
    # of the private copy while the entry is not approved).
    assert private_copy_key(entry.asset(AssetKind.thumb_jpeg, 0).storage_key) in page
    assert private_copy_key(entry.asset(AssetKind.thumb_webp, 0).storage_key) in page
    assert not any(
        entry.asset(AssetKind.thumb_jpeg, p).storage_key.removeprefix("public/") in page for p in (1, 2)
    )
    assert "3 photos" in page and "Awaiting review" in page


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (2, "A series in this category holds 3 to 10 photos; you chose 2 photos."),
        (11, "A series in this category holds 3 to 10 photos; you chose 11 photos."),
        (0, "Choose the photos of the series."),
    ],
)
def test_wrong_number_of_photos_is_refused_at_the_request(
    count, message, app, db, contest, entrant_client, storage
):
    # The count is checked before any file is read, so small stand-ins do.
    photos = [(b"\xff\xd8\xff" + bytes(100), f"IMG_{n:04d}.JPG") for n in range(count)]

    response = post_series(entrant_client, contest, photos)

    assert response.status_code == 400
    body = text_of(response)
    assert message in body
    assert "Một ngày ở Cửa Lò" in body  # the typed text is kept
    assert counts(db) == (0, 0, 0)
    assert list(storage.keys()) == []


def test_one_bad_photo_is_named_at_the_request_and_nothing_is_kept(
    app, db, contest, entrant_client, any_storage
):
    photos = real_series()
    cut = photos[1][0][:-400_000]  # cut off during the upload, still above the 3 MB minimum
    assert len(cut) > 3_000_000
    photos[1] = (cut, "IMG_0002.JPG")

    response = post_series(entrant_client, contest, photos)

    assert response.status_code == 400
    assert (
        "Photo 2 (IMG_0002.JPG): The file is damaged or incomplete. "
        "Please export it again and upload the new file."
    ) in text_of(response)
    assert counts(db) == (0, 0, 0)
    assert list(any_storage.keys()) == []
    assert list((Path(app.config["INSTANCE_DIR"]) / "tmp").glob("*")) == []


def test_series_limits_follow_the_category(app, db, contest, entrant_client, storage):
    category = series_category(contest)
    category.min_items, category.max_items = 2, 2
    db.commit()
    photos = [(b"\xff\xd8\xff" + bytes(100), f"IMG_{n:04d}.JPG") for n in range(3)]
    response = post_series(entrant_client, contest, photos)
    assert "A series in this category holds 2 to 2 photos; you chose 3 photos." in text_of(response)
    category.min_items, category.max_items = None, 2
    db.commit()
    response = post_series(entrant_client, contest, photos)
    assert "A series in this category holds at most 2 photos; you chose 3 photos." in text_of(response)
    assert counts(db) == (0, 0, 0)


# --- the job: one bad photo fails the whole entry --------------------------------------------
@pytest.fixture
def series_entry(app, db, contest, entrant, any_storage):
    """A submitted series whose originals are already in storage, as the upload leaves them."""
    author = entrant

    def make(files: list[tuple[Path | bytes, str]]) -> ProcessingJob:
        entry = Entry(
            code=contest.next_entry_code(db),
            contest_id=contest.id,
            category_id=series_category(contest).id,
            author_id=author.id,
            place_id=contest.places[0].id,
            title="Làng chài",
            taken_on=date(2024, 5, 1),
            status=EntryStatus.submitted,
            submitted_at=now_utc(),
        )
        for position, (content, filename) in enumerate(files):
            data = content.read_bytes() if isinstance(content, Path) else content
            key = new_key(f"originals/{contest.slug}", ".jpg")
            any_storage.save(key, io.BytesIO(data), content_type="image/jpeg")
            entry.assets.append(
                MediaAsset(
                    kind=AssetKind.original,
                    position=position,
                    storage_key=key,
                    mime_type="image/jpeg",
                    bytes=len(data),
                    original_filename=filename,
                )
            )
        db.add(entry)
        db.flush()
        job = create_job(db, entry, JobKind.photo_series)
        with app.app_context():
            db.commit()
        return job

    return make


def test_one_photo_failing_in_the_worker_fails_the_series_by_name(
    app, db, contest, entrant_client, series_entry, any_storage
):
    volna = wallpaper("Volna").read_bytes()
    job = series_entry(
        [
            (wallpaper("Flow"), "IMG_0001.JPG"),
            (wallpaper("SafeLanding"), "IMG_0002.JPG"),
            (volna[:3_300_000], "IMG_0003.JPG"),
        ]
    )
    originals_before = sorted(any_storage.keys())

    run_job(app, job.id)

    db.expire_all()
    entry = db.get(Entry, job.entry_id)
    assert (entry.status, entry.failure_code) == (EntryStatus.failed, "series_item")
    assert entry.failure_params == {
        "position": 2,
        "filename": "IMG_0003.JPG",
        "item_code": "damaged_file",
        "item_params": {},
    }
    assert db.get(ProcessingJob, job.id).state is JobState.failed
    # Photos 1 and 2 were rendered, but none of their renditions reached storage or the database.
    assert [a.kind for a in entry.assets] == [AssetKind.original] * 3
    assert sorted(any_storage.keys()) == originals_before
    assert list(any_storage.keys("public/")) == []

    page = text_of(entrant_client.get("/entries/mine", headers=EN))
    assert (
        "Photo 3 (IMG_0003.JPG): The file is damaged or incomplete. "
        "Please export it again and upload the new file."
    ) in page


def test_a_photo_breaking_the_rules_is_named_with_its_reason(app, db, contest, series_entry, any_storage):
    small = Path("/usr/share/wallpapers/Kite/contents/images/2560x1600.jpg")
    series_category(contest).min_bytes = None  # so that the pixel rule, not the byte rule, refuses it
    db.commit()
    job = series_entry([(wallpaper("Flow"), "a.jpg"), (small, "kite.jpg"), (wallpaper("Volna"), "c.jpg")])

    run_job(app, job.id)

    db.expire_all()
    entry = db.get(Entry, job.entry_id)
    assert entry.failure_code == "series_item"
    assert entry.failure_params == {
        "position": 1,
        "filename": "kite.jpg",
        "item_code": "too_small_pixels",
        "item_params": {"width": 2560, "height": 1600, "min": 3000},
    }
    with app.test_request_context(headers=EN):
        from contest.entries.failures import failure_message

        assert failure_message(entry.failure_code, entry.failure_params) == (
            "Photo 2 (kite.jpg): The photo is 2,560 \u00d7 1,600 pixels; its long side must be at least 3,000 pixels."
        )
    assert list(any_storage.keys("public/")) == []


def test_running_the_series_job_twice_changes_nothing(app, db, series_entry, any_storage):
    job = series_entry([(wallpaper(name), filename) for name, filename in SERIES])
    run_job(app, job.id)
    db.expire_all()
    first = sorted(a.storage_key for a in db.get(Entry, job.entry_id).assets)

    run_job(app, job.id)

    db.expire_all()
    assert sorted(a.storage_key for a in db.get(Entry, job.entry_id).assets) == first
    assert sorted(any_storage.keys()) == sorted(
        private_copy_key(k) if k.startswith("public/") else k
        for k in first  # originals, jury copies: as is
    )
    assert db.get(ProcessingJob, job.id).attempts == 1


def test_failure_message_of_a_series_item_keeps_the_other_codes(app):
    from contest.entries.failures import failure_message

    with app.test_request_context(headers=EN):
        assert failure_message("too_large_bytes", {"size": 61_000_000, "max": 60_000_000}) == (
            "The file is 61 MB; this category accepts files of at most 60 MB."
        )
        assert (
            failure_message(
                "series_item",
                {
                    "position": 0,
                    "filename": "IMG_0001.JPG",
                    "item_code": "too_large_bytes",
                    "item_params": {"size": 61_000_000, "max": 60_000_000},
                },
            )
            == "Photo 1 (IMG_0001.JPG): The file is 61 MB; this category accepts files of at most 60 MB."
        )
        assert failure_message("series_item", {"filename": "x.jpg"}) == (
            "We could not process this file. Please try again later or contact the organizers."
        )
