"""Reading a GPS position out of a photo's EXIF GPS directory or a video's container tags.

Pure parsing: the callers turn the position into a verdict at once
(contest.geo.province.check_position) and keep nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

Position = tuple[float, float]  # (latitude, longitude) in degrees

_LATITUDE_REF, _LATITUDE, _LONGITUDE_REF, _LONGITUDE = 1, 2, 3, 4
# The container tags a phone or camera writes its position in; ffprobe shows the QuickTime
# "©xyz" atom as "location" and Android's MP4 "xyz" box as "location" or "location-eng".
VIDEO_TAGS = ("com.apple.quicktime.location.iso6709", "location", "location-eng", "©xyz")
# ISO 6709: latitude then longitude, each signed, as degrees, degrees-minutes or
# degrees-minutes-seconds (the number of integer digits tells which), optional altitude.
_ISO6709 = re.compile(r"\s*([+-])(\d+)(\.\d+)?([+-])(\d+)(\.\d+)?")


_GPS_IFD = 0x8825


def photo_position(exif) -> Position | None:
    """The position in a photo's EXIF (Pillow's Image.Exif: anything with get_ifd), None when none."""
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except (OSError, ValueError, TypeError, KeyError):  # a damaged GPS directory: no position
        return None
    return exif_position(gps) if gps else None


def exif_position(gps: Mapping) -> Position | None:
    """The position of an EXIF GPS directory (tag number -> value), None when incomplete."""
    try:
        latitude = _degrees(gps[_LATITUDE]) * _sign(gps.get(_LATITUDE_REF), "S")
        longitude = _degrees(gps[_LONGITUDE]) * _sign(gps.get(_LONGITUDE_REF), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return latitude, longitude


def _degrees(value) -> float:
    """Degrees, minutes and seconds (three rationals) as decimal degrees."""
    if isinstance(value, str | bytes):
        raise TypeError("text, not three numbers")
    parts = [float(part) for part in value]
    if len(parts) != 3 or any(part != part or part < 0 for part in parts):  # part != part: NaN
        raise ValueError("not degrees, minutes and seconds")
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _sign(reference, negative: str) -> int:
    if isinstance(reference, bytes):
        reference = reference.decode("ascii", "replace")
    return -1 if isinstance(reference, str) and reference.strip().upper() == negative else 1


def video_position(tags: Mapping) -> Position | None:
    """The position in a video's container tags (ffprobe's format tags), None when none."""
    lowered = {str(name).lower(): value for name, value in tags.items()}
    for name in VIDEO_TAGS:
        value = lowered.get(name)
        if isinstance(value, str):
            position = parse_iso6709(value)
            if position is not None:
                return position
    return None


def parse_iso6709(text: str) -> Position | None:
    """'+18.6789+105.6813+012.000/' (or the DDMM and DDMMSS forms) as (latitude, longitude)."""
    found = _ISO6709.match(text)
    if found is None:
        return None
    lat_sign, lat_int, lat_frac, lon_sign, lon_int, lon_frac = found.groups()
    try:
        latitude = _iso_degrees(lat_int, lat_frac, degree_digits=2)
        longitude = _iso_degrees(lon_int, lon_frac, degree_digits=3)
    except ValueError:
        return None
    return (-latitude if lat_sign == "-" else latitude), (-longitude if lon_sign == "-" else longitude)


def _iso_degrees(whole: str, fraction: str | None, *, degree_digits: int) -> float:
    value = float(whole + (fraction or ""))
    extra = len(whole) - degree_digits
    if extra <= 0:
        return value
    if extra == 2:  # DDMM.MM
        degrees, minutes = divmod(value, 100)
        return degrees + minutes / 60
    if extra == 4:  # DDMMSS.SS
        degrees, rest = divmod(value, 10000)
        minutes, seconds = divmod(rest, 100)
        return degrees + minutes / 60 + seconds / 3600
    raise ValueError("not ISO 6709")
