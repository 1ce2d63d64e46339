"""What phones and cameras really send: HEIC, 16-bit PNG, CMYK JPEG, ICC profiles; and hostile files.

Every input is made from a real photograph (Debian's wallpapers) with real tools (pillow-heif's
HEVC encoder, ffmpeg, libjpeg, lcms) and goes through the real photo job: storage, database,
decode, renditions. Colours are compared with the sRGB photograph they came from.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw, ImageStat
from sqlalchemy import select

from contest.config import ROOT
from contest.contests.models import Category, CategoryKind
from contest.entries.failures import MediaRejected
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.entries.validation import check_photo, check_photo_header
from contest.processing.models import JobKind
from contest.processing.services import create_job
from contest.storage import new_key, private_copy_key
from tests.support import create_entry_with_original, create_user, login_id, wallpaper
from worker.tasks import process_media

EN = {"Accept-Language": "en"}
# A real photograph of 2560x1600 (745 kB): small enough for HEVC encoding in a test.
REAL_PHOTO = Path("/usr/share/wallpapers/Autumn/contents/images/2560x1600.jpg")
ORIENTATION = 0x0112
RED_BOX = (200, 200, 700, 700)  # a pure sRGB red square painted on the photo


# --- helpers ------------------------------------------------------------------------------
def read_object(storage, key: str) -> bytes:
    out = io.BytesIO()
    storage.download(key, out)
    return out.getvalue()


# Mean difference of a rendition from the sRGB photo it came from: the JPEG/WebP encoding of
# a detailed photo alone accounts for about 3; a wrong reading (a negative, clipped 16-bit
# values, unconverted colours) for 10 or far more.
SAME_PICTURE = 5


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0-255, of two RGB images of the same size."""
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def reference(photo: Image.Image, size: tuple[int, int]) -> Image.Image:
    return photo.convert("RGB").resize(size, Image.Resampling.LANCZOS)


@pytest.fixture
def photo_category(db, contest) -> Category:
    """The photo category, taking every photo format and photos from 1,000 px on the long side."""
    category = next(c for c in contest.categories if c.kind is CategoryKind.photo)
    category.allowed_formats = ["jpeg", "png", "heif"]
    category.min_bytes = None
    category.min_long_edge_px = 1000
    db.commit()
    return category


@pytest.fixture
def process(app, db, contest, photo_category, storage):
    """Store a file as a photo entry's original, run the photo job; return the entry's assets by kind."""
    author = create_user(db, "photographer@example.com")

    def process(path: Path) -> tuple[Entry, dict[AssetKind, MediaAsset]]:
        key = new_key(f"originals/{contest.slug}", path.suffix.lower())
        with path.open("rb") as source:
            size = storage.save(key, source, content_type="application/octet-stream")
        entry = create_entry_with_original(
            db, contest, author, storage_key=key, size=size, category=photo_category
        )
        job = create_job(db, entry, JobKind.photo)
        with app.app_context():
            db.commit()
            process_media(job.id)
        db.expire_all()
        entry = db.get(Entry, entry.id)
        assets = db.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry.id)).all()
        return entry, {a.kind: a for a in assets}

    return process


def rendition(storage, assets: dict, kind: AssetKind) -> Image.Image:
    image = Image.open(io.BytesIO(read_object(storage, private_copy_key(assets[kind].storage_key))))
    image.load()
    assert image.mode == "RGB"
    assert "icc_profile" not in image.info  # no profile: the pixels themselves must be sRGB
    return image


@pytest.fixture(scope="module")
def real_photo_rgb() -> Image.Image:
    with Image.open(REAL_PHOTO) as photo:
        return photo.convert("RGB")


# --- HEIC from iPhones ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def iphone_heic(tmp_path_factory, real_photo_rgb) -> Path:
    """The real photo as an iPhone stores it: HEVC in HEIF, turned by its orientation (6: portrait)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    path = tmp_path_factory.mktemp("heic") / "IMG_4021.HEIC"
    small = real_photo_rgb.resize((1280, 800), Image.Resampling.LANCZOS)  # HEVC encoding is slow
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    small.save(path, format="HEIF", quality=90, exif=exif.tobytes())
    assert path.read_bytes()[4:12] == b"ftypheic"
    return path


def test_heic_from_an_iphone_is_rendered_upright(process, storage, iphone_heic, real_photo_rgb):
    entry, assets = process(iphone_heic)

    assert entry.status is EntryStatus.pending_review
    original = assets[AssetKind.original]
    assert (original.width, original.height) == (800, 1280)  # the header's size, already turned
    display = rendition(storage, assets, AssetKind.display_jpeg)
    assert display.size == (800, 1280)  # portrait, turned once (not twice)
    upright = real_photo_rgb.transpose(Image.Transpose.ROTATE_270)
    assert mean_difference(display, reference(upright, display.size)) < SAME_PICTURE
    assert rendition(storage, assets, AssetKind.thumb_webp).size == (250, 400)
    # The jury's copy (worker.blind): a full-size JPEG, turned once like the renditions.
    copy = Image.open(io.BytesIO(read_object(storage, assets[AssetKind.jury_original].storage_key)))
    assert (copy.format, copy.size) == ("JPEG", (800, 1280)) and dict(copy.getexif()) == {}
    assert mean_difference(copy.convert("RGB"), reference(upright, copy.size)) < SAME_PICTURE


# --- PNG, 16 bits per channel -----------------------------------------------------------------
def ffmpeg_png(source: Path, target: Path, pix_fmt: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-pix_fmt", pix_fmt, str(target)],
        check=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    data = target.read_bytes()
    assert data[12:16] == b"IHDR" and data[24] == 16  # the PNG really holds 16 bits per sample
    return target


def test_sixteen_bit_png_is_rendered_with_its_colours(process, storage, tmp_path, real_photo_rgb):
    png = ffmpeg_png(REAL_PHOTO, tmp_path / "scan.png", "rgb48be")

    entry, assets = process(png)

    assert entry.status is EntryStatus.pending_review
    assert assets[AssetKind.original].width == 2560
    display = rendition(storage, assets, AssetKind.display_jpeg)
    assert display.size == (1600, 1000)
    assert mean_difference(display, reference(real_photo_rgb, display.size)) < SAME_PICTURE


def test_sixteen_bit_grey_png_is_scaled_not_clipped(process, storage, tmp_path, real_photo_rgb):
    png = ffmpeg_png(REAL_PHOTO, tmp_path / "grey.png", "gray16be")

    entry, assets = process(png)

    assert entry.status is EntryStatus.pending_review
    display = rendition(storage, assets, AssetKind.display_jpeg)
    red, green, blue = display.split()
    for other in (green, blue):  # grey stays grey (JPEG's rounding aside)
        assert ImageChops.difference(red, other).getextrema()[1] <= 2
    expected = real_photo_rgb.convert("L").resize(display.size, Image.Resampling.LANCZOS)
    assert mean_difference(display, expected) < SAME_PICTURE  # not clipped to white, not darkened


# --- CMYK JPEG ----------------------------------------------------------------------------------
def without_segment(data: bytes, marker: bytes) -> bytes:
    start = data.index(marker)
    length = int.from_bytes(data[start + 2 : start + 4], "big")
    return data[:start] + data[start + 2 + length :]


def test_cmyk_jpeg_with_adobe_marker_is_converted_to_rgb(process, storage, tmp_path, real_photo_rgb):
    path = tmp_path / "print.jpg"
    real_photo_rgb.convert("CMYK").save(path, quality=95)  # libjpeg writes Adobe's APP14, inverted CMYK
    data = path.read_bytes()
    assert data[data.index(b"\xff\xee") + 4 : data.index(b"\xff\xee") + 9] == b"Adobe"

    entry, assets = process(path)

    assert entry.status is EntryStatus.pending_review
    display = rendition(storage, assets, AssetKind.display_jpeg)
    assert mean_difference(display, reference(real_photo_rgb, display.size)) < SAME_PICTURE


def test_cmyk_jpeg_without_adobe_marker_is_read_as_plain_cmyk(process, storage, tmp_path, real_photo_rgb):
    # Stored as plain CMYK (0 = no ink) with no APP14: the convention Adobe's marker would invert.
    buffer = io.BytesIO()
    ImageChops.invert(real_photo_rgb.convert("CMYK")).save(buffer, format="JPEG", quality=95)
    path = tmp_path / "plain-cmyk.jpg"
    path.write_bytes(without_segment(buffer.getvalue(), b"\xff\xee"))
    with Image.open(path) as check:
        assert check.mode == "CMYK" and "adobe" not in check.info

    entry, assets = process(path)

    assert entry.status is EntryStatus.pending_review
    display = rendition(storage, assets, AssetKind.display_jpeg)
    assert mean_difference(display, reference(real_photo_rgb, display.size)) < SAME_PICTURE  # not a negative


# --- ICC profiles -------------------------------------------------------------------------------
def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _tag(kind: bytes, body: bytes) -> bytes:
    data = kind + b"\0" * 4 + body
    return data + b"\0" * (-len(data) % 4)


def matrix_profile(name: str, red, green, blue, gamma: float) -> bytes:
    """An ICC v2 RGB display profile (primaries as D50 XYZ columns, one gamma), as cameras embed."""
    text = name.encode("ascii") + b"\0"
    curve = _tag(b"curv", struct.pack(">IH", 1, round(gamma * 256)))
    tags = [
        (b"desc", _tag(b"desc", struct.pack(">I", len(text)) + text + b"\0" * 78)),
        (b"wtpt", _tag(b"XYZ ", _s15(0.9642) + _s15(1.0) + _s15(0.8249))),
        (b"rXYZ", _tag(b"XYZ ", b"".join(map(_s15, red)))),
        (b"gXYZ", _tag(b"XYZ ", b"".join(map(_s15, green)))),
        (b"bXYZ", _tag(b"XYZ ", b"".join(map(_s15, blue)))),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", _tag(b"text", b"none\0")),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", offset + len(body))
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


# ProPhoto (ROMM) RGB: D50 white, gamma 1.8, primaries far outside sRGB's.
PROPHOTO = matrix_profile(
    "ProPhoto RGB (test)", (0.7977, 0.2880, 0.0), (0.1352, 0.7119, 0.0), (0.0313, 0.0001, 0.8249), 1.8
)


@pytest.fixture
def prophoto_jpeg(tmp_path, real_photo_rgb) -> tuple[Path, Image.Image]:
    """The real photo with a pure red square, converted to ProPhoto RGB and saved with its profile."""
    srgb = real_photo_rgb.copy()
    ImageDraw.Draw(srgb).rectangle(RED_BOX, fill=(255, 0, 0))
    prophoto = ImageCms.ImageCmsProfile(io.BytesIO(PROPHOTO))
    coded = ImageCms.profileToProfile(srgb, ImageCms.createProfile("sRGB"), prophoto, outputMode="RGB")
    red_as_stored = coded.getpixel((450, 450))
    assert red_as_stored[0] < 200 and red_as_stored[1] > 40  # the raw numbers are far from sRGB red
    path = tmp_path / "DSC_0042.JPG"
    coded.save(path, quality=95, icc_profile=PROPHOTO)
    return path, srgb


def test_embedded_profile_is_converted_to_srgb(process, storage, prophoto_jpeg):
    path, srgb = prophoto_jpeg

    entry, assets = process(path)

    assert entry.status is EntryStatus.pending_review
    display = rendition(storage, assets, AssetKind.display_jpeg)
    scale = display.width / srgb.width
    centre = (round(450 * scale), round(450 * scale))
    red, green, blue = display.getpixel(centre)
    assert red >= 245 and green <= 12 and blue <= 12  # sRGB red again, not the stored numbers
    assert mean_difference(display, reference(srgb, display.size)) < SAME_PICTURE
    with Image.open(path) as stored:  # what the numbers would look like taken as sRGB
        assert mean_difference(reference(stored, display.size), reference(srgb, display.size)) > 10


def test_thumbnail_is_derived_from_the_converted_display_image(process, storage, prophoto_jpeg):
    path, srgb = prophoto_jpeg
    _entry, assets = process(path)
    thumb = rendition(storage, assets, AssetKind.thumb_jpeg)
    assert thumb.size == (400, 250)
    assert mean_difference(thumb, reference(srgb, thumb.size)) < SAME_PICTURE


# --- hostile files ------------------------------------------------------------------------------
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'
HTML = b"<!DOCTYPE html>\n<html><body><img src=x onerror=alert(1)></body></html>\n"


@pytest.mark.parametrize("content", [SVG, HTML], ids=["svg", "html"])
def test_markup_named_jpg_is_not_recognised(content, tmp_path, photo_category, app):
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(content + b"<!-- padding -->\n" * 1000)
    with pytest.raises(MediaRejected) as refused:
        check_photo(path, photo_category, max_pixels=120_000_000, quick=True)
    assert refused.value.code == "not_recognised"
    with app.test_request_context(headers=EN):
        assert refused.value.message == (
            "This file is not a photo we can read; this category accepts JPEG, PNG, HEIF."
        )


@pytest.mark.parametrize("content", [SVG, HTML], ids=["svg", "html"])
def test_markup_named_jpg_is_refused_through_the_form(
    content, db, contest, photo_category, client, entrant, storage
):
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"], session["lang"] = (
            login_id(client.application, entrant),
            True,
            "en",
        )
    data = {
        "category": str(photo_category.id),
        "title": "Hoàng hôn",
        "place": str(contest.places[0].id),
        "taken_on": "2024-05-01",
        "accept_own_work": "y",
        "accept_promo_use": "y",
        "accept_not_awarded": "y",
        "photo": (io.BytesIO(content), "IMG_0001.jpg"),
    }
    response = client.post("/entries/new", data=data, content_type="multipart/form-data", headers=EN)
    assert response.status_code == 400
    assert "This file is not a photo we can read" in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(select(Entry)).all() == []
    assert list(storage.keys()) == []


def png_bomb(path: Path, side: int = 30_000) -> Path:
    """A real 1-bit PNG of side x side pixels, all black: ~110 kB that decode to side² bytes."""
    row = b"\0" * (1 + (side + 7) // 8)  # filter byte + packed pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def jpeg_bomb(path: Path, side: int = 30_000) -> Path:
    """A JPEG header declaring side x side pixels and no image data at all (150 bytes)."""
    sof = struct.pack(">BHHB", 8, side, side, 3) + bytes([1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0])
    sos = bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])
    segments = (
        b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xda" + struct.pack(">H", len(sos) + 2)
    )
    path.write_bytes(b"\xff\xd8" + segments + sos + b"\0" * 64 + b"\xff\xd9")
    return path


@pytest.mark.parametrize("make", [png_bomb, jpeg_bomb], ids=["png", "jpeg"])
def test_decompression_bomb_is_refused_from_its_header(make, tmp_path, photo_category):
    bomb = make(tmp_path / "bomb.bin")
    assert bomb.stat().st_size < 200_000
    for check in (
        lambda: check_photo(bomb, photo_category, max_pixels=120_000_000, quick=True),
        lambda: check_photo_header(bomb, photo_category, max_pixels=120_000_000),
    ):
        with pytest.raises(MediaRejected) as refused:
            check()
        # The real numbers: our header check answered, not Pillow's guard (which knows no size)
        # and not a decoder (the JPEG has no data: decoding it would fail as damaged_file).
        assert (refused.value.code, refused.value.params) == (
            "too_many_pixels",
            {"megapixels": 900.0, "max": 120},
        )


def test_decompression_bomb_costs_no_memory(tmp_path):
    """In a fresh process, refusing the PNG bomb (900 MB once decoded) keeps the process small."""
    bomb = png_bomb(tmp_path / "bomb.png")
    script = (
        "import json, resource, sys\n"
        "from contest.contests.models import Category, CategoryKind\n"
        "from contest.entries.failures import MediaRejected\n"
        "from contest.entries.validation import check_photo_header\n"
        "category = Category(kind=CategoryKind.photo, allowed_formats=['png'])\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    check_photo_header(sys.argv[1], category, max_pixels=120_000_000)\n"
        "except MediaRejected as exc:\n"
        "    code = exc.code\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'code': code, 'growth_kb': after - before}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bomb)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == "too_many_pixels"
    assert result["growth_kb"] < 20_000  # a decode would have taken 900,000 kB


def test_decompression_bomb_fails_the_job_without_renditions(process, storage, tmp_path):
    entry, assets = process(png_bomb(tmp_path / "bomb.png"))
    assert (entry.status, entry.failure_code) == (EntryStatus.failed, "too_many_pixels")
    assert entry.failure_params == {"megapixels": 900.0, "max": 120}
    assert set(assets) == {AssetKind.original}
    assert list(storage.keys("public/")) == []


def test_a_real_jpeg_still_passes_the_header_check(photo_category):
    info = check_photo_header(wallpaper("Volna"), photo_category, max_pixels=120_000_000)
    assert (info.format, info.width, info.height) == ("jpeg", 5120, 2880)
