"""The narrow door through which the results read a round's judgements.

Only what a tally needs, as plain values: the finished judgement (contest.jury.scores.finished)
of each assignment that counts (not recused, its entry not disqualified), under the entry's
code. Nothing else of the jury's tables leaks into contest.results.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select, text
from sqlalchemy.orm import Session

from contest.entries.models import Entry
from contest.jury.models import Assignment, AssignmentState, Round, RoundEntry, RoundKind, Score
from contest.jury.scores import finished

WORK_MEM = "32MB"


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
    ids, rows = finished_rows(session, round_id)
    for code, judge_id, verdict, rank, saved_at, *values in rows:
        yield FinishedJudgement(code, judge_id, verdict, rank, dict(zip(ids, values, strict=True)), saved_at)


def finished_rows(session: Session, round_id: int) -> tuple[list[int], list[tuple]]:
    """The same judgements as plain rows ``(entry code, judge id, verdict, rank, saved_at, value...)``,
    a score round's values in the order of its criteria (whose ids come first): what a national
    round's tally reads, 60,000 of them, without an object per judgement.

    One query: a score round's values come as one column per criterion (a pivot of its scores),
    so a 20,000-entry round is 60,000 rows, not 300,000 (bench.tally)."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        return [], []
    scales = [(c.id, c.scale_min, c.scale_step) for c in round_.criteria]
    columns = (Entry.code, Assignment.judge_id, Assignment.verdict, Assignment.rank, Assignment.updated_at)
    query = (
        select(*columns)
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
    )
    if round_.kind is RoundKind.score and scales:
        pivot = (
            select(
                Score.assignment_id,
                *(func.max(case((Score.criterion_id == c, Score.steps))) for c, _, _ in scales),
            )
            .where(Score.round_id == round_id)
            .group_by(Score.assignment_id)
            .subquery()
        )
        query = query.join(pivot, pivot.c.assignment_id == Assignment.id).add_columns(*list(pivot.c)[1:])
    if session.get_bind().dialect.name == "postgresql":
        # Sorting a national round's 60,000 judgements needs more than the default 4 MB.
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    rows = session.connection().execute(query).all()
    if round_.kind is not RoundKind.score or not scales:
        return [], [tuple(row) for row in rows]
    # The criterion's value of its steps (Criterion.value), on plain numbers.
    return [c for c, _, _ in scales], [
        (*row[:5], *(low + n * step for (_, low, step), n in zip(scales, row[5:], strict=True)))
        for row in rows
    ]
