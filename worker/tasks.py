"""Background tasks. Their names are fixed: the web side sends them by name.

Every task takes ids, reads fresh state, is safe to run twice and commits its own work.
No transaction is held while a file is downloaded, decoded or uploaded.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus, MediaAsset
from contest.extensions import db
from contest.jury.mails import tell_rounds
from contest.mail.services import deliver_email
from contest.media import publication
from contest.processing import services
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.results.export_jobs import sweep_exports
from contest.results.mails import tell_results_published
from contest.storage import StorageUnavailable, delete_with_copy, get_storage
from worker.celery_app import celery, settings
from worker.jobs.base import MediaAttempt
from worker.jobs.check import CheckAttempt
from worker.jobs.export_zip import run_export_zip
from worker.jobs.photo import PhotoAttempt, PhotoSeriesAttempt
from worker.jobs.publish_results import publish_due_results
from worker.jobs.video import VideoAttempt

log = logging.getLogger(__name__)
TRANSIENT = (StorageUnavailable, OperationalError)
# Which attempt class runs a job of each kind.
ATTEMPTS: dict[JobKind, type[MediaAttempt]] = {
    JobKind.photo: PhotoAttempt,
    JobKind.photo_series: PhotoSeriesAttempt,
    JobKind.video: VideoAttempt,
    JobKind.check: CheckAttempt,  # a file that arrived straight in storage, before it counts
}


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
    """Claim the job and run the attempt of its kind (see worker.jobs)."""
    session = db.session
    config = current_app.config
    job = services.claim_job(session, job_id, stale_after_s=config["JOB_STALE_AFTER_S"])
    if job is None:
        session.rollback()
        log.info("job %s: finished or held by another worker; nothing to do", job_id)
        return
    attempt = ATTEMPTS[job.kind](session, job, get_storage())
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
        delete_with_copy(storage, key)
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


@celery.task(name="worker.send_notices")
def send_notices() -> None:
    """The e-mails of states rather than requests: jury rounds open or closing soon, results published."""
    now = now_utc()
    judges = tell_rounds(db.session, now)
    entrants = tell_results_published(db.session, now)
    db.session.commit()  # the messages are sent once this commit lands
    if judges or entrants:
        log.info("notices: %s to judges about their rounds, %s to entrants about results", judges, entrants)


# --- exports ---------------------------------------------------------------------------
@celery.task(name="worker.export_winners_zip")
def export_winners_zip(job_id: int) -> None:
    """The ZIP of the winners' originals (worker.jobs.export_zip): a failure is recorded on the
    job, which the organizer builds again; sent twice, the second finds it done or held."""
    run_export_zip(db.session, job_id, get_storage(), stale_after_s=current_app.config["JOB_STALE_AFTER_S"])


# --- the sweep --------------------------------------------------------------------------
@celery.task(name="worker.sweep_jobs")
def sweep_jobs() -> None:
    job_ids, email_ids = services.sweep(db.session, now_utc(), current_app.config["JOB_STALE_AFTER_S"])
    db.session.commit()  # the tasks are sent once this commit lands
    if job_ids or email_ids:
        log.info("sweep: sent jobs %s and e-mails %s again", job_ids, email_ids)
    exports = sweep_exports(db.session, now_utc(), current_app.config["JOB_STALE_AFTER_S"])
    db.session.commit()
    if exports:
        log.info("sweep: sent export jobs %s again", exports)
    synced = publication.sweep(db.session)
    if synced:
        log.info(
            "sweep: public copies of %s made to agree with their status", [(s.code, s.ok) for s in synced]
        )


# --- results published at their time -----------------------------------------------------
@celery.task(name="worker.publish_results")
def publish_results() -> None:
    publish_due_results()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
