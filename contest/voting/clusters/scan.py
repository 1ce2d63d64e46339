"""Which votes the cluster detectors examine: the time ranges found in SQL, then their votes.

For each pattern one SQL query finds, with ``lag()``, the time ranges where some window
holds enough votes (or enough hasty ones); only the valid votes of those ranges are loaded,
to be examined exactly in Python (contest.voting.clusters.windows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, ColumnElement, Integer, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from contest.voting.models import Vote

# Candidate groups are loaded this many at a time (one query each).
LOAD_CHUNK = 200


class VoteRow(NamedTuple):
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


def in_window(since: datetime | None) -> tuple[ColumnElement, ...]:
    """The review's window: votes cast since ``since`` (the (contest, time) index finds them);
    None: every vote of the contest."""
    return () if since is None else (Vote.created_at >= since,)


def epoch(session: Session, column) -> ColumnElement:
    """Whole seconds since 1970 (UTC) of a timestamp column, in SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.floor(extract("epoch", column)), BigInteger)


def dense_ranges(
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


def between(column, start: int, end: int) -> tuple[ColumnElement, ColumnElement]:
    """``column`` within whole seconds [start, end] (the SQL epoch was floored)."""
    return column >= _at(start), column < _at(end + 1)


def load_votes(
    session: Session,
    contest_id: int,
    ranges: dict[tuple, list[tuple[int, int]]],
    condition: Callable[[tuple, int, int], ColumnElement],
    where: Sequence[ColumnElement] = (),
) -> list[VoteRow]:
    """The valid votes of each group's ranges, ``LOAD_CHUNK`` ranges per query."""
    pieces = [condition(group, start, end) for group, spans in ranges.items() for start, end in spans]
    votes: dict[int, VoteRow] = {}
    for first in range(0, len(pieces), LOAD_CHUNK):
        query = select(*_VOTE_COLUMNS).where(
            Vote.contest_id == contest_id,
            Vote.voided_at.is_(None),
            *where,
            or_(*pieces[first : first + LOAD_CHUNK]),
        )
        for row in session.execute(query):
            votes[row.id] = VoteRow(*row)
    return sorted(votes.values(), key=lambda v: (v.created_at, v.id))


def load_voters_votes(
    session: Session, contest_id: int, voter_ids: Sequence[int], since: datetime | None
) -> list[VoteRow]:
    """The valid votes of these voters in the window, by time."""
    query = select(*_VOTE_COLUMNS).where(
        Vote.contest_id == contest_id,
        Vote.voided_at.is_(None),
        Vote.voter_id.in_(voter_ids),
        *in_window(since),
    )
    return sorted((VoteRow(*row) for row in session.execute(query)), key=lambda v: (v.created_at, v.id))
