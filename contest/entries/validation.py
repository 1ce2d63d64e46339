"""Checks of an uploaded photo against its category's rules.

The same code runs in the request (``quick=True``: the header, and for JPEG a structural
check that the file is complete, a few milliseconds) and in the worker (a full decode). The format is read from the
content, never from the file name, and Pillow is only allowed the formats the category
accepts. The pixel count is checked before anything is decoded.
"""

from __future__ import annotations

import mmap
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from contest.contests.models import Category
from contest.entries.failures import MediaRejected

# Our format names -> Pillow's plugin names and the MIME type we store.
PHOTO_FORMATS = {
    "jpeg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
    "webp": ("WEBP", "image/webp"),
    "heif": ("HEIF", "image/heif"),
}


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
    """Raise MediaRejected unless the file at ``path`` is an acceptable photo."""
    path = Path(path)
    num_bytes = path.stat().st_size
    check_size(num_bytes, category)
    allowed = [f for f in category.allowed_formats if f in PHOTO_FORMATS]
    found = sniff_format(path)
    if found not in allowed:
        if found in (None, "text", "markup"):
            raise MediaRejected("not_recognised", allowed=allowed)
        raise MediaRejected("unsupported_format", found=found, allowed=allowed)
    if found == "heif":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    plugin, mime_type = PHOTO_FORMATS[found]
    with _opened(path, plugin, allowed) as image:
        width, height = image.size
        if width * height > max_pixels:
            raise MediaRejected(
                "too_many_pixels", megapixels=round(width * height / 1e6, 1), max=round(max_pixels / 1e6)
            )
        if category.min_long_edge_px and max(width, height) < category.min_long_edge_px:
            raise MediaRejected("too_small_pixels", width=width, height=height, min=category.min_long_edge_px)
        if quick:
            if found == "jpeg" and not jpeg_is_complete(path):
                raise MediaRejected("damaged_file")
        else:
            _decode(image)
    return PhotoInfo(found, mime_type, width, height, num_bytes)


class _opened:
    """Image.open limited to one plugin, with Pillow's own bomb check as a backstop."""

    def __init__(self, path: Path, plugin: str, allowed: list[str]) -> None:
        self.path, self.plugin, self.allowed = path, plugin, allowed

    def __enter__(self) -> Image.Image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                self.image = Image.open(self.path, formats=[self.plugin])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise MediaRejected("too_many_pixels", megapixels="?", max="?") from exc
        except UnidentifiedImageError as exc:
            raise MediaRejected("not_recognised", allowed=self.allowed) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise MediaRejected("damaged_file") from exc
        return self.image

    def __exit__(self, *exc) -> None:
        self.image.close()


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


def _decode(image: Image.Image) -> None:
    """Decode every pixel: truncated or corrupt data fails here, not in the renditions."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaRejected("damaged_file") from exc
