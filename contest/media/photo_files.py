"""What a photo file is, read from its content: format, header checks, one decode.

Pure file work, importable without Flask or SQLAlchemy: the web request
(contest.entries.validation) and the worker's photo decode child (worker.render_child)
share it. A category's rules reach it as plain data (PhotoRules).
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from contest.media import jpeg
from contest.media.rejection import MediaRejected

if TYPE_CHECKING:
    from contest.contests.models import Category

# Our format names -> Pillow's plugin names and the MIME type we store.
PHOTO_FORMATS = {
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "heif": ("HEIF", "image/heif"),
}
# The module of each plugin Pillow ships (HEIF comes from pillow_heif): importing just the
# one a photo needs spares the decode child Image.init(), which imports every plugin.
_PLUGIN_MODULES = {"JPEG": "PIL.JpegImagePlugin", "PNG": "PIL.PngImagePlugin", "WEBP": "PIL.WebPImagePlugin"}
# Errors Pillow's plugins raise on a header or data they cannot read.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError)


@dataclass(frozen=True)
class PhotoInfo:
    format: str
    mime_type: str
    width: int
    height: int
    bytes: int


@dataclass(frozen=True)
class PhotoRules:
    """What a category asks of each photo file, as plain data."""

    allowed_formats: tuple[str, ...]
    min_bytes: int | None = None
    max_bytes: int | None = None
    min_long_edge_px: int | None = None

    @classmethod
    def of(cls, category: Category) -> PhotoRules:
        return cls(
            allowed_formats=tuple(category.allowed_formats),
            min_bytes=category.min_bytes,
            max_bytes=category.max_bytes,
            min_long_edge_px=category.min_long_edge_px,
        )


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


def check_size(num_bytes: int, rules: Category | PhotoRules) -> None:
    if num_bytes == 0:
        raise MediaRejected("empty_file")
    if rules.min_bytes and num_bytes < rules.min_bytes:
        raise MediaRejected("too_small_bytes", size=num_bytes, min=rules.min_bytes)
    if rules.max_bytes and num_bytes > rules.max_bytes:
        raise MediaRejected("too_large_bytes", size=num_bytes, max=rules.max_bytes)


def read_photo_header(path: str | os.PathLike, rules: PhotoRules, *, max_pixels: int) -> PhotoInfo:
    """Format, pixel count, long edge and bytes, read from the header: nothing is decoded.

    The real problem is named first: not a photo, then the format, then pixels, then bytes
    (a text file named .jpg is "not a photo", never "too small").
    """
    path = Path(path)
    num_bytes = path.stat().st_size
    if num_bytes == 0:
        raise MediaRejected("empty_file")
    allowed = [f for f in rules.allowed_formats if f in PHOTO_FORMATS]
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
    if rules.min_long_edge_px and max(width, height) < rules.min_long_edge_px:
        raise MediaRejected("too_small_pixels", width=width, height=height, min=rules.min_long_edge_px)
    check_size(num_bytes, rules)
    return PhotoInfo(found, PHOTO_FORMATS[found][1], width, height, num_bytes)


@contextmanager
def open_photo(path: str | os.PathLike, found: str) -> Iterator[Image.Image]:
    """The photo at ``path`` opened by the plugin of ``found`` only: its header read, nothing decoded.

    The plugin is called directly rather than through Image.open, whose decompression-bomb
    guard would refuse a huge image before its size is known: read_photo_header refuses
    it with the real numbers instead, before any pixel is decoded. Pillow's guard stays on
    for every other Image.open in the process.
    """
    plugin = PHOTO_FORMATS[found][0]
    if plugin == "HEIF":
        _register_heif()
    else:
        importlib.import_module(_PLUGIN_MODULES[plugin])  # registers the plugin in Image.OPEN
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


def check_jpeg_data(path: str | os.PathLike) -> None:
    """MediaRejected("damaged_file") when a JPEG's image data ends early (contest.media.jpeg).

    It decodes the photo twice at 1/8 scale: the worker's decode child runs it.
    """
    try:
        damaged = not jpeg.is_complete(path) or jpeg.runs_out_of_data(path)
    except DECODE_ERRORS as exc:
        raise MediaRejected("damaged_file") from exc
    if damaged:
        raise MediaRejected("damaged_file")
