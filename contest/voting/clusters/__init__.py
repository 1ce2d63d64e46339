"""Suspicious votes, for the organizers' review: every rule's findings, joined into cases.

Each rule has its own module (network_burst, entry_burst, lookalike_names, young_cohort;
their thresholds and what a finding is: kinds). Each finds, in SQL, the time ranges where
enough votes gather (scan) and examines only those votes exactly in Python (windows), so
that it scales to 2,000,000 votes. Findings of one ring are one case (cases).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from contest.voting.clusters.cases import Case, cases_of
from contest.voting.clusters.entry_burst import entry_bursts
from contest.voting.clusters.kinds import Cluster, ClusterKind
from contest.voting.clusters.lookalike_names import lookalike_names
from contest.voting.clusters.network_burst import network_bursts
from contest.voting.clusters.young_cohort import young_cohorts

# Each rule: (session, contest id, since) -> its findings among the valid votes cast since then.
DETECTORS: dict[ClusterKind, Callable[[Session, int, datetime | None], list[Cluster]]] = {
    ClusterKind.network_burst: network_bursts,
    ClusterKind.entry_burst: entry_bursts,
    ClusterKind.lookalike_names: lookalike_names,
    ClusterKind.young_cohort: young_cohorts,
}


def detect(
    session: Session,
    contest_id: int,
    kinds: Iterable[ClusterKind] | None = None,
    since: datetime | None = None,
) -> list[Cluster]:
    """The contest's clusters among the votes cast since ``since`` (None: all), the most recent first."""
    found: list[Cluster] = []
    for kind in kinds or list(ClusterKind):
        found += DETECTORS[kind](session, contest_id, since)
    return sorted(found, key=lambda c: (c.last_at, c.id), reverse=True)


def detect_cases(
    session: Session, contest_id: int, kind: ClusterKind | None = None, since: datetime | None = None
) -> list[Case]:
    """The contest's cases, the most recent first; with ``kind``, those where that rule applied."""
    cases = cases_of(detect(session, contest_id, since=since))
    return [case for case in cases if kind is None or kind in case.kinds]


def find_case(session: Session, contest_id: int, case_id: str) -> Case | None:
    """The case named ``case_id`` as it stands now (None: its votes or their rules changed)."""
    return next((case for case in detect_cases(session, contest_id) if case.id == case_id), None)


def find(
    session: Session, contest_id: int, wanted_id: str, kind: ClusterKind | None = None
) -> Cluster | None:
    """The cluster named ``wanted_id`` as it stands now (None: it changed or its votes were voided).

    Knowing its kind, only that pattern is searched again.
    """
    kinds = [kind] if kind else list(ClusterKind)
    return next((c for k in kinds for c in DETECTORS[k](session, contest_id) if c.id == wanted_id), None)
