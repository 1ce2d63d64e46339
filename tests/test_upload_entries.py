"""Entries made from stored uploads (issue 19 §2, §4): the messages' order, files kept across a
form's errors, another account's upload refused, and the worker's check after arrival.

Real files, real databases, real storage (a local folder and S3 over HTTP with moto), the real
upload API and the real worker task.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.mail.models import OutboundEmail
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.uploads.models import Upload, UploadState
from tests.support import create_user, wallpaper
from tests.test_entries import EN, SMALL_WALLPAPER, log_in, photo_category, post_entry, text_of, valid_fields
from worker.tasks import process_media

TEXT_NAMED_JPG = b"This is not a photo, only a shopping list.\n" * 20


@pytest.fixture
def entrant_client(client, entrant):
    log_in(client, entrant)
    return client


@pytest.fixture(scope="module")
def light_big_jpeg(tmp_path_factory) -> Path:
    """4000 x 3000 pixels of one colour: enough pixels, far below the 3 MB minimum."""
    path = tmp_path_factory.mktemp("light") / "flat.jpg"
    Image.new("RGB", (4000, 3000), (40, 120, 200)).save(path, format="JPEG", quality=80)
    return path


@pytest.fixture(scope="module")
def png_photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("png") / "photo.png"
    with Image.open(wallpaper("Volna")) as image:
        image.save(path, format="PNG", compress_level=1)
    return path


def send_through_api(client, category_id: int, payload: bytes, filename: str, field: str = "photo") -> str:
    """Send a file as the page's script does: start, PUT each part where told, complete; the upload id."""
    started = client.post(
        "/uploads",
        json={
            "category_id": category_id,
            "field": field,
            "filename": filename,
            "type": "image/jpeg",
            "size": len(payload),
        },
        headers=EN,
    )
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    named = []
    for number in range(1, body["partCount"] + 1):
        chunk = payload[(number - 1) * body["partSize"] : number * body["partSize"]]
        target = client.get(f"/uploads/{body['id']}/parts/{number}", headers=EN).get_json()
        if target["url"].startswith("http"):
            answer = requests.put(target["url"], data=chunk, timeout=30)
            assert answer.status_code == 200, answer.text
            etag = answer.headers["ETag"]
        else:
            answer = client.put(target["url"], data=chunk, headers=EN)
            assert answer.status_code == 200, answer.get_json()
            etag = answer.headers["ETag"]
        named.append({"PartNumber": number, "ETag": etag})
    done = client.post(f"/uploads/{body['id']}/complete", json={"parts": named}, headers=EN)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "stored"
    return body["id"]


def post_with_upload(client, contest, upload_ids: list[str], field: str = "photo", **overrides):
    data = {**valid_fields(contest, **overrides), f"upload_{field}": ",".join(upload_ids)}
    return client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)


def run_jobs(app, db, kind: JobKind) -> list[ProcessingJob]:
    """Run every queued job of ``kind`` as the Celery task does."""
    db.expire_all()
    jobs = db.scalars(select(ProcessingJob).where(ProcessingJob.kind == kind)).all()
    for job in jobs:
        with app.app_context():
            process_media(job.id)
    db.expire_all()
    return jobs


def errors_of(response) -> list[str]:
    """The field errors the page shows (not the messages the page's script carries)."""
    return [
        html.unescape(e)
        for e in re.findall(r'<p class="error" id="[^"]+">([^<]*)</p>', response.get_data(as_text=True))
    ]


def the_entry(db) -> Entry:
    db.expire_all()
    return db.scalars(select(Entry)).one()


# --- §2: the server names the real problem first ------------------------------------------------
def test_a_text_file_named_jpg_is_not_a_photo_not_too_small(db, contest, entrant_client, storage):
    response = post_entry(entrant_client, contest, TEXT_NAMED_JPG, filename="holiday.jpg")
    assert response.status_code == 400
    assert errors_of(response) == ["This file is not a photo we can read; this category accepts JPEG."]


def test_a_png_when_jpeg_only_is_told_its_format(db, contest, entrant_client, storage, png_photo):
    response = post_entry(entrant_client, contest, png_photo, filename="IMG_0004.jpg")
    assert errors_of(response) == ["This file is in PNG format; this category accepts JPEG."]


def test_a_small_pixel_jpeg_is_told_its_pixels_before_its_bytes(db, contest, entrant_client, storage):
    response = post_entry(entrant_client, contest, SMALL_WALLPAPER, filename="autumn.jpg")
    assert errors_of(response) == [
        "The photo is 2,560 \u00d7 1,600 pixels; its long side must be at least 3,000 pixels."
    ]


def test_a_big_pixel_but_light_jpeg_is_told_its_bytes(db, contest, entrant_client, storage, light_big_jpeg):
    assert light_big_jpeg.stat().st_size < 3_000_000
    [error] = errors_of(post_entry(entrant_client, contest, light_big_jpeg, filename="flat.jpg"))
    assert re.fullmatch(r"The file is [\d.,]+ KB; this category needs files of at least 3 MB\.", error)


# --- §2: a file already sent is kept when another field has an error --------------------------
def test_a_posted_photo_is_kept_when_the_date_is_wrong_and_the_fixed_form_needs_no_file(
    app, db, contest, entrant_client, entrant, any_storage
):
    photo = wallpaper("Volna")
    first = post_entry(entrant_client, contest, photo, filename="IMG_0001.JPG", taken_on="2022-12-31")
    assert first.status_code == 400
    page = first.get_data(as_text=True)
    body = text_of(first)
    assert "Works in this category must be made between" in body
    assert "Your file is kept: you need not send it again." in body and "IMG_0001.JPG" in body
    assert re.search(r'<input[^>]*autofocus[^>]*id="taken_on"|<input[^>]*id="taken_on"[^>]*autofocus', page)
    assert 'class="error-summary"' in page and 'href="#taken_on"' in page
    upload = db.scalars(select(Upload)).one()
    assert (upload.state, upload.user_id, upload.field, upload.filename) == (
        UploadState.stored,
        entrant.id,
        "photo",
        "IMG_0001.JPG",
    )
    assert f'name="upload_photo" type="hidden" value="{upload.id}"' in page
    assert list(any_storage.keys()) == [upload.storage_key]
    assert db.scalars(select(Entry)).all() == []

    again = post_with_upload(entrant_client, contest, [upload.id])  # the fixed date, no file
    assert again.status_code == 302
    entry = the_entry(db)
    assert entry.status is EntryStatus.checking
    page = text_of(entrant_client.get("/entries/mine", headers=EN))
    assert "Checking the file" in page and "Checking your file" in page
    status = entrant_client.get(f"/entries/{entry.code}/status.json").get_json()
    assert status["status"] == "checking"

    [check] = run_jobs(app, db, JobKind.check)
    assert check.state is JobState.succeeded
    entry = the_entry(db)
    assert entry.status is EntryStatus.submitted and entry.submitted_at is not None
    original = entry.asset(AssetKind.original)
    assert original.storage_key.startswith(f"originals/{contest.slug}/") and original.storage_key.endswith(
        ".jpg"
    )
    assert (original.mime_type, original.width, original.height) == ("image/jpeg", 5120, 2880)
    assert list(any_storage.keys()) == [original.storage_key]  # the upload's object is gone
    stored = io.BytesIO()
    any_storage.download(original.storage_key, stored)
    assert stored.getvalue() == photo.read_bytes()

    [processing] = run_jobs(app, db, JobKind.photo)
    assert processing.state is JobState.succeeded
    assert the_entry(db).status is EntryStatus.pending_review
    run_jobs(app, db, JobKind.check)  # the check again: nothing happens twice
    assert len(db.scalars(select(ProcessingJob).where(ProcessingJob.kind == JobKind.photo)).all()) == 1


def test_keep_or_replace_the_kept_file(db, contest, entrant_client, storage):
    first = post_entry(entrant_client, contest, wallpaper("Volna"), title=" ")
    assert first.status_code == 400
    upload = db.scalars(select(Upload)).one()
    data = {**valid_fields(contest), "upload_photo": upload.id, "keep_files": "replace"}
    replaced = entrant_client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)
    assert replaced.status_code == 400
    assert "Choose the photo to upload." in text_of(replaced)  # replace chosen, no new file


def test_a_bad_posted_file_is_not_kept_and_both_errors_are_shown(app, db, contest, entrant_client, storage):
    response = post_entry(entrant_client, contest, TEXT_NAMED_JPG, filename="holiday.jpg", title=" ")
    assert response.status_code == 400
    body = text_of(response)
    assert "This file is not a photo we can read" in body and "This field is required." in body
    assert db.scalars(select(Upload)).all() == [] and list(storage.keys()) == []


def test_another_accounts_upload_is_refused(app, db, contest, entrant_client, storage):
    other = create_user(db, "other-entrant@example.com")
    with app.test_client() as their_client:
        log_in(their_client, other)
        assert post_entry(their_client, contest, wallpaper("Volna"), taken_on="2022-12-31").status_code == 400
    theirs = db.scalars(select(Upload)).one()
    assert theirs.user_id == other.id
    response = post_with_upload(entrant_client, contest, [theirs.id])
    assert response.status_code == 400
    assert "This file is no longer available: please choose it again." in text_of(response)
    assert db.scalars(select(Entry)).all() == []
    db.refresh(theirs)
    assert theirs.state is UploadState.stored and theirs.entry_id is None


# --- §4: checked after arrival --------------------------------------------------------------
def test_a_text_file_named_jpg_sent_through_the_api_fails_its_check_and_leaves_nothing(
    app, db, contest, entrant_client, any_storage
):
    category = photo_category(contest)
    category.min_bytes = None  # the API bounds the size first: let the content check answer
    db.commit()
    upload_id = send_through_api(entrant_client, category.id, TEXT_NAMED_JPG, "holiday.jpg")
    assert post_with_upload(entrant_client, contest, [upload_id]).status_code == 302
    assert the_entry(db).status is EntryStatus.checking

    [check] = run_jobs(app, db, JobKind.check)
    assert check.state is JobState.failed
    entry = the_entry(db)
    assert (entry.status, entry.failure_code) == (EntryStatus.failed, "not_recognised")
    assert db.scalars(select(MediaAsset)).all() == []
    assert list(any_storage.keys()) == []  # no object left
    assert db.scalars(select(ProcessingJob).where(ProcessingJob.kind != JobKind.check)).all() == []
    page = text_of(entrant_client.get("/entries/mine", headers=EN))
    assert "This file is not a photo we can read; this category accepts JPEG." in page
    [mail] = db.scalars(select(OutboundEmail).where(OutboundEmail.event_key.like("entry.failed:%"))).all()
    assert mail.recipient == "entrant@example.com"


def test_an_upload_sent_through_the_api_becomes_a_submitted_then_processed_entry(
    app, db, contest, entrant_client, any_storage
):
    photo = wallpaper("Volna").read_bytes()
    upload_id = send_through_api(entrant_client, photo_category(contest).id, photo, "IMG_0100.JPG")
    assert post_with_upload(entrant_client, contest, [upload_id]).status_code == 302
    run_jobs(app, db, JobKind.check)
    entry = the_entry(db)
    assert entry.status is EntryStatus.submitted
    assert db.get(Upload, upload_id).state is UploadState.attached
    [job] = run_jobs(app, db, JobKind.photo)
    assert job.state is JobState.succeeded and the_entry(db).status is EntryStatus.pending_review
    keys = set(any_storage.keys())
    assert db.get(Upload, upload_id).storage_key not in keys
    assert entry.asset(AssetKind.original).storage_key in keys


def test_an_upload_cannot_be_used_twice(app, db, contest, entrant_client, storage):
    photo = wallpaper("Volna").read_bytes()
    upload_id = send_through_api(entrant_client, photo_category(contest).id, photo, "IMG_0100.JPG")
    assert post_with_upload(entrant_client, contest, [upload_id]).status_code == 302
    again = post_with_upload(entrant_client, contest, [upload_id], title="Lần nữa")
    assert again.status_code == 400
    assert "This file is no longer available" in text_of(again)
    assert len(db.scalars(select(Entry)).all()) == 1


def test_a_series_is_kept_in_its_order_and_checked_after_arrival(app, db, contest, entrant_client, storage):
    from tests.test_series import real_series, series_category

    photos = real_series()
    data = {
        **valid_fields(contest, category=str(series_category(contest).id), title=" "),
        "photos": [(io.BytesIO(content), name) for content, name in photos],
    }
    first = entrant_client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)
    assert first.status_code == 400
    assert f"Your {len(photos)} files are kept: you need not send them again." in text_of(first)
    ids = re.search(r'name="upload_photos" type="hidden" value="([0-9a-f,]+)"', first.get_data(as_text=True))
    upload_ids = ids.group(1).split(",")
    kept = {u.id: u.filename for u in db.scalars(select(Upload))}
    assert [kept[i] for i in upload_ids] == [name for _, name in photos]

    fixed = {**valid_fields(contest, category=str(series_category(contest).id)), "upload_photos": upload_ids}
    again = entrant_client.post("/entries/new", data=fixed, content_type="multipart/form-data", headers=EN)
    assert again.status_code == 302
    [check] = run_jobs(app, db, JobKind.check)
    assert check.state is JobState.succeeded
    entry = the_entry(db)
    assert entry.status is EntryStatus.submitted
    assert [a.original_filename for a in entry.originals()] == [name for _, name in photos]
    assert sorted(storage.keys()) == sorted(a.storage_key for a in entry.originals())
    [job] = db.scalars(select(ProcessingJob).where(ProcessingJob.kind == JobKind.photo_series)).all()
    assert job.state is JobState.queued


def test_the_kept_file_and_the_check_speak_vietnamese(app, db, contest, entrant_client, storage):
    with entrant_client.session_transaction() as session:
        session["lang"] = "vi"
    vi = {"Accept-Language": "vi"}
    data = {
        **valid_fields(contest, taken_on="2022-12-31"),
        "photo": (io.BytesIO(wallpaper("Volna").read_bytes()), "a.jpg"),
    }
    first = entrant_client.post("/entries/new", data=data, content_type="multipart/form-data", headers=vi)
    assert "Tệp của bạn đã được giữ lại: bạn không cần gửi lại." in text_of(first)
    upload = db.scalars(select(Upload)).one()
    assert post_with_upload(entrant_client, contest, [upload.id]).status_code == 302
    page = text_of(entrant_client.get("/entries/mine", headers=vi))
    assert "Đang kiểm tra tệp của bạn…" in page
