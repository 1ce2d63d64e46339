"""``flask --app wsgi contest recheck-gps``: the GPS verdict of entries processed before the check.

Entries whose media was processed before the worker checked GPS positions have no verdict
(``gps_check`` is NULL, "unchecked" in the figures). This reads each of their originals'
EXIF or container tags again (headers only, no pixel decoded, no transcoding), records the
verdict as the worker does (contest.entries.gps) and the flags with it, one commit per
entry. Safe to run twice: entries that have a verdict are left alone.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.cli import contest_cli
from contest.entries.failures import MediaRejected
from contest.entries.flags import record_flags
from contest.entries.models import Entry, EntryStatus, MediaAsset
from contest.entries.video import ProbeFailed, ffprobe
from contest.entries.video import gps_check as video_gps_check
from contest.extensions import db
from contest.geo.positions import photo_position
from contest.geo.province import GpsCheck, check_position
from contest.media.limits import LimitHit
from contest.media.photo_files import open_photo, sniff_format
from contest.storage import Storage, StorageError, copy_to_tempfile, get_storage

log = logging.getLogger(__name__)
PROCESSED = (EntryStatus.pending_review, EntryStatus.approved, EntryStatus.rejected)
_UNREADABLE = (MediaRejected, ProbeFailed, LimitHit, StorageError, OSError, ValueError)


def file_gps_check(path: Path, mime_type: str) -> GpsCheck:
    """The verdict on the GPS position in the file at ``path`` (a stored original)."""
    if mime_type.startswith("video/"):
        return video_gps_check(ffprobe(path, quick=True))
    found = sniff_format(path)
    if found is None:
        raise MediaRejected("not_recognised")
    with open_photo(path, found) as image:
        return check_position(*(photo_position(image.getexif()) or (None, None)))


def recheck_original(storage: Storage, original: MediaAsset, folder: str) -> None:
    """Record the original's verdict in its details, as the worker would have."""
    path = copy_to_tempfile(storage, original.storage_key, folder)
    try:
        verdict = file_gps_check(path, original.mime_type)
    finally:
        path.unlink(missing_ok=True)
    original.details = {**(original.details or {}), "gps": verdict.value}


def unchecked_entries(session: Session, contest_id: int | None) -> list[int]:
    query = select(Entry.id).where(Entry.gps_check.is_(None), Entry.status.in_(PROCESSED))
    if contest_id is not None:
        query = query.where(Entry.contest_id == contest_id)
    return list(session.scalars(query.order_by(Entry.id)))


def recheck_entry(session: Session, storage: Storage, entry: Entry) -> bool:
    """True when every original of ``entry`` could be read and its verdict recorded."""
    with tempfile.TemporaryDirectory(prefix="gps-recheck-") as folder:
        try:
            for original in entry.originals():
                recheck_original(storage, original, folder)
        except _UNREADABLE as exc:
            session.rollback()
            log.warning("entry %s: its originals could not be read again: %s", entry.code, type(exc).__name__)
            return False
    record_flags(session, entry)  # sets entry.gps_check too
    session.commit()
    return True


@contest_cli.command("recheck-gps")
@click.option("--contest-id", type=int, default=None, help="Only this contest's entries.")
def recheck_gps_command(contest_id: int | None) -> None:
    """Check the GPS positions of entries processed before the check existed."""
    storage, done, skipped = get_storage(), 0, 0
    for entry_id in unchecked_entries(db.session, contest_id):
        if recheck_entry(db.session, storage, db.session.get(Entry, entry_id)):
            done += 1
        else:
            skipped += 1
    click.echo(f"entries checked: {done}; entries whose files could not be read: {skipped}")
