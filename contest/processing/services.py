"""Job lifecycle: the database row is the source of truth, the broker only a doorbell.

These functions change rows and flush; the worker's tasks decide where to commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from contest.db import now_utc
from contest.entries.mails import tell_processed
from contest.entries.models import Entry, EntryStatus
from contest.mail.services import unsent_emails
from contest.processing.dispatch import send_after_commit
from contest.processing.models import JobKind, JobState, ProcessingJob

PROCESS_MEDIA_TASK = "worker.process_media"
DELIVER_MAIL_TASK = "worker.deliver_mail"
DEFAULT_STALE_AFTER_S = 600
# A queued job is sent again when nothing touched it for this long (the broker may have
# been down when it was queued, or lost the message).
RESEND_QUEUED_AFTER = timedelta(minutes=1)
RESEND_MAIL_AFTER = timedelta(minutes=2)
FIRST_RETRY_S = 15
MAX_RETRY_S = 10 * 60


def create_job(session: Session, entry: Entry, kind: JobKind) -> ProcessingJob:
    """Queue a processing job for ``entry``; it is sent to the broker after the commit."""
    job = ProcessingJob(entry=entry, kind=kind, state=JobState.queued, attempts=0)
    session.add(job)
    session.flush()
    send_after_commit(session, PROCESS_MEDIA_TASK, job.id)
    return job


def retry_delay_s(attempts: int) -> int:
    """Backoff after the ``attempts``-th attempt failed: 15 s, 30 s, 60 s ... at most 10 min."""
    return min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), MAX_RETRY_S)


def _is_held(job: ProcessingJob, now: datetime, stale_after_s: int) -> bool:
    """True while another worker runs ``job`` and still shows signs of life."""
    if job.state is not JobState.running:
        return False
    last_sign = job.heartbeat_at or job.started_at or job.updated_at
    return last_sign > now - timedelta(seconds=stale_after_s)


def claim_job(
    session: Session, job_id: int, *, now: datetime | None = None, stale_after_s: int = DEFAULT_STALE_AFTER_S
) -> ProcessingJob | None:
    """Take ``job_id`` for this worker, or None when it is finished or held by a live worker.

    The row is locked (SELECT ... FOR UPDATE; SQLite's BEGIN IMMEDIATE serialises writers),
    so two workers given the same job cannot both claim it.
    """
    now = now or now_utc()
    job = session.scalars(
        select(ProcessingJob)
        .where(ProcessingJob.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if job is None or job.state in (JobState.succeeded, JobState.failed):
        return None
    if _is_held(job, now, stale_after_s):
        return None
    job.state = JobState.running
    job.attempts += 1
    job.started_at = job.heartbeat_at = now
    job.run_after = None
    entry = lock_entry(session, job)
    if entry.status is EntryStatus.submitted:
        entry.transition(EntryStatus.processing)
    session.flush()
    return job


def lock_entry(session: Session, job: ProcessingJob) -> Entry:
    """The job's entry, freshly read and locked against a concurrent withdrawal."""
    return session.get(Entry, job.entry_id, with_for_update=True, populate_existing=True)


def heartbeat(session: Session, job: ProcessingJob, now: datetime | None = None) -> None:
    job.heartbeat_at = now or now_utc()
    session.flush()


def complete(session: Session, job: ProcessingJob, now: datetime | None = None) -> None:
    """The job did its work: the entry waits for the organizers' review (its author is told)."""
    if job.entry.status is EntryStatus.processing:
        job.entry.transition(EntryStatus.pending_review)
    _finish(session, job, JobState.succeeded, now)
    tell_processed(session, job.entry, job.id)


def abandon(session: Session, job: ProcessingJob, reason: str, now: datetime | None = None) -> None:
    """Close the job without touching its entry (the entrant withdrew it meanwhile)."""
    job.last_error = reason
    _finish(session, job, JobState.succeeded, now)


def fail(
    session: Session,
    job: ProcessingJob,
    code: str,
    *,
    error: str | None = None,
    now: datetime | None = None,
    **params,
) -> None:
    """The file cannot be processed: the entrant reads ``code`` with ``params`` (and is e-mailed)."""
    if job.entry.status is not EntryStatus.withdrawn:
        job.entry.fail(code, **params)
    job.last_error = error or code
    _finish(session, job, JobState.failed, now)
    tell_processed(session, job.entry, job.id)


def schedule_retry(session: Session, job: ProcessingJob, error: str, now: datetime | None = None) -> int:
    """A transient error: try again after the backoff; returns the delay in seconds."""
    delay = retry_delay_s(job.attempts)
    job.state = JobState.retrying
    job.last_error = error
    job.run_after = (now or now_utc()) + timedelta(seconds=delay)
    session.flush()
    return delay


def _finish(session: Session, job: ProcessingJob, state: JobState, now: datetime | None) -> None:
    job.state = state
    job.finished_at = now or now_utc()
    job.run_after = None
    session.flush()


def sweep_candidates(session: Session, now: datetime, stale_after_s: int) -> list[int]:
    """Jobs to send to the broker again: forgotten in the queue, or left by a dead worker."""
    waiting = and_(
        ProcessingJob.state.in_((JobState.queued, JobState.retrying)),
        ProcessingJob.updated_at <= now - RESEND_QUEUED_AFTER,
        or_(ProcessingJob.run_after.is_(None), ProcessingJob.run_after <= now),
    )
    stale = now - timedelta(seconds=stale_after_s)
    orphaned = and_(
        ProcessingJob.state == JobState.running,
        or_(
            ProcessingJob.heartbeat_at <= stale,
            and_(ProcessingJob.heartbeat_at.is_(None), ProcessingJob.updated_at <= stale),
        ),
    )
    query = select(ProcessingJob.id).where(or_(waiting, orphaned)).order_by(ProcessingJob.id)
    return list(session.scalars(query))


def mark_resent(session: Session, job_ids: list[int], now: datetime | None = None) -> None:
    """Record that the sweep sent these jobs again, so the next sweep waits a minute.

    A job whose worker died goes back to the queue; its next claim counts a new attempt.
    """
    now = now or now_utc()
    for job in session.scalars(select(ProcessingJob).where(ProcessingJob.id.in_(job_ids))):
        if job.state is JobState.running:
            job.state = JobState.queued
        job.updated_at = now
    session.flush()


def sweep(session: Session, now: datetime, stale_after_s: int) -> tuple[list[int], list[int]]:
    """Send again what was lost: (job ids, e-mail ids), sent to the broker after the commit."""
    job_ids = sweep_candidates(session, now, stale_after_s)
    mark_resent(session, job_ids, now)
    email_ids = unsent_emails(session, older_than=now - RESEND_MAIL_AFTER)
    for job_id in job_ids:
        send_after_commit(session, PROCESS_MEDIA_TASK, job_id)
    for email_id in email_ids:
        send_after_commit(session, DELIVER_MAIL_TASK, email_id)
    return job_ids, email_ids
