"""The deal against the database: read ids, plan in memory (contest.jury.deal), write in bulk.

Every change of who may judge what in a round goes through ``deal_round``: the first deal,
a judge added or removed, a recusal, a conflict declared, an entry restored. Only unscored
assignments move; the round's row is locked while it runs (and a judge's save takes a
shared lock on it), so a save and a rebalance never cross.
"""

from __future__ import annotations

import secrets
from collections import defaultdict

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session, aliased

from contest.audit.services import record
from contest.auth.models import User
from contest.db import now_utc
from contest.entries.models import Entry
from contest.jury.deal import DealInput, Holding, Plan, plan
from contest.jury.models import Assignment, AssignmentState, Conflict, JuryMember, Round, RoundEntry

CHUNK = 5_000  # rows per INSERT / DELETE statement


def deal_round(
    session: Session, round_: Round, *, actor_id: int | None, why: str, seed: int | None = None
) -> Plan:
    """Deal the round's undealt entries and rebalance what is not scored; audited as ``why``."""
    session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())
    if round_.seed is None:
        round_.seed = secrets.randbelow(2**62) if seed is None else seed
    else:
        round_.deal_count += 1
    result = plan(read_input(session, round_), deal_seed(round_.seed, round_.deal_count))
    _write(session, round_.id, result)
    record(
        session,
        actor_id=actor_id,
        action="round.dealt" if round_.deal_count == 0 else "round.rebalanced",
        subject_type="round",
        subject_id=round_.id,
        contest_id=round_.contest_id,
        details={
            "why": why,
            "seed": round_.seed,
            "deal_count": round_.deal_count,
            "added": len(result.add),
            "removed": len(result.remove),
        },
    )
    session.flush()
    return result


def deal_seed(seed: int, deal_count: int) -> str:
    """The random source of the round's n-th deal: reproducible from the recorded seed."""
    return f"{seed}:{deal_count}"


def read_input(session: Session, round_: Round) -> DealInput:
    judges = active_judges(session, round_.contest_id)
    entries = dict(
        session.execute(
            select(RoundEntry.entry_id, Entry.author_id)
            .join(Entry, Entry.id == RoundEntry.entry_id)
            .where(RoundEntry.round_id == round_.id, RoundEntry.disqualified_at.is_(None))
        ).all()
    )
    holdings = tuple(
        Holding(entry, judge, state is AssignmentState.recused, scored_at is not None)
        for entry, judge, state, scored_at in session.execute(
            select(Assignment.entry_id, Assignment.judge_id, Assignment.state, Assignment.scored_at).where(
                Assignment.round_id == round_.id
            )
        )
    )
    blocked = blocked_authors(session, round_.contest_id, judges)
    return DealInput(entries, judges, blocked, round_.quorum, holdings)


def active_judges(session: Session, contest_id: int) -> tuple[int, ...]:
    return tuple(
        session.scalars(
            select(JuryMember.judge_id)
            .where(JuryMember.contest_id == contest_id, JuryMember.removed_at.is_(None))
            .order_by(JuryMember.judge_id)
        )
    )


def blocked_authors(session: Session, contest_id: int, judges: tuple[int, ...]) -> dict[int, frozenset[int]]:
    """Per judge, the authors whose entries they may not judge: themselves (by account or by
    canonical e-mail) and those they declared a conflict with."""
    blocked: dict[int, set[int]] = defaultdict(set)
    for judge in judges:
        blocked[judge].add(judge)
    judge_user, author = aliased(User), aliased(User)
    same_mailbox = select(judge_user.id, author.id).join(
        author, author.email_canonical == judge_user.email_canonical
    )
    conflicts = select(Conflict.judge_id, Conflict.entrant_id).where(Conflict.contest_id == contest_id)
    for query, column in ((same_mailbox, judge_user.id), (conflicts, Conflict.judge_id)):
        for judge, blocked_author in session.execute(query.where(column.in_(judges))):
            blocked[judge].add(blocked_author)
    return {judge: frozenset(authors) for judge, authors in blocked.items()}


def _write(session: Session, round_id: int, result: Plan) -> None:
    """Remove and add assignments in a few statements; a scored row is never removed."""
    table = Assignment.__table__
    for chunk in _chunks(result.remove):
        session.execute(
            delete(table).where(
                table.c.round_id == round_id,
                table.c.scored_at.is_(None),
                tuple_(table.c.entry_id, table.c.judge_id).in_(chunk),
            )
        )
    if session.get_bind().dialect.name == "postgresql":
        _copy_assignments(session, round_id, result.add)
        return
    now = now_utc()
    for chunk in _chunks(result.add):
        session.execute(
            insert(table),
            [
                {
                    "round_id": round_id,
                    "entry_id": e,
                    "judge_id": j,
                    "state": AssignmentState.assigned,
                    "created_at": now,
                    "updated_at": now,
                }
                for e, j in chunk
            ],
        )


def _copy_assignments(session: Session, round_id: int, pairs: list[tuple[int, int]]) -> None:
    """PostgreSQL: new assignments with COPY (a first deal of 60,000 in a fraction of a second)."""
    now = now_utc()
    cursor = session.connection().connection.cursor()
    columns = "round_id, entry_id, judge_id, state, created_at, updated_at"
    with cursor.copy(f"COPY assignments ({columns}) FROM STDIN") as copy:
        for entry_id, judge_id in pairs:
            copy.write_row((round_id, entry_id, judge_id, AssignmentState.assigned.value, now, now))


def _chunks(rows: list) -> list[list]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
