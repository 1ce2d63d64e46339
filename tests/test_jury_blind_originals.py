"""Issue 15: what a judge zooms into or downloads carries no metadata that can name the author.

Real files (a 5120x2880 photograph signed by its author in EXIF, XMP, IPTC and a comment, turned
by its EXIF orientation; a PNG with text chunks; bigbuckbunny tagged by ffmpeg) go through the
real worker job; the judge's panel is then fetched and every byte the judge receives is read,
from the local folder and from S3 over HTTP.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import urllib.request
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from pillow_heif import register_heif_opener
from sqlalchemy import select

from contest.contests.models import CategoryKind
from contest.entries.models import AssetKind, EntryStatus, MediaAsset
from contest.media.rejection import MediaRejected
from contest.processing import dispatch
from contest.processing.models import JobKind
from contest.processing.services import create_job
from contest.storage import new_key
from tests.jury_support import build_jury
from tests.support import category, create_entry_with_original, create_user, real_video_source, wallpaper
from tests.test_jury_panel_media import judged_page
from worker.blind import make_jury_copy, strip_jpeg, strip_webp
from worker.blind_video import make_video_jury_copy
from worker.jury_copies import make_jury_copies
from worker.tasks import process_media
from worker.video import TranscodeFailed

AUTHOR = "Hoàng Thị Distinctivename"
EMAIL = "distinctivename.tac.gia@example.vn"
ORIENTATION, ARTIST, COPYRIGHT, XP_AUTHOR, BODY_SERIAL = 0x0112, 0x013B, 0x8298, 0x9C9D, 0xA431


def telling(data: bytes) -> list[str]:
    """What in ``data`` names the author: the name (UTF-8, UTF-16LE) or the e-mail."""
    found = []
    for what, needle in (
        ("name", AUTHOR.encode()),
        ("name UTF-16LE", AUTHOR.encode("utf-16-le")),
        ("surname", b"Distinctivename"),
        ("surname UTF-16LE", "Distinctivename".encode("utf-16-le")),
        ("e-mail", EMAIL.encode()),
    ):
        if needle in data:
            found.append(what)
    return found


# --- the files ------------------------------------------------------------------------------
def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def signed_jpeg(source: Path, orientation: int = 6) -> bytes:
    """The real photo's bytes (not re-encoded) with the author in EXIF, XMP, IPTC and a comment."""
    exif = Image.Exif()
    exif[ORIENTATION], exif[ARTIST], exif[COPYRIGHT] = orientation, AUTHOR, f"(c) {AUTHOR} {EMAIL}"
    exif[XP_AUTHOR] = (AUTHOR + "\0").encode("utf-16-le")
    exif.get_ifd(0x8769)[BODY_SERIAL] = "SN-Distinctivename-0042"
    xmp = (
        b"http://ns.adobe.com/xap/1.0/\0"
        + (
            f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{AUTHOR}</dc:creator>'
            f"<Iptc4xmpCore:CiEmailWork>{EMAIL}</Iptc4xmpCore:CiEmailWork></x:xmpmeta>"
        ).encode()
    )
    by_line = AUTHOR.encode()
    iptc = b"\x1c\x02\x50" + struct.pack(">H", len(by_line)) + by_line  # 2:80 By-line
    photoshop = b"Photoshop 3.0\0" + b"8BIM\x04\x04\0\0" + struct.pack(">I", len(iptc)) + iptc
    data = source.read_bytes()
    assert data[:2] == b"\xff\xd8"
    extra = (
        _segment(0xE1, exif.tobytes())
        + _segment(0xE1, xmp)
        + _segment(0xED, photoshop)
        + _segment(0xFE, f"Ảnh của {AUTHOR}".encode())
    )
    return data[:2] + extra + data[2:] + b"trailing " + AUTHOR.encode()  # after the end-of-image


def signed_png(folder: Path) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Author", AUTHOR, lang="vi", tkey="Tác giả")
    info.add_text("Copyright", EMAIL)
    info.add_itxt("Comment", AUTHOR, zip=True)
    with Image.open(wallpaper("Volna")) as photo:
        small = photo.resize((1280, 720))
    path = folder / "signed.png"
    small.save(path, "PNG", pnginfo=info)
    assert AUTHOR.encode() in path.read_bytes()
    return path


def tagged_video(folder: Path) -> Path:
    path = folder / "tagged.mp4"
    tags = {
        "artist": AUTHOR,
        "comment": EMAIL,
        "location": "+18.6796+105.6813/",
        "title": f"Phim của {AUTHOR}",
    }
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(real_video_source()), "-c", "copy"]
    for name, value in tags.items():
        command += ["-metadata", f"{name}={value}"]
    command += ["-metadata:s:v:0", f"handler_name={AUTHOR} camera", "-y", str(path)]
    subprocess.run(
        command,
        check=True,
    )
    assert telling(path.read_bytes())
    return path


# --- the flow: upload, the worker's job, approval, a round, the judge's page -------------------
@pytest.fixture
def author(db):
    return create_user(db, EMAIL, full_name=AUTHOR)


@pytest.fixture
def processed(app, db, contest, author, any_storage):
    """Store ``path`` as the original of an entry of ``kind``, run the real job, approve the entry."""

    def processed(path: Path, kind: CategoryKind, mime_type: str):
        key = new_key(f"originals/{contest.slug}", path.suffix.lower())
        with path.open("rb") as source:
            size = any_storage.save(key, source, content_type=mime_type)
        entry = create_entry_with_original(
            db, contest, author, storage_key=key, size=size, category=category(contest, kind),
            mime_type=mime_type, original_filename=f"{AUTHOR}{path.suffix}",
        )  # fmt: skip
        job = create_job(
            db, entry, {CategoryKind.photo: JobKind.photo, CategoryKind.video: JobKind.video}[kind]
        )
        with app.app_context():
            db.commit()
            process_media(job.id)
            db.expire_all()
            assert entry.status is EntryStatus.pending_review, entry.status
            entry.transition(EntryStatus.approved)
            db.commit()
        return entry

    return processed


def what_the_judge_gets(app, db, client, contest, entry, kind: CategoryKind) -> tuple[str, dict[str, bytes]]:
    """The judge's page and the bytes behind its zoom and download links."""
    jury = build_jury(db, contest, judges=1, entries_each=0)
    with app.app_context():
        page = judged_page(db, client, jury, entry, kind)
    links = {
        "download": re.findall(r'href="([^"]+)" download', page),
        "zoom": re.findall(r'href="([^"]+)" data-jury-zoom', page),
    }
    got = {}
    for what, urls in links.items():
        for n, url in enumerate(urls):
            got[f"{what} {n}"] = fetch(client, url.replace("&amp;", "&"))
    return page, got


def fetch(client, url: str) -> bytes:
    if url.startswith("/"):
        response = client.get(url)
        assert response.status_code == 200, url
        return response.data
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_a_signed_turned_jpeg_reaches_the_judge_unsigned_with_the_same_pixels_and_orientation(
    app, db, client, contest, processed, any_storage, tmp_path
):
    path = tmp_path / "signed.jpg"
    path.write_bytes(signed_jpeg(wallpaper("Volna")))
    assert set(telling(path.read_bytes())) == {
        "name",
        "name UTF-16LE",
        "surname",
        "surname UTF-16LE",
        "e-mail",
    }
    entry = processed(path, CategoryKind.photo, "image/jpeg")

    page, got = what_the_judge_gets(app, db, client, contest, entry, CategoryKind.photo)

    assert set(got) == {"download 0", "zoom 0"} and got["download 0"] == got["zoom 0"]
    copy = got["download 0"]
    assert telling(copy) == [] and b"SN-" not in copy and b"xmpmeta" not in copy and b"Photoshop" not in copy
    assert AUTHOR not in page and EMAIL not in page
    with Image.open(path) as original, Image.open(io.BytesIO(copy)) as judged:
        assert judged.getexif().get(ORIENTATION) == 6  # still turned upright by any viewer
        assert dict(judged.getexif()) == {ORIENTATION: 6}
        assert judged.info.get("icc_profile") == original.info.get("icc_profile")
        assert judged.size == original.size == (5120, 2880)
        assert judged.tobytes() == original.tobytes()  # lossless: the very same pixels
    # The compressed data is the original's, byte for byte (the copy is smaller by the metadata).
    start = copy.index(b"\xff\xda")
    assert copy[start:] in path.read_bytes()


def test_a_png_reaches_the_judge_without_its_text_chunks(app, db, client, contest, processed, tmp_path):
    photo = category(contest, CategoryKind.photo)
    photo.allowed_formats, photo.min_bytes, photo.min_long_edge_px = ["jpeg", "png"], 1, 100
    db.commit()
    path = signed_png(tmp_path)
    entry = processed(path, CategoryKind.photo, "image/png")

    _, got = what_the_judge_gets(app, db, client, contest, entry, CategoryKind.photo)

    copy = got["download 0"]
    assert telling(copy) == []
    for chunk in (b"iTXt", b"tEXt", b"zTXt"):
        assert chunk not in copy
    with Image.open(path) as original, Image.open(io.BytesIO(copy)) as judged:
        assert judged.tobytes() == original.tobytes()


def test_a_tagged_video_reaches_the_judge_untagged_and_still_plays(
    app, db, client, contest, processed, any_storage, tmp_path
):
    entry = processed(tagged_video(tmp_path), CategoryKind.video, "video/mp4")

    _, got = what_the_judge_gets(app, db, client, contest, entry, CategoryKind.video)

    assert list(got) == ["download 0"]
    copy = tmp_path / "judged.mp4"
    copy.write_bytes(got["download 0"])
    assert telling(copy.read_bytes()) == [] and b"+18.6796" not in copy.read_bytes()
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(copy)],
            check=True,
            capture_output=True,
        ).stdout
    )
    codecs = sorted(s["codec_name"] for s in probe["streams"])
    assert codecs == ["aac", "h264"]
    assert float(probe["format"]["duration"]) == pytest.approx(5.3, abs=0.1)
    tags = [probe["format"].get("tags", {})] + [s.get("tags", {}) for s in probe["streams"]]
    for tag in tags:
        assert not {"artist", "comment", "location", "title"} & set(tag), tag
        assert "Distinctivename" not in json.dumps(tag, ensure_ascii=False)


# --- entries processed before: the page says so, the task makes the copy ------------------------
def test_an_entry_without_a_jury_copy_offers_no_original_until_the_task_made_it(
    app, db, client, contest, processed, any_storage, tmp_path, monkeypatch
):
    sent = []
    monkeypatch.setattr(dispatch, "send_now", lambda name, *args: sent.append((name, *args)) or True)
    path = tmp_path / "signed.jpg"
    path.write_bytes(signed_jpeg(wallpaper("Volna"), orientation=1))
    entry = processed(path, CategoryKind.photo, "image/jpeg")
    forget_jury_copies(app, db, entry, any_storage)  # as processed before the copies existed

    page, got = what_the_judge_gets(app, db, client, contest, entry, CategoryKind.photo)

    assert ("worker.make_jury_copies", entry.id) in sent  # sent when the round opened
    assert list(got) == ["zoom 0"] and "/media/jury/" not in page and "/originals/" not in page
    assert got["zoom 0"][:4] == b"RIFF"  # the zoom falls back to the display rendition (WebP)
    assert "The full-resolution original is being prepared." in page
    objects = sorted(any_storage.keys())
    with app.app_context():
        assert make_jury_copies(entry.id) == 1
        assert make_jury_copies(entry.id) == 0  # twice: nothing more
    (made,) = set(any_storage.keys()) - set(objects)
    assert made.startswith("jury/")
    page = judged_again(client, db, entry)
    assert "being prepared" not in page
    (link,) = re.findall(r'href="([^"]+)" download', page)
    copy = fetch(client, link.replace("&amp;", "&"))
    assert telling(copy) == [] and copy[:2] == b"\xff\xd8" and b"Exif" not in copy


def forget_jury_copies(app, db, entry, storage) -> None:
    copies = db.scalars(
        select(MediaAsset).where(MediaAsset.entry_id == entry.id, MediaAsset.kind == AssetKind.jury_original)
    ).all()
    assert len(copies) == 1
    for asset in copies:
        storage.delete(asset.storage_key)
        db.delete(asset)
    with app.app_context():
        db.commit()


def judged_again(client, db, entry) -> str:
    from contest.jury.models import Assignment

    db.expire_all()
    assignment = db.scalar(select(Assignment).where(Assignment.entry_id == entry.id))
    return client.get(f"/jury/rounds/{assignment.round_id}/entries/{assignment.id}").text


def test_the_jury_copy_is_never_published(app, db, client, contest, processed, any_storage, tmp_path):
    path = tmp_path / "signed.jpg"
    path.write_bytes(signed_jpeg(wallpaper("Volna")))
    entry = processed(path, CategoryKind.photo, "image/jpeg")  # approved: its renditions are public

    (copy,) = [a for a in entry.assets if a.kind is AssetKind.jury_original]
    assert copy.storage_key.startswith("jury/") and not copy.is_public
    public = list(any_storage.keys("public/"))
    assert len(public) == 4 and not any("original" in key for key in public)
    assert any_storage.exists(copy.storage_key)


def test_the_command_sends_the_entries_of_a_contest_that_lack_a_copy(
    app, db, contest, processed, any_storage, tmp_path, monkeypatch
):
    sent = []
    monkeypatch.setattr(dispatch, "send_now", lambda name, *args: sent.append((name, *args)) or True)
    path = tmp_path / "signed.jpg"
    path.write_bytes(signed_jpeg(wallpaper("Volna"), orientation=1))
    with_copy = processed(path, CategoryKind.photo, "image/jpeg")
    without = processed(path, CategoryKind.photo, "image/jpeg")
    forget_jury_copies(app, db, without, any_storage)
    sent.clear()  # the media jobs' own sending

    result = app.test_cli_runner().invoke(args=["contest", "jury-copies", contest.slug])

    assert result.exit_code == 0, result.output
    assert "entries sent to the worker for their jury copies: 1" in result.output
    assert sent == [("worker.make_jury_copies", without.id)] and with_copy.id != without.id
    unknown = app.test_cli_runner().invoke(args=["contest", "jury-copies", "no-such-contest"])
    assert unknown.exit_code != 0 and "no contest" in unknown.output


# --- the file work itself ----------------------------------------------------------------------
def test_a_jpeg_whose_segments_cannot_be_walked_is_refused_as_damaged():
    data = signed_jpeg(wallpaper("Volna"))
    for broken in (
        data[:2] + b"\xff\xe1\xff\xff" + data[6:40],  # a segment longer than the file
        data[:2] + b"\x00\x00" + data[2:],  # no marker where one must be
        b"\xff\xd8" + b"\x00" * 64,  # no segment at all
    ):
        with pytest.raises(MediaRejected) as refused:
            strip_jpeg(broken)
        assert refused.value.code == "damaged_file"
    # Only the end-of-image marker missing (decoders tolerate it): the copy gets one.
    copy = strip_jpeg(data[: data.rindex(b"\xff\xd9")])
    assert copy.endswith(b"\xff\xd9") and telling(copy) == []
    assert copy[copy.index(b"\xff\xda") :] == data[data.index(b"\xff\xda") : data.rindex(b"\xff\xd9") + 2]


def test_a_webp_loses_its_exif_and_xmp_but_keeps_its_orientation():
    exif = Image.Exif()
    exif[ORIENTATION], exif[ARTIST] = 6, AUTHOR
    with Image.open(wallpaper("Volna")) as photo:
        small = photo.resize((640, 360))
    out = io.BytesIO()
    small.save(out, "WEBP", exif=exif.tobytes(), xmp=f"<dc:creator>{AUTHOR}</dc:creator>".encode())
    assert telling(out.getvalue())

    copy = strip_webp(out.getvalue())

    assert telling(copy) == [] and b"XMP " not in copy
    with Image.open(io.BytesIO(copy)) as judged, Image.open(out) as original:
        assert dict(judged.getexif()) == {ORIENTATION: 6}
        assert judged.tobytes() == original.tobytes()
    assert struct.unpack("<I", copy[4:8])[0] == len(copy) - 8
    assert copy[20] & 0x04 == 0  # VP8X: no XMP flag any more


def test_a_heic_becomes_an_upright_full_size_jpeg_without_metadata(tmp_path):
    register_heif_opener()
    exif = Image.Exif()
    exif[ORIENTATION], exif[ARTIST] = 1, AUTHOR
    with Image.open(wallpaper("Volna")) as photo:
        small = photo.resize((800, 450))
    source = tmp_path / "signed.heic"
    small.save(source, "HEIF", quality=90, exif=exif.tobytes())
    assert telling(source.read_bytes())

    copy = make_jury_copy(source, tmp_path / "out", "heif", position=0, width=800, height=450)

    assert (copy.mime_type, copy.width, copy.height) == ("image/jpeg", 800, 450)
    assert telling(copy.path.read_bytes()) == [] and b"Exif" not in copy.path.read_bytes()


def test_a_video_that_cannot_be_copied_leaves_no_half_made_copy(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(real_video_source().read_bytes()[:4096])
    with pytest.raises(TranscodeFailed):
        make_video_jury_copy(
            broken, tmp_path, container="mp4", mime_type="video/mp4", size=(1, 1), duration_s=1
        )
    assert not list(tmp_path.glob("jury-copy-*"))


def test_a_jpeg_with_restart_markers_keeps_its_pixels():
    with Image.open(wallpaper("Volna")) as photo:
        small = photo.resize((1280, 720))
    out = io.BytesIO()
    small.save(out, "JPEG", restart_marker_blocks=2, comment=AUTHOR.encode(), exif=Image.Exif().tobytes())
    data = out.getvalue()
    assert sum(data.count(bytes((0xFF, marker))) for marker in range(0xD0, 0xD8)) > 1000

    copy = strip_jpeg(data)

    assert telling(copy) == []
    with Image.open(io.BytesIO(copy)) as judged, Image.open(out) as original:
        assert judged.tobytes() == original.tobytes()
