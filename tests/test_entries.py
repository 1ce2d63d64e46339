"""Submitting a photo entry and "My entries", through the real request path.

Real photos, real databases (SQLite and PostgreSQL) and real storage (a local folder and
S3 over HTTP). A refused upload must leave no row, no stored object and no temporary file.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from contest.contests.models import Category, CategoryKind, Contest
from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.entries.services import contest_year, display_filename
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.storage import build_storage
from contest.timeutil import vn_today
from tests.support import create_user, login_id, s3_config, wallpaper

EN = {"Accept-Language": "en"}
SMALL_WALLPAPER = Path("/usr/share/wallpapers/Autumn/contents/images/2560x1600.jpg")


# --- helpers ------------------------------------------------------------------------------
def log_in(client, user, lang: str | None = "en") -> None:
    """Log in by setting Flask-Login's session keys: these tests do not depend on the login form.

    The account's language (Vietnamese) wins over the browser's, so English is chosen in the
    session the way the language switch does.
    """
    with client.session_transaction() as session:
        session["_user_id"] = login_id(client.application, user)
        session["_fresh"] = True
        if lang:
            session["lang"] = lang


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def photo_category(contest: Contest) -> Category:
    return next(c for c in contest.categories if c.kind is CategoryKind.photo)


def valid_fields(contest: Contest, **overrides) -> dict:
    fields = {
        "category": str(photo_category(contest).id),
        "title": "Bình minh trên biển Cửa Lò",
        "description": "Fishing boats come home at dawn.",
        "place": str(contest.places[1].id),
        "taken_on": "2024-05-01",
        "accept_own_work": "y",
        "accept_promo_use": "y",
        "accept_not_awarded": "y",
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


def post_entry(client, contest: Contest, photo: Path | bytes, filename: str = "IMG_0001.JPG", **overrides):
    payload = photo.read_bytes() if isinstance(photo, Path) else photo
    data = {**valid_fields(contest, **overrides), "photo": (io.BytesIO(payload), filename)}
    return client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)


def make_entry(db, contest: Contest, author, status: EntryStatus = EntryStatus.submitted, **fields) -> Entry:
    entry = Entry(
        contest_id=contest.id,
        category_id=photo_category(contest).id,
        author_id=author.id,
        place_id=contest.places[0].id,
        title=fields.pop("title", "Sen quê Bác"),
        taken_on=fields.pop("taken_on", date(2024, 6, 1)),
        code=contest.next_entry_code(db),
        status=status,
        submitted_at=now_utc(),
        **fields,
    )
    db.add(entry)
    db.commit()
    return entry


def counts(db) -> tuple[int, int, int]:
    db.expire_all()
    return tuple(db.scalar(select(func.count(model.id))) for model in (Entry, MediaAsset, ProcessingJob))


def upload_tmp_files(app) -> list[Path]:
    return list((Path(app.config["INSTANCE_DIR"]) / "tmp").glob("*"))


def assert_nothing_stored(db, app, storage, contest: Contest) -> None:
    assert counts(db) == (0, 0, 0)
    assert list(storage.keys()) == []
    assert upload_tmp_files(app) == []
    db.refresh(contest)
    assert contest.entry_counter == 0  # the code handed out was rolled back with the rest


def assert_only_the_file_kept(db, app, storage, contest: Contest) -> None:
    """No entry, but the photo sent is kept as a stored upload the form refers to (issue 19 §2)."""
    from contest.uploads.models import Upload, UploadState

    assert counts(db) == (0, 0, 0)
    [upload] = db.scalars(select(Upload)).all()
    assert upload.state is UploadState.stored and upload.entry_id is None
    assert list(storage.keys()) == [upload.storage_key]
    assert upload_tmp_files(app) == []
    db.refresh(contest)
    assert contest.entry_counter == 0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextmanager
def installed_storage(app, storage) -> Iterator[None]:
    previous = app.extensions["storage"]
    app.extensions["storage"] = storage
    try:
        yield
    finally:
        app.extensions["storage"] = previous


# --- fixtures -----------------------------------------------------------------------------
@pytest.fixture
def entrant_client(client, entrant):
    log_in(client, entrant)
    return client


@pytest.fixture(scope="module")
def png_photo(tmp_path_factory) -> Path:
    """A real photo saved as PNG (about 20 MB): a format the photo category does not take."""
    path = tmp_path_factory.mktemp("png") / "photo.png"
    with Image.open(wallpaper("Volna")) as image:
        image.save(path, format="PNG", compress_level=1)
    return path


# --- submitting ---------------------------------------------------------------------------
def test_submitting_a_real_photo_stores_it_and_queues_processing(
    app, db, contest, entrant, client, any_storage
):
    log_in(client, entrant)
    path = wallpaper("Volna")
    with path.open("rb") as photo:
        data = {**valid_fields(contest), "photo": (photo, "IMG_0001.JPG")}
        response = client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/entries/mine?sent=HNA25-0001")  # what happens next
    db.expire_all()
    entry = db.scalars(select(Entry)).one()
    assert (entry.code, entry.status, entry.author_id) == ("HNA25-0001", EntryStatus.submitted, entrant.id)
    assert entry.title == "Bình minh trên biển Cửa Lò"
    assert entry.place_id == contest.places[1].id and entry.taken_on == date(2024, 5, 1)
    assert entry.submitted_at is not None and entry.declarations_accepted_at is not None
    original = db.scalars(select(MediaAsset)).one()
    assert (original.entry_id, original.kind, original.position) == (entry.id, AssetKind.original, 0)
    assert original.storage_key.startswith(f"originals/{contest.slug}/")
    assert original.storage_key.endswith(".jpg")
    assert (original.mime_type, original.width, original.height) == ("image/jpeg", 5120, 2880)
    assert original.bytes == path.stat().st_size
    assert original.original_filename == "IMG_0001.JPG"
    assert list(any_storage.keys()) == [original.storage_key]
    stored = io.BytesIO()
    any_storage.download(original.storage_key, stored)
    assert sha256(stored.getvalue()) == sha256(path.read_bytes())
    job = db.scalars(select(ProcessingJob)).one()
    assert (job.entry_id, job.kind, job.state) == (entry.id, JobKind.photo, JobState.queued)
    assert upload_tmp_files(app) == []

    page = client.get("/entries/mine", headers=EN)
    assert page.status_code == 200
    body = text_of(page)
    assert "We received your entry HNA25-0001" in body
    assert "HNA25-0001" in body and "Received" in body and "Processing your photo" in body
    assert "/entries/HNA25-0001/status.json" in body  # the page polls while the photo is processed


def test_two_entries_get_consecutive_codes(db, contest, entrant_client, storage):
    assert post_entry(entrant_client, contest, wallpaper("Volna")).status_code == 302
    assert post_entry(entrant_client, contest, wallpaper("Flow"), title="Ruộng bậc thang").status_code == 302
    db.expire_all()
    assert db.scalars(select(Entry.code).order_by(Entry.id)).all() == ["HNA25-0001", "HNA25-0002"]
    assert len(list(storage.keys())) == 2


def _text_file() -> bytes:
    # Large enough to pass the 3 MB rule, so the content check is the one that answers.
    return b"This is not a photo, only text.\n" * 110_000


def _truncated() -> bytes:
    data = wallpaper("Volna").read_bytes()
    return data[: int(len(data) * 0.6)]


BROKEN_UPLOADS = {
    # case: (bytes, file name, category min_bytes for the test or None, expected message)
    "zero_bytes": (lambda: b"", "IMG_0002.JPG", None, "The file is empty."),
    "text_named_jpg": (
        _text_file,
        "photo.jpg",
        None,
        "This file is not a photo we can read; this category accepts JPEG.",
    ),
    "truncated_jpeg": (
        _truncated,
        "IMG_0003.JPG",
        1_000_000,
        "The file is damaged or incomplete. Please export it again and upload the new file.",
    ),
    # 2560x1600 and 745 kB: the byte minimum is lowered so that the pixel rule is the one tested.
    "below_3000_px": (
        SMALL_WALLPAPER.read_bytes,
        "autumn.jpg",
        100_000,
        "The photo is 2,560 \u00d7 1,600 pixels; its long side must be at least 3,000 pixels.",
    ),
    "below_3_mb": (
        lambda: wallpaper("Shell").read_bytes(),
        "shell.jpg",
        None,
        "The file is 1.9 MB; this category needs files of at least 3 MB.",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_UPLOADS))
def test_broken_upload_is_refused_and_nothing_is_kept(case, app, db, contest, entrant_client, any_storage):
    make_bytes, filename, min_bytes, message = BROKEN_UPLOADS[case]
    if min_bytes is not None:
        photo_category(contest).min_bytes = min_bytes
        db.commit()
    response = post_entry(entrant_client, contest, make_bytes(), filename=filename)
    assert response.status_code == 400
    body = text_of(response)
    assert message in body
    assert "Bình minh trên biển Cửa Lò" in body  # the typed text is kept
    assert_nothing_stored(db, app, any_storage, contest)


def test_png_renamed_jpg_is_refused(app, db, contest, entrant_client, any_storage, png_photo):
    response = post_entry(entrant_client, contest, png_photo, filename="IMG_0004.jpg")
    assert response.status_code == 400
    assert "This file is in PNG format; this category accepts JPEG." in text_of(response)
    assert_nothing_stored(db, app, any_storage, contest)


def test_small_photo_without_lowered_minimum_fails_on_pixels_first(app, db, contest, entrant_client, storage):
    # 2560x1600 and 745 kB breaks both rules: the pixels are named, the bytes are not (issue 19 §2).
    response = post_entry(entrant_client, contest, SMALL_WALLPAPER, filename="autumn.jpg")
    assert response.status_code == 400
    body = text_of(response)
    assert "its long side must be at least 3,000 pixels" in body
    assert "this category needs files of at least 3 MB" not in body
    assert_nothing_stored(db, app, storage, contest)


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("accept_own_work", "Please confirm that the work is your own."),
        ("accept_promo_use", "Please allow the promotional use of your work to take part."),
        ("accept_not_awarded", "Please confirm that the work has not been awarded before."),
    ],
)
def test_each_declaration_is_required(declaration, message, app, db, contest, entrant_client, storage):
    response = post_entry(entrant_client, contest, wallpaper("Volna"), **{declaration: None})
    assert response.status_code == 400
    assert message in text_of(response)
    assert_only_the_file_kept(db, app, storage, contest)


def test_missing_file_and_title_are_reported(app, db, contest, entrant_client, storage):
    response = entrant_client.post(
        "/entries/new", data=valid_fields(contest, title=" "), content_type="multipart/form-data", headers=EN
    )
    assert response.status_code == 400
    body = text_of(response)
    assert "Choose the photo to upload." in body and "This field is required." in body
    assert_nothing_stored(db, app, storage, contest)


@pytest.mark.parametrize(
    ("taken_on", "message"),
    [
        ("2022-12-31", "Works in this category must be made between Jan 1, 2023 and Oct 1, 2025."),
        ("2025-10-02", "Works in this category must be made between Jan 1, 2023 and Oct 1, 2025."),
        ("tomorrow", "The date taken cannot be in the future."),
    ],
)
def test_date_taken_outside_the_window_is_refused(
    taken_on, message, app, db, contest, entrant_client, storage
):
    if taken_on == "tomorrow":
        taken_on = (vn_today() + timedelta(days=1)).isoformat()
    response = post_entry(entrant_client, contest, wallpaper("Volna"), taken_on=taken_on)
    assert response.status_code == 400
    assert message in text_of(response)
    assert_only_the_file_kept(db, app, storage, contest)


def test_every_category_is_offered_with_its_rules(db, contest, entrant_client, storage, app):
    # Replaces the check that only photo categories were offered: series and video entries
    # are now taken through the same page.
    page = entrant_client.get("/entries/new", headers=EN)
    assert page.status_code == 200
    body = text_of(page)
    assert "Photo series and video entries open soon." not in body
    radios = re.findall(r'<input[^>]*name="category"[^>]*>', body)
    offered = [int(re.search(r'value="(\d+)"', radio).group(1)) for radio in radios]
    assert offered == [c.id for c in contest.categories]
    assert [re.search(r'data-kind="(\w+)"', r).group(1) for r in radios] == ["photo", "photo_series", "video"]
    assert not any("checked" in radio for radio in radios)  # nothing chosen for the entrant
    # The category's rules beside each choice.
    assert "At least 3,000 pixels on the long side" in body
    assert "From 3 to 10 photos" in body and "At most 5 minutes long" in body
    # One file field per kind; the series takes several files, the video field offers videos.
    assert re.search(r'<input[^>]*name="photo"[^>]*type="file"|<input[^>]*type="file"[^>]*name="photo"', body)
    photos = re.search(r'<input[^>]*name="photos"[^>]*>', body).group(0)
    assert "multiple" in photos and "image/jpeg" in photos
    video = re.search(r'<input[^>]*name="video"[^>]*>', body).group(0)
    assert "video/mp4" in video and ".mp4" in video


def test_a_category_can_be_preselected_by_link(db, contest, entrant_client):
    series = next(c for c in contest.categories if c.kind is CategoryKind.photo_series)
    body = text_of(entrant_client.get(f"/entries/new?category={series.id}", headers=EN))
    checked = [r for r in re.findall(r'<input[^>]*name="category"[^>]*>', body) if "checked" in r]
    assert len(checked) == 1 and f'value="{series.id}"' in checked[0]


@pytest.mark.parametrize(
    ("category", "message"),
    [(None, "Choose the category of your entry."), ("999999", "Choose one of the categories shown.")],
)
def test_a_category_must_be_chosen(category, message, app, db, contest, entrant_client, storage):
    response = post_entry(entrant_client, contest, wallpaper("Volna"), category=category or None)
    assert response.status_code == 400
    assert message in text_of(response)
    assert_nothing_stored(db, app, storage, contest)


def test_the_file_field_must_match_the_category(app, db, contest, entrant_client, storage):
    """A photo sent in the photo field while the video category is chosen is not taken as the video."""
    video = next(c for c in contest.categories if c.kind is CategoryKind.video)
    response = post_entry(entrant_client, contest, wallpaper("Volna"), category=str(video.id))
    assert response.status_code == 400
    assert "Choose the video to upload." in text_of(response)
    assert_nothing_stored(db, app, storage, contest)


def test_submission_window_closed(app, db, contest, entrant_client, storage):
    contest.submission_opens_at = now_utc() - timedelta(days=40)
    contest.submission_closes_at = now_utc() - timedelta(minutes=1)
    db.commit()
    page = entrant_client.get("/entries/new", headers=EN)
    assert page.status_code == 200
    assert "Submissions to Happy Nghe An 2025 are closed." in text_of(page)
    assert 'name="photo"' not in text_of(page)
    response = post_entry(entrant_client, contest, wallpaper("Volna"))
    assert response.status_code == 400
    assert "Submissions to Happy Nghe An 2025 are closed." in text_of(response)
    assert_nothing_stored(db, app, storage, contest)


def test_entrant_below_minimum_age_is_refused(app, db, contest, client, storage):
    young = create_user(db, "young@example.com", birth_year=contest_year(contest) - 14)
    log_in(client, young)
    response = post_entry(client, contest, wallpaper("Volna"))
    assert response.status_code == 400
    assert f"Entrants must be at least 15 years old in {contest_year(contest)}." in text_of(response)
    assert_nothing_stored(db, app, storage, contest)


def test_entrant_of_exactly_the_minimum_age_may_submit(db, contest, client, storage):
    fifteen = create_user(db, "fifteen@example.com", birth_year=contest_year(contest) - 15)
    log_in(client, fifteen)
    assert post_entry(client, contest, wallpaper("Volna")).status_code == 302


def test_category_limit_per_person(app, db, contest, entrant, entrant_client, storage):
    photo_category(contest).max_entries_per_person = 1
    db.commit()
    make_entry(db, contest, entrant, EntryStatus.pending_review)
    response = post_entry(entrant_client, contest, wallpaper("Volna"))
    assert response.status_code == 400
    assert (
        "You have reached the limit of 1 entry per person in the category Photo. "
        "Withdraw an entry to submit another."
    ) in text_of(response)
    assert counts(db) == (1, 0, 0)
    assert list(storage.keys()) == []


def test_withdrawn_entries_do_not_count_towards_the_limit(db, contest, entrant, entrant_client, storage):
    photo_category(contest).max_entries_per_person = 1
    db.commit()
    make_entry(db, contest, entrant, EntryStatus.withdrawn)
    assert post_entry(entrant_client, contest, wallpaper("Volna")).status_code == 302
    assert counts(db) == (2, 1, 1)


def test_contest_limit_per_person(db, contest, entrant, entrant_client, storage):
    contest.max_entries_per_person = 2
    db.commit()
    make_entry(db, contest, entrant)
    make_entry(db, contest, entrant, EntryStatus.failed)
    page = entrant_client.get("/entries/new", headers=EN)
    assert "You have reached the limit of 2 entries per person in this contest." in text_of(page)
    response = post_entry(entrant_client, contest, wallpaper("Volna"))
    assert response.status_code == 400
    assert counts(db) == (2, 0, 0)


def test_unverified_entrant_is_sent_to_confirm_the_address(db, contest, client, storage):
    unverified = create_user(db, "unverified@example.com", verified=False)
    log_in(client, unverified)
    for response in (client.get("/entries/new"), post_entry(client, contest, wallpaper("Volna"))):
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/account/unverified")
    assert counts(db) == (0, 0, 0)
    assert list(storage.keys()) == []


@pytest.fixture
def unreachable_storage(app):
    """A real S3 client pointed at a loopback port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    storage = build_storage({**app.config, **s3_config(f"http://127.0.0.1:{port}", "nowhere")})
    with installed_storage(app, storage):
        yield storage


def test_storage_unavailable_gives_a_friendly_error(app, db, contest, entrant_client, unreachable_storage):
    response = post_entry(entrant_client, contest, wallpaper("Volna"))
    assert response.status_code == 503
    body = text_of(response)
    assert "Our file storage is unavailable at the moment. Nothing was saved" in body
    assert "Bình minh trên biển Cửa Lò" in body
    assert counts(db) == (0, 0, 0)
    assert upload_tmp_files(app) == []


def test_failure_after_the_file_was_stored_leaves_nothing_behind(
    db, contest, entrant, entrant_client, any_storage
):
    make_entry(db, contest, entrant)  # takes HNA25-0001
    contest.entry_counter = 0  # so the next code collides when the entry row is written
    db.commit()
    response = post_entry(entrant_client, contest, wallpaper("Volna"))
    assert response.status_code == 500
    assert counts(db) == (1, 0, 0)
    assert list(any_storage.keys()) == []


def test_form_renders_in_vietnamese(contest, entrant, client):
    log_in(client, entrant, lang=None)
    response = client.get("/entries/new")
    assert response.status_code == 200
    assert 'name="accept_not_awarded"' in response.get_data(as_text=True)


def test_display_filename_keeps_the_name_not_the_path():
    assert display_filename("C:\\Users\\An\\Ảnh đẹp\x00.JPG") == "Ảnh đẹp.JPG"
    assert display_filename("../../etc/passwd") == "passwd"
    assert display_filename("") == "photo"
    long = display_filename("a" * 400 + ".jpeg")
    assert len(long) == 255 and long.endswith(".jpeg")


# --- my entries -----------------------------------------------------------------------------
# The query string of a signed media URL (of a page's unescaped text, or of JSON).
SIGNED = r"\?e=\d+&s=[0-9a-f]{64}"


def test_my_entries_shows_thumbnails_failures_and_retries(app, db, contest, entrant, entrant_client, storage):
    done = make_entry(db, contest, entrant, EntryStatus.pending_review, title="Done")
    thumbs = {AssetKind.thumb_webp: "public/t1/thumb.webp", AssetKind.thumb_jpeg: "public/t1/thumb.jpg"}
    for kind, key in thumbs.items():
        db.add(MediaAsset(entry_id=done.id, kind=kind, storage_key=key, mime_type="image/x", bytes=10))
    failed = make_entry(db, contest, entrant, title="Failed")
    failed.transition(EntryStatus.processing)
    failed.fail("too_small_pixels", width=2560, height=1600, min=3000)
    retrying = make_entry(db, contest, entrant, EntryStatus.processing, title="Retrying")
    db.add(ProcessingJob(entry_id=retrying.id, kind=JobKind.photo, state=JobState.retrying))
    make_entry(db, contest, create_user(db, "other@example.com"), title="Someone else's")
    db.commit()

    response = entrant_client.get("/entries/mine", headers=EN)
    assert response.status_code == 200
    body = text_of(response)
    assert body.index("Retrying") < body.index("Failed") < body.index("Done")  # newest first
    # Not approved: the private copies, signed (the public keys hold nothing until approval).
    assert re.search(rf'<source srcset="/media/private/t1/thumb\.webp{SIGNED}" type="image/webp">', body)
    assert re.search(rf'<img src="/media/private/t1/thumb\.jpg{SIGNED}"', body)
    assert "Awaiting review" in body
    assert "The photo is 2,560 \u00d7 1,600 pixels; its long side must be at least 3,000 pixels." in body
    assert "Retrying: processing was interrupted" in body
    assert "Someone else's" not in body
    assert f"/entries/{retrying.code}/status.json" in body
    assert f"/entries/{done.code}/status.json" not in body
    assert f"/entries/{done.code}/edit" in body and f"/entries/{done.code}/withdraw" in body


def test_my_entries_does_not_poll_when_nothing_is_processing(db, contest, entrant, entrant_client):
    make_entry(db, contest, entrant, EntryStatus.approved)
    body = text_of(entrant_client.get("/entries/mine", headers=EN))
    assert "status.json" not in body and "http-equiv" not in body
    assert "Accepted" in body


def test_status_json(db, contest, entrant, entrant_client, storage):
    entry = make_entry(db, contest, entrant, EntryStatus.processing)
    db.add(ProcessingJob(entry_id=entry.id, kind=JobKind.photo, state=JobState.running))
    db.commit()
    response = entrant_client.get(f"/entries/{entry.code}/status.json")
    assert response.status_code == 200
    assert response.get_json() == {
        "code": entry.code,
        "status": "processing",
        "job_state": "running",
        "thumb_url": None,
    }

    entry.transition(EntryStatus.pending_review)
    db.add(
        MediaAsset(
            entry_id=entry.id,
            kind=AssetKind.thumb_jpeg,
            storage_key="public/t2/thumb.jpg",
            mime_type="image/jpeg",
            bytes=10,
        )
    )
    db.commit()
    thumb_url = entrant_client.get(f"/entries/{entry.code}/status.json").get_json()["thumb_url"]
    assert re.fullmatch(rf"/media/private/t2/thumb\.jpg{SIGNED}", thumb_url)


# --- editing and withdrawing ---------------------------------------------------------------------
def test_edit_saves_the_text(db, contest, entrant, entrant_client):
    entry = make_entry(db, contest, entrant, EntryStatus.pending_review)
    page = entrant_client.get(f"/entries/{entry.code}/edit", headers=EN)
    assert page.status_code == 200 and "Sen quê Bác" in text_of(page)
    response = entrant_client.post(
        f"/entries/{entry.code}/edit",
        headers=EN,
        data={
            "title": "Sen quê Bác, Nam Đàn",
            "description": "Lotus season in Kim Liên.",
            "place": str(contest.places[10].id),
            "taken_on": "2025-06-15",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/entries/mine")
    db.expire_all()
    assert (entry.title, entry.description, entry.place_id, entry.taken_on, entry.status) == (
        "Sen quê Bác, Nam Đàn",
        "Lotus season in Kim Liên.",
        contest.places[10].id,
        date(2025, 6, 15),
        EntryStatus.pending_review,
    )


def test_edit_validates_like_the_submission(db, contest, entrant, entrant_client):
    entry = make_entry(db, contest, entrant)
    response = entrant_client.post(
        f"/entries/{entry.code}/edit",
        headers=EN,
        data={
            "title": "",
            "place": "0",
            "taken_on": "2020-01-01",
        },
    )
    assert response.status_code == 400
    body = text_of(response)
    assert "This field is required." in body
    assert "Choose the place in Nghệ An where the work was made." in body
    assert "Works in this category must be made between Jan 1, 2023 and Oct 1, 2025." in body
    db.expire_all()
    assert entry.title == "Sen quê Bác" and entry.taken_on == date(2024, 6, 1)


def test_withdraw_moves_the_entry_to_withdrawn(db, contest, entrant, entrant_client):
    entry = make_entry(db, contest, entrant, EntryStatus.pending_review)
    page = entrant_client.get(f"/entries/{entry.code}/withdraw", headers=EN)
    assert page.status_code == 200 and "This cannot be undone." in text_of(page)
    response = entrant_client.post(f"/entries/{entry.code}/withdraw", headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/entries/mine")
    db.expire_all()
    assert entry.status is EntryStatus.withdrawn
    body = text_of(entrant_client.get("/entries/mine", headers=EN))
    assert f"Entry {entry.code} was withdrawn." in body and "Withdrawn" in body
    assert f"/entries/{entry.code}/edit" not in body and f"/entries/{entry.code}/withdraw" not in body


def test_no_edit_or_withdraw_once_submission_closes(db, contest, entrant, entrant_client):
    entry = make_entry(db, contest, entrant, EntryStatus.pending_review)
    contest.submission_opens_at = now_utc() - timedelta(days=40)
    contest.submission_closes_at = now_utc() - timedelta(minutes=1)
    db.commit()
    for path in (f"/entries/{entry.code}/edit", f"/entries/{entry.code}/withdraw"):
        response = entrant_client.post(
            path, headers=EN, data={"title": "Changed", "place": "0", "taken_on": "2024-01-01"}
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/entries/mine")
    db.expire_all()
    assert (entry.title, entry.status) == ("Sen quê Bác", EntryStatus.pending_review)
    assert "can no longer be" in text_of(entrant_client.get("/entries/mine", headers=EN))


def test_withdrawn_entry_cannot_be_edited(db, contest, entrant, entrant_client):
    entry = make_entry(db, contest, entrant, EntryStatus.withdrawn)
    response = entrant_client.get(f"/entries/{entry.code}/edit")
    assert response.status_code == 302
    assert entrant_client.post(f"/entries/{entry.code}/withdraw").status_code == 302
    db.expire_all()
    assert entry.status is EntryStatus.withdrawn


# --- who may open what ------------------------------------------------------------------------
ROLES = ["anonymous", "owner", "other_entrant", "judge", "organizer"]
ACCESS = {
    # (method, route): expected status per role, in the order of ROLES
    ("GET", "/entries/new"): (302, 200, 200, 403, 403),
    ("GET", "/entries/mine"): (302, 200, 200, 200, 200),
    ("GET", "/entries/{code}/status.json"): (302, 200, 404, 404, 404),
    ("GET", "/entries/{code}/edit"): (302, 200, 404, 404, 404),
    ("POST", "/entries/{code}/edit"): (302, 302, 404, 404, 404),
    ("GET", "/entries/{code}/withdraw"): (302, 200, 404, 404, 404),
    ("POST", "/entries/{code}/withdraw"): (302, 302, 404, 404, 404),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "route"), list(ACCESS))
def test_access_matrix(method, route, role, db, contest, entrant, judge, organizer, client):
    entry = make_entry(db, contest, entrant, EntryStatus.pending_review)
    users = {
        "owner": entrant,
        "judge": judge,
        "organizer": organizer,
        "other_entrant": create_user(db, "other@example.com"),
    }
    if role != "anonymous":
        log_in(client, users[role])
    data = {"title": "Edited", "place": str(contest.places[0].id), "taken_on": "2024-02-02"}
    response = client.open(
        route.format(code=entry.code), method=method, data=data if method == "POST" else None
    )

    assert response.status_code == ACCESS[(method, route)][ROLES.index(role)]
    if role == "anonymous":
        assert "/account/login" in response.headers["Location"]
    db.expire_all()
    if role != "owner":
        assert (entry.title, entry.status) == ("Sen quê Bác", EntryStatus.pending_review)


# --- video and photo series entries --------------------------------------------------------------
def video_category(contest: Contest) -> Category:
    return next(c for c in contest.categories if c.kind is CategoryKind.video)


@pytest.fixture(scope="module")
def tiny_video(tmp_path_factory) -> Path:
    """A real H.264 MP4 of 2 s (640x400, 25 fps) that ffmpeg makes from a real photograph."""
    path = tmp_path_factory.mktemp("video") / "VID_0001.mp4"
    # fmt: off
    command = [
        "ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "25", "-i", str(SMALL_WALLPAPER),
        "-t", "2", "-vf", "scale=640:-2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        str(path),
    ]
    # fmt: on
    subprocess.run(
        command,
        check=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    return path


def post_video(client, contest: Contest, video: Path | bytes, filename: str = "VID_0001.mp4", **overrides):
    payload = video.read_bytes() if isinstance(video, Path) else video
    fields = valid_fields(contest, category=str(video_category(contest).id), **overrides)
    data = {**fields, "video": (io.BytesIO(payload), filename)}
    return client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)


def test_a_video_entry_through_the_form_queues_a_video_job(
    app, db, contest, entrant_client, any_storage, tiny_video
):
    response = post_video(entrant_client, contest, tiny_video)

    assert response.status_code == 302
    db.expire_all()
    entry = db.scalars(select(Entry)).one()
    assert (entry.category_id, entry.status) == (video_category(contest).id, EntryStatus.submitted)
    original = entry.originals()[0]
    assert original.storage_key.startswith(f"originals/{contest.slug}/") and original.storage_key.endswith(
        ".mp4"
    )
    assert (original.mime_type, original.width, original.height) == ("video/mp4", 640, 400)
    assert original.duration_s == pytest.approx(2.0, abs=0.1)
    assert original.original_filename == "VID_0001.mp4"
    assert list(any_storage.keys()) == [original.storage_key]
    job = db.scalars(select(ProcessingJob)).one()
    assert (job.kind, job.state) == (JobKind.video, JobState.queued)
    assert upload_tmp_files(app) == []
    assert "Processing your video" in text_of(entrant_client.get("/entries/mine", headers=EN))


def test_a_video_breaking_the_rules_is_refused_and_nothing_is_kept(
    app, db, contest, entrant_client, storage, tiny_video
):
    video_category(contest).max_duration_s = 1
    db.commit()
    response = post_video(entrant_client, contest, tiny_video)
    assert response.status_code == 400
    body = text_of(response)
    assert "The video lasts 2 seconds; this category accepts videos of at most 1 seconds." in body
    assert "Bình minh trên biển Cửa Lò" in body
    assert_nothing_stored(db, app, storage, contest)


def test_a_text_file_named_mp4_is_refused(app, db, contest, entrant_client, storage):
    response = post_video(entrant_client, contest, _text_file(), filename="clip.mp4")
    assert response.status_code == 400
    assert "This file is not a video we can read; this category accepts MP4, MOV." in text_of(response)
    assert_nothing_stored(db, app, storage, contest)


def test_a_photo_series_needs_its_photos(app, db, contest, entrant_client, storage):
    series = next(c for c in contest.categories if c.kind is CategoryKind.photo_series)
    data = {**valid_fields(contest, category=str(series.id)), "photo": (io.BytesIO(b"x"), "a.jpg")}
    response = entrant_client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)
    assert response.status_code == 400
    assert "Choose the photos of the series." in text_of(response)
    assert_nothing_stored(db, app, storage, contest)


def test_my_entries_shows_a_series_count_and_a_video_poster(db, contest, entrant, entrant_client, storage):
    series = make_entry(db, contest, entrant, EntryStatus.pending_review, title="Series")
    series.category_id = next(c for c in contest.categories if c.kind is CategoryKind.photo_series).id
    for position in range(4):
        db.add(
            MediaAsset(
                entry_id=series.id,
                position=position,
                kind=AssetKind.original,
                storage_key=f"originals/x/s{position}.jpg",
                mime_type="image/jpeg",
                bytes=10,
            )
        )
        db.add(
            MediaAsset(
                entry_id=series.id,
                position=position,
                kind=AssetKind.thumb_jpeg,
                storage_key=f"public/s{position}/thumb.jpg",
                mime_type="image/jpeg",
                bytes=10,
            )
        )
    video = make_entry(db, contest, entrant, EntryStatus.pending_review, title="Video")
    video.category_id = video_category(contest).id
    for kind, key in (
        (AssetKind.poster_webp, "public/v1/poster.webp"),
        (AssetKind.poster_jpeg, "public/v1/poster.jpg"),
    ):
        db.add(MediaAsset(entry_id=video.id, kind=kind, storage_key=key, mime_type="image/x", bytes=10))
    db.commit()

    body = text_of(entrant_client.get("/entries/mine", headers=EN))

    assert "4 photos" in body
    assert re.search(rf'<img src="/media/private/s0/thumb\.jpg{SIGNED}"', body) and "s1/thumb.jpg" not in body
    assert re.search(rf'<source srcset="/media/private/v1/poster\.webp{SIGNED}" type="image/webp">', body)
    assert re.search(rf'<img src="/media/private/v1/poster\.jpg{SIGNED}"', body)
    status = entrant_client.get(f"/entries/{video.code}/status.json").get_json()
    assert re.fullmatch(rf"/media/private/v1/poster\.jpg{SIGNED}", status["thumb_url"])
