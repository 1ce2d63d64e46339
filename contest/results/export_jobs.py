"""Export jobs built by the worker: for now the ZIP of the winners' original files.

The row is the source of truth (the broker only a doorbell): its status, its progress as
the worker writes it, and the private storage key of the result once it is done.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from contest.db import Base, now_utc, str_enum
from contest.processing.dispatch import send_after_commit
from contest.storage import new_key

EXPORT_TASK = "worker.export_winners_zip"
# A queued job still waiting after this was probably lost by the broker: the sweep resends it
# (a second delivery is harmless: the claim lets one attempt run).
RESEND_QUEUED_AFTER = timedelta(minutes=1)


class ExportKind(enum.StrEnum):
    winners_zip = "winners_zip"


class ExportStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    superseded = "superseded"  # a newer ZIP of the contest is done: this one's file is deleted


# The one place the statuses change. running -> running: an attempt whose worker went
# silent is taken over by the next one, which starts clean.
TRANSITIONS: dict[ExportStatus, frozenset[ExportStatus]] = {
    ExportStatus.queued: frozenset({ExportStatus.running, ExportStatus.failed}),
    ExportStatus.running: frozenset({ExportStatus.running, ExportStatus.done, ExportStatus.failed}),
    ExportStatus.done: frozenset({ExportStatus.superseded}),
    ExportStatus.failed: frozenset(),
    ExportStatus.superseded: frozenset(),
}
FINISHED = frozenset({ExportStatus.done, ExportStatus.failed, ExportStatus.superseded})


class InvalidExportTransition(ValueError):
    pass


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (
        CheckConstraint("files_done >= 0 AND files_done <= files_total", name="files_progress"),
        CheckConstraint("bytes_done >= 0 AND bytes_total >= 0", name="bytes_progress"),
        CheckConstraint("status IN ('queued', 'running') OR finished_at IS NOT NULL", name="finished_time"),
        CheckConstraint(
            "status NOT IN ('done', 'superseded') OR result_bytes IS NOT NULL", name="done_has_result"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True, nullable=False)
    kind: Mapped[ExportKind] = mapped_column(str_enum(ExportKind, "export_kind"), nullable=False)
    status: Mapped[ExportStatus] = mapped_column(
        str_enum(ExportStatus, "export_status"), nullable=False, default=ExportStatus.queued, index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, nullable=True)
    # PRIVATE: reached only through a signed URL, and only once the job is done.
    storage_key: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    files_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    files_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    bytes_total: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    result_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Moves with every progress write: a running job silent for long lost its worker.
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def move(self, new: ExportStatus, *, error: str | None = None) -> None:
        if new not in TRANSITIONS[self.status]:
            raise InvalidExportTransition(f"export job {self.id}: {self.status} -> {new}")
        self.status = new
        if new in (ExportStatus.done, ExportStatus.failed):
            self.finished_at = now_utc()
            self.error = error

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def __repr__(self) -> str:
        return f"<ExportJob {self.id} {self.kind.value} {self.status.value}>"


def new_export_job(
    session: Session, contest_id: int, kind: ExportKind, requested_by_id: int | None
) -> ExportJob:
    """A queued job whose result will be stored under a new, private, non-guessable key
    (``requested_by_id`` None: asked for from the command line)."""
    job = ExportJob(
        contest_id=contest_id,
        kind=kind,
        requested_by_id=requested_by_id,
        storage_key=new_key(f"exports/{kind.value}", ".zip"),
    )
    session.add(job)
    session.flush()
    return job


def claim(session: Session, job_id: int, *, stale_after_s: int) -> bool:
    """Take the job for this attempt, in one statement: a queued job, or a running one whose
    worker has been silent ``stale_after_s``; False when it is finished or held by another."""
    now = now_utc()
    claimable = [s for s, targets in TRANSITIONS.items() if ExportStatus.running in targets]
    result = session.execute(
        update(ExportJob)
        .where(
            ExportJob.id == job_id,
            ExportJob.status.in_(claimable),
            or_(
                ExportJob.status != ExportStatus.running,
                ExportJob.heartbeat_at < now - timedelta(seconds=stale_after_s),
            ),
        )
        .values(
            status=ExportStatus.running,
            started_at=now,
            heartbeat_at=now,
            attempts=ExportJob.attempts + 1,
            files_done=0,
            bytes_done=0,
        )
    )
    return result.rowcount == 1


def sweep_exports(session: Session, now: datetime, stale_after_s: int) -> list[int]:
    """Send again the jobs the broker lost (queued a while ago) or a dead worker left (running,
    silent ``stale_after_s``): after the commit, as every task is sent."""
    lost = and_(ExportJob.status == ExportStatus.queued, ExportJob.created_at <= now - RESEND_QUEUED_AFTER)
    orphaned = and_(
        ExportJob.status == ExportStatus.running,
        ExportJob.heartbeat_at <= now - timedelta(seconds=stale_after_s),
    )
    job_ids = list(session.scalars(select(ExportJob.id).where(or_(lost, orphaned)).order_by(ExportJob.id)))
    for job_id in job_ids:
        send_after_commit(session, EXPORT_TASK, job_id)
    return job_ids


def older_results(session: Session, job: ExportJob) -> list[ExportJob]:
    """The contest's earlier ZIPs of the same kind still kept: a newer one replaces them (the
    originals are personal data: one copy is enough)."""
    return list(
        session.scalars(
            select(ExportJob).where(
                ExportJob.contest_id == job.contest_id,
                ExportJob.kind == job.kind,
                ExportJob.status == ExportStatus.done,
                ExportJob.id < job.id,
            )
        )
    )
