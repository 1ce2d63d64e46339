"""The jury's copy of an original photo: the same picture, without metadata that can name its author.

Issue 15 (blind judging): what a judge zooms into or downloads must not carry the author's
name, e-mail or country. An uploaded file's EXIF (Artist, Copyright, XPAuthor, serial
numbers, GPS), XMP (dc:creator), IPTC (By-line), JPEG comments, PNG text chunks and the
like can; the jury copy drops them all. Pure file work (no database, no storage, no Flask:
the photo decode child runs it, see worker.render_child).

- JPEG: lossless. The marker segments are rewritten and the compressed data copied byte for
  byte (nothing is decoded): APP0 JFIF, APP2 ICC_PROFILE and APP14 Adobe are kept (they
  change how the pixels decode), every other APPn (EXIF, XMP, IPTC, MPF and its appended
  preview images), COM and anything after the end-of-image marker go. The EXIF orientation
  is written back alone when it is not 1, or a portrait photo would turn sideways.
- PNG: the ancillary chunks that only describe the picture's look are kept (iCCP, sRGB,
  gAMA, cHRM, pHYs, tRNS ...); text, eXIf, tIME and unknown ones go.
- WebP: the EXIF and XMP chunks go and the VP8X flags are fixed accordingly.
- HEIF/HEIC: re-encoded (LOSSY) as a full-resolution JPEG, quality 95, ICC profile kept,
  turned upright: browsers show no HEIC, and its boxes hold EXIF and XMP in many places.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image

from contest.entries.kinds import AssetKind
from contest.media.photo_files import decode, open_photo
from contest.media.rejection import MediaRejected
from worker.renditions import Rendition, file_sha256

ORIENTATION = 0x0112
HEIF_JPEG_QUALITY = 95
# The jury copy's file name in storage and its type, by the original's format.
_OUTPUT = {
    "jpeg": ("original.jpg", "image/jpeg"),
    "png": ("original.png", "image/png"),
    "webp": ("original.webp", "image/webp"),
    "heif": ("original.jpg", "image/jpeg"),
}
_SOI, _EOI, _SOS, _COM, _APP0, _APP1, _APP2, _APP14 = 0xD8, 0xD9, 0xDA, 0xFE, 0xE0, 0xE1, 0xE2, 0xEE
# Markers without a length field (besides SOI/EOI): RST0..RST7 and TEM.
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Ancillary PNG chunks that only say how to show the pixels (and APNG's frames); any other goes.
_PNG_KEPT = frozenset(
    {b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"cICP", b"mDCv", b"cLLi", b"sBIT", b"pHYs", b"tRNS", b"bKGD"}
    | {b"hIST", b"acTL", b"fcTL", b"fdAT"}
)
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


class NotStrippable(MediaRejected):
    """The file's structure cannot be walked: treated as a damaged file."""

    def __init__(self) -> None:
        super().__init__("damaged_file")


def make_jury_copy(
    source: Path, out_dir: Path, found: str, *, position: int, width: int, height: int
) -> Rendition:
    """Write the jury copy of the photo ``source`` (format ``found``) into ``out_dir``."""
    name, mime_type = _OUTPUT[found]
    target = out_dir / name
    out_dir.mkdir(parents=True, exist_ok=True)
    if found == "heif":
        width, height = heif_to_jpeg(source, target)
    else:
        strip = {"jpeg": strip_jpeg, "png": strip_png, "webp": strip_webp}[found]
        target.write_bytes(strip(source.read_bytes()))
    return Rendition(
        kind=AssetKind.jury_original,
        path=target,
        mime_type=mime_type,
        width=width,
        height=height,
        bytes=target.stat().st_size,
        sha256=file_sha256(target),
        position=position,
    )


# --- JPEG -------------------------------------------------------------------------------
def strip_jpeg(data: bytes) -> bytes:
    """The JPEG ``data`` without metadata segments; its compressed data unchanged (see above)."""
    if data[:2] != b"\xff\xd8":
        raise NotStrippable()
    kept, orientation, pos = [b"\xff\xd8"], 1, 2
    while True:
        marker, start, pos = _next_segment(data, pos)
        if marker == _EOI:
            kept.append(b"\xff\xd9")
            break
        segment = data[start:pos]
        if marker == _APP1 and orientation == 1 and segment[4:10] == b"Exif\x00\x00":
            orientation = _orientation(segment[4:])
        if _keeps(marker, segment[4:]):
            kept.append(segment)
        if marker == _SOS:
            scan, pos = pos, _scan_end(data, pos)
            kept.append(data[scan:pos])
            if pos == len(data):  # no end-of-image marker (decoders tolerate that): added
                kept.append(b"\xff\xd9")
                break
    if orientation != 1:
        kept.insert(_after_jfif(kept), _app1(_minimal_exif(orientation)))
    return b"".join(kept)


def _next_segment(data: bytes, pos: int) -> tuple[int, int, int]:
    """(marker, where its segment starts, where it ends) of the marker at ``pos``."""
    start = pos
    if data[pos : pos + 1] != b"\xff":
        raise NotStrippable()
    while data[pos : pos + 1] == b"\xff":  # fill bytes
        pos += 1
    if pos >= len(data):
        raise NotStrippable()
    marker = data[pos]
    pos += 1
    if marker in _STANDALONE or marker == _EOI:
        return marker, start, pos
    if pos + 2 > len(data):
        raise NotStrippable()
    (length,) = struct.unpack(">H", data[pos : pos + 2])
    if length < 2 or pos + length > len(data):
        raise NotStrippable()
    return marker, start, pos + length


def _scan_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data that starts at ``pos`` ends: at the next real marker.

    In that data 0xFF is followed by 0x00 (a stuffed byte), RSTn or a fill byte; anything else
    is a marker. bytes.find is ten times faster than a regular expression here (2 ms for 5 MB).
    """
    end = len(data)
    while (found := data.find(b"\xff", pos)) >= 0 and found + 1 < end:
        following = data[found + 1]
        if following != 0xFF and following != 0x00 and following not in _STANDALONE:
            return found
        pos = found + 1
    return end


def _keeps(marker: int, payload: bytes) -> bool:
    """Whether a segment stays: not an APPn or COM, or one of those that change the decode."""
    if marker == _COM:
        return False
    if marker == _APP0:
        return payload.startswith(b"JFIF\x00")
    if marker == _APP2:
        return payload.startswith(b"ICC_PROFILE\x00")
    if marker == _APP14:
        return payload.startswith(b"Adobe")
    return not 0xE0 <= marker <= 0xEF


def _after_jfif(kept: list[bytes]) -> int:
    """Where the new EXIF segment goes: after SOI and the JFIF segment, if there is one."""
    return 2 if len(kept) > 1 and kept[1][:2] == b"\xff\xe0" else 1


def _app1(exif: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif


def _orientation(exif: bytes) -> int:
    """The Orientation tag of an EXIF block (``Exif\\0\\0`` + TIFF), 1 when absent or unreadable."""
    parsed = Image.Exif()
    try:
        parsed.load(exif)
        value = int(parsed.get(ORIENTATION, 1))
    except Exception:  # a broken EXIF block only loses its orientation
        return 1
    return value if 1 <= value <= 8 else 1


def _minimal_exif(orientation: int) -> bytes:
    """``Exif\\0\\0`` and a TIFF block holding the Orientation tag alone."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


# --- PNG --------------------------------------------------------------------------------
def strip_png(data: bytes) -> bytes:
    """The PNG ``data`` with only its critical chunks and the ancillary ones in _PNG_KEPT."""
    if not data.startswith(_PNG_SIGNATURE):
        raise NotStrippable()
    kept, pos, orientation, seen_data = [_PNG_SIGNATURE], len(_PNG_SIGNATURE), 1, False
    while True:
        if pos + 12 > len(data):
            raise NotStrippable()
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, end = data[pos + 4 : pos + 8], pos + 12 + length
        if end > len(data):
            raise NotStrippable()
        if kind == b"eXIf":
            orientation = _orientation(b"Exif\x00\x00" + data[pos + 8 : end - 4])
        elif kind == b"IDAT" and not seen_data:  # eXIf must come before the image data
            seen_data = True
            if orientation != 1:
                kept.append(_png_chunk(b"eXIf", _minimal_exif(orientation)[6:]))
        if kind[0:1].isupper() or kind in _PNG_KEPT:  # a critical chunk, or one that changes the look
            kept.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            return b"".join(kept)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


# --- WebP -------------------------------------------------------------------------------
def strip_webp(data: bytes) -> bytes:
    """The WebP ``data`` without its EXIF and XMP chunks (the orientation kept alone), VP8X flags fixed."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise NotStrippable()
    chunks, pos, orientation = [], 12, 1
    (riff_size,) = struct.unpack("<I", data[4:8])
    end_of_riff = min(len(data), 8 + riff_size)
    while pos + 8 <= end_of_riff:
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + size + (size & 1)
        if pos + 8 + size > end_of_riff:
            raise NotStrippable()
        if kind == b"EXIF":
            orientation = _orientation(_with_exif_header(data[pos + 8 : pos + 8 + size]))
        elif kind != b"XMP ":
            chunks.append(bytearray(data[pos:end]))
        pos = end
    if orientation != 1:
        exif = _minimal_exif(orientation)[6:]
        chunks.append(bytearray(b"EXIF" + struct.pack("<I", len(exif)) + exif + b"\x00" * (len(exif) & 1)))
    for chunk in chunks:
        if chunk[:4] == b"VP8X":
            chunk[8] = (chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP)) | (_VP8X_EXIF if orientation != 1 else 0)
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _with_exif_header(exif: bytes) -> bytes:
    return exif if exif.startswith(b"Exif\x00\x00") else b"Exif\x00\x00" + exif


# --- HEIF -------------------------------------------------------------------------------
def heif_to_jpeg(source: Path, target: Path) -> tuple[int, int]:
    """Decode the HEIF photo at full size and write it upright as a JPEG (lossy); its size."""
    from worker.photo import _UPRIGHT, to_working_mode  # the renditions' pixel rules

    with open_photo(source, "heif") as image:
        decode(image)
        orientation = image.getexif().get(ORIENTATION, 1)
        profile = image.info.get("icc_profile")
        pixels = to_working_mode(image)  # may be ``image`` itself: used before it is closed
        if orientation in _UPRIGHT:
            pixels = pixels.transpose(_UPRIGHT[orientation])
        if pixels.mode not in ("RGB", "L", "CMYK"):
            pixels = pixels.convert("RGB")
        pixels.info = {}
        options = {"icc_profile": profile} if profile else {}
        pixels.save(target, format="JPEG", quality=HEIF_JPEG_QUALITY, **options)
        return pixels.width, pixels.height
