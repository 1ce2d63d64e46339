"""Network bursts: many votes for one entry from one network within minutes, by young accounts.

The thresholds are in contest.voting.clusters.kinds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_
from sqlalchemy.orm import Session

from contest.voting.clusters.kinds import (
    NETWORK_BURST_MAX_ACCOUNT_AGE_S,
    NETWORK_BURST_MIN_VOTES,
    NETWORK_BURST_WINDOW,
    Cluster,
    ClusterKind,
)
from contest.voting.clusters.scan import between, dense_ranges, epoch, in_window, load_votes
from contest.voting.clusters.windows import cluster_of, grouped_by, marked, minutes_between, runs_of
from contest.voting.models import Vote


def network_bursts(session: Session, contest_id: int, since: datetime | None = None) -> list[Cluster]:
    young = (Vote.account_age_s < NETWORK_BURST_MAX_ACCOUNT_AGE_S, Vote.net_hash != "", *in_window(since))
    ranges = dense_ranges(
        session,
        contest_id,
        group=(Vote.entry_id, Vote.net_hash),
        moment=epoch(session, Vote.created_at),
        window_s=int(NETWORK_BURST_WINDOW.total_seconds()),
        min_count=NETWORK_BURST_MIN_VOTES,
        where=young,
    )
    votes = load_votes(
        session,
        contest_id,
        ranges,
        lambda group, start, end: and_(
            Vote.entry_id == group[0], Vote.net_hash == group[1], *between(Vote.created_at, start, end)
        ),
        where=young,
    )
    clusters = []
    for (entry_id, net_hash), group in grouped_by(votes, lambda v: (v.entry_id, v.net_hash)).items():
        times = [v.created_at for v in group]
        marks = marked(times, NETWORK_BURST_WINDOW, lambda i, j: j - i >= NETWORK_BURST_MIN_VOTES)
        for run in runs_of(group, times, marks, NETWORK_BURST_WINDOW):
            clusters.append(
                cluster_of(
                    ClusterKind.network_burst,
                    entry_id,
                    run,
                    net_hash=net_hash,
                    minutes=minutes_between(run[0].created_at, run[-1].created_at),
                )
            )
    return clusters
