"""Damaged media is called damaged, at once; files that overrun the child limits are too complex.

The files are made here from real footage and a real photograph: a faststart MP4 cut to
40 % (its header declares the whole duration), the same with its media box's size made to
match (only its index says more), and JPEGs whose scan data ends early before an end
marker. Each is refused in the request where the request can see it, and otherwise by the
worker once, as the file's fault (no retry).
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from contest.contests.models import Category
from contest.entries.failures import MediaRejected
from contest.entries.models import Entry, EntryStatus
from contest.entries.validation import check_photo
from contest.entries.video import check_video
from contest.media.limits import ChildLimits
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import create_job
from contest.storage import StorageUnavailable, new_key
from tests.support import create_entry_with_original, create_user, log_in, post_entry, real_video_source
from worker.jobs.faults import file_fault
from worker.tasks import process_media
from worker.video import OutputUnreadable, TranscodeFailed, TranscodeTimeout, encode_ladder, transcode_video

DAMAGED = "The file is damaged or incomplete. Please export it again and upload the new file."


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=120)


def video_rules(**fields) -> Category:
    rules = {"allowed_formats": ["mp4", "mov"], "max_bytes": 200 * 2**20, "max_duration_s": 300, **fields}
    return Category(slug="video-test", **rules)


# --- the files --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("damaged-videos")
    whole = folder / "whole.mp4"
    ffmpeg("-i", str(real_video_source()), "-c", "copy", "-movflags", "+faststart", str(whole))
    data = whole.read_bytes()
    cut = folder / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.4)])
    # The media box's size made to fit the cut: only the index still says more.
    mdat = data.index(b"mdat") - 4
    index_only = bytearray(data[: int(len(data) * 0.4)])
    index_only[mdat : mdat + 4] = (len(index_only) - mdat).to_bytes(4, "big")
    (folder / "index-only.mp4").write_bytes(index_only)
    return {"whole": whole, "cut": cut, "index_only": folder / "index-only.mp4"}


def cut_scan(data: bytes) -> bytes:
    """The JPEG with its entropy-coded data cut in the middle and an end marker appended."""
    scan = data.index(b"\xff\xda")
    return data[: scan + (len(data) - scan) // 2] + b"\xff\xd9"


@pytest.fixture(scope="module")
def jpegs(tmp_path_factory) -> dict[str, Path]:
    from tests.support import wallpaper

    folder = tmp_path_factory.mktemp("damaged-jpegs")
    progressive = wallpaper("Volna").read_bytes()
    assert b"\xff\xc2" in progressive[:1000]  # the camera-style progressive file
    with Image.open(io.BytesIO(progressive)) as photo:
        baseline = io.BytesIO()
        photo.resize((2560, 1440)).save(baseline, format="JPEG", quality=90)
    files = {
        "progressive_cut": cut_scan(progressive),
        "baseline": baseline.getvalue(),
        "baseline_cut": cut_scan(baseline.getvalue()),
    }
    for name, data in files.items():
        (folder / f"{name}.jpg").write_bytes(data)
    return {name: folder / f"{name}.jpg" for name in files}


# --- the request's checks ----------------------------------------------------------------
@pytest.mark.parametrize("quick", [True, False])
def test_a_video_cut_short_after_its_header_is_refused_by_the_check(videos, quick):
    assert check_video(videos["whole"], video_rules(), quick=quick).duration_s > 5
    with pytest.raises(MediaRejected) as refused:
        check_video(videos["cut"], video_rules(), quick=quick)
    assert refused.value.code == "damaged_file"


def test_a_video_whose_index_outlasts_its_data_is_refused_by_the_deep_probe(videos):
    check_video(videos["index_only"], video_rules(), quick=True)  # nothing to see in the header
    with pytest.raises(MediaRejected) as refused:
        check_video(videos["index_only"], video_rules(), quick=False)
    assert refused.value.code == "damaged_file"


def test_a_progressive_jpeg_missing_its_last_scans_is_refused_by_the_request(app, db, contest, jpegs):
    photo = next(c for c in contest.categories if c.slug == "photo")
    photo.min_bytes = photo.min_long_edge_px = None
    with pytest.raises(MediaRejected) as refused:
        check_photo(jpegs["progressive_cut"], photo, max_pixels=100_000_000, quick=True)
    assert refused.value.code == "damaged_file"


@pytest.fixture
def video_category(db, contest) -> Category:
    category = next(c for c in contest.categories if c.slug == "video")
    category.allowed_formats = ["mp4", "mov"]
    db.commit()
    return category


def test_a_cut_video_is_refused_by_the_form_with_the_reason_and_no_entry(
    db, client, contest, entrant, video_category, storage, videos
):
    entrant.locale = "en"
    db.commit()
    log_in(client, entrant)

    response = post_entry(client, contest, video_category, videos["cut"], "video")

    assert response.status_code == 400
    assert DAMAGED in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(select(Entry).where(Entry.author_id == entrant.id)).all() == []
    assert list(storage.keys()) == []


# --- the worker --------------------------------------------------------------------------
@pytest.fixture
def submit(app, db, contest):
    """Store a file as an entry's original and queue its job, as if the request had let it through."""
    author = create_user(db, "damaged@example.com")

    def submit(path: Path, storage, category: Category, kind: JobKind) -> int:
        key = new_key(f"originals/{contest.slug}", path.suffix.lower())
        with path.open("rb") as source:
            size = storage.save(key, source, content_type="application/octet-stream")
        entry = create_entry_with_original(db, contest, author, storage_key=key, size=size, category=category)
        job = create_job(db, entry, kind)
        with app.app_context():
            db.commit()
        return job.id

    return submit


def run_once(app, db, job_id: int) -> tuple[Entry, ProcessingJob]:
    """Run the job as the Celery task does; a retry would raise (Celery re-raises the cause)."""
    with app.app_context():
        process_media(job_id)
    db.expire_all()
    job = db.get(ProcessingJob, job_id)
    return db.get(Entry, job.entry_id), job


def assert_failed_once(entry: Entry, job: ProcessingJob, code: str) -> None:
    assert (entry.status, entry.failure_code) == (EntryStatus.failed, code)
    assert (job.state, job.attempts, job.run_after) == (JobState.failed, 1, None)
    assert [a.kind.value for a in entry.assets] == ["original"]


@pytest.mark.parametrize("name", ["cut", "index_only"])
def test_the_worker_fails_a_cut_video_once_as_damaged(app, db, storage, submit, video_category, videos, name):
    job_id = submit(videos[name], storage, video_category, JobKind.video)

    entry, job = run_once(app, db, job_id)

    assert_failed_once(entry, job, "damaged_file")
    assert list(storage.keys("public/")) == []


def test_data_that_runs_out_under_ffmpeg_fails_the_job_once_as_damaged(
    app, db, storage, submit, video_category, videos, monkeypatch, caplog
):
    """With the probe's packet count out of the way, ffmpeg meets the missing data itself."""
    monkeypatch.setattr("contest.entries.video.READ_SHARE_REQUIRED", 0)
    job_id = submit(videos["index_only"], storage, video_category, JobKind.video)

    with caplog.at_level(logging.INFO, logger="worker.jobs.base"):
        entry, job = run_once(app, db, job_id)

    assert_failed_once(entry, job, "damaged_file")
    assert "s of the 5.312 s declared" in caplog.text  # the ladder came out short
    assert list(storage.keys("public/")) == []


@pytest.mark.parametrize("name", ["baseline_cut", "progressive_cut"])
def test_the_worker_fails_a_jpeg_whose_data_ends_early_once_as_damaged(
    app, db, storage, submit, contest, jpegs, name
):
    photo = next(c for c in contest.categories if c.slug == "photo")
    photo.min_bytes = photo.min_long_edge_px = None
    db.commit()
    job_id = submit(jpegs[name], storage, photo, JobKind.photo)

    entry, job = run_once(app, db, job_id)

    assert_failed_once(entry, job, "damaged_file")


def test_a_complete_baseline_jpeg_passes_and_its_cut_copy_passes_the_request_only(
    app, db, storage, submit, contest, jpegs
):
    """The request cannot see a baseline JPEG's missing data (no decode there): the worker does."""
    photo = next(c for c in contest.categories if c.slug == "photo")
    photo.min_bytes = photo.min_long_edge_px = None
    db.commit()
    check_photo(jpegs["baseline_cut"], photo, max_pixels=100_000_000, quick=True)

    entry, job = run_once(app, db, submit(jpegs["baseline"], storage, photo, JobKind.photo))

    assert (entry.status, job.state) == (EntryStatus.pending_review, JobState.succeeded)


# --- whose fault --------------------------------------------------------------------------
def test_ffmpeg_output_that_cannot_be_read_is_the_files_fault(videos, tmp_path):
    """ffmpeg ends well on a source whose data runs out before the duration it declares."""
    info = check_video(videos["whole"], video_rules(), quick=True)
    longer = dataclasses.replace(info, duration_s=info.duration_s * 2)

    with pytest.raises(OutputUnreadable) as failed:
        transcode_video(videos["whole"], longer, tmp_path, threads=1)

    assert file_fault(failed.value).code == "damaged_file"


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (MediaRejected("video_too_long", duration=9, max=3), "video_too_long"),
        (OutputUnreadable("FileNotFoundError: poster.jpg"), "damaged_file"),
        (TranscodeFailed("Invalid data found when processing input"), "damaged_file"),
        (TranscodeTimeout("ffmpeg ran longer than 1200 s"), "too_complex"),
        (StorageUnavailable("storage unreachable"), None),
        (OperationalError("SELECT 1", {}, Exception("server closed the connection")), None),
        (KeyError("a bug of ours"), None),
    ],
)
def test_every_failure_is_classed_once_the_files_or_the_systems(exc, code):
    refusal = file_fault(exc)
    assert (refusal.code if refusal else None) == code


def test_the_storage_away_is_retried_not_blamed_on_the_file(app, db, storage, submit, video_category, videos):
    from contest.storage import S3Storage

    job_id = submit(videos["whole"], storage, video_category, JobKind.video)
    app.extensions["storage"] = S3Storage(
        bucket="nowhere", endpoint_url="http://127.0.0.1:1", region="us-east-1",
        access_key="testing", secret_key="testing",
    )  # fmt: skip
    try:
        with pytest.raises(StorageUnavailable):
            run_once(app, db, job_id)
    finally:
        app.extensions["storage"] = storage
    db.expire_all()
    job = db.get(ProcessingJob, job_id)
    assert (job.state, db.get(Entry, job.entry_id).status) == (JobState.retrying, EntryStatus.processing)


# --- no encoder's name ----------------------------------------------------------------------
def test_the_video_renditions_carry_no_encoder_tag(videos, tmp_path):
    source = tmp_path / "phone.mov"
    ffmpeg("-i", str(videos["whole"]), "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "35",
           "-c:a", "aac", "-metadata:s:v", "rotate=90", str(source))  # fmt: skip
    info = check_video(source, video_rules(), quick=False)

    rungs = encode_ladder(source, info, tmp_path, threads=1)

    assert [r.label for r in rungs] == ["720p", "480p"]  # encoded by libx264, none copied
    for rung in rungs:
        done = subprocess.run(
            ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", str(rung.path)],
            capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        probe = json.loads(done.stdout)
        tags = [probe["format"].get("tags", {}), *(s.get("tags", {}) for s in probe["streams"])]
        assert not any("encoder" in t for t in tags), tags


# --- under the limits -------------------------------------------------------------------------
def test_ffprobe_over_its_memory_limit_calls_the_video_too_complex(videos):
    with pytest.raises(MediaRejected) as refused:
        check_video(videos["whole"], video_rules(), quick=True, limits=ChildLimits(15, 16))
    assert refused.value.code == "too_complex"


def test_a_video_job_over_the_limits_fails_once_as_too_complex(
    app, db, storage, submit, video_category, videos, monkeypatch
):
    monkeypatch.setitem(app.config, "PHOTO_RENDER_MAX_MEMORY_MB", 16)
    job_id = submit(videos["whole"], storage, video_category, JobKind.video)

    entry, job = run_once(app, db, job_id)

    assert_failed_once(entry, job, "too_complex")


@pytest.fixture(scope="module")
def heic(tmp_path_factory) -> Path:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    path = tmp_path_factory.mktemp("heic") / "IMG_0001.HEIC"
    Image.new("RGB", (1280, 800), "teal").save(path, format="HEIF", quality=50)
    return path


def test_a_heif_header_over_the_memory_limit_is_too_complex_not_a_500(
    app, db, client, contest, entrant, storage, heic, monkeypatch
):
    photo = next(c for c in contest.categories if c.slug == "photo")
    photo.allowed_formats, photo.min_bytes, photo.min_long_edge_px = ["jpeg", "heif"], None, 1000
    entrant.locale = "en"
    db.commit()
    with app.test_request_context():
        info = check_photo(heic, photo, max_pixels=100_000_000, quick=True)  # read in the child
    assert (info.format, info.width, info.height) == ("heif", 1280, 800)
    monkeypatch.setitem(app.config, "PHOTO_RENDER_MAX_MEMORY_MB", 16)
    log_in(client, entrant)

    response = post_entry(client, contest, photo, heic, "photo")

    assert response.status_code == 400
    assert "too complex to read within our limits" in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(select(Entry).where(Entry.author_id == entrant.id)).all() == []
