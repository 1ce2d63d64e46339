"""Cases: one per suspected ring, from what every rule found.

Findings (kinds.Cluster: the votes one rule met) that share a ring's voter, or that name one
entry and one network, are one case: a ring caught by several rules is one case, not several
overlapping groups. Each vote of a case keeps the rules it met. The votes voided by default
are those meeting a rule that marks a ring (kinds.VOIDING_KINDS); a vote met by the burst
rule alone is shown, unselected: the organizer selects more if other signs point to a ring.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from flask_babel import ngettext

from contest.voting.clusters.kinds import VOIDING_KINDS, Cluster, ClusterKind, window

_KIND_ORDER = {kind: index for index, kind in enumerate(ClusterKind)}


@dataclass(frozen=True)
class Case:
    findings: tuple[Cluster, ...]
    # vote id -> the rules it met, in ClusterKind order
    rules: dict[int, tuple[ClusterKind, ...]] = field(compare=False, hash=False)

    @cached_property  # computed once: lists sort and search by it
    def id(self) -> str:
        """16 hex digits naming these votes and the rules each met: a changed case gets a new id."""
        text = ";".join(f"{vote}={'+'.join(kinds)}" for vote, kinds in sorted(self.rules.items()))
        return hashlib.sha256(f"case:{text}".encode()).hexdigest()[:16]

    @property
    def vote_ids(self) -> tuple[int, ...]:
        return tuple(sorted(self.rules))

    @property
    def default_vote_ids(self) -> tuple[int, ...]:
        """The votes that meet a rule marking a ring: what "void" takes unless more are selected."""
        return tuple(vote for vote, kinds in sorted(self.rules.items()) if VOIDING_KINDS & set(kinds))

    @property
    def voter_ids(self) -> tuple[int, ...]:
        return tuple(sorted({voter for finding in self.findings for voter in finding.voter_ids}))

    @property
    def entry_ids(self) -> tuple[int, ...]:
        return tuple(sorted({finding.entry_id for finding in self.findings}))

    @property
    def kinds(self) -> tuple[ClusterKind, ...]:
        """Every rule that applied, in ClusterKind order."""
        return tuple(sorted({finding.kind for finding in self.findings}, key=_KIND_ORDER.__getitem__))

    @property
    def first_at(self) -> datetime:
        return min(finding.first_at for finding in self.findings)

    @property
    def last_at(self) -> datetime:
        return max(finding.last_at for finding in self.findings)

    def summary(self) -> str:
        """How many votes, by how many accounts, over which real window (needs a request context)."""
        return ngettext(
            "%(num)d vote by %(voters)d accounts, %(window)s.",
            "%(num)d votes by %(voters)d accounts, %(window)s.",
            len(self.rules),
            voters=len(self.voter_ids),
            window=window(self.first_at, self.last_at),
        )


def cases_of(findings: list[Cluster]) -> list[Case]:
    """The findings joined into cases, the most recent first."""
    ring_voters = {voter for f in findings if f.kind in VOIDING_KINDS for voter in f.voter_ids}
    parent = list(range(len(findings)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[tuple, int] = {}
    for index, finding in enumerate(findings):
        for key in _links(finding, ring_voters):
            if key in owner:
                parent[root(index)] = root(owner[key])
            else:
                owner[key] = index
    groups: dict[int, list[Cluster]] = defaultdict(list)
    for index, finding in enumerate(findings):
        groups[root(index)].append(finding)
    cases = [_case(group) for group in groups.values()]
    return sorted(cases, key=lambda c: (c.last_at, c.id), reverse=True)


def _links(finding: Cluster, ring_voters: set[int]) -> list[tuple]:
    """What joins a finding to others of the same ring.

    A burst joins through the ring's voters only: a real visitor caught in two bursts does
    not make two rings one.
    """
    voters = finding.voter_ids
    if finding.kind is ClusterKind.entry_burst:
        voters = tuple(v for v in voters if v in ring_voters)
    keys: list[tuple] = [("voter", voter) for voter in voters]
    if finding.kind is ClusterKind.network_burst:
        keys.append(("network", finding.entry_id, finding.details["net_hash"]))
    return keys


def _case(findings: list[Cluster]) -> Case:
    met: dict[int, set[ClusterKind]] = defaultdict(set)
    for finding in findings:
        for vote in finding.vote_ids:
            met[vote].add(finding.kind)
    rules = {vote: tuple(sorted(kinds, key=_KIND_ORDER.__getitem__)) for vote, kinds in met.items()}
    ordered = sorted(findings, key=lambda f: (_KIND_ORDER[f.kind], f.first_at, f.id))
    return Case(findings=tuple(ordered), rules=rules)
