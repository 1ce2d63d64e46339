"""Job lifecycle. The worker's claim/finish/retry/sweep functions are added here too."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contest.entries.models import Entry
from contest.processing.dispatch import send_after_commit
from contest.processing.models import JobKind, JobState, ProcessingJob

PROCESS_MEDIA_TASK = "worker.process_media"


def create_job(session: Session, entry: Entry, kind: JobKind) -> ProcessingJob:
    """Queue a processing job for ``entry``; it is sent to the broker after the commit."""
    job = ProcessingJob(entry=entry, kind=kind, state=JobState.queued, attempts=0)
    session.add(job)
    session.flush()
    send_after_commit(session, PROCESS_MEDIA_TASK, job.id)
    return job
