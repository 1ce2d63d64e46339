"""Fingerprints of an original photo: a perceptual hash and the EXIF hints for the organizers.

Pure image work, no database and no storage. The hash is a difference hash (dHash): the
photo, turned upright and grey, is reduced to 9x8 pixels and each bit says whether a pixel
is brighter than its right-hand neighbour. Resizing, recompressing or a slight crop of the
same photo moves few of the 64 bits; a different photo moves about half of them. The JPEG
decoder does most of the reduction (draft mode decodes at 1/8 scale), so the cost is a
fraction of the renditions'.

The EXIF hints never include the GPS coordinates: only whether they were present, and
whether they lie in Nghệ An (gps_check).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageOps

from contest.geo.positions import photo_position
from contest.geo.province import GpsCheck, check_position

HASH_WIDTH, HASH_HEIGHT = 9, 8  # 8 comparisons on each of 8 rows: 64 bits
# Ask the decoder for this much: JPEG then decodes at its smallest scale (1/8) for any
# photo larger than 8 times this box, and the final reduction averages enough pixels.
_DRAFT_BOX = (HASH_WIDTH * 16, HASH_HEIGHT * 16)

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _SOFTWARE, _DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9004, 0x9011
_TEXT_LIMIT = 100  # EXIF strings are the uploader's text: kept short


@dataclass(frozen=True)
class Fingerprint:
    phash: str  # 64-bit difference hash, 16 hex characters
    exif: dict = field(default_factory=dict)  # JSON-safe, see exif_hints()


def fingerprint_photo(path: Path | str) -> Fingerprint:
    """Perceptual hash and EXIF hints of the photo at ``path`` (any format Pillow opens)."""
    with Image.open(path) as image:
        exif = exif_hints(image.getexif())
        image.draft("L", _DRAFT_BOX)
        upright = ImageOps.exif_transpose(image)
        return Fingerprint(phash=difference_hash(upright), exif=exif)


def difference_hash(image: Image.Image) -> str:
    grey = _grey(image).resize((HASH_WIDTH, HASH_HEIGHT), Image.Resampling.BOX)
    pixels = grey.tobytes()  # one byte per pixel, row by row
    bits = 0
    for row in range(HASH_HEIGHT):
        line = pixels[row * HASH_WIDTH : (row + 1) * HASH_WIDTH]
        for left, right in pairwise(line):
            bits = (bits << 1) | (left > right)
    return f"{bits:016x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hex hashes."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def exif_hints(exif: Image.Exif) -> dict:
    """Date taken (ISO, camera's local time with its offset if recorded), camera, software, GPS."""
    details = exif.get_ifd(_EXIF_IFD)
    taken = details.get(_DATETIME_ORIGINAL) or details.get(_DATETIME_DIGITIZED) or exif.get(_DATETIME)
    return {
        "date_taken": _iso_datetime(taken, details.get(_OFFSET_TIME_ORIGINAL)),
        "camera_make": _text(exif.get(_MAKE)),
        "camera_model": _text(exif.get(_MODEL)),
        "software": _text(exif.get(_SOFTWARE)),
        "gps_present": bool(exif.get_ifd(_GPS_IFD)),
    }


def gps_check(exif: Image.Exif) -> GpsCheck:
    """Whether the photo's EXIF GPS position lies in Nghệ An (absent when it has none)."""
    return check_position(*(photo_position(exif) or (None, None)))


def _grey(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16L", "I;16B", "I"):
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        image = canvas
    return image if image.mode == "L" else image.convert("L")


def _iso_datetime(value: object, offset: object) -> str | None:
    """EXIF 'YYYY:MM:DD HH:MM:SS' as ISO 8601; None when absent or malformed."""
    text = _text(value)
    if not text:
        return None
    try:
        taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset_text = _text(offset)
    if offset_text:
        try:
            return datetime.fromisoformat(f"{taken.isoformat()}{offset_text}").isoformat()
        except ValueError:
            pass
    return taken.isoformat()


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:_TEXT_LIMIT] or None
