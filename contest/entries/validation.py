"""Checks of an uploaded photo against its category's rules.

The header is read first, with the one Pillow plugin of the format the content shows and
only if the category accepts that format: size in bytes, format, pixel count (before
anything is decoded: a decompression bomb is refused here) and long edge. The request adds
a structural check that a JPEG is complete (a few milliseconds); the worker decodes each
photo once, at reduced scale, and that decode is its integrity check (worker.photo).
The format is read from the content, never from the file name.
"""

from __future__ import annotations

import functools
import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask_babel import ngettext
from PIL import Image

from contest.contests.models import Category
from contest.entries.failures import MediaRejected

# Our format names -> Pillow's plugin names and the MIME type we store.
PHOTO_FORMATS = {
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "heif": ("HEIF", "image/heif"),
}
# Errors Pillow's plugins raise on a header or data they cannot read.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError)


@dataclass(frozen=True)
class PhotoInfo:
    format: str
    mime_type: str
    width: int
    height: int
    bytes: int


def sniff_format(path: str | os.PathLike) -> str | None:
    """What the first bytes say the file is ("jpeg", "png", "mp4", "text", ...) or None."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc", b"hevx"):
            return "heif"
        if brand == b"qt  ":
            return "mov"
        return "mp4"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<svg", b"<?xml", b"<!doctype", b"<html")):
        return "markup"
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "text"
    return None


def check_size(num_bytes: int, category: Category) -> None:
    if num_bytes == 0:
        raise MediaRejected("empty_file")
    if category.min_bytes and num_bytes < category.min_bytes:
        raise MediaRejected("too_small_bytes", size=num_bytes, min=category.min_bytes)
    if category.max_bytes and num_bytes > category.max_bytes:
        raise MediaRejected("too_large_bytes", size=num_bytes, max=category.max_bytes)


def check_photo(
    path: str | os.PathLike, category: Category, *, max_pixels: int, quick: bool = False
) -> PhotoInfo:
    """Raise MediaRejected unless the file at ``path`` is an acceptable photo.

    ``quick`` (the request): the header, and for JPEG that the file is complete. Otherwise
    every pixel is decoded as well; the worker does not need this, its one decode at
    reduced scale is the check (worker.photo.render_photo).
    """
    info = check_photo_header(path, category, max_pixels=max_pixels)
    if quick:
        if info.format == "jpeg" and not jpeg_is_complete(Path(path)):
            raise MediaRejected("damaged_file")
    else:
        with open_photo(path, info.format) as image:
            decode(image)
    return info


def check_photo_header(path: str | os.PathLike, category: Category, *, max_pixels: int) -> PhotoInfo:
    """Bytes, format, pixel count and long edge, read from the header: nothing is decoded."""
    path = Path(path)
    num_bytes = path.stat().st_size
    check_size(num_bytes, category)
    allowed = [f for f in category.allowed_formats if f in PHOTO_FORMATS]
    found = sniff_format(path)
    if found not in allowed:
        if found in (None, "text", "markup"):
            raise MediaRejected("not_recognised", allowed=allowed)
        raise MediaRejected("unsupported_format", found=found, allowed=allowed)
    with open_photo(path, found) as image:
        width, height = image.size
    if width * height > max_pixels:
        raise MediaRejected(
            "too_many_pixels", megapixels=round(width * height / 1e6, 1), max=round(max_pixels / 1e6)
        )
    if category.min_long_edge_px and max(width, height) < category.min_long_edge_px:
        raise MediaRejected("too_small_pixels", width=width, height=height, min=category.min_long_edge_px)
    return PhotoInfo(found, PHOTO_FORMATS[found][1], width, height, num_bytes)


@contextmanager
def open_photo(path: str | os.PathLike, found: str) -> Iterator[Image.Image]:
    """The photo at ``path`` opened by the plugin of ``found`` only: its header read, nothing decoded.

    The plugin is called directly rather than through Image.open, whose decompression-bomb
    guard would refuse a huge image before its size is known: check_photo_header refuses
    it with the real numbers instead, before any pixel is decoded. Pillow's guard stays on
    for every other Image.open in the process.
    """
    plugin = PHOTO_FORMATS[found][0]
    if plugin == "HEIF":
        _register_heif()
    Image.init()
    factory, _accept = Image.OPEN[plugin]
    try:
        image = factory(os.fspath(path))
    except DECODE_ERRORS as exc:
        raise MediaRejected("damaged_file") from exc
    try:
        yield image
    finally:
        image.close()


@functools.cache
def _register_heif() -> None:
    """Teach Pillow HEIF/HEIC (iPhones), once per process, on the first HEIF photo."""
    from pillow_heif import register_heif_opener

    # The HEIF plugin would also decode the embedded thumbnails and depth maps: we never use them.
    register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def decode(image: Image.Image) -> None:
    """Decode every pixel (at the scale set by draft()): a truncated or corrupt file fails here."""
    try:
        image.load()
    except DECODE_ERRORS as exc:
        raise MediaRejected("damaged_file") from exc


def jpeg_is_complete(path: Path) -> bool:
    """True when an end-of-image marker follows the first scan (a cut-off upload has none).

    Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so
    FF D9 after the first start-of-scan can only be the end of the image (or a trailer a
    phone appended after it). Segments before the scan are skipped by their lengths.
    """
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        pos, size = 2, len(data)
        while pos + 4 <= size:
            if data[pos] != 0xFF:
                return False
            marker = data[pos + 1]
            if marker == 0xFF:  # fill byte
                pos += 1
                continue
            if marker == 0xDA:  # start of scan
                return data.find(b"\xff\xd9", pos) != -1
            if 0xD0 <= marker <= 0xD8 or marker == 0x01:
                pos += 2
                continue
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return False


def series_count_problem(count: int, category: Category) -> str | None:
    """Why a photo series of ``count`` photos is refused by ``category``, or None."""
    low, high = category.min_items, category.max_items
    if (low is None or count >= low) and (high is None or count <= high):
        return None
    if low is not None and high is not None:
        return ngettext(
            "A series in this category holds %(min)s to %(max)s photos; you chose %(num)s photo.",
            "A series in this category holds %(min)s to %(max)s photos; you chose %(num)s photos.",
            count,
            min=low,
            max=high,
        )
    if low is not None:
        return ngettext(
            "A series in this category holds at least %(min)s photos; you chose %(num)s photo.",
            "A series in this category holds at least %(min)s photos; you chose %(num)s photos.",
            count,
            min=low,
        )
    return ngettext(
        "A series in this category holds at most %(max)s photos; you chose %(num)s photo.",
        "A series in this category holds at most %(max)s photos; you chose %(num)s photos.",
        count,
        max=high,
    )
