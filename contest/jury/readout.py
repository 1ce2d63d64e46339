"""The narrow door through which the results read a round's judgements.

Only what a tally needs, as plain values: the finished judgement (contest.jury.scores.finished)
of each assignment that counts (not recused, its entry not disqualified), under the entry's
code. Nothing else of the jury's tables leaks into contest.results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from contest.entries.models import Entry
from contest.jury.models import Assignment, AssignmentState, Round, RoundEntry, Score
from contest.jury.scores import finished


@dataclass(frozen=True)
class FinishedJudgement:
    """One judge's whole judgement of one entry."""

    entry_code: str
    judge_id: int
    verdict: bool | None  # yes/no rounds
    rank: int | None  # ranking rounds, 1 is best
    values: dict[int, float]  # score rounds: criterion id -> value on its scale (steps converted)
    saved_at: datetime  # the judgement's last save


def finished_judgements(session: Session, round_id: int) -> Iterator[FinishedJudgement]:
    """Every finished judgement that counts in the round, by entry code then judge id."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        return
    rows = session.execute(
        select(
            Assignment.id,
            Entry.code,
            Assignment.judge_id,
            Assignment.verdict,
            Assignment.rank,
            Assignment.updated_at,
        )
        .join(
            RoundEntry,
            and_(RoundEntry.round_id == Assignment.round_id, RoundEntry.entry_id == Assignment.entry_id),
        )
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(
            Assignment.round_id == round_id,
            Assignment.state == AssignmentState.assigned,
            RoundEntry.disqualified_at.is_(None),
            finished(round_),
        )
        .order_by(Entry.code, Assignment.judge_id)
    ).all()
    values = _values(session, round_)
    for assignment_id, code, judge_id, verdict, rank, saved_at in rows:
        yield FinishedJudgement(code, judge_id, verdict, rank, values.get(assignment_id, {}), saved_at)


def _values(session: Session, round_: Round) -> dict[int, dict[int, float]]:
    """Assignment id -> criterion id -> value, for the whole round in one query."""
    criteria = {c.id: c for c in round_.criteria}
    if not criteria:
        return {}
    found: dict[int, dict[int, float]] = defaultdict(dict)
    for assignment_id, criterion_id, steps in session.execute(
        select(Score.assignment_id, Score.criterion_id, Score.steps).where(Score.round_id == round_.id)
    ):
        found[assignment_id][criterion_id] = criteria[criterion_id].value(steps)
    return found
