"""Background tasks. Their names are fixed: the web side sends them by name.

Every task takes ids, reads fresh state, is safe to run twice and commits its own work.
No transaction is held while a file is downloaded, decoded or uploaded.
"""

from __future__ import annotations

import logging
import resource
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from contest.db import now_utc
from contest.entries.failures import MediaRejected
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.entries.validation import PhotoInfo, check_photo
from contest.extensions import db
from contest.mail.services import deliver_email
from contest.processing import services
from contest.processing.models import JobState, ProcessingJob
from contest.storage import ObjectMissing, Storage, StorageUnavailable, copy_to_tempfile, get_storage, new_key
from worker.celery_app import celery, settings
from worker.photo import Rendition, file_sha256, render_photo

log = logging.getLogger(__name__)
TRANSIENT = (StorageUnavailable, OperationalError)
RENDITION_KINDS = frozenset(AssetKind) - {AssetKind.original}


# --- the media job ----------------------------------------------------------------------
@celery.task(bind=True, name="worker.process_media", max_retries=settings["JOB_MAX_ATTEMPTS"])
def process_media(self, job_id: int) -> None:
    try:
        run_media_job(job_id)
    except Exception as exc:
        if not isinstance(exc, TRANSIENT):
            log.exception("job %s failed unexpectedly; it is retried like a transient error", job_id)
        fallback_s = services.retry_delay_s(self.request.retries + 1)
        delay = record_failed_attempt(job_id, exc, fallback_s=fallback_s)
        if delay is not None:
            raise self.retry(countdown=delay, exc=exc) from exc


def run_media_job(job_id: int) -> None:
    """Claim the job, make the photo's renditions and record them (see PhotoAttempt)."""
    session = db.session
    config = current_app.config
    job = services.claim_job(session, job_id, stale_after_s=config["JOB_STALE_AFTER_S"])
    if job is None:
        session.rollback()
        log.info("job %s: finished or held by another worker; nothing to do", job_id)
        return
    attempt = PhotoAttempt(session, job, get_storage())
    session.commit()
    if job.attempts > config["JOB_MAX_ATTEMPTS"]:
        attempt.give_up("too many attempts")
        return
    attempt.run()


def record_failed_attempt(job_id: int, exc: Exception, *, fallback_s: int) -> int | None:
    """After a transient error: the delay before the next try, or None when the job is closed."""
    session = db.session
    session.rollback()
    try:
        delay = _retry_or_fail(session, job_id, _describe(exc), fallback_s)
        session.commit()
    except OperationalError:
        # The database itself is away: retry anyway; the sweep repairs the row later.
        session.rollback()
        log.warning("job %s: could not record the failed attempt", job_id, exc_info=True)
        return fallback_s
    log.info("job %s: %s; %s", job_id, _describe(exc), f"retry in {delay} s" if delay else "closed")
    return delay


def _retry_or_fail(session: Session, job_id: int, error: str, fallback_s: int) -> int | None:
    job = session.get(ProcessingJob, job_id, populate_existing=True)
    if job is None or job.state in (JobState.succeeded, JobState.failed):
        return None
    if job.state is not JobState.running:  # the claim itself failed: nothing to record
        return fallback_s
    if job.attempts >= current_app.config["JOB_MAX_ATTEMPTS"]:
        services.lock_entry(session, job)
        services.fail(session, job, "processing_error", error=error)
        return None
    return services.schedule_retry(session, job, error)


class PhotoAttempt:
    """One attempt at one photo job. Objects it uploaded are removed unless its commit lands."""

    def __init__(self, session: Session, job: ProcessingJob, storage: Storage) -> None:
        self.session, self.job, self.storage = session, job, storage
        self.number = job.attempts
        # Read now what the work needs: after the claim's commit no transaction is open.
        self.entry: Entry = job.entry
        self.category = self.entry.category
        self.original = self.entry.asset(AssetKind.original)
        self.uploaded: list[str] = []

    def run(self) -> None:
        started, rss_before = time.monotonic(), _peak_rss_mb()
        if self.entry.status is EntryStatus.withdrawn:
            return self.abandon("entry withdrawn before processing")
        if self.original is None:
            return self.give_up("the entry has no original file")
        try:
            self._process()
        except BaseException:
            self.discard_uploads()
            raise
        log.info(
            "job %s: entry %s done in %.2f s; worker peak RSS %.0f MB (%.0f MB before)",
            self.job.id,
            self.entry.code,
            time.monotonic() - started,
            _peak_rss_mb(),
            rss_before,
        )

    def _process(self) -> None:
        with TemporaryDirectory(prefix="photo-job-") as tmp:
            try:
                source = copy_to_tempfile(self.storage, self.original.storage_key, tmp)
            except ObjectMissing:
                return self.give_up("the original file is missing from storage")
            self.beat()
            try:
                info = check_photo(
                    source, self.category, quick=False, max_pixels=current_app.config["MAX_IMAGE_PIXELS"]
                )
            except MediaRejected as exc:
                return self.reject(exc)
            original_sha256 = file_sha256(source)
            renditions = render_photo(source, Path(tmp))
            self.beat()
            assets = [self.upload(rendition) for rendition in renditions]
            self.finish(info, original_sha256, assets)

    def beat(self) -> None:
        services.heartbeat(self.session, self.job)
        self.session.commit()

    def upload(self, rendition: Rendition) -> MediaAsset:
        key = new_key("public/r", f"/{rendition.path.name}")
        with rendition.path.open("rb") as stream:
            self.storage.save(key, stream, content_type=rendition.mime_type)
        self.uploaded.append(key)
        return MediaAsset(
            entry_id=self.entry.id,
            position=0,
            kind=rendition.kind,
            storage_key=key,
            mime_type=rendition.mime_type,
            width=rendition.width,
            height=rendition.height,
            bytes=rendition.bytes,
            sha256=rendition.sha256,
        )

    def finish(self, info: PhotoInfo, original_sha256: str, assets: list[MediaAsset]) -> None:
        """Swap the renditions in one commit; the replaced objects are deleted afterwards."""
        if not self.still_ours():
            return self.discard_uploads()
        if self.entry.status is EntryStatus.withdrawn:
            return self.abandon("entry withdrawn during processing")
        replaced = self.remove_old_renditions()
        self.session.add_all(assets)
        self.original.sha256, self.original.width = original_sha256, info.width
        self.original.height = info.height
        services.complete(self.session, self.job)
        self.session.commit()
        self.uploaded = []
        self.delete_objects(replaced)

    def remove_old_renditions(self) -> list[str]:
        """Rendition rows of an earlier partial attempt; deleted before the new ones are added."""
        old = self.session.scalars(
            select(MediaAsset).where(
                MediaAsset.entry_id == self.entry.id,
                MediaAsset.position == 0,
                MediaAsset.kind.in_(RENDITION_KINDS),
            )
        ).all()
        for asset in old:
            self.session.delete(asset)
        self.session.flush()  # before the inserts: (entry, position, kind) is unique
        return [asset.storage_key for asset in old]

    def still_ours(self) -> bool:
        """Lock the job and its entry, read fresh: False if another worker took the job over."""
        job = self.session.get(ProcessingJob, self.job.id, with_for_update=True, populate_existing=True)
        self.entry = services.lock_entry(self.session, job)
        held = job.state is JobState.running and job.attempts == self.number
        if not held:
            self.session.rollback()
            log.warning("job %s: taken over by another worker; this attempt's results are dropped", job.id)
        return held

    def reject(self, exc: MediaRejected) -> None:
        if not self.still_ours():
            return
        services.fail(self.session, self.job, exc.code, error=f"rejected: {exc.code}", **exc.params)
        self.session.commit()
        log.info("job %s: entry %s rejected: %s %s", self.job.id, self.entry.code, exc.code, exc.params)

    def give_up(self, reason: str) -> None:
        if not self.still_ours():
            return
        services.fail(self.session, self.job, "processing_error", error=reason)
        self.session.commit()
        log.warning("job %s: entry %s failed: %s", self.job.id, self.entry.code, reason)

    def abandon(self, reason: str) -> None:
        self.session.rollback()
        self.discard_uploads()
        if self.still_ours():
            services.abandon(self.session, self.job, reason)
            self.session.commit()
        log.info("job %s: %s", self.job.id, reason)

    def discard_uploads(self) -> None:
        keys, self.uploaded = self.uploaded, []
        self.delete_objects(keys)

    def delete_objects(self, keys: list[str]) -> None:
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:  # best effort: an orphan object is harmless, a crash here is not
                log.warning("could not delete %s", key, exc_info=True)


# --- withdrawn entries ------------------------------------------------------------------
@celery.task(bind=True, name="worker.purge_entry_media", max_retries=settings["JOB_MAX_ATTEMPTS"])
def purge_entry_media(self, entry_id: int) -> None:
    try:
        purge_media(entry_id)
    except TRANSIENT as exc:
        db.session.rollback()
        raise self.retry(countdown=services.retry_delay_s(self.request.retries + 1), exc=exc) from exc


def purge_media(entry_id: int) -> int:
    """Delete every object and asset row of a withdrawn entry; returns how many were removed."""
    session = db.session
    entry = session.get(Entry, entry_id)
    if entry is None or entry.status is not EntryStatus.withdrawn:
        session.rollback()
        return 0
    keys = [asset.storage_key for asset in entry.assets]
    session.commit()  # no transaction held while storage works
    storage = get_storage()
    for key in keys:
        storage.delete(key)
    session.execute(
        delete(MediaAsset).where(MediaAsset.entry_id == entry_id, MediaAsset.storage_key.in_(keys))
    )
    session.commit()
    log.info("entry %s withdrawn: %s objects deleted", entry_id, len(keys))
    return len(keys)


# --- e-mail -----------------------------------------------------------------------------
@celery.task(bind=True, name="worker.deliver_mail", max_retries=settings["JOB_MAX_ATTEMPTS"])
def deliver_mail(self, email_id: int) -> None:
    try:
        deliver_email(db.session, email_id)
        db.session.commit()
    except OSError as exc:  # smtplib.SMTPException is an OSError
        db.session.commit()  # deliver_email recorded the attempt and its error on the row
        raise self.retry(countdown=services.retry_delay_s(self.request.retries + 1), exc=exc) from exc


# --- the sweep --------------------------------------------------------------------------
@celery.task(name="worker.sweep_jobs")
def sweep_jobs() -> None:
    job_ids, email_ids = services.sweep(db.session, now_utc(), current_app.config["JOB_STALE_AFTER_S"])
    db.session.commit()  # the tasks are sent once this commit lands
    if job_ids or email_ids:
        log.info("sweep: sent jobs %s and e-mails %s again", job_ids, email_ids)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
