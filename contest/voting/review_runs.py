"""Review runs: the vote review's findings computed once and stored, for the case pages to read.

Detecting cases over millions of votes takes seconds, so the pages do not run it: a run
(the "Run the review" button, or ``flask votes review``) examines the votes of the window
(the last ``VOTE_REVIEW_DAYS`` days up to the contest's latest vote) and stores every rule's
findings. The pages read the latest run and say when it was computed. A run is current
while no vote was cast, voided or restored since (``votes_state``); a stale run is
computed again on the spot only for a small contest (``INLINE_VOTES``), otherwise shown
with a note until the next run.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from contest.db import Base, now_utc
from contest.voting import clusters
from contest.voting.clusters import Case, Cluster, ClusterKind, cases_of
from contest.voting.models import Vote

DEFAULT_DAYS = 7
INLINE_VOTES = 20_000  # up to this many votes in the contest, a stale run is computed again on the spot


class ReviewRun(Base):
    __tablename__ = "vote_review_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    computed_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    since: Mapped[datetime | None] = mapped_column(nullable=True)  # None: no vote to examine
    seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    # What the votes were when it ran (votes_state): the latest vote, voided votes, the latest voiding.
    last_vote_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    voided_votes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_voided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    findings: Mapped[list] = mapped_column(JSON, nullable=False, default=list)

    def state(self) -> tuple:
        return (self.last_vote_id, self.voided_votes, self.last_voided_at)


def review_days() -> int:
    return int(current_app.config.get("VOTE_REVIEW_DAYS", DEFAULT_DAYS))


def votes_state(session: Session, contest_id: int) -> tuple:
    """(latest vote id, voided votes, latest voiding): changes with every vote cast, voided or restored.

    Read from the primary key and the voided votes' partial index, not the whole table.
    """
    last_id = session.scalar(select(func.max(Vote.id)).where(Vote.contest_id == contest_id))
    voided, last_voided = session.execute(
        select(func.count(), func.max(Vote.voided_at)).where(
            Vote.contest_id == contest_id, Vote.voided_at.is_not(None)
        )
    ).one()
    return (last_id, voided, last_voided)


def window_start(session: Session, contest_id: int, days: int) -> datetime | None:
    """``days`` before the contest's latest vote (None: no vote yet)."""
    latest = session.scalar(select(func.max(Vote.created_at)).where(Vote.contest_id == contest_id))
    return latest - timedelta(days=days) if latest else None


def run_review(session: Session, contest_id: int, days: int | None = None) -> ReviewRun:
    """Every rule over the window's votes, stored as the contest's latest run (flushed)."""
    state = votes_state(session, contest_id)
    since = window_start(session, contest_id, days or review_days())
    started = time.perf_counter()
    found = clusters.detect(session, contest_id, since=since) if since else []
    run = ReviewRun(
        contest_id=contest_id,
        since=since,
        seconds=time.perf_counter() - started,
        last_vote_id=state[0],
        voided_votes=state[1],
        last_voided_at=state[2],
        findings=[_stored(finding) for finding in found],
    )
    session.execute(delete(ReviewRun).where(ReviewRun.contest_id == contest_id))
    session.add(run)
    session.flush()
    return run


def latest_run(session: Session, contest_id: int) -> ReviewRun | None:
    return session.scalar(
        select(ReviewRun).where(ReviewRun.contest_id == contest_id).order_by(ReviewRun.id.desc()).limit(1)
    )


def is_small(session: Session, contest_id: int) -> bool:
    """Whether the contest has at most INLINE_VOTES votes (counted no further)."""
    first = select(Vote.id).where(Vote.contest_id == contest_id).limit(INLINE_VOTES + 1).subquery()
    return session.scalar(select(func.count()).select_from(first)) <= INLINE_VOTES


def current_run(session: Session, contest_id: int) -> tuple[ReviewRun | None, bool]:
    """The run the pages show, and whether it is current. A small contest's is always current."""
    run = latest_run(session, contest_id)
    if run is not None and run.state() == votes_state(session, contest_id):
        return run, True
    if is_small(session, contest_id):
        return run_review(session, contest_id), True
    return run, False


_CASES: dict[tuple[int, datetime], list[Case]] = {}  # a few runs' cases, per process
_CASES_KEPT = 4


def run_cases(run: ReviewRun | None, kind: ClusterKind | None = None) -> list[Case]:
    """The run's cases, the most recent first; with ``kind``, those where that rule applied.

    A run never changes (a new run is a new row), so its cases are joined once per process.
    """
    if run is None:
        return []
    key = (run.id, run.computed_at)
    if key not in _CASES:
        while len(_CASES) >= _CASES_KEPT:
            _CASES.pop(next(iter(_CASES)))
        _CASES[key] = cases_of([_loaded(stored) for stored in run.findings])
    return [case for case in _CASES[key] if kind is None or kind in case.kinds]


def find_run_case(run: ReviewRun | None, case_id: str) -> Case | None:
    return next((case for case in run_cases(run) if case.id == case_id), None)


def _stored(finding: Cluster) -> dict:
    return {
        "kind": str(finding.kind),
        "entry_id": finding.entry_id,
        "vote_ids": list(finding.vote_ids),
        "voter_ids": list(finding.voter_ids),
        "first_at": finding.first_at.isoformat(),
        "last_at": finding.last_at.isoformat(),
        "details": finding.details,
    }


def _loaded(stored: dict) -> Cluster:
    return Cluster(
        kind=ClusterKind(stored["kind"]),
        entry_id=stored["entry_id"],
        vote_ids=tuple(stored["vote_ids"]),
        voter_ids=tuple(stored["voter_ids"]),
        first_at=datetime.fromisoformat(stored["first_at"]),
        last_at=datetime.fromisoformat(stored["last_at"]),
        details=stored["details"],
    )
