"""Checks of an uploaded photo against its category's rules.

The header is read first, with the one Pillow plugin of the format the content shows and
only if the category accepts that format: size in bytes, format, pixel count (before
anything is decoded: a decompression bomb is refused here) and long edge. The request adds
a structural check that a JPEG is complete (a few milliseconds); the worker decodes each
photo once, at reduced scale, and that decode is its integrity check (worker.photo).
The format is read from the content, never from the file name.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app
from flask_babel import ngettext

from contest.contests.models import Category
from contest.entries.failures import MediaRejected
from contest.media.header_child import read_header_in_child
from contest.media.jpeg import is_complete as jpeg_is_complete
from contest.media.limits import ChildLimits
from contest.media.photo_files import (
    PHOTO_FORMATS,
    PhotoInfo,
    PhotoRules,
    check_size,
    decode,
    open_photo,
    read_photo_header,
    sniff_format,
)

# The pure file checks live in contest.media.photo_files (the worker's decode child
# imports them without Flask); their names stay importable from here.
__all__ = [
    "PHOTO_FORMATS",
    "PhotoInfo",
    "check_photo",
    "check_photo_header",
    "check_size",
    "decode",
    "jpeg_is_complete",
    "open_photo",
    "series_count_problem",
    "sniff_format",
]


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
    """Bytes, format, pixel count and long edge, read from the header: nothing is decoded.

    A HEIF header is read by libheif in a child under the configured limits (contest.media.header_child).
    """
    rules = PhotoRules.of(category)
    if sniff_format(path) == "heif":
        limits = ChildLimits.of(current_app.config)
        return read_header_in_child(path, rules, max_pixels=max_pixels, limits=limits)
    return read_photo_header(path, rules, max_pixels=max_pixels)


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
