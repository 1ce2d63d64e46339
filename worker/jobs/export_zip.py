"""The ZIP of the winners' originals, streamed from storage into storage.

Each original is read in chunks and written as it comes into a ZIP (stored, not deflated:
photos and videos are compressed already; ZIP64 where sizes need it; data descriptors, as
the output cannot seek back) whose bytes go straight into the store's multipart upload (or a
local file written in order). Nothing is held whole in memory or on disk; each file's
SHA-256 is taken as its bytes pass and listed in MANIFEST.csv, the archive's last member.
No transaction is held while storage works: progress is written in short ones.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from contest.db import now_utc
from contest.results.export_jobs import ExportJob, ExportStatus, claim, older_results
from contest.results.zip_items import ZipItem, zip_items
from contest.storage import Storage, StorageError
from contest.timeutil import to_vn

log = logging.getLogger(__name__)
CHUNK_BYTES = 1024 * 1024
PROGRESS_EVERY_S = 2.0
# Above this a member is written with ZIP64 sizes from the start (a recorded size may be off).
FORCE_ZIP64_BYTES = 2 * 1024**3
MANIFEST_NAME = "MANIFEST.csv"


class TakenOver(Exception):
    """Another attempt took the job over (this one was silent too long): stop writing."""


@dataclass(frozen=True)
class ManifestRow:
    name: str
    code: str
    sha256: str
    bytes: int


class Progress:
    """Counts bytes and files, and writes them on the job's row every ``every_s`` seconds in a
    transaction of their own, only while the job is still this attempt's."""

    def __init__(
        self, session: Session, job_id: int, attempt: int, every_s: float = PROGRESS_EVERY_S
    ) -> None:
        self.session, self.job_id, self.attempt, self.every_s = session, job_id, attempt, every_s
        self.files = self.bytes = 0
        self._written_at = time.monotonic()

    def add(self, size: int) -> None:
        self.bytes += size
        if time.monotonic() - self._written_at >= self.every_s:
            self.write()

    def file_done(self) -> None:
        self.files += 1

    def write(self) -> None:
        result = self.session.execute(
            update(ExportJob)
            .where(
                ExportJob.id == self.job_id,
                ExportJob.attempts == self.attempt,
                ExportJob.status == ExportStatus.running,
            )
            .values(files_done=self.files, bytes_done=self.bytes, heartbeat_at=now_utc())
        )
        self.session.commit()
        self._written_at = time.monotonic()
        if result.rowcount != 1:
            raise TakenOver(f"export job {self.job_id}: attempt {self.attempt} was taken over")


def run_export_zip(session: Session, job_id: int, storage: Storage, *, stale_after_s: int) -> None:
    """Claim the job, build its ZIP and record the outcome; a finished or held job is left alone."""
    if not claim(session, job_id, stale_after_s=stale_after_s):
        session.rollback()
        log.info("export job %s: finished or held by another worker; nothing to do", job_id)
        return
    job = session.get(ExportJob, job_id, populate_existing=True)
    items = zip_items(session, job.contest_id)
    job.files_total, job.bytes_total = len(items), sum(item.bytes for item in items)
    key, attempt = job.storage_key, job.attempts
    session.commit()  # no transaction held while storage works
    progress = Progress(session, job_id, attempt)
    try:
        size = write_zip(storage, items, key, progress.add, progress.file_done)
    except TakenOver:
        session.rollback()
        log.warning("export job %s: attempt %s was taken over; its upload is dropped", job_id, attempt)
        return
    except Exception as exc:
        session.rollback()
        log.exception("export job %s failed", job_id)
        _finish(session, progress, ExportStatus.failed, error=_describe(exc))
        return
    if _finish(session, progress, ExportStatus.done, result_bytes=size):
        log.info("export job %s: %s files, %s bytes of ZIP", job_id, len(items), size)
        _retire_older(session, storage, job_id)


def _finish(
    session: Session,
    progress: Progress,
    status: ExportStatus,
    *,
    error: str | None = None,
    result_bytes: int | None = None,
) -> bool:
    """The outcome, with how far the attempt went, unless another attempt took the job over."""
    job = session.get(ExportJob, progress.job_id, populate_existing=True)
    if job is None or job.attempts != progress.attempt or job.status is not ExportStatus.running:
        session.rollback()
        return False
    job.files_done, job.bytes_done, job.result_bytes = progress.files, progress.bytes, result_bytes
    job.move(status, error=error)
    session.commit()
    return True


def _retire_older(session: Session, storage: Storage, job_id: int) -> None:
    """Delete the contest's earlier ZIPs now that this one is done: one copy of the originals
    is kept. The file goes first: a row left pointing nowhere is only a dead link."""
    for old in older_results(session, session.get(ExportJob, job_id)):
        try:
            storage.delete(old.storage_key)
        except StorageError:
            log.warning(
                "export job %s: could not delete %s; kept for now", old.id, old.storage_key, exc_info=True
            )
            continue
        old.move(ExportStatus.superseded)
    session.commit()


def write_zip(
    storage: Storage,
    items: list[ZipItem],
    key: str,
    on_bytes: Callable[[int], None],
    on_file: Callable[[], None],
) -> int:
    """Stream ``items`` and their manifest into a ZIP stored at ``key``; its size in bytes.
    On any failure the upload is aborted and nothing is left at ``key``."""
    with storage.open_writer(key, content_type="application/zip") as out:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            rows = []
            for item in items:
                rows.append(_add_member(archive, storage, item, on_bytes))
                on_file()
            newest = max((item.modified for item in items), default=None)
            archive.writestr(_info(MANIFEST_NAME, newest), manifest_csv(rows))
        return out.tell()


def _add_member(
    archive: zipfile.ZipFile, storage: Storage, item: ZipItem, on_bytes: Callable[[int], None]
) -> ManifestRow:
    info = _info(item.name, item.modified, item.bytes)
    digest, size = hashlib.sha256(), 0
    with archive.open(info, "w", force_zip64=item.bytes >= FORCE_ZIP64_BYTES) as member:
        for chunk in _chunks(storage, item):
            member.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            on_bytes(len(chunk))
    return ManifestRow(item.name, item.code, digest.hexdigest(), size)


def _chunks(storage: Storage, item: ZipItem) -> Iterator[bytes]:
    """The original's bytes; a failure to read it names the entry and the file."""
    try:
        yield from storage.read_chunks(item.storage_key, CHUNK_BYTES)
    except StorageError as exc:
        raise StorageError(f"{item.code} ({item.name}): {type(exc).__name__}") from exc


def _info(name: str, modified: datetime | None, size: int = 0) -> zipfile.ZipInfo:
    """A member's header, dated when its original was stored (Vietnam time: ZIP times are
    local), so that the same winners give the same archive."""
    stamp = to_vn(modified).timetuple()[:6] if modified else (1980, 1, 1, 0, 0, 0)
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.file_size = size  # decides ZIP64 up front: zipfile reads it before the bytes come
    return info


def manifest_csv(rows: list[ManifestRow]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["file", "code", "sha256", "bytes"])
    writer.writerows((row.name, row.code, row.sha256, row.bytes) for row in rows)
    return text.getvalue().encode("utf-8")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
