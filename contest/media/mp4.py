"""The box structure of an MP4/MOV file, read without parsing any media data.

A file is a sequence of boxes, each starting with its size and four-letter type (ISO
14496-12). A file cut short (an interrupted copy or upload) ends inside its last box,
usually the media data ("mdat") whose size the header declares: the request sees that at
once, without ffprobe reading a single sample. The worker also blanks the encoder's name
in the renditions it writes (clear_encoder_name).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass

_SAMPLE_DESCRIPTIONS = (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd")
_VIDEO_SAMPLE_ENTRIES = frozenset({b"avc1", b"avc3", b"hvc1", b"hev1"})
# A visual sample entry's compressor name: its length byte and 31 characters, 50 bytes in.
_NAME_AT, _NAME_BYTES = 50, 32


@dataclass(frozen=True)
class Box:
    type: bytes
    start: int  # offset of the box's first byte
    body: int  # offset of its content, after the header
    end: int  # offset just past the box (as declared: may lie past the end of the file)


def boxes(data, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid one after another in ``data[start:end]``; stops at a header that cannot be read."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, header = int.from_bytes(data[pos : pos + 4], "big"), 8
        if size == 1:  # a 64-bit size follows the type
            if pos + 16 > end:
                return
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:  # the box runs to the end of the file
            size = end - pos
        if size < header:
            return
        yield Box(bytes(data[pos + 4 : pos + 8]), pos, pos + header, pos + size)
        pos += size


def find_boxes(data, path: tuple[bytes, ...], start: int = 0, end: int | None = None) -> Iterator[Box]:
    """Every box reached by the types of ``path``, one level each (e.g. moov, trak, mdia)."""
    for box in boxes(data, start, end):
        if box.type == path[0]:
            if len(path) == 1:
                yield box
            else:
                yield from find_boxes(data, path[1:], box.body, min(box.end, len(data)))


def is_complete(path: str | os.PathLike) -> bool:
    """False when the file ends inside one of its top-level boxes: it was cut short."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size < 8:
            return False
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return all(box.end <= len(data) for box in boxes(data))


def clear_encoder_name(path: str | os.PathLike) -> None:
    """Blank the encoder's name ("Lavc libx264") that the MP4 muxer writes into each video sample entry.

    ffmpeg always names the encoder there (its -fflags/-flags +bitexact only shorten the
    name), and players show it as the stream's "encoder" tag; the file's size is unchanged.
    """
    with open(path, "r+b") as f, mmap.mmap(f.fileno(), 0) as data:
        for stsd in find_boxes(data, _SAMPLE_DESCRIPTIONS):
            for entry in boxes(data, stsd.body + 8, stsd.end):  # after version, flags and count
                name = entry.start + _NAME_AT
                if entry.type in _VIDEO_SAMPLE_ENTRIES and entry.end <= len(data):
                    data[name : name + _NAME_BYTES] = bytes(_NAME_BYTES)
