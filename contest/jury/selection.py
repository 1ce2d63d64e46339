"""Which entries of a round go on to the next one, and the preview of the counts.

A score round's entries are read by the figure its tally gives them (contest.results: the
mean of the judges' weighted totals on the criteria's scale, normalised or trimmed when the
organizers chose so for that round), so the next round takes what the tally page ranks; a
yes/no round's by their number of "yes". Recused assignments and disqualified entries do not
count.
"""

from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.jury.errors import JuryRefused
from contest.jury.models import (
    Assignment,
    AssignmentState,
    Round,
    RoundEntry,
    RoundKind,
    SourceRule,
)
from contest.results.readout import round_figures

# What kind of round each rule reads.
SOURCE_KINDS = {
    SourceRule.top_n: RoundKind.score,
    SourceRule.min_score: RoundKind.score,
    SourceRule.min_yes: RoundKind.yes_no,
}


def check_source(contest_id: int, rule: SourceRule, source: Round | None, threshold: float | None) -> None:
    if source is None or source.contest_id != contest_id or source.kind is not SOURCE_KINDS[rule]:
        raise JuryRefused(_l("The previous round must be of this contest and of the kind the rule reads."))
    if (
        threshold is None
        or threshold < 0
        or (rule is not SourceRule.min_score and threshold != int(threshold))
    ):
        raise JuryRefused(_l("The threshold must be a positive number (a whole one for a count)."))


def _counted(round_id: int):
    """The assignments that count: not recused, their entry not disqualified."""
    return (
        select(Assignment.id)
        .join(
            RoundEntry,
            (RoundEntry.round_id == Assignment.round_id) & (RoundEntry.entry_id == Assignment.entry_id),
        )
        .where(
            Assignment.round_id == round_id,
            Assignment.state == AssignmentState.assigned,
            RoundEntry.disqualified_at.is_(None),
        )
    )


def entry_scores(session: Session, round_: Round) -> dict[int, float]:
    """Entry id -> its figure in a score round, as the round's tally makes it (the mean of the
    judges' weighted totals, normalised or trimmed when the organizers chose so): one rule,
    the results' (contest.results.readout.round_figures)."""
    return round_figures(session, round_.id)


def entry_yes_counts(session: Session, round_: Round) -> dict[int, int]:
    """Entry id -> number of "yes" (yes/no rounds); entries with none are absent."""
    query = (
        select(Assignment.entry_id, func.count())
        .where(Assignment.id.in_(_counted(round_.id)), Assignment.verdict.is_(True))
        .group_by(Assignment.entry_id)
    )
    return dict(session.execute(query).all())


def figures(session: Session, source: Round) -> dict[int, float]:
    """Entry id -> what the rules read of ``source``: its number of "yes" (yes/no rounds) or
    its tally figure (score rounds). Read once, it serves ``passing`` and ``preview_marks``."""
    if source.kind is RoundKind.yes_no:
        return {entry_id: float(yes) for entry_id, yes in entry_yes_counts(session, source).items()}
    return entry_scores(session, source)


def passing(
    session: Session, source: Round, rule: SourceRule, threshold: float, read: dict[int, float] | None = None
) -> list[int]:
    """The entries of ``source`` that the rule lets through (``read``: its ``figures``, when the
    caller has them). Top N keeps the entries tied with the N-th (a tie is not broken by chance)."""
    values = figures(session, source) if read is None else read
    if rule is SourceRule.top_n:
        ordered = sorted(values.values(), reverse=True)
        if not ordered or threshold < 1:
            return []
        threshold = ordered[min(int(threshold), len(ordered)) - 1]
    return sorted(e for e, value in values.items() if value >= threshold - 1e-9)


def preview(session: Session, source: Round, read: dict[int, float] | None = None) -> list[tuple[float, int]]:
    """(threshold, entries passing) for every threshold that changes the count, best first:
    scores at least x (score rounds; the k-th pair is also "top k" with ties), or at least K
    "yes" (yes/no rounds)."""
    values = [round(v, 4) for v in (figures(session, source) if read is None else read).values()]
    counts: list[tuple[float, int]] = []
    for position, value in enumerate(sorted(values, reverse=True), start=1):
        if counts and counts[-1][0] == value:
            counts[-1] = (value, position)
        else:
            counts.append((value, position))
    return counts


TOP_NS = (10, 20, 50, 100, 200, 500, 1000)


def preview_marks(
    session: Session, source: Round, read: dict[int, float] | None = None
) -> dict[SourceRule, list[tuple[float, int]]]:
    """For the organizer's page, read off ``preview``: per rule that reads ``source``, the
    entries passing at round thresholds (top 10, 20, 50...; every whole score; every K)."""
    rows = preview(session, source, read)
    if not rows:
        return {}
    best, worst, total = rows[0][0], rows[-1][0], rows[-1][1]
    if source.kind is RoundKind.yes_no:
        return {SourceRule.min_yes: [(k, _passing_at(rows, k)) for k in range(int(best), 0, -1)]}
    marks = range(math.floor(best), math.floor(worst) - 1, -1)
    tops = [n for n in TOP_NS if n < total] + [total]
    return {
        SourceRule.top_n: [(n, next(c for _, c in rows if c >= n)) for n in tops],
        SourceRule.min_score: [(x, _passing_at(rows, x)) for x in marks],
    }


def _passing_at(rows: list[tuple[float, int]], threshold: float) -> int:
    return max((count for value, count in rows if value >= threshold - 1e-9), default=0)
