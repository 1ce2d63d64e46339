"""The photo job, run in-process against a real database and real storage (local and S3).

The task function is called directly inside an application context: the same code the
Celery worker runs, without a broker (tests/test_worker_e2e.py drives a real worker).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import create_job
from contest.storage import S3Storage, StorageUnavailable, new_key, private_copy_key
from tests.support import create_entry_with_original, create_user, wallpaper
from worker.photo import display_image, fitted_size, to_rgb
from worker.renditions import file_sha256
from worker.tasks import process_media, purge_media

RENDITIONS = {
    AssetKind.display_jpeg: ("JPEG", 1600),
    AssetKind.display_webp: ("WEBP", 1600),
    AssetKind.thumb_jpeg: ("JPEG", 400),
    AssetKind.thumb_webp: ("WEBP", 400),
}
GPS_IFD = 0x8825
ORIENTATION = 0x0112
SMALL_WALLPAPER = Path("/usr/share/wallpapers/Kite/contents/images/2560x1600.jpg")


@pytest.fixture
def photo_category(contest):
    return next(c for c in contest.categories if c.slug == "photo")


@pytest.fixture
def submit(app, db, contest, photo_category, any_storage):
    """Put a file into storage as an entry's original and queue its job, as the web side does."""
    author = create_user(db, "photographer@example.com")

    def submit(path: Path) -> ProcessingJob:
        key = new_key(f"originals/{contest.slug}", ".jpg")
        with path.open("rb") as source:
            size = any_storage.save(key, source, content_type="image/jpeg")
        entry = create_entry_with_original(
            db, contest, author, storage_key=key, size=size, category=photo_category
        )
        job = create_job(db, entry, JobKind.photo)
        with app.app_context():  # the commit hands the job to dispatch (JOB_DISPATCH=off here)
            db.commit()
        return job

    return submit


def run_job(app, job_id: int) -> None:
    with app.app_context():
        process_media(job_id)


def read_object(storage, key: str) -> bytes:
    out = io.BytesIO()
    storage.download(key, out)
    return out.getvalue()


def renditions_of(db, entry_id: int) -> dict[AssetKind, MediaAsset]:
    db.expire_all()
    assets = db.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry_id)).all()
    return {a.kind: a for a in assets if a.kind not in (AssetKind.original, AssetKind.jury_original)}


def assert_no_metadata(image: Image.Image) -> None:
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"} & set(image.info)
    # A JPEG may keep its JFIF header (APP0) and nothing else: no APP1 (EXIF/XMP), no APP2 (ICC).
    assert [marker for marker, data in getattr(image, "applist", []) if not data.startswith(b"JFIF")] == []


@pytest.fixture
def gps_photo(tmp_path) -> Path:
    """A real photograph turned by its EXIF (Orientation 6) and carrying GPS, XMP and a comment."""
    path = tmp_path / "IMG_0002.JPG"
    with Image.open(wallpaper("Volna")) as image:
        exif = image.getexif()
        exif[ORIENTATION] = 6
        gps = exif.get_ifd(GPS_IFD)
        gps.update({1: "N", 2: (18.0, 40.0, 12.5), 3: "E", 4: (105.0, 41.0, 3.25)})
        xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><GPSLatitude>18,40N</GPSLatitude></x:xmpmeta>'
        image.save(path, quality=95, exif=exif, xmp=xmp, comment=b"Cua Lo beach 18.67N 105.68E")
    with Image.open(path) as check:  # the fixture really carries what must be stripped
        assert check.getexif()[ORIENTATION] == 6
        assert check.getexif().get_ifd(GPS_IFD)[1] == "N"
    assert path.stat().st_size > 3_000_000
    return path


def test_photo_job_makes_clean_renditions_in_storage(app, db, submit, any_storage, real_photo):
    job = submit(real_photo)

    run_job(app, job.id)

    db.expire_all()
    entry = db.get(Entry, job.entry_id)
    assert entry.status is EntryStatus.pending_review
    assert db.get(ProcessingJob, job.id).state is JobState.succeeded
    original = entry.asset(AssetKind.original)
    assert original.sha256 == file_sha256(real_photo)
    assert (original.width, original.height) == (5120, 2880)
    renditions = renditions_of(db, entry.id)
    assert set(renditions) == set(RENDITIONS)
    for kind, (pillow_format, long_edge) in RENDITIONS.items():
        asset = renditions[kind]
        # Kept privately until the entry is approved: nothing at its public key.
        assert asset.storage_key.startswith("public/r/") and not any_storage.exists(asset.storage_key)
        data = read_object(any_storage, private_copy_key(asset.storage_key))
        assert (asset.bytes, asset.mime_type) == (len(data), f"image/{pillow_format.lower()}")
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.format == pillow_format
            assert image.size == (asset.width, asset.height) == (long_edge, long_edge * 9 // 16)
            assert image.mode == "RGB"
            assert_no_metadata(image)
    with Image.open(
        io.BytesIO(read_object(any_storage, private_copy_key(renditions[AssetKind.display_jpeg].storage_key)))
    ) as im:
        assert im.info.get("progressive") == 1


def test_exif_orientation_is_applied_and_gps_never_leaves_the_original(
    app, db, submit, any_storage, gps_photo
):
    job = submit(gps_photo)

    run_job(app, job.id)

    renditions = renditions_of(db, job.entry_id)
    assert db.get(Entry, job.entry_id).status is EntryStatus.pending_review
    for kind, (_format, long_edge) in RENDITIONS.items():
        data = read_object(any_storage, private_copy_key(renditions[kind].storage_key))
        with Image.open(io.BytesIO(data)) as image:
            assert image.size == (long_edge * 9 // 16, long_edge)  # portrait, as the camera was held
            assert_no_metadata(image)
        for secret in (b"GPS", b"18,40", b"Cua Lo", b"xmpmeta", b"Exif"):
            assert secret not in data


def test_running_the_job_twice_changes_nothing(app, db, submit, any_storage, real_photo):
    job = submit(real_photo)
    run_job(app, job.id)
    first = {kind: (a.id, a.storage_key) for kind, a in renditions_of(db, job.entry_id).items()}
    objects = sorted(any_storage.keys())

    run_job(app, job.id)

    assert {kind: (a.id, a.storage_key) for kind, a in renditions_of(db, job.entry_id).items()} == first
    assert sorted(any_storage.keys()) == objects
    assert len(objects) == 6  # the original, four renditions and the jury copy
    assert db.get(ProcessingJob, job.id).attempts == 1


def test_a_new_attempt_replaces_the_renditions_of_a_dead_one(app, db, submit, any_storage, real_photo):
    job = submit(real_photo)
    run_job(app, job.id)
    dead = {kind: asset.storage_key for kind, asset in renditions_of(db, job.entry_id).items()}
    # As if the worker died after its commit reached the database but before the job was
    # closed: the sweep hands the job to another worker.
    job = db.get(ProcessingJob, job.id)
    job.state = JobState.queued
    entry = db.get(Entry, job.entry_id)
    entry.status = EntryStatus.processing
    db.commit()

    run_job(app, job.id)

    fresh = renditions_of(db, job.entry_id)
    assert set(fresh) == set(RENDITIONS)
    for kind, dead_key in dead.items():
        assert fresh[kind].storage_key != dead_key
        assert not any_storage.exists(private_copy_key(dead_key))
        assert any_storage.exists(private_copy_key(fresh[kind].storage_key))
    assert len(list(any_storage.keys())) == 6  # the dead attempt's jury copy went too
    assert db.get(Entry, job.entry_id).status is EntryStatus.pending_review


def test_truncated_jpeg_fails_as_damaged_and_leaves_no_rendition(
    app, db, submit, any_storage, real_photo, tmp_path
):
    truncated = tmp_path / "IMG_0003.JPG"
    truncated.write_bytes(real_photo.read_bytes()[:3_300_000])
    job = submit(truncated)

    run_job(app, job.id)

    db.expire_all()
    entry = db.get(Entry, job.entry_id)
    assert (entry.status, entry.failure_code) == (EntryStatus.failed, "damaged_file")
    assert db.get(ProcessingJob, job.id).state is JobState.failed
    assert renditions_of(db, entry.id) == {}
    assert not list(any_storage.keys("public/"))


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PHOTO_RENDER_MAX_MEMORY_MB", 60),  # the progressive decode alone needs 88.5 MB
        ("PHOTO_RENDER_TIMEOUT_S", 0.01),
    ],
)
def test_a_photo_over_the_decode_limits_fails_as_damaged_and_leaves_nothing(
    app, db, submit, any_storage, real_photo, tmp_path, monkeypatch, setting, value
):
    """The decode child is stopped; the worker refuses the photo and keeps no file of it."""
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))  # where the job's working folder goes
    monkeypatch.setitem(app.config, setting, value)
    job = submit(real_photo)

    run_job(app, job.id)

    db.expire_all()
    entry = db.get(Entry, job.entry_id)
    assert (entry.status, entry.failure_code) == (EntryStatus.failed, "damaged_file")
    assert db.get(ProcessingJob, job.id).state is JobState.failed
    assert renditions_of(db, entry.id) == {}
    assert not list(any_storage.keys("public/"))
    assert list(temp_root.iterdir()) == []


def test_photo_below_the_minimum_size_fails_with_its_dimensions(app, db, submit, any_storage, photo_category):
    photo_category.min_bytes = None  # so that the pixel rule, not the byte rule, refuses it
    db.commit()
    job = submit(SMALL_WALLPAPER)

    run_job(app, job.id)

    db.expire_all()
    entry = db.get(Entry, job.entry_id)
    assert entry.status is EntryStatus.failed
    assert entry.failure_code == "too_small_pixels"
    assert entry.failure_params == {"width": 2560, "height": 1600, "min": 3000}
    assert not list(any_storage.keys("public/"))


def test_unreachable_storage_retries_later_then_completes(app, db, submit, any_storage, real_photo):
    job = submit(real_photo)
    closed_port = S3Storage(
        bucket="nowhere",
        endpoint_url="http://127.0.0.1:1",
        region="us-east-1",
        access_key="testing",
        secret_key="testing",
    )
    app.extensions["storage"] = closed_port
    try:
        with pytest.raises(StorageUnavailable):
            run_job(app, job.id)  # called directly, Celery's retry re-raises the cause
    finally:
        app.extensions["storage"] = any_storage

    db.expire_all()
    job = db.get(ProcessingJob, job.id)
    assert job.state is JobState.retrying
    assert job.run_after > now_utc()
    assert "StorageUnavailable" in job.last_error
    assert db.get(Entry, job.entry_id).status is EntryStatus.processing

    run_job(app, job.id)

    db.expire_all()
    assert (job.state, job.attempts) == (JobState.succeeded, 2)
    assert db.get(Entry, job.entry_id).status is EntryStatus.pending_review
    assert len(renditions_of(db, job.entry_id)) == 4


def test_after_the_last_attempt_the_entry_fails_with_a_processing_error(
    app, db, submit, any_storage, real_photo, monkeypatch
):
    job = submit(real_photo)
    monkeypatch.setitem(app.config, "JOB_MAX_ATTEMPTS", 1)
    app.extensions["storage"] = S3Storage(
        bucket="nowhere",
        endpoint_url="http://127.0.0.1:1",
        region="us-east-1",
        access_key="testing",
        secret_key="testing",
    )
    try:
        run_job(app, job.id)
    finally:
        app.extensions["storage"] = any_storage

    db.expire_all()
    entry = db.get(Entry, job.entry_id)
    assert (entry.status, entry.failure_code) == (EntryStatus.failed, "processing_error")
    assert db.get(ProcessingJob, job.id).state is JobState.failed


def test_entry_withdrawn_before_processing_is_left_alone(app, db, submit, any_storage, real_photo):
    job = submit(real_photo)
    entry = db.get(Entry, job.entry_id)
    entry.transition(EntryStatus.withdrawn)
    db.commit()

    run_job(app, job.id)

    db.expire_all()
    assert db.get(Entry, job.entry_id).status is EntryStatus.withdrawn
    assert db.get(ProcessingJob, job.id).state is JobState.succeeded
    assert not list(any_storage.keys("public/"))


def test_purge_of_a_withdrawn_entry_removes_objects_and_rows(app, db, submit, any_storage, real_photo):
    job = submit(real_photo)
    run_job(app, job.id)
    entry = db.get(Entry, job.entry_id)
    assert len(list(any_storage.keys())) == 6  # the original, four renditions, the jury copy
    with app.app_context():
        assert purge_media(entry.id) == 0  # not withdrawn: nothing happens
    entry.transition(EntryStatus.withdrawn)
    db.commit()

    with app.app_context():
        assert purge_media(entry.id) == 6
        assert purge_media(entry.id) == 0

    db.expire_all()
    assert list(any_storage.keys()) == []
    assert db.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all() == []
    assert db.get(Entry, entry.id).status is EntryStatus.withdrawn


# --- pure image work --------------------------------------------------------------------
def test_jpeg_is_decoded_at_reduced_scale_for_the_display_image(real_photo):
    with Image.open(real_photo) as image:
        display = display_image(image)
        assert image.size == (2560, 1440)  # draft mode: libjpeg decoded at 1/2 scale
    assert display.size == (1600, 900)
    assert display.info == {}


def test_sixteen_bit_grey_is_scaled_not_clipped():
    grey = Image.new("I;16", (40, 20), 32768)  # mid-grey on a 16-bit scale
    assert to_rgb(grey).getpixel((0, 0)) == (128, 128, 128)


def test_transparency_becomes_white():
    clear = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    assert to_rgb(clear).getpixel((5, 5)) == (255, 255, 255)
    assert to_rgb(Image.new("CMYK", (4, 4), (0, 0, 0, 0))).getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("size", "fitted"),
    [((5120, 2880), (1600, 900)), ((2880, 5120), (900, 1600)), ((1200, 800), (1200, 800))],
)
def test_fitted_size_keeps_the_aspect_and_never_enlarges(size, fitted):
    assert fitted_size(size, 1600) == fitted


# --- decode once ------------------------------------------------------------------------
@pytest.fixture
def jpeg_decodes(monkeypatch) -> list[tuple[int, int]]:
    """The size of every JPEG decode Pillow performs (a spy on the library, not on our code)."""
    from PIL import JpegImagePlugin

    decodes: list[tuple[int, int]] = []
    original_load = JpegImagePlugin.JpegImageFile.load

    def load(self):
        if self.tile:  # pixels still to decode
            decodes.append(self.size)
        return original_load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", load)
    return decodes


def test_the_job_decodes_each_photo_once_at_reduced_scale(
    app, db, submit, any_storage, real_photo, jpeg_decodes, monkeypatch
):
    # The spy sees this process only: the decode child's work, run in the worker's process.
    monkeypatch.setitem(app.config, "PHOTO_RENDER_IN_CHILD", False)
    job = submit(real_photo)

    run_job(app, job.id)

    db.expire_all()
    assert db.get(Entry, job.entry_id).status is EntryStatus.pending_review
    assert jpeg_decodes == [(2560, 1440)]  # one decode, at 1/2 scale (long edge >= 1600 px)


def test_a_damaged_png_fails_in_its_only_decode(app, db, submit, any_storage, photo_category, tmp_path):
    """PNG has no structural check in the request: the worker's decode is the integrity check."""
    photo_category.allowed_formats = ["jpeg", "png"]
    photo_category.min_bytes, photo_category.min_long_edge_px = None, 2000
    db.commit()
    png = tmp_path / "scan.png"
    with Image.open(SMALL_WALLPAPER) as image:
        image.save(png, format="PNG", compress_level=1)
    cut = tmp_path / "cut.png"
    cut.write_bytes(png.read_bytes()[: png.stat().st_size * 2 // 3])
    job = submit(cut)

    run_job(app, job.id)

    db.expire_all()
    entry = db.get(Entry, job.entry_id)
    assert (entry.status, entry.failure_code) == (EntryStatus.failed, "damaged_file")
    assert renditions_of(db, entry.id) == {}
    assert not list(any_storage.keys("public/"))


def test_render_photo_never_decodes_past_the_pixel_limit(app, tmp_path):
    """A caller that skips the header check still cannot make the renderer decode a bomb."""
    from contest.entries.failures import MediaRejected
    from worker.photo import render_photo

    bomb = tmp_path / "bomb.jpg"
    sof = bytes([8]) + (30_000).to_bytes(2, "big") * 2 + bytes([3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0])
    sos = bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])
    header = (
        b"\xff\xc0"
        + (len(sof) + 2).to_bytes(2, "big")
        + sof
        + b"\xff\xda"
        + (len(sos) + 2).to_bytes(2, "big")
    )
    bomb.write_bytes(b"\xff\xd8" + header + sos + bytes(64) + b"\xff\xd9")  # no image data at all
    assert app.config["MAX_IMAGE_PIXELS"] == Image.MAX_IMAGE_PIXELS
    with pytest.raises(MediaRejected) as refused:
        render_photo(bomb, tmp_path / "out")
    assert refused.value.code == "too_many_pixels"
    assert not (tmp_path / "out").exists()
