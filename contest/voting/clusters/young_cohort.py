"""Young cohorts: a ring spread over many networks, seen by its accounts rather than its addresses.

Many young accounts, registered in the same period (ahead of their votes), voting for one
entry within minutes and for nothing else in the contest. The thresholds are in
contest.voting.clusters.kinds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from contest.voting.clusters.kinds import (
    COHORT_CREATED_WITHIN,
    COHORT_MAX_ACCOUNT_AGE_S,
    COHORT_MIN_ACCOUNT_AGE_S,
    COHORT_MIN_VOTES,
    COHORT_WINDOW,
    Cluster,
    ClusterKind,
)
from contest.voting.clusters.scan import VoteRow, between, dense_ranges, epoch, in_window, load_votes
from contest.voting.clusters.windows import cluster_of, grouped_by, marked, minutes_between, runs_of
from contest.voting.models import Vote


def created_at(vote: VoteRow) -> datetime:
    """When the voter's account was created, read from the vote alone."""
    return vote.created_at - timedelta(seconds=vote.account_age_s)


def young_cohorts(session: Session, contest_id: int, since: datetime | None = None) -> list[Cluster]:
    young = (
        Vote.account_age_s < COHORT_MAX_ACCOUNT_AGE_S,
        Vote.account_age_s >= COHORT_MIN_ACCOUNT_AGE_S,
        *in_window(since),
    )
    ranges = dense_ranges(
        session,
        contest_id,
        group=(Vote.entry_id,),
        moment=epoch(session, Vote.created_at),
        window_s=int(COHORT_WINDOW.total_seconds()),
        min_count=COHORT_MIN_VOTES,
        where=young,
    )
    votes = load_votes(
        session,
        contest_id,
        ranges,
        lambda group, start, end: and_(Vote.entry_id == group[0], *between(Vote.created_at, start, end)),
        where=young,
    )
    faithful = _voters_of_one_entry(session, contest_id, {v.voter_id for v in votes})
    clusters = []
    for entry_id, group in grouped_by(votes, lambda v: v.entry_id).items():
        clusters += _cohorts_of(entry_id, [v for v in group if v.voter_id in faithful])
    return clusters


def _voters_of_one_entry(session: Session, contest_id: int, ids: set[int]) -> set[int]:
    """Those of ``ids`` whose valid votes in the contest all go to one entry."""
    found: set[int] = set()
    ordered = sorted(ids)
    for first in range(0, len(ordered), 1000):
        rows = session.execute(
            select(Vote.voter_id)
            .where(
                Vote.contest_id == contest_id,
                Vote.voided_at.is_(None),
                Vote.voter_id.in_(ordered[first : first + 1000]),
            )
            .group_by(Vote.voter_id)
            .having(func.count(distinct(Vote.entry_id)) == 1)
        )
        found.update(rows.scalars())
    return found


def _cohorts_of(entry_id: int, votes: list[VoteRow]) -> list[Cluster]:
    """Accounts created close together first, then, among them, votes cast close together."""
    if len(votes) < COHORT_MIN_VOTES:
        return []
    by_creation = sorted(votes, key=lambda v: (created_at(v), v.id))
    created = [created_at(v) for v in by_creation]
    marks = marked(created, COHORT_CREATED_WITHIN, lambda i, j: j - i >= COHORT_MIN_VOTES)
    clusters = []
    for cohort in runs_of(by_creation, created, marks, COHORT_CREATED_WITHIN):
        cohort.sort(key=lambda v: (v.created_at, v.id))
        times = [v.created_at for v in cohort]
        voting = marked(times, COHORT_WINDOW, lambda i, j: j - i >= COHORT_MIN_VOTES)
        for run in runs_of(cohort, times, voting, COHORT_WINDOW):
            accounts = sorted(created_at(v) for v in run)
            clusters.append(
                cluster_of(
                    ClusterKind.young_cohort,
                    entry_id,
                    run,
                    minutes=minutes_between(run[0].created_at, run[-1].created_at),
                    networks=len({v.net_hash for v in run}),
                    created_within_hours=max(1, round((accounts[-1] - accounts[0]).total_seconds() / 3600)),
                )
            )
    return clusters
