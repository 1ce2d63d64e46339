"""Suspicious clusters of votes, for the organizers' review.

Three patterns that fake-account rings leave in the votes table (valid votes of one
contest only; a voided vote leaves every cluster):

* ``network_burst``: at least 5 votes for one entry from one network (``net_hash``)
  within 30 minutes, by accounts younger than 7 days;
* ``entry_burst``: an entry receiving at least 20 votes within 10 minutes, most of them
  from accounts younger than 2 days or cast without a page view or faster than a person
  (``since_view_ms`` missing or under 2 s); the cluster holds those suspicious votes;
* ``lookalike_names``: at least 4 voters of one entry whose names reduce to the same
  skeleton ("Nguyễn Văn An 01", "nguyen van an2") or whose e-mail local parts differ only
  by digits, with accounts created within 60 minutes of each other.

A cluster is a list of votes, named by a stable id (a hash of its kind and vote ids): the
page an organizer reviews and the votes voided are the same, and a cluster that gained or
lost votes since gets a new id.

Scale (2,000,000 votes): for each pattern one SQL query finds, with ``lag()``, the time
ranges where some window holds enough votes (or enough hasty ones); only the votes of
those ranges are loaded and examined exactly in Python.
"""

from __future__ import annotations

import enum
import hashlib
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import BigInteger, ColumnElement, Integer, and_, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.voting.models import Vote

# --- parameters -------------------------------------------------------------------------
NETWORK_BURST_MIN_VOTES = 5
NETWORK_BURST_WINDOW = timedelta(minutes=30)
NETWORK_BURST_MAX_ACCOUNT_AGE_S = 7 * 24 * 3600

ENTRY_BURST_MIN_VOTES = 20
ENTRY_BURST_WINDOW = timedelta(minutes=10)
ENTRY_BURST_MAX_ACCOUNT_AGE_S = 2 * 24 * 3600
ENTRY_BURST_MIN_SINCE_VIEW_MS = 2000  # faster than this from page to vote is not a person reading

LOOKALIKE_MIN_VOTERS = 4
LOOKALIKE_CREATED_WITHIN = timedelta(minutes=60)
# Shorter skeletons or e-mail stems match too many unrelated people.
LOOKALIKE_MIN_KEY_LENGTH = 4

# Candidate groups are loaded this many at a time (one query each).
LOAD_CHUNK = 200


class ClusterKind(enum.StrEnum):
    network_burst = "network_burst"
    entry_burst = "entry_burst"
    lookalike_names = "lookalike_names"


CLUSTER_LABELS = {
    ClusterKind.network_burst: _l("Young accounts from one network"),
    ClusterKind.entry_burst: _l("Burst of votes"),
    ClusterKind.lookalike_names: _l("Look-alike accounts"),
}


@dataclass(frozen=True)
class Cluster:
    kind: ClusterKind
    entry_id: int
    vote_ids: tuple[int, ...]  # sorted
    voter_ids: tuple[int, ...]  # sorted
    first_at: datetime
    last_at: datetime
    # What the summary line says: counts, minutes, the network's hash...
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        return cluster_id(self.kind, self.vote_ids)

    @property
    def label(self) -> str:
        return str(CLUSTER_LABELS[self.kind])

    @property
    def score(self) -> int:
        """How many votes the cluster would take back."""
        return len(self.vote_ids)

    def summary(self) -> str:
        """What was seen, in the reader's language (needs a request or application context)."""
        d = self.details
        if self.kind is ClusterKind.network_burst:
            return ngettext(
                "%(votes)d votes within %(num)d minute from one network, by accounts younger than %(days)d days.",
                "%(votes)d votes within %(num)d minutes from one network, by accounts younger than %(days)d days.",
                d["minutes"],
                votes=len(self.vote_ids),
                days=NETWORK_BURST_MAX_ACCOUNT_AGE_S // 86400,
            )
        if self.kind is ClusterKind.entry_burst:
            return ngettext(
                "%(suspicious)d of %(votes)d votes within %(num)d minute came from accounts younger than %(days)d days or without a page view.",
                "%(suspicious)d of %(votes)d votes within %(num)d minutes came from accounts younger than %(days)d days or without a page view.",
                d["minutes"],
                suspicious=len(self.vote_ids),
                votes=d["votes_in_burst"],
                days=ENTRY_BURST_MAX_ACCOUNT_AGE_S // 86400,
            )
        return ngettext(
            "%(voters)d accounts with look-alike names or e-mail addresses, created within %(num)d minute.",
            "%(voters)d accounts with look-alike names or e-mail addresses, created within %(num)d minutes.",
            d["created_within_minutes"],
            voters=len(self.voter_ids),
        )


def cluster_id(kind: ClusterKind | str, vote_ids: Iterable[int]) -> str:
    """16 hex digits naming exactly this set of votes of this kind."""
    text = f"{kind}:{','.join(str(i) for i in sorted(vote_ids))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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


# --- reading votes ----------------------------------------------------------------------
class _Vote(NamedTuple):
    id: int
    entry_id: int
    voter_id: int
    created_at: datetime
    net_hash: str
    account_age_s: int
    since_view_ms: int | None


_VOTE_COLUMNS = (
    Vote.id,
    Vote.entry_id,
    Vote.voter_id,
    Vote.created_at,
    Vote.net_hash,
    Vote.account_age_s,
    Vote.since_view_ms,
)


def _epoch(session: Session, column) -> ColumnElement:
    """Whole seconds since 1970 (UTC) of a timestamp column, in SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(extract("epoch", column)), BigInteger)


def _dense_runs(
    session: Session,
    contest_id: int,
    *,
    group: Sequence[ColumnElement],
    moment: ColumnElement,
    window_s: int,
    min_count: int,
    where: Sequence[ColumnElement] = (),
) -> dict[tuple, list[tuple[int, int]]]:
    """Per group, the epoch ranges [start, end] where some window holds ``min_count`` votes.

    In SQL, each vote is compared with the one ``min_count - 1`` places before it in its
    group (``lag()``): when both lie within ``window_s`` seconds, every window of that
    length holding the two lies in [later - window_s, earlier + window_s]. The ranges
    (merged) hold every dense window whole, so the exact check can run on them alone.
    """
    keys = [column.label(f"k{index}") for index, column in enumerate(group)]
    # Partition by an expression, not the bare column: otherwise PostgreSQL walks the
    # (entry, time) index in random heap order, several times slower than one sequential
    # scan and a sort on 2,000,000 votes.
    partition = [column + 0 if isinstance(column.type, Integer) else column for column in group]
    ordered = (
        select(
            *keys,
            moment.label("at"),
            func.lag(moment, min_count - 1).over(partition_by=partition, order_by=moment).label("earlier"),
        )
        .where(Vote.contest_id == contest_id, Vote.voided_at.is_(None), *where)
        .subquery("ordered")
    )
    rows = session.execute(
        select(
            *(ordered.c[f"k{index}"] for index in range(len(group))), ordered.c.earlier, ordered.c.at
        ).where(ordered.c.at - ordered.c.earlier <= window_s)
    )
    spans: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    for *values, earlier, at in rows:
        spans[tuple(values)].append((int(at) - window_s, int(earlier) + window_s))
    return {values: _merged(found) for values, found in spans.items()}


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _at(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _between(column, start: int, end: int) -> tuple[ColumnElement, ColumnElement]:
    """``column`` within whole seconds [start, end] (the SQL epoch was floored)."""
    return column >= _at(start), column < _at(end + 1)


def _load(
    session: Session,
    contest_id: int,
    ranges: dict[tuple, list[tuple[int, int]]],
    condition: Callable[[tuple, int, int], ColumnElement],
    where: Sequence[ColumnElement] = (),
) -> list[_Vote]:
    """The valid votes of each group's ranges, ``LOAD_CHUNK`` ranges per query."""
    pieces = [condition(group, start, end) for group, spans in ranges.items() for start, end in spans]
    votes: dict[int, _Vote] = {}
    for first in range(0, len(pieces), LOAD_CHUNK):
        query = select(*_VOTE_COLUMNS).where(
            Vote.contest_id == contest_id,
            Vote.voided_at.is_(None),
            *where,
            or_(*pieces[first : first + LOAD_CHUNK]),
        )
        for row in session.execute(query):
            votes[row.id] = _Vote(*row)
    return sorted(votes.values(), key=lambda v: (v.created_at, v.id))


# --- windows over time ------------------------------------------------------------------
def _marked(times: Sequence[datetime], window: timedelta, dense: Callable[[int, int], bool]) -> list[bool]:
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


def _runs(items: Sequence, times: Sequence[datetime], marks: Sequence[bool], gap: timedelta) -> list[list]:
    """The marked items, split where two consecutive ones lie more than ``gap`` apart."""
    runs: list[list] = []
    last: datetime | None = None
    for item, moment, marked in zip(items, times, marks, strict=True):
        if not marked:
            continue
        if last is None or moment - last > gap:
            runs.append([])
        runs[-1].append(item)
        last = moment
    return runs


def _minutes(first: datetime, last: datetime) -> int:
    """The span in whole minutes, at least one."""
    return max(1, round((last - first).total_seconds() / 60))


def _cluster(kind: ClusterKind, entry_id: int, votes: Sequence[_Vote], **details) -> Cluster:
    return Cluster(
        kind=kind,
        entry_id=entry_id,
        vote_ids=tuple(sorted(v.id for v in votes)),
        voter_ids=tuple(sorted({v.voter_id for v in votes})),
        first_at=min(v.created_at for v in votes),
        last_at=max(v.created_at for v in votes),
        details=details,
    )


def _by(votes: Iterable[_Vote], key: Callable[[_Vote], Any]) -> dict[Any, list[_Vote]]:
    groups: dict[Any, list[_Vote]] = defaultdict(list)
    for vote in votes:
        groups[key(vote)].append(vote)
    return groups


# --- network burst ----------------------------------------------------------------------
def network_bursts(session: Session, contest_id: int) -> list[Cluster]:
    young = (Vote.account_age_s < NETWORK_BURST_MAX_ACCOUNT_AGE_S, Vote.net_hash != "")
    ranges = _dense_runs(
        session,
        contest_id,
        group=(Vote.entry_id, Vote.net_hash),
        moment=_epoch(session, Vote.created_at),
        window_s=int(NETWORK_BURST_WINDOW.total_seconds()),
        min_count=NETWORK_BURST_MIN_VOTES,
        where=young,
    )
    votes = _load(
        session,
        contest_id,
        ranges,
        lambda group, start, end: and_(
            Vote.entry_id == group[0], Vote.net_hash == group[1], *_between(Vote.created_at, start, end)
        ),
        where=young,
    )
    clusters = []
    for (entry_id, net_hash), group in _by(votes, lambda v: (v.entry_id, v.net_hash)).items():
        times = [v.created_at for v in group]
        marks = _marked(times, NETWORK_BURST_WINDOW, lambda i, j: j - i >= NETWORK_BURST_MIN_VOTES)
        for run in _runs(group, times, marks, NETWORK_BURST_WINDOW):
            clusters.append(
                _cluster(
                    ClusterKind.network_burst,
                    entry_id,
                    run,
                    net_hash=net_hash,
                    minutes=_minutes(run[0].created_at, run[-1].created_at),
                )
            )
    return clusters


# --- entry burst ------------------------------------------------------------------------
def is_hasty(vote: _Vote) -> bool:
    """A vote from a very young account, or without a page view, or faster than a person."""
    return (
        vote.account_age_s < ENTRY_BURST_MAX_ACCOUNT_AGE_S
        or vote.since_view_ms is None
        or vote.since_view_ms < ENTRY_BURST_MIN_SINCE_VIEW_MS
    )


def entry_bursts(session: Session, contest_id: int) -> list[Cluster]:
    hasty = or_(
        Vote.account_age_s < ENTRY_BURST_MAX_ACCOUNT_AGE_S,
        Vote.since_view_ms.is_(None),
        Vote.since_view_ms < ENTRY_BURST_MIN_SINCE_VIEW_MS,
    )
    # Most of at least 20 votes: more than 10 hasty ones within the window.
    ranges = _dense_runs(
        session,
        contest_id,
        group=(Vote.entry_id,),
        moment=_epoch(session, Vote.created_at),
        window_s=int(ENTRY_BURST_WINDOW.total_seconds()),
        min_count=ENTRY_BURST_MIN_VOTES // 2 + 1,
        where=(hasty,),
    )
    votes = _load(  # every vote of those ranges: the share of hasty ones needs the whole count
        session,
        contest_id,
        ranges,
        lambda group, start, end: and_(Vote.entry_id == group[0], *_between(Vote.created_at, start, end)),
    )
    clusters = []
    for entry_id, group in _by(votes, lambda v: v.entry_id).items():
        clusters += _entry_bursts_of(entry_id, group)
    return clusters


def _entry_bursts_of(entry_id: int, votes: list[_Vote]) -> list[Cluster]:
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
    marks = _marked(times, ENTRY_BURST_WINDOW, dense)
    for run in _runs(votes, times, marks, ENTRY_BURST_WINDOW):
        suspicious = [v for v in run if is_hasty(v)]
        clusters.append(
            _cluster(
                ClusterKind.entry_burst,
                entry_id,
                suspicious,
                votes_in_burst=len(run),
                minutes=_minutes(run[0].created_at, run[-1].created_at),
            )
        )
    return clusters


# --- look-alike names -------------------------------------------------------------------
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
    votes: list[_Vote] = field(default_factory=list)


def lookalike_names(session: Session, contest_id: int) -> list[Cluster]:
    # When the voter's account was created, read from the vote alone (no join): the vote's
    # time less the account's age then, to the second.
    created = _epoch(session, Vote.created_at) - Vote.account_age_s
    ranges = _dense_runs(
        session,
        contest_id,
        group=(Vote.entry_id,),
        moment=created,
        window_s=int(LOOKALIKE_CREATED_WITHIN.total_seconds()),
        min_count=LOOKALIKE_MIN_VOTERS,
    )
    slack = 2  # the age is rounded to the second, the time floored
    votes = _load(
        session,
        contest_id,
        ranges,
        lambda group, start, end: and_(
            Vote.entry_id == group[0], created >= start - slack, created <= end + slack
        ),
    )
    voters = _voters(session, {v.voter_id for v in votes})
    clusters = []
    for entry_id, group in _by(votes, lambda v: v.entry_id).items():
        clusters += _lookalikes_of(entry_id, group, voters)
    return clusters


def _voters(session: Session, ids: set[int]) -> dict[int, tuple[datetime, tuple[str, ...]]]:
    """Per voter: when the account was created, and its look-alike keys."""
    found = {}
    ordered = sorted(ids)
    for first in range(0, len(ordered), 1000):
        rows = session.execute(
            select(User.id, User.created_at, User.full_name, User.email_canonical).where(
                User.id.in_(ordered[first : first + 1000])
            )
        )
        for user_id, created_at, full_name, email in rows:
            keys = [f"name:{name_skeleton(full_name)}", f"email:{email_stem(email)}"]
            found[user_id] = (
                created_at,
                tuple(k for k in keys if len(k.partition(":")[2]) >= LOOKALIKE_MIN_KEY_LENGTH),
            )
    return found


def _lookalikes_of(
    entry_id: int, votes: list[_Vote], known: dict[int, tuple[datetime, tuple[str, ...]]]
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
        marks = _marked(times, LOOKALIKE_CREATED_WITHIN, lambda i, j: j - i >= LOOKALIKE_MIN_VOTERS)
        for run in _runs(alike, times, marks, LOOKALIKE_CREATED_WITHIN):
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
            _cluster(
                ClusterKind.lookalike_names,
                entry_id,
                [vote for voter in ring for vote in voter.votes],
                created_within_minutes=_minutes(created[0], created[-1]),
            )
        )
    return clusters


DETECTORS: dict[ClusterKind, Callable[[Session, int], list[Cluster]]] = {
    ClusterKind.network_burst: network_bursts,
    ClusterKind.entry_burst: entry_bursts,
    ClusterKind.lookalike_names: lookalike_names,
}
