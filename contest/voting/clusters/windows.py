"""The exact check the cluster detectors run on the loaded votes: windows over time.

A window [t, t + length] is dense when the detector says so; the items of dense windows
are marked, split into runs where they lie far apart, and each run becomes a cluster.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from contest.voting.clusters.kinds import Cluster, ClusterKind
from contest.voting.clusters.scan import VoteRow


def marked(times: Sequence[datetime], window: timedelta, dense: Callable[[int, int], bool]) -> list[bool]:
    """Which items (sorted by time) lie in a window [t_i, t_i + window] for which ``dense(i, j)``.

    ``dense`` receives the window's items as the slice [i, j).
    """
    count = len(times)
    cover = [0] * (count + 1)
    j = 0
    for i in range(count):
        j = max(j, i)
        while j < count and times[j] - times[i] <= window:
            j += 1
        if dense(i, j):
            cover[i] += 1
            cover[j] -= 1
    marks, running = [], 0
    for i in range(count):
        running += cover[i]
        marks.append(running > 0)
    return marks


def runs_of(items: Sequence, times: Sequence[datetime], marks: Sequence[bool], gap: timedelta) -> list[list]:
    """The marked items, split where two consecutive ones lie more than ``gap`` apart."""
    runs: list[list] = []
    last: datetime | None = None
    for item, moment, is_marked in zip(items, times, marks, strict=True):
        if not is_marked:
            continue
        if last is None or moment - last > gap:
            runs.append([])
        runs[-1].append(item)
        last = moment
    return runs


def minutes_between(first: datetime, last: datetime) -> int:
    """The span in whole minutes, at least one."""
    return max(1, round((last - first).total_seconds() / 60))


def cluster_of(kind: ClusterKind, entry_id: int, votes: Sequence[VoteRow], **details) -> Cluster:
    return Cluster(
        kind=kind,
        entry_id=entry_id,
        vote_ids=tuple(sorted(v.id for v in votes)),
        voter_ids=tuple(sorted({v.voter_id for v in votes})),
        first_at=min(v.created_at for v in votes),
        last_at=max(v.created_at for v in votes),
        details=details,
    )


def grouped_by(votes: Iterable[VoteRow], key: Callable[[VoteRow], Any]) -> dict[Any, list[VoteRow]]:
    groups: dict[Any, list[VoteRow]] = defaultdict(list)
    for vote in votes:
        groups[key(vote)].append(vote)
    return groups
