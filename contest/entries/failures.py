"""Why an upload was refused or failed, as codes stored on the entry and read in any language."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from contest.media.rejection import FAILURE_CODES, MediaRejected
from contest.templating import filesize

__all__ = ["MESSAGES", "MediaRejected", "failure_message", "series_item_message"]

MESSAGES = {
    "empty_file": _l("The file is empty."),
    "too_small_bytes": _l("The file is %(size)s; this category needs files of at least %(min)s."),
    "too_large_bytes": _l("The file is %(size)s; this category accepts files of at most %(max)s."),
    "unsupported_format": _l("This file is in %(found)s format; this category accepts %(allowed)s."),
    "not_recognised": _l("This file is not a photo we can read; this category accepts %(allowed)s."),
    "damaged_file": _l("The file is damaged or incomplete. Please export it again and upload the new file."),
    "too_complex": _l(
        "The file is damaged, or too complex to read within our limits. "
        "Please export it again (for example at a lower resolution) and upload the new file."
    ),
    "too_small_pixels": _l(
        "The photo is %(width)s × %(height)s pixels; its long side must be at least %(min)s pixels."
    ),
    "too_many_pixels": _l("The photo has too many pixels (%(megapixels)s megapixels; at most %(max)s)."),
    "processing_error": _l(
        "We could not process this file. Please try again later or contact the organizers."
    ),
    # One photo of a series: %(reason)s is that photo's own message (series_item_message).
    "series_item": _l("Photo %(number)s (%(filename)s): %(reason)s"),
    # Video entries (contest.entries.video).
    "not_a_video": _l("This file is not a video we can read; this category accepts %(allowed)s."),
    "video_playlist": _l(
        "This file is a playlist or a list of other files, not a video. Please upload the video file itself."
    ),
    "no_video_stream": _l("The file holds no moving picture (no video track, or a still image only)."),
    "unsupported_codec": _l(
        "The video uses the %(codec)s codec, which we cannot accept. Please export it as H.264 or HEVC."
    ),
    "video_too_long": _l(
        "The video lasts %(duration)s seconds; this category accepts videos of at most %(max)s seconds."
    ),
    "video_too_small": _l(
        "The video is %(width)s × %(height)s pixels; its long side must be at least %(min)s pixels."
    ),
    "video_too_large": _l(
        "The video is %(width)s × %(height)s pixels; its long side may be at most %(max)s pixels."
    ),
}
if set(MESSAGES) != FAILURE_CODES:  # a code without a message, or a message without its code
    raise RuntimeError(f"failure codes and messages differ: {sorted(set(MESSAGES) ^ FAILURE_CODES)}")

# Parameters that hold a number of bytes or pixels, shown formatted for the reader.
_BYTES = {"size", "min", "max"}
_BYTE_CODES = {"too_small_bytes", "too_large_bytes"}


def failure_message(code: str | None, params: dict | None = None) -> str:
    if code == "series_item":
        return series_item_message(params or {})
    template = MESSAGES.get(code or "", MESSAGES["processing_error"])
    shown = {}
    for name, value in (params or {}).items():
        if code in _BYTE_CODES and name in _BYTES:
            shown[name] = filesize(value)
        elif isinstance(value, int | float):
            shown[name] = format_decimal(value)
        elif isinstance(value, list):
            shown[name] = ", ".join(str(v).upper() for v in value)
        else:
            shown[name] = str(value).upper() if name == "found" else value
    try:
        return str(template) % shown
    except (KeyError, TypeError, ValueError):
        return str(MESSAGES["processing_error"])


def series_item_message(params: dict) -> str:
    """The message "Photo 3 (IMG_0003.JPG): <why>" from position (0-based), filename, item_code, item_params."""
    try:
        number = int(params["position"]) + 1
    except (KeyError, TypeError, ValueError):
        return str(MESSAGES["processing_error"])
    reason = failure_message(params.get("item_code"), params.get("item_params"))
    shown = {"number": format_decimal(number), "filename": params.get("filename") or "", "reason": reason}
    return str(MESSAGES["series_item"]) % shown
