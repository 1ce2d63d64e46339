"""Suspicious clusters of votes, for the organizers' review: the three kinds, found together.

Each kind has its own module (network_burst, entry_burst, lookalike_names; their thresholds
and what a cluster is: kinds). Each finds, in SQL, the time ranges where enough votes gather
(scan) and examines only those votes exactly in Python (windows), so that it scales to
2,000,000 votes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from contest.voting.clusters.entry_burst import entry_bursts
from contest.voting.clusters.kinds import Cluster, ClusterKind
from contest.voting.clusters.lookalike_names import lookalike_names
from contest.voting.clusters.network_burst import network_bursts

DETECTORS: dict[ClusterKind, Callable[[Session, int], list[Cluster]]] = {
    ClusterKind.network_burst: network_bursts,
    ClusterKind.entry_burst: entry_bursts,
    ClusterKind.lookalike_names: lookalike_names,
}


def detect(session: Session, contest_id: int, kinds: Iterable[ClusterKind] | None = None) -> list[Cluster]:
    """The contest's clusters, the most recent first."""
    found: list[Cluster] = []
    for kind in kinds or list(ClusterKind):
        found += DETECTORS[kind](session, contest_id)
    return sorted(found, key=lambda c: (c.last_at, c.id), reverse=True)


def find(
    session: Session, contest_id: int, wanted_id: str, kind: ClusterKind | None = None
) -> Cluster | None:
    """The cluster named ``wanted_id`` as it stands now (None: it changed or its votes were voided).

    Knowing its kind, only that pattern is searched again.
    """
    kinds = [kind] if kind else list(ClusterKind)
    return next((c for k in kinds for c in DETECTORS[k](session, contest_id) if c.id == wanted_id), None)
