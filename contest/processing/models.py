"""Processing jobs: the database row is the source of truth, the broker only a doorbell."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base, now_utc, str_enum


class JobKind(enum.StrEnum):
    photo = "photo"
    photo_series = "photo_series"
    video = "video"
    check = "check"  # the content check of a file that arrived straight in storage (contest.entries.checks)


class JobState(enum.StrEnum):
    queued = "queued"
    running = "running"
    retrying = "retrying"
    succeeded = "succeeded"
    failed = "failed"


ACTIVE_STATES = frozenset({JobState.queued, JobState.running, JobState.retrying})


class ProcessingJob(Base):
    __tablename__ = "processing_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=False
    )
    kind: Mapped[JobKind] = mapped_column(
        str_enum(JobKind, "job_kind"),
        nullable=False,
    )
    state: Mapped[JobState] = mapped_column(
        str_enum(JobState, "job_state"),
        nullable=False,
        default=JobState.queued,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc, onupdate=now_utc)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Not before this instant (backoff after a transient error).
    run_after: Mapped[datetime | None] = mapped_column(nullable=True)

    entry = relationship("Entry")

    def __repr__(self) -> str:
        return f"<ProcessingJob {self.id} {self.kind.value} {self.state.value}>"
