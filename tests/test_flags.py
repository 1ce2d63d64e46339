"""Duplicates and EXIF hints for the organizers: fingerprints, flags, and the review page.

Fingerprints are taken from real photographs (Debian's wallpapers, some of which carry the
EXIF of the camera and of the editor they went through); flags are recorded in the real
database; the worker's photo job records them when it finishes.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import FrozenInstanceError, replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event, insert, select

from contest.contests.models import Category, CategoryKind, Contest, Place
from contest.db import now_utc
from contest.entries.flags import NEAR_DUPLICATE_BITS, _Photo, near_duplicates, record_flags
from contest.entries.models import AssetKind, Entry, EntryFlag, EntryStatus, FlagKind, MediaAsset
from contest.processing.models import JobKind
from contest.processing.services import create_job
from contest.storage import new_key
from tests.support import create_entry_with_original, create_user, login_id, wallpaper
from worker.inspect import fingerprint_photo, hamming
from worker.renditions import file_sha256
from worker.tasks import process_media

EN = {"Accept-Language": "en"}
SMALL = Path("/usr/share/wallpapers")
# Real photographs with their camera's EXIF: edited in Lightroom, in GIMP (with GPS), and untouched.
LIGHTROOM = SMALL / "FallenLeaf" / "contents" / "images" / "2560x1600.jpg"
GIMP_WITH_GPS = SMALL / "ColorfulCups" / "contents" / "images" / "2560x1600.jpg"
NOKIA = SMALL / "BytheWater" / "contents" / "images" / "2560x1600.jpg"
EXIF_IFD, DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x8769, 0x9003, 0x9011
SOFTWARE, MAKE, MODEL = 0x0131, 0x010F, 0x0110


def log_in(client, user, lang: str | None = "en") -> None:
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = login_id(client.application, user), True
        if lang:
            session["lang"] = lang


# --- fingerprints of real photos ----------------------------------------------------------
@pytest.fixture(scope="module")
def copies(tmp_path_factory) -> dict[str, Path]:
    """A real photo re-published the ways a copier does it, and a different real photo."""
    folder = tmp_path_factory.mktemp("copies")
    source = wallpaper("Volna")
    with Image.open(source) as image:
        image = image.convert("RGB")
        width, height = image.size
        made = {
            "resized": image.resize((1600, 900), Image.Resampling.LANCZOS),
            "recompressed": image,
            "cropped": image.crop(
                (width * 3 // 100, height * 3 // 100, width * 97 // 100, height * 97 // 100)
            ),
            "cropped_resized": image.crop((width // 50, 0, width, height * 49 // 50)).resize((2400, 1323)),
        }
        paths = {}
        for name, picture in made.items():
            paths[name] = folder / f"{name}.jpg"
            picture.save(paths[name], quality=60 if name == "recompressed" else 80)
    paths["original"] = source
    paths["different"] = wallpaper("SafeLanding")
    return paths


def test_fingerprint_is_64_bits_and_stable(copies):
    first = fingerprint_photo(copies["original"])
    assert re.fullmatch(r"[0-9a-f]{16}", first.phash)
    assert fingerprint_photo(copies["original"]) == first
    with pytest.raises(FrozenInstanceError):  # the job cannot change it by mistake
        first.phash = "0" * 16  # type: ignore[misc]


@pytest.mark.parametrize("variant", ["resized", "recompressed", "cropped", "cropped_resized"])
def test_a_copy_of_a_real_photo_is_near(copies, variant):
    distance = hamming(fingerprint_photo(copies["original"]).phash, fingerprint_photo(copies[variant]).phash)
    assert distance <= NEAR_DUPLICATE_BITS


def test_different_real_photos_are_far_apart(copies):
    photos = [copies["original"], copies["different"], wallpaper("Flow"), LIGHTROOM, GIMP_WITH_GPS, NOKIA]
    hashes = [fingerprint_photo(p).phash for p in photos]
    distances = [hamming(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    assert min(distances) > NEAR_DUPLICATE_BITS


def test_exif_hints_of_real_camera_photos():
    edited = fingerprint_photo(LIGHTROOM).exif
    assert edited == {
        "date_taken": "2015-10-29T15:44:44",
        "camera_make": "Canon",
        "camera_model": "Canon EOS 70D",
        "software": "Adobe Photoshop Lightroom 5.7.1 (Windows)",
        "gps_present": False,
    }
    assert fingerprint_photo(NOKIA).exif["software"] is None
    assert fingerprint_photo(wallpaper("Volna")).exif == {
        "date_taken": None,
        "camera_make": None,
        "camera_model": None,
        "software": None,
        "gps_present": False,
    }


def test_gps_is_reported_as_present_never_as_coordinates():
    with Image.open(GIMP_WITH_GPS) as image:
        gps = image.getexif().get_ifd(0x8825)
    coordinates = [value for value in gps.values() if isinstance(value, tuple)]
    assert coordinates, "the fixture photo carries GPS coordinates"
    hints = fingerprint_photo(GIMP_WITH_GPS).exif
    assert hints["gps_present"] is True
    text = json.dumps(hints)  # JSON-safe, as stored in the details column
    for value in coordinates:
        for number in value:
            assert str(float(number)) not in text


def test_exif_date_keeps_the_cameras_offset_and_ignores_garbage(tmp_path):
    with Image.open(NOKIA) as image:
        exif = image.getexif()
        exif.get_ifd(EXIF_IFD).update(
            {DATETIME_ORIGINAL: "2024:05:01 06:30:00", OFFSET_TIME_ORIGINAL: "+07:00"}
        )
        exif[SOFTWARE] = "Snapseed 2.0\x00\x07"
        image.save(tmp_path / "dated.jpg", exif=exif)
        exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "not a date"
        image.save(tmp_path / "garbage.jpg", exif=exif)
    dated = fingerprint_photo(tmp_path / "dated.jpg").exif
    assert dated["date_taken"] == "2024-05-01T06:30:00+07:00"
    assert dated["software"] == "Snapseed 2.0"
    assert fingerprint_photo(tmp_path / "garbage.jpg").exif["date_taken"] is None


def test_fingerprint_of_png_16_bit_and_transparent_images(tmp_path):
    with Image.open(NOKIA) as image:
        rgb = image.convert("RGB")
    rgb.save(tmp_path / "photo.png")
    rgb.convert("I;16").save(tmp_path / "grey16.png")
    rgba = rgb.convert("RGBA")
    rgba.putalpha(255)
    rgba.save(tmp_path / "alpha.png")
    reference = fingerprint_photo(NOKIA).phash
    assert hamming(fingerprint_photo(tmp_path / "photo.png").phash, reference) <= 2
    assert hamming(fingerprint_photo(tmp_path / "alpha.png").phash, reference) <= 2
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint_photo(tmp_path / "grey16.png").phash)
    assert fingerprint_photo(tmp_path / "photo.png").exif["camera_make"] is None


# --- recording flags ----------------------------------------------------------------------
@pytest.fixture
def photo_category(contest) -> Category:
    return next(c for c in contest.categories if c.kind is CategoryKind.photo)


@pytest.fixture
def make(db, contest, photo_category, entrant):
    """An entry whose original the worker has processed: sha256, phash and EXIF hints recorded."""

    def make(
        title: str,
        *,
        sha256: str | None = None,
        phash: str | None = None,
        exif: dict | None = None,
        status: EntryStatus = EntryStatus.pending_review,
        contest_=None,
    ) -> Entry:
        target = contest_ or contest
        entry = create_entry_with_original(
            db,
            target,
            entrant,
            storage_key=new_key("originals/test", ".jpg"),
            size=4_000_000,
            category=photo_category if contest_ is None else target.categories[0],
            title=title,
        )
        original = entry.asset(AssetKind.original)
        original.sha256 = sha256 or uuid.uuid4().hex * 2
        original.phash = phash
        original.details = {"exif": exif} if exif is not None else None
        entry.status = status
        db.commit()
        return entry

    return make


def flags_of(db, entry: Entry) -> list[tuple]:
    db.expire_all()
    rows = db.scalars(select(EntryFlag).where(EntryFlag.entry_id == entry.id).order_by(EntryFlag.id))
    return [(f.position, f.kind, f.other_entry_id, f.details) for f in rows]


def all_flags(db) -> int:
    db.expire_all()
    return len(db.scalars(select(EntryFlag)).all())


def test_exact_duplicate_is_flagged_once_on_the_newer_entry(db, make):
    older = make("Sóng Cửa Lò", sha256="a" * 64)
    newer = make("Sóng Cửa Lò (again)", sha256="a" * 64)
    make("Unrelated", sha256="b" * 64)

    record_flags(db, newer)
    record_flags(db, older)  # the other one processed last: same single flag
    record_flags(db, newer)  # and again: idempotent
    db.commit()

    assert flags_of(db, newer) == [
        (0, FlagKind.exact_duplicate, older.id, {"sha256": "a" * 64, "other_position": 0})
    ]
    assert flags_of(db, older) == []
    assert all_flags(db) == 1
    assert (older.status, newer.status) == (EntryStatus.pending_review, EntryStatus.pending_review)


def test_withdrawn_entries_and_other_contests_are_not_compared(db, make, contest):
    other_contest = Contest(
        slug="other-2026",
        code_prefix="OTH26",
        title_vi="Khác",
        title_en="Other",
        submission_opens_at=contest.submission_opens_at,
        submission_closes_at=contest.submission_closes_at,
        voting_opens_at=contest.voting_opens_at,
        voting_closes_at=contest.voting_closes_at,
        categories=[Category(slug="photo", kind=CategoryKind.photo, name_vi="Ảnh", name_en="Photo")],
        places=[Place(code="x", name_vi="X", name_en="X")],
    )
    db.add(other_contest)
    db.commit()
    make("Withdrawn", sha256="c" * 64, phash="0f0f0f0f0f0f0f0f", status=EntryStatus.withdrawn)
    make("Elsewhere", sha256="c" * 64, phash="0f0f0f0f0f0f0f0f", contest_=other_contest)
    entry = make("Mine", sha256="c" * 64, phash="0f0f0f0f0f0f0f0f")

    assert record_flags(db, entry) == []
    db.commit()
    assert all_flags(db) == 0


def test_near_duplicate_of_a_real_photo_and_not_of_a_different_one(db, make, copies):
    prints = {name: fingerprint_photo(path) for name, path in copies.items()}
    original = make("Volna", phash=prints["original"].phash)
    different = make("Safe landing", phash=prints["different"].phash)
    copy = make("Volna cropped", phash=prints["cropped_resized"].phash)

    record_flags(db, original)
    record_flags(db, different)
    record_flags(db, copy)
    db.commit()

    expected = hamming(prints["original"].phash, prints["cropped_resized"].phash)
    assert flags_of(db, copy) == [
        (0, FlagKind.near_duplicate, original.id, {"distance": expected, "other_position": 0})
    ]
    assert flags_of(db, original) == flags_of(db, different) == []


def test_exact_duplicate_is_not_also_reported_as_near(db, make):
    first = make("One", sha256="d" * 64, phash="123456789abcdef0")
    second = make("Two", sha256="d" * 64, phash="123456789abcdef0")
    record_flags(db, second)
    db.commit()
    assert [kind for _, kind, _, _ in flags_of(db, second)] == [FlagKind.exact_duplicate]
    assert flags_of(db, first) == []


def test_date_taken_outside_the_works_window(db, make, photo_category):
    assert (photo_category.works_from, photo_category.works_until) == (date(2023, 1, 1), date(2025, 10, 1))
    exif = fingerprint_photo(LIGHTROOM).exif  # taken on 29 October 2015 with a Canon EOS 70D
    old = make("Autumn leaf", exif={**exif, "software": None})
    inside = make("Recent", exif={**exif, "software": None, "date_taken": "2024-05-01T06:30:00+07:00"})
    undated = make("Undated", exif={**exif, "software": None, "date_taken": None})

    for entry in (old, inside, undated):
        record_flags(db, entry)
    db.commit()

    assert flags_of(db, old) == [
        (
            0,
            FlagKind.taken_outside_window,
            None,
            {
                "date_taken": "2015-10-29T15:44:44",
                "works_from": "2023-01-01",
                "works_until": "2025-10-01",
                "declared_taken_on": "2024-05-01",
                "camera_make": "Canon",
                "camera_model": "Canon EOS 70D",
            },
        )
    ]
    assert flags_of(db, inside) == flags_of(db, undated) == []
    assert old.status is EntryStatus.pending_review


@pytest.mark.parametrize(
    ("software", "flagged"),
    [
        ("Adobe Photoshop Lightroom 5.7.1 (Windows)", True),
        ("Adobe Photoshop CC 2019 (Macintosh)", True),
        ("GIMP 2.8.14", True),
        ("Snapseed 2.0", True),
        ("17.1.2", False),  # an iPhone writes its iOS version
        ("HDR+ 1.0.540104767zd", False),  # a Pixel's camera firmware
        (None, False),
    ],
)
def test_editing_software_is_flagged_camera_firmware_is_not(db, make, software, flagged):
    entry = make("Edited?", exif={"software": software, "camera_make": "Apple", "camera_model": "iPhone 15"})
    record_flags(db, entry)
    db.commit()
    expected = [
        (
            0,
            FlagKind.edited_with_software,
            None,
            {"software": software, "camera_make": "Apple", "camera_model": "iPhone 15"},
        )
    ]
    assert flags_of(db, entry) == (expected if flagged else [])


def test_series_flags_name_the_photo_at_fault(db, make, contest, entrant):
    series = next(c for c in contest.categories if c.kind is CategoryKind.photo_series)
    single = make("Single", sha256="e" * 64, phash="ffff0000ffff0000")
    entry = create_entry_with_original(
        db, contest, entrant, storage_key=new_key("originals/test", ".jpg"), size=4_000_000, category=series
    )
    first = entry.asset(AssetKind.original)
    first.sha256, first.phash = "1" * 64, "0000000000000000"
    for position, (sha, phash, software) in enumerate(
        [("e" * 64, "ffff0000ffff0000", None), ("2" * 64, "ffff0000ffff0001", "GIMP 2.10")], start=1
    ):
        entry.assets.append(
            MediaAsset(
                position=position,
                kind=AssetKind.original,
                storage_key=new_key("originals/test", ".jpg"),
                mime_type="image/jpeg",
                bytes=4_000_000,
                sha256=sha,
                phash=phash,
                details={"exif": {"software": software}},
            )
        )
    db.commit()

    record_flags(db, entry)
    db.commit()

    found = {(position, kind, other) for position, kind, other, _ in flags_of(db, entry)}
    assert found == {
        (1, FlagKind.exact_duplicate, single.id),
        (2, FlagKind.near_duplicate, single.id),
        (2, FlagKind.edited_with_software, None),
    }


def test_near_duplicate_search_over_20000_hashes():
    rng = random.Random(20_000)
    target = rng.getrandbits(64)
    photos = [_Photo(entry_id, 0, f"{rng.getrandbits(64):016x}") for entry_id in range(1, 20_001)]
    planted = {}
    for entry_id, bits in [
        (101, 0),
        (5_000, 3),
        (12_345, NEAR_DUPLICATE_BITS),
        (19_999, NEAR_DUPLICATE_BITS + 1),
    ]:
        flipped = target
        for bit in rng.sample(range(64), bits):
            flipped ^= 1 << bit
        photos[entry_id - 1] = replace(photos[entry_id - 1], fingerprint=f"{flipped:016x}")
        planted[entry_id] = bits

    found = {photo.entry_id: distance for photo, distance in near_duplicates(f"{target:016x}", photos)}

    assert found == {101: 0, 5_000: 3, 12_345: NEAR_DUPLICATE_BITS}


def test_record_flags_reads_a_large_contest_with_one_query_per_kind_of_search(
    app, db, make, contest, entrant
):
    """20,000 processed photos in the contest: the new one is compared in Python, not per row."""
    rng = random.Random(3)
    photo = next(c for c in contest.categories if c.kind is CategoryKind.photo)
    base = {
        "contest_id": contest.id,
        "category_id": photo.id,
        "author_id": entrant.id,
        "place_id": contest.places[0].id,
        "title": "Generated",
        "description": "",
        "taken_on": date(2024, 5, 1),
        "status": EntryStatus.pending_review,
        "created_at": now_utc(),
        "updated_at": now_utc(),
    }
    ids = db.scalars(
        insert(Entry).returning(Entry.id, sort_by_parameter_order=True),
        [{**base, "code": f"GEN-{n:05d}"} for n in range(20_000)],
    ).all()
    db.execute(
        insert(MediaAsset),
        [
            {
                "entry_id": entry_id,
                "position": 0,
                "kind": AssetKind.original,
                "label": "",
                "storage_key": f"originals/gen/{entry_id}.jpg",
                "mime_type": "image/jpeg",
                "bytes": 4_000_000,
                "sha256": f"{entry_id:064x}",
                # The top bit set: at least one bit away from the new photo, mostly ~32.
                "phash": f"{rng.getrandbits(64) | (1 << 63):016x}",
                "created_at": now_utc(),
            }
            for entry_id in ids
        ],
    )
    twin = ids[12_345]
    db.execute(
        MediaAsset.__table__.update().where(MediaAsset.entry_id == twin).values(phash="0000000000000007")
    )
    db.commit()
    entry = make("New", sha256="9" * 64, phash="0000000000000003")

    statements: list[str] = []
    connection = app.extensions["db"].bind

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        flags = record_flags(db, entry)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    db.commit()

    assert [(f.entry_id, f.kind, f.other_entry_id, f.details["distance"]) for f in flags] == [
        (entry.id, FlagKind.near_duplicate, twin, 1)
    ]
    # The exact search, the near search, and the entry's category: none per photo of the contest.
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 3, selects


# --- the photo job records flags when it finishes  ----------------------------------------
def run_photo_jobs(app, db, contest, category, storage, author, paths) -> list[Entry]:
    """Store each file as an entry's original, then run the real photo job on each, in order."""
    jobs = []
    for path in paths:
        key = new_key(f"originals/{contest.slug}", ".jpg")
        with path.open("rb") as source:
            size = storage.save(key, source, content_type="image/jpeg")
        entry = create_entry_with_original(db, contest, author, storage_key=key, size=size, category=category)
        jobs.append(create_job(db, entry, JobKind.photo))
        with app.app_context():
            db.commit()
    for job in jobs:
        with app.app_context():
            process_media(job.id)
    db.expire_all()
    return [db.get(Entry, job.entry_id) for job in jobs]


def test_photo_job_flags_the_second_upload_of_the_same_photo(app, db, contest, photo_category, any_storage):
    author = create_user(db, "copier@example.com")
    first, second = run_photo_jobs(
        app, db, contest, photo_category, any_storage, author, [wallpaper("Volna")] * 2
    )
    assert (first.status, second.status) == (EntryStatus.pending_review, EntryStatus.pending_review)
    assert flags_of(db, first) == []
    assert flags_of(db, second) == [
        (
            0,
            FlagKind.exact_duplicate,
            first.id,
            {"sha256": file_sha256(wallpaper("Volna")), "other_position": 0},
        )
    ]


def test_photo_job_records_fingerprints_and_flags_a_recompressed_copy(
    app, db, contest, photo_category, storage, tmp_path
):
    """The real job hashes each photo from its one decode: a resized, recompressed copy is near."""
    from PIL import Image

    copy_path = tmp_path / "copy.jpg"
    with Image.open(wallpaper("Volna")) as image:
        image.resize((4200, 2362)).save(copy_path, quality=97)  # > 3 MB, > 3000 px, other bytes
    author = create_user(db, "recompressor@example.com")
    first, second = run_photo_jobs(
        app, db, contest, photo_category, storage, author, [wallpaper("Volna"), copy_path]
    )
    original = second.asset(AssetKind.original)
    assert len(original.phash) == 16
    assert set(original.details["exif"]) == {
        "date_taken",
        "camera_make",
        "camera_model",
        "software",
        "gps_present",
    }
    [(position, kind, other, details)] = flags_of(db, second)
    assert (position, kind, other) == (0, FlagKind.near_duplicate, first.id)
    assert details["distance"] <= 10


# --- the organizers' page ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("entrant", 403), ("judge", 403), ("organizer", 200)]
)
def test_flags_page_access_matrix(request, client, contest, role, expected):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.get("/admin/flags", headers=EN)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")


@pytest.fixture
def flagged(db, make, storage):
    """Three flagged entries with thumbnails in (local) storage, and one clean entry."""
    older = make("Sóng biển Cửa Lò", sha256="a" * 64, phash="00000000000000ff")
    copy = make("Copy of the waves", sha256="a" * 64, phash="00000000000000ff")
    near = make("Almost the waves", phash="00000000000000f0")
    lightroom = fingerprint_photo(LIGHTROOM).exif
    edited = make("Autumn leaf", exif=lightroom)
    clean = make("Nothing to see", exif={"software": None})
    for entry in (older, copy, near, edited, clean):
        db.add(
            MediaAsset(
                entry_id=entry.id,
                kind=AssetKind.thumb_jpeg,
                storage_key=f"public/r/{entry.id}x/thumb.jpg",
                mime_type="image/jpeg",
                bytes=100,
            )
        )
    db.commit()
    for entry in (older, copy, near, edited, clean):
        record_flags(db, entry)
    db.commit()
    return {"older": older, "copy": copy, "near": near, "edited": edited, "clean": clean}


def test_flags_page_shows_both_entries_details_and_translated_labels(client, organizer, flagged):
    log_in(client, organizer)
    response = client.get("/admin/flags", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    older, copy, near, edited = (flagged[k] for k in ("older", "copy", "near", "edited"))
    # Newest flagged entry first: edited, near, copy (the older one carries no flag itself).
    positions = [html.index(f'id="flags-{e.code}"') for e in (edited, near, copy)]
    assert positions == sorted(positions)
    assert f'id="flags-{older.code}"' not in html
    assert f'id="flags-{flagged["clean"].code}"' not in html
    assert "Same file as another entry" in html
    assert "Looks like another entry&#39;s photo" in html or "Looks like another entry's photo" in html
    assert "differ in 4 of 64 bits" in html
    assert "Edited with software" in html and "Adobe Photoshop Lightroom 5.7.1 (Windows)" in html
    assert "Taken outside the contest&#39;s dates" in html or "Taken outside the contest's dates" in html
    assert "Oct 29, 2015" in html and "Jan 1, 2023" in html and "Oct 1, 2025" in html
    assert "Camera: Canon Canon EOS 70D" in html
    for entry in (older, copy, near, edited):
        # Not approved: the thumbnail's private copy, signed.
        assert entry.code in html and f"/media/private/r/{entry.id}x/thumb.jpg?e=" in html
    assert "Sóng biển Cửa Lò" in html and "Copy of the waves" in html


def test_flags_page_filters_by_kind(client, organizer, flagged):
    log_in(client, organizer)
    html = client.get(
        "/admin/flags",
        query_string={"contest": flagged["copy"].contest_id, "kind": "edited_with_software"},
        headers=EN,
    ).get_data(as_text=True)
    assert f'id="flags-{flagged["edited"].code}"' in html
    assert f'id="flags-{flagged["copy"].code}"' not in html
    assert f'id="flags-{flagged["near"].code}"' not in html
    assert 'class="flag flag-edited_with_software"' in html
    assert 'class="flag flag-taken_outside_window"' not in html  # the edited entry's other flag is hidden


@pytest.mark.parametrize(
    "query", [{"kind": "bogus"}, {"contest": "987654"}, {"contest": "x"}, {"page": "-1"}, {"page": "many"}]
)
def test_flags_page_refuses_bad_filters_cleanly(client, organizer, contest, query):
    log_in(client, organizer)
    response = client.get("/admin/flags", query_string=query, headers=EN)
    assert response.status_code == 400
    assert 'class="error"' in response.get_data(as_text=True)


def test_flags_page_renders_in_vietnamese_and_is_linked_from_the_index(client, organizer, flagged):
    log_in(client, organizer, lang=None)
    response = client.get("/admin/flags")
    assert response.status_code == 200
    assert '<html lang="vi">' in response.get_data(as_text=True)
    assert 'href="/admin/flags"' in client.get("/admin/").get_data(as_text=True)
