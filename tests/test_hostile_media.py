"""Crafted files that try to turn ffmpeg against the server, and decompression bombs.

The local-file-read attacks on ffmpeg: an HLS playlist named .mp4 whose segments are a
local file (as a file:// URL and as a plain path), the AVI whose GAB2 subtitle chunk
carries such a playlist, ``concat:``/``file:`` references and an ffconcat list, markup
named as media. Each is refused by check_video (in the request and in the worker) with a
clear code; and ffmpeg, run directly on it through our transcoding functions (bypassing the
check), fails or writes nothing holding the secret file's content: every output byte and
ffmpeg's error text are searched for it.
"""

from __future__ import annotations

import struct
import subprocess
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from contest.contests.models import Category
from contest.db import now_utc
from contest.entries.failures import MediaRejected
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.entries.validation import check_photo
from contest.entries.video import MAX_LONG_EDGE_PX, VideoInfo, check_video
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import create_job
from contest.storage import new_key
from tests.support import create_user
from worker.tasks import process_media
from worker.video import TranscodeFailed, encode_ladder, extract_images

# What ffmpeg would be told the file is, were the check bypassed: a plausible phone video,
# once web-safe (the copy path) and once HEVC (the encoding path).
PRETENDED = [
    VideoInfo("mp4", "video/mp4", 1280, 720, 10.0, 1000, "h264", "aac", 0, 25.0, 1_000_000, "yuv420p"),
    VideoInfo("mov", "video/quicktime", 720, 1280, 10.0, 1000, "hevc", None, 90, 30.0, 5_000_000, "yuv420p"),
]


@pytest.fixture
def secret(tmp_path) -> Path:
    """A local file the attacker wants to read (think /etc/passwd)."""
    path = tmp_path / "secrets" / "passwd.txt"
    path.parent.mkdir()
    path.write_text(f"root:x:0:0:SECRET-{uuid.uuid4().hex}:/root:/bin/bash\n")
    return path


def token(secret: Path) -> bytes:
    return secret.read_bytes().split(b":")[4]  # "SECRET-<hex>"


def hls_playlist(secret: Path) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TARGETDURATION:5\n"
        f"#EXTINF:5.0,\nfile://{secret}\n#EXTINF:5.0,\n{secret}\n#EXT-X-ENDLIST\n"
    ).encode()


def avi_with_gab2_playlist(playlist: bytes) -> bytes:
    """The well-known PoC's shape: an AVI whose text stream's GAB2 chunk embeds a playlist."""

    def chunk(fourcc: bytes, data: bytes) -> bytes:
        return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")

    def riff_list(kind: bytes, *children: bytes) -> bytes:
        body = kind + b"".join(children)
        return b"LIST" + struct.pack("<I", len(body)) + body

    title = "subtitles".encode("utf-16-le")
    gab2 = (
        b"GAB2\0"
        + struct.pack("<HI", 2, len(title))
        + title
        + struct.pack("<HI", 4, len(playlist))
        + playlist
    )
    avih = struct.pack("<14I", 40000, 0, 0, 0x10, 1, 0, 1, 0, 320, 240, 0, 0, 0, 0)
    strh = b"txts" + struct.pack(
        "<4sIHHIIIIIIII4h", b"\0" * 4, 0, 0, 0, 0, 1, 25, 0, 1, len(gab2), 0, 0, 0, 0, 0, 0
    )
    header = riff_list(
        b"hdrl", chunk(b"avih", avih), riff_list(b"strl", chunk(b"strh", strh), chunk(b"strf", b""))
    )
    movi = riff_list(b"movi", chunk(b"00tx", gab2))
    index = chunk(b"idx1", b"00tx" + struct.pack("<III", 0x10, 4, len(gab2)))
    body = b"AVI " + header + movi + index
    return b"RIFF" + struct.pack("<I", len(body)) + body


def svg(secret: Path) -> bytes:
    return (
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink" width="640" height="480">'
        f'<image xlink:href="file://{secret}" width="640" height="480"/></svg>\n'
    ).encode()


def html(secret: Path) -> bytes:
    return f'<!DOCTYPE html><html><body><iframe src="file://{secret}"></iframe></body></html>\n'.encode()


# name -> (bytes, the code check_video gives)
def hostile_files(secret: Path) -> dict[str, tuple[bytes, str]]:
    playlist = hls_playlist(secret)
    return {
        "hls.mp4": (playlist, "video_playlist"),
        "hls-after-blank-lines.mov": (b"\n\n  " + playlist, "video_playlist"),
        "gab2.mp4": (avi_with_gab2_playlist(playlist), "unsupported_format"),
        "concat.mp4": (f"concat:{secret}|{secret}\n".encode(), "video_playlist"),
        "file-url.mp4": (f"file:{secret}\n".encode(), "video_playlist"),
        "ffconcat.mp4": (
            f"ffconcat version 1.0\nfile '{secret}'\nfile 'file:{secret}'\n".encode(),
            "video_playlist",
        ),
        "image.svg.mp4": (svg(secret), "not_a_video"),
        "page.html.mp4": (html(secret), "not_a_video"),
        "image.svg.jpg": (svg(secret), "not_a_video"),
        "page.html.jpg": (html(secret), "not_a_video"),
        # A genuine ftyp box in front of the playlist: the sniff says MP4, ffprobe finds no movie.
        "ftyp-then-hls.mp4": (b"\0\0\0\x18ftypisom\0\0\x02\0isommp41" + playlist, "damaged_file"),
    }


def video_rules(**fields) -> Category:
    rules = {"allowed_formats": ["mp4", "mov"], "max_bytes": 200 * 2**20, "max_duration_s": 300, **fields}
    return Category(slug="video-test", **rules)


@pytest.fixture
def hostile(tmp_path, secret) -> dict[str, tuple[Path, str]]:
    folder = tmp_path / "uploads"
    folder.mkdir()
    files = {}
    for name, (data, code) in hostile_files(secret).items():
        (folder / name).write_bytes(data)
        files[name] = (folder / name, code)
    return files


def test_the_gab2_file_really_is_an_avi_carrying_the_playlist(hostile, secret):
    """ffprobe left to guess (never done by our code) reads it as AVI with the GAB2 subtitle."""
    path, _ = hostile["gab2.mp4"]
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=format_name:stream=codec_type:stream_tags=title",
         "-of", "csv=p=0", str(path)],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.stdout.decode().split() == ["subtitle,subtitles", "avi"]


@pytest.mark.parametrize("quick", [True, False])
def test_check_video_refuses_every_hostile_file_with_a_clear_code(hostile, quick):
    for name, (path, code) in hostile.items():
        with pytest.raises(MediaRejected) as refused:
            check_video(path, video_rules(), quick=quick)
        assert refused.value.code == code, name
    with pytest.raises(MediaRejected) as refused:
        check_video(hostile["gab2.mp4"][0], video_rules(), quick=quick)
    assert refused.value.params == {"found": "avi", "allowed": ["mp4", "mov"]}


def test_the_reasons_read_clearly(app, hostile):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert MediaRejected("video_playlist").message == (
            "This file is a playlist or a list of other files, not a video. Please upload the video file itself."
        )
        assert MediaRejected("unsupported_format", found="avi", allowed=["mp4", "mov"]).message == (
            "This file is in AVI format; this category accepts MP4, MOV."
        )
        assert MediaRejected("not_a_video", allowed=["mp4"]).message == (
            "This file is not a video we can read; this category accepts MP4."
        )


def test_markup_named_jpg_is_refused_as_a_photo_too(hostile):
    photo_rules = Category(slug="photo-test", allowed_formats=["jpeg", "png"])
    for name in ("image.svg.jpg", "page.html.jpg"):
        with pytest.raises(MediaRejected) as refused:
            check_photo(hostile[name][0], photo_rules, max_pixels=100_000_000, quick=True)
        assert refused.value.code == "not_recognised"


@pytest.mark.parametrize("pretended", PRETENDED, ids=["as-web-safe-h264", "as-rotated-hevc"])
def test_ffmpeg_run_directly_on_a_hostile_file_reads_no_local_file(hostile, secret, tmp_path, pretended):
    for name, (path, _) in hostile.items():
        workdir = tmp_path / f"work-{name}-{pretended.video_codec}"
        workdir.mkdir()
        source = workdir / "input.bin"  # the worker names the file itself
        source.write_bytes(path.read_bytes())
        for step in (encode_ladder, extract_images):
            try:
                outputs = step(source, pretended, workdir, threads=1)
            except TranscodeFailed as exc:
                assert token(secret) not in str(exc).encode(), name
                assert str(exc), name  # ffmpeg said why
            else:
                pytest.fail(f"ffmpeg made {len(outputs)} files from {name}")
        written = [p for p in workdir.rglob("*") if p.is_file() and p != source]
        assert written == [], f"{name}: failed runs must leave no folder behind: {written}"
        for output in workdir.rglob("*"):
            assert not output.is_file() or token(secret) not in output.read_bytes(), output


# --- decompression bombs ------------------------------------------------------------
@pytest.fixture(scope="session")
def huge_video(tmp_path_factory) -> Path:
    """A real H.264 MP4 of 750 KB whose two frames are 16000 x 16000 (256 megapixels) each."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=black:size=16000x16000:rate=1",
         "-frames:v", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=300,
    )  # fmt: skip
    return path


@pytest.mark.parametrize("quick", [True, False])
def test_a_tiny_file_declaring_huge_pictures_is_refused_by_the_resolution_rule(huge_video, quick):
    assert huge_video.stat().st_size < 2_000_000
    with pytest.raises(MediaRejected) as refused:
        check_video(huge_video, video_rules(), quick=quick)  # no resolution cap in the category
    assert refused.value.code == "video_too_large"
    assert refused.value.params == {"width": 16000, "height": 16000, "max": MAX_LONG_EDGE_PX}


def test_the_worker_refuses_the_bomb_before_transcoding(app, db, contest, storage, huge_video):
    category = next(c for c in contest.categories if c.slug == "video")
    author = create_user(db, "bomber@example.com")
    key = new_key(f"originals/{contest.slug}", ".mp4")
    with huge_video.open("rb") as stream:
        size = storage.save(key, stream, content_type="video/mp4")
    entry = Entry(
        code=contest.next_entry_code(db),
        contest_id=contest.id,
        category_id=category.id,
        author_id=author.id,
        place_id=contest.places[0].id,
        title="Bom",
        taken_on=date(2024, 5, 1),
        status=EntryStatus.submitted,
        submitted_at=now_utc(),
    )
    entry.assets.append(
        MediaAsset(kind=AssetKind.original, storage_key=key, mime_type="video/mp4", bytes=size)
    )
    db.add(entry)
    job = create_job(db, entry, JobKind.video)
    with app.app_context():
        db.commit()
        process_media(job.id)

    db.expire_all()
    entry, job = db.get(Entry, entry.id), db.get(ProcessingJob, job.id)
    assert (entry.status, entry.failure_code, job.state) == (
        EntryStatus.failed,
        "video_too_large",
        JobState.failed,
    )
    assert job.attempts == 1
    kinds = db.scalars(select(MediaAsset.kind).where(MediaAsset.entry_id == entry.id)).all()
    assert kinds == [AssetKind.original]
