"""Shot in Nghệ An: the GPS verdict of an entry, its flag, and the counts per contest.

The worker reads each original's GPS position (worker.inspect for a photo's EXIF,
contest.entries.video for a video's container tags), turns it at once into a verdict with
contest.geo.province and records only that verdict: ``details["gps"]`` of the original,
and the entry's own ``gps_check``, which the figures count. A position outside the province
is flagged for the organizers (contest.entries.flags), never refused: a file's position can
be missing, wrong or the phone's last fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.entries.models import Entry, EntryFlag, FlagKind, MediaAsset
from contest.geo.province import GpsCheck, combined


def original_check(original: MediaAsset) -> GpsCheck | None:
    """The verdict the worker recorded for one original; None before it was checked."""
    value = (original.details or {}).get("gps")
    try:
        return GpsCheck(value) if value is not None else None
    except ValueError:
        return None


def record_gps_check(entry: Entry, originals: Sequence[MediaAsset]) -> None:
    """The entry's verdict from its originals' (outside if any work is outside)."""
    checks = [original_check(original) for original in originals]
    known = [check for check in checks if check is not None]
    entry.gps_check = combined(known) if known else None


def gps_flags(entry: Entry, originals: Sequence[MediaAsset]) -> list[EntryFlag]:
    """A flag on each work whose GPS position lies outside Nghệ An."""
    return [
        EntryFlag(entry_id=entry.id, position=original.position, kind=FlagKind.gps_outside_province)
        for original in originals
        if original_check(original) is GpsCheck.outside
    ]


@dataclass(frozen=True)
class GpsCounts:
    """How many of a contest's entries carried a GPS position inside or outside Nghệ An, or none."""

    inside: int = 0
    outside: int = 0
    absent: int = 0
    unchecked: int = 0  # not processed (yet): submitted, failed, or processed before the check

    @property
    def total(self) -> int:
        return self.inside + self.outside + self.absent + self.unchecked


def gps_counts(session: Session, contest_id: int) -> GpsCounts:
    """The entries the contest received (submitted once, as contest.figures counts them) by verdict."""
    rows = session.execute(
        select(Entry.gps_check, func.count())
        .where(Entry.contest_id == contest_id, Entry.submitted_at.is_not(None))
        .group_by(Entry.gps_check)
    )
    counts = {(check.value if check else "unchecked"): number for check, number in rows}
    return GpsCounts(**counts)
