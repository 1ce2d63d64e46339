"""Entry bursts: an entry receiving many votes within minutes, most of them hasty.

A vote is hasty when its account is very young, or it was cast without a page view or
faster than a person reads (is_hasty). The thresholds are in contest.voting.clusters.kinds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from contest.voting.clusters.kinds import (
    ENTRY_BURST_MAX_ACCOUNT_AGE_S,
    ENTRY_BURST_MIN_SINCE_VIEW_MS,
    ENTRY_BURST_MIN_VOTES,
    ENTRY_BURST_WINDOW,
    Cluster,
    ClusterKind,
)
from contest.voting.clusters.scan import VoteRow, between, dense_ranges, epoch, in_window, load_votes
from contest.voting.clusters.windows import cluster_of, grouped_by, marked, minutes_between, runs_of
from contest.voting.models import Vote


def is_hasty(vote: VoteRow) -> bool:
    """A vote from a very young account, or without a page view, or faster than a person."""
    return (
        vote.account_age_s < ENTRY_BURST_MAX_ACCOUNT_AGE_S
        or vote.since_view_ms is None
        or vote.since_view_ms < ENTRY_BURST_MIN_SINCE_VIEW_MS
    )


def entry_bursts(session: Session, contest_id: int, since: datetime | None = None) -> list[Cluster]:
    hasty = or_(
        Vote.account_age_s < ENTRY_BURST_MAX_ACCOUNT_AGE_S,
        Vote.since_view_ms.is_(None),
        Vote.since_view_ms < ENTRY_BURST_MIN_SINCE_VIEW_MS,
    )
    # Most of at least 20 votes: more than 10 hasty ones within the window.
    ranges = dense_ranges(
        session,
        contest_id,
        group=(Vote.entry_id,),
        moment=epoch(session, Vote.created_at),
        window_s=int(ENTRY_BURST_WINDOW.total_seconds()),
        min_count=ENTRY_BURST_MIN_VOTES // 2 + 1,
        where=(hasty, *in_window(since)),
    )
    votes = load_votes(  # every vote of those ranges: the share of hasty ones needs the whole count
        session,
        contest_id,
        ranges,
        lambda group, start, end: and_(Vote.entry_id == group[0], *between(Vote.created_at, start, end)),
        where=in_window(since),
    )
    clusters = []
    for entry_id, group in grouped_by(votes, lambda v: v.entry_id).items():
        clusters += _entry_bursts_of(entry_id, group)
    return clusters


def _entry_bursts_of(entry_id: int, votes: list[VoteRow]) -> list[Cluster]:
    """The bursts among an entry's loaded votes.

    A window that reaches past a loaded range holds fewer than 11 hasty votes (else they
    would have a range of their own, merged with this one): judged on its loaded part, it
    is no burst either.
    """
    times = [v.created_at for v in votes]
    hasty_before = [0]
    for vote in votes:
        hasty_before.append(hasty_before[-1] + is_hasty(vote))

    def dense(i: int, j: int) -> bool:
        total, hasty = j - i, hasty_before[j] - hasty_before[i]
        return total >= ENTRY_BURST_MIN_VOTES and 2 * hasty > total

    clusters = []
    marks = marked(times, ENTRY_BURST_WINDOW, dense)
    for run in runs_of(votes, times, marks, ENTRY_BURST_WINDOW):
        suspicious = [v for v in run if is_hasty(v)]
        clusters.append(
            cluster_of(
                ClusterKind.entry_burst,
                entry_id,
                suspicious,
                votes_in_burst=len(run),
                minutes=minutes_between(run[0].created_at, run[-1].created_at),
            )
        )
    return clusters
