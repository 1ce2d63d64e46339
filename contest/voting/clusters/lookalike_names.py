"""Look-alike accounts: several voters of one entry with look-alike names or e-mail addresses,
created within the hour.

Names are compared by their skeleton (no accents, case, digits or punctuation) and e-mail
addresses by their local part without digits; voters sharing a key, created close together,
are joined into rings. The thresholds are in contest.voting.clusters.kinds.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.voting.clusters.kinds import (
    LOOKALIKE_CREATED_WITHIN,
    LOOKALIKE_MIN_KEY_LENGTH,
    LOOKALIKE_MIN_VOTERS,
    Cluster,
    ClusterKind,
)
from contest.voting.clusters.scan import VoteRow, in_window, load_voters_votes
from contest.voting.clusters.windows import cluster_of, grouped_by, marked, minutes_between, runs_of
from contest.voting.models import Vote


def name_skeleton(name: str) -> str:
    """The letters of a name without accents, case, digits, spaces or punctuation.

    "Nguyễn Văn An 01" and "nguyen van an2" are both "nguyenvanan" (đ becomes d).
    """
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in plain.casefold() if c.isalpha() and not unicodedata.combining(c))


def email_stem(canonical_email: str) -> str:
    """The e-mail address's local part without digits: "an.nguyen01" and "an.nguyen2" share one."""
    local = canonical_email.rpartition("@")[0] or canonical_email
    return "".join(c for c in local if not c.isdigit())


@dataclass
class _Voter:
    id: int
    created_at: datetime
    keys: tuple[str, ...]
    votes: list[VoteRow] = field(default_factory=list)


def lookalike_names(session: Session, contest_id: int, since: datetime | None = None) -> list[Cluster]:
    """Candidate groups first (the window's voters sharing a key, created close together),
    then the votes of those candidates alone, examined per entry."""
    voted = select(Vote.voter_id).where(
        Vote.contest_id == contest_id, Vote.voided_at.is_(None), *in_window(since)
    )
    voters = _voters(session, voted.distinct().scalar_subquery())
    candidates = sorted(_candidates(voters))
    votes: list[VoteRow] = []
    for first in range(0, len(candidates), 1000):
        votes += load_voters_votes(session, contest_id, candidates[first : first + 1000], since)
    clusters = []
    for entry_id, group in grouped_by(votes, lambda v: v.entry_id).items():
        clusters += _lookalikes_of(entry_id, group, voters)
    return clusters


def _voters(session: Session, ids) -> dict[int, tuple[datetime, tuple[str, ...]]]:
    """Per voter of ``ids`` (a subquery): when the account was created, and its look-alike keys."""
    found = {}
    rows = session.execute(
        select(User.id, User.created_at, User.full_name, User.email_canonical).where(User.id.in_(ids))
    )
    for user_id, created_at, full_name, email in rows:
        keys = [f"name:{name_skeleton(full_name)}", f"email:{email_stem(email)}"]
        found[user_id] = (
            created_at,
            tuple(k for k in keys if len(k.partition(":")[2]) >= LOOKALIKE_MIN_KEY_LENGTH),
        )
    return found


def _candidates(voters: dict[int, tuple[datetime, tuple[str, ...]]]) -> set[int]:
    """The voters that share a key with enough others created within the hour, whatever they
    voted for: only they can be in a ring of one entry (each key's accounts, by creation time,
    not every pair)."""
    by_key: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for voter_id, (created_at, keys) in voters.items():
        for key in keys:
            by_key[key].append((created_at, voter_id))
    found: set[int] = set()
    for alike in by_key.values():
        if len(alike) < LOOKALIKE_MIN_VOTERS:
            continue
        alike.sort()
        times = [created for created, _ in alike]
        marks = marked(times, LOOKALIKE_CREATED_WITHIN, lambda i, j: j - i >= LOOKALIKE_MIN_VOTERS)
        found.update(voter_id for (_, voter_id), is_marked in zip(alike, marks, strict=True) if is_marked)
    return found


def _lookalikes_of(
    entry_id: int, votes: list[VoteRow], known: dict[int, tuple[datetime, tuple[str, ...]]]
) -> list[Cluster]:
    voters: dict[int, _Voter] = {}
    for vote in votes:
        if vote.voter_id not in voters:
            created_at, keys = known[vote.voter_id]
            voters[vote.voter_id] = _Voter(vote.voter_id, created_at, keys)
        voters[vote.voter_id].votes.append(vote)
    by_key: dict[str, list[_Voter]] = defaultdict(list)
    for voter in voters.values():
        for key in voter.keys:
            by_key[key].append(voter)
    parent = {voter_id: voter_id for voter_id in voters}

    def root(voter_id: int) -> int:
        while parent[voter_id] != voter_id:
            parent[voter_id] = parent[parent[voter_id]]
            voter_id = parent[voter_id]
        return voter_id

    for alike in by_key.values():
        if len(alike) < LOOKALIKE_MIN_VOTERS:
            continue
        alike.sort(key=lambda v: (v.created_at, v.id))
        times = [v.created_at for v in alike]
        marks = marked(times, LOOKALIKE_CREATED_WITHIN, lambda i, j: j - i >= LOOKALIKE_MIN_VOTERS)
        for run in runs_of(alike, times, marks, LOOKALIKE_CREATED_WITHIN):
            for voter in run[1:]:
                parent[root(voter.id)] = root(run[0].id)
    rings: dict[int, list[_Voter]] = defaultdict(list)
    for voter_id, voter in voters.items():
        rings[root(voter_id)].append(voter)
    clusters = []
    for ring in rings.values():
        if len(ring) < LOOKALIKE_MIN_VOTERS:
            continue
        created = sorted(v.created_at for v in ring)
        clusters.append(
            cluster_of(
                ClusterKind.lookalike_names,
                entry_id,
                [vote for voter in ring for vote in voter.votes],
                created_within_minutes=minutes_between(created[0], created[-1]),
            )
        )
    return clusters
