"""Jury copies for entries processed before the media jobs made them (issue 15).

The media jobs make each original's jury copy (worker.blind, worker.blind_video) with its
renditions. An entry processed earlier has none: the judge's panel then offers no original
(contest.jury.panel_data) until this task has made them. It is sent by entry id when a jury
round opens (contest.jury.rounds) and by ``flask --app wsgi contest jury-copies``.

Safe to run twice: only the originals without a copy are copied, and the rows are written
under the entry's lock, each only if its original is still the one copied and still has no
copy (else the object just made is deleted). A photo's copy is made in this process: these
files were decoded by the decode child already (only a HEIC copy decodes anything). A file
that cannot be copied is logged and left without a copy; nothing half-made is uploaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from contest.entries.models import AssetKind, Entry, MediaAsset
from contest.entries.video import VIDEO_FORMATS, sniff_container
from contest.extensions import db
from contest.media.jury_copies import PROCESSED, TASK_NAME
from contest.media.photo_files import PHOTO_FORMATS, sniff_format
from contest.media.rejection import MediaRejected
from contest.processing import services
from contest.storage import (
    ObjectMissing,
    Storage,
    StorageUnavailable,
    copy_to_tempfile,
    delete_with_copy,
    get_storage,
)
from worker.blind import make_jury_copy
from worker.blind_video import make_video_jury_copy
from worker.celery_app import celery, settings
from worker.jobs.base import upload_rendition
from worker.renditions import Rendition
from worker.video import TranscodeFailed

log = logging.getLogger(__name__)
_TRANSIENT = (StorageUnavailable, OperationalError)


@dataclass(frozen=True)
class Wanted:
    """An original without a jury copy, as read before the work (no transaction held during it)."""

    position: int
    storage_key: str
    mime_type: str
    width: int | None
    height: int | None
    duration_s: float | None


@celery.task(bind=True, name=TASK_NAME, max_retries=settings["JOB_MAX_ATTEMPTS"])
def make_jury_copies_task(self, entry_id: int) -> None:
    try:
        make_jury_copies(entry_id)
    except _TRANSIENT as exc:
        db.session.rollback()
        raise self.retry(countdown=services.retry_delay_s(self.request.retries + 1), exc=exc) from exc


def make_jury_copies(entry_id: int) -> int:
    """Make the jury copies the entry's originals lack; how many were recorded."""
    session, storage = db.session, get_storage()
    wanted = lacking(session, entry_id)
    session.commit()  # no transaction held while storage and ffmpeg work
    if not wanted:
        return 0
    uploaded: list[tuple[Wanted, str, Rendition]] = []
    try:
        with TemporaryDirectory(prefix="jury-copies-") as tmp:
            for original in wanted:
                rendition = _copy(storage, original, Path(tmp) / str(original.position))
                if rendition is not None:
                    uploaded.append((original, upload_rendition(storage, rendition), rendition))
            return _record(session, entry_id, uploaded, storage)
    except BaseException:
        session.rollback()
        _delete(storage, [key for _, key, _ in uploaded])
        raise


def lacking(session: Session, entry_id: int) -> list[Wanted]:
    """The entry's originals without a jury copy (none while its media job may still run)."""
    entry = session.get(Entry, entry_id)
    if entry is None or entry.status not in PROCESSED:
        return []
    return [
        Wanted(a.position, a.storage_key, a.mime_type, a.width, a.height, a.duration_s)
        for a in entry.originals()
        if entry.asset(AssetKind.jury_original, a.position) is None
    ]


def _copy(storage: Storage, original: Wanted, folder: Path) -> Rendition | None:
    """The jury copy of one original, written in ``folder``; None when it cannot be made."""
    folder.mkdir()
    try:
        source = copy_to_tempfile(storage, original.storage_key, str(folder))
        if original.mime_type.startswith("video/"):
            container = sniff_container(source)
            if container not in VIDEO_FORMATS:
                raise MediaRejected("unsupported_format")
            return make_video_jury_copy(
                source,
                folder,
                container=container,
                mime_type=original.mime_type,
                size=(original.width or 0, original.height or 0),
                duration_s=original.duration_s,
            )
        found = sniff_format(source)
        if found not in PHOTO_FORMATS:
            raise MediaRejected("unsupported_format")
        size = (original.width or 0, original.height or 0)
        return make_jury_copy(
            source, folder / "copy", found, position=original.position, width=size[0], height=size[1]
        )
    except (ObjectMissing, MediaRejected, TranscodeFailed) as exc:
        log.warning("original %s: no jury copy made: %s", original.storage_key, exc)
        return None


def _record(
    session: Session, entry_id: int, uploaded: list[tuple[Wanted, str, Rendition]], storage: Storage
) -> int:
    """Add the rows under the entry's lock, each only if still wanted; delete the objects of the others."""
    status = session.scalar(select(Entry.status).where(Entry.id == entry_id).with_for_update())
    assets = session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry_id)).all()
    # A withdrawn entry's media are being purged, an edited one's being processed again.
    still = status in PROCESSED
    originals = {(a.position, a.storage_key) for a in assets if a.kind is AssetKind.original and still}
    copied = {a.position for a in assets if a.kind is AssetKind.jury_original}
    recorded, unwanted = 0, []
    for original, key, rendition in uploaded:
        if (original.position, original.storage_key) in originals and original.position not in copied:
            asset = rendition.asset(key)
            asset.entry_id, asset.position = entry_id, original.position
            session.add(asset)
            copied.add(original.position)
            recorded += 1
        else:
            unwanted.append(key)
    session.commit()
    _delete(storage, unwanted)
    log.info("entry %s: %s jury copies made", entry_id, recorded)
    return recorded


def _delete(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        try:
            delete_with_copy(storage, key)
        except Exception:  # best effort: an orphan object is harmless
            log.warning("could not delete %s", key, exc_info=True)
