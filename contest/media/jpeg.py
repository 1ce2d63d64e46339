"""Whether a JPEG's image data is all there: its markers, its scans, and a decode that runs out.

libjpeg does not fail on a JPEG whose data ends early: it warns ("Premature end of JPEG
file"), fills the rest with grey, and Pillow never shows the warning. Two checks see it:

- ``is_complete`` (the request, a few milliseconds: markers only): an end-of-image marker
  follows the scans, and the scans bring every coefficient of every component to full
  precision (a progressive JPEG cut short loses its last scans);
- ``runs_out_of_data`` (the worker's decode child): a baseline JPEG decoded twice at 1/8
  scale, as it is and with filler bytes put before its end marker. A complete image never
  reads them; one whose data ends early decodes them in place of the grey fill.

A progressive JPEG cut inside its last scan (the finest refinement of brightness, no grey)
passes both. Pure file work, importable without Flask.
"""

from __future__ import annotations

import io
import mmap
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import JpegImagePlugin

_SOF_SEQUENTIAL = frozenset({0xC0, 0xC1})
_SOF_PROGRESSIVE = 0xC2
_SOS, _EOI = 0xDA, 0xD9
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# The first marker after entropy-coded data: 0xFF not followed by a stuffed 0x00, a restart
# marker or another fill byte.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_FILLER = b"\x55" * 64  # bits that decode to something: a reader that runs out uses them


@dataclass
class Layout:
    """What the markers say: frame kind, components, scans, and where the image ends."""

    progressive: bool = False
    components: list[int] = field(default_factory=list)
    scans: list[tuple[list[int], int, int, int]] = field(default_factory=list)  # ids, Ss, Se, Al
    end: int | None = None  # offset of the end-of-image marker


def is_complete(path: str | os.PathLike) -> bool:
    """True when an end marker follows the scans and the scans cover every coefficient."""
    with _mapped(path) as data:
        try:
            layout = read_layout(data)
        except IndexError:  # a segment shorter than it says: not a complete JPEG either
            return False
    return layout.end is not None and _covered(layout)


def runs_out_of_data(path: str | os.PathLike) -> bool:
    """True when a baseline JPEG's decoder runs out of data before the image ends (see above)."""
    data = Path(path).read_bytes()
    layout = read_layout(data)
    if layout.progressive or layout.end is None:
        return False
    padded = data[: layout.end] + _FILLER + data[layout.end :]
    return _decoded_small(data) != _decoded_small(padded)


def read_layout(data) -> Layout:
    """The frame, scans and end of the JPEG in ``data`` (IndexError on a segment cut short)."""
    layout = Layout()
    for marker, body, end in _segments(data):
        if marker == _EOI:
            layout.end = body - 2
            break
        if marker in _SOF_SEQUENTIAL or marker == _SOF_PROGRESSIVE:
            layout.progressive = marker == _SOF_PROGRESSIVE
            count = data[body + 5]
            layout.components = [data[body + 6 + 3 * i] for i in range(count)]
        elif marker == _SOS:
            count = data[body]
            ids = [data[body + 1 + 2 * i] for i in range(count)]
            start, stop, approx = data[end - 3], data[end - 2], data[end - 1]
            layout.scans.append((ids, start, stop, approx & 0x0F))
    return layout


def _segments(data) -> Iterator[tuple[int, int, int]]:
    """(marker, body offset, body end) of each marker segment, entropy-coded data skipped."""
    pos, size = 2, len(data)
    while pos + 2 <= size and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
        elif marker in _STANDALONE or marker == _EOI:
            yield marker, pos + 2, pos + 2
            pos += 2
        elif pos + 4 <= size:
            length = int.from_bytes(data[pos + 2 : pos + 4], "big")
            if length < 2 or pos + 2 + length > size:
                return
            yield marker, pos + 4, pos + 2 + length
            pos += 2 + length
            if marker == _SOS:  # entropy-coded data follows, up to the next marker
                found = _NEXT_MARKER.search(data, pos)
                if found is None:
                    return
                pos = found.start()
        else:
            return


def _covered(layout: Layout) -> bool:
    """Every coefficient (0..63) of every component reached by a scan at full precision (Al 0)."""
    exact = {component: set() for component in layout.components}
    for ids, start, stop, approx in layout.scans:
        if layout.progressive and approx:
            continue
        band = range(start, stop + 1) if layout.progressive else range(64)
        for component in ids:
            exact.setdefault(component, set()).update(band)
    return bool(exact) and all(len(coefficients) == 64 for coefficients in exact.values())


def _decoded_small(data: bytes) -> bytes:
    with JpegImagePlugin.JpegImageFile(io.BytesIO(data)) as image:
        image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
        image.load()
        return image.tobytes()


def _mapped(path: str | os.PathLike):
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
