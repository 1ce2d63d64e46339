"""A judge's work on one assignment: scores, verdict, rank and comment; and recusal.

A save locks its assignment's row (two tabs saving at once: the second waits and updates
what the first wrote, one row per criterion) and takes a shared lock on the round's row, so
that closing the round waits for the saves under way and no save lands after it. Every value
given or changed is an audit event with its old and new values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.db import now_utc
from contest.jury.dealing import deal_round
from contest.jury.errors import JuryRefused
from contest.jury.models import Assignment, AssignmentState, Round, RoundKind, RoundStatus, Score


@dataclass(frozen=True)
class Judgement:
    """What the judge's form sends: values by criterion id (score rounds), a verdict, a comment.
    (A rank is only given within a whole order: save_ranking.)"""

    values: dict[int, float] = field(default_factory=dict)
    verdict: bool | None = None
    comment: str | None = None


def finished(round_: Round):
    """SQL: the assignment's judgement is complete for its round's kind (a value for every
    criterion, a verdict or a rank). The one statement of the rule: progress, the panel and the
    results read it from here."""
    if round_.kind is RoundKind.score:
        given = select(func.count()).where(Score.assignment_id == Assignment.id).scalar_subquery()
        return given >= len(round_.criteria)
    if round_.kind is RoundKind.yes_no:
        return Assignment.verdict.is_not(None)
    return Assignment.rank.is_not(None)


def is_finished(session: Session, round_: Round, assignment_id: int) -> bool:
    return bool(session.scalar(select(finished(round_)).where(Assignment.id == assignment_id)))


def save_judgement(session: Session, assignment_id: int, judge_id: int, judgement: Judgement) -> Assignment:
    assignment, round_ = _editable(session, assignment_id, judge_id)
    old, new = _apply(session, assignment, round_, judgement)
    _saved(session, assignment, round_, judge_id, old, new)
    session.flush()
    return assignment


def _saved(session: Session, assignment: Assignment, round_: Round, judge_id: int, old: dict, new: dict):
    """The judge was here (``updated_at``); a change marks the first save and is audited."""
    assignment.updated_at = now_utc()
    if new == old:
        return
    assignment.scored_at = assignment.scored_at or assignment.updated_at
    record(
        session,
        actor_id=judge_id,
        action="score.changed" if old else "score.given",
        subject_type="assignment",
        subject_id=assignment.id,
        contest_id=round_.contest_id,
        details={"round_id": round_.id, "entry_id": assignment.entry_id, "old": old, "new": new},
    )


def recuse(session: Session, assignment_id: int, judge_id: int, reason: str) -> None:
    """The judge stands aside from an entry, with a reason; the entry goes to the least loaded
    judge who may judge it and has not had it (contest.jury.deal)."""
    if not reason.strip():
        raise JuryRefused(_l("Please give the reason why you stand aside from this entry."))
    assignment, round_ = _editable(session, assignment_id, judge_id)
    rank = assignment.rank
    assignment.state = AssignmentState.recused
    assignment.recusal_reason = reason.strip()
    assignment.rank = None  # out of the judge's order (their ranks stay unique and 1, 2, ...)
    assignment.updated_at = now_utc()
    record(
        session,
        actor_id=judge_id,
        action="assignment.recused",
        subject_type="assignment",
        subject_id=assignment.id,
        contest_id=round_.contest_id,
        reason=reason.strip(),
        details={"round_id": round_.id, "entry_id": assignment.entry_id, "rank": rank},
    )
    session.flush()
    deal_round(session, round_, actor_id=judge_id, why="recused")


def _editable(session: Session, assignment_id: int, judge_id: int) -> tuple[Assignment, Round]:
    """The judge's own assignment, locked, in an open round (whose row is share-locked: its
    status is read fresh; the round itself comes from the session, its criteria not read again)."""
    assignment = session.scalar(
        select(Assignment)
        .where(Assignment.id == assignment_id, Assignment.judge_id == judge_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if assignment is None or assignment.state is not AssignmentState.assigned:
        raise JuryRefused(_l("This entry is not yours to judge."))
    status = session.scalar(
        select(Round.status).where(Round.id == assignment.round_id).with_for_update(read=True)
    )
    if status is not RoundStatus.open:
        raise JuryRefused(_l("This round is closed: its scores can no longer be changed."))
    return assignment, session.get(Round, assignment.round_id)


def _apply(session: Session, assignment: Assignment, round_: Round, judgement: Judgement):
    """Write the judgement; return the (old, new) values as the audit log shows them."""
    old: dict = {}
    new: dict = {}
    if round_.kind is RoundKind.score:
        _apply_scores(session, assignment, round_, judgement.values, old, new)
    elif round_.kind is RoundKind.yes_no and judgement.verdict is not None:
        _swap(assignment, "verdict", judgement.verdict, old, new)
    if judgement.comment is not None:
        _swap(assignment, "comment", judgement.comment.strip(), old, new)
    return old, new


def _swap(assignment: Assignment, name: str, value, old: dict, new: dict) -> None:
    current = getattr(assignment, name)
    if current != value:
        if current not in (None, ""):
            old[name] = current
        new[name] = value
        setattr(assignment, name, value)


def _apply_scores(session, assignment, round_, values: dict[int, float], old: dict, new: dict) -> None:
    criteria = {c.id: c for c in round_.criteria}
    existing = {
        s.criterion_id: s
        for s in session.scalars(
            select(Score)
            .where(Score.assignment_id == assignment.id)
            .execution_options(populate_existing=True)
        )
    }
    for criterion_id, value in values.items():
        criterion = criteria.get(criterion_id)
        steps = criterion.steps_for(value) if criterion else None
        if steps is None:
            raise JuryRefused(_l("A score is not on its criterion's scale."))
        score = existing.get(criterion_id)
        key = f"criterion_{criterion_id}"
        if score is None:
            session.add(
                Score(
                    round_id=round_.id,
                    assignment_id=assignment.id,
                    criterion_id=criterion_id,
                    max_steps=criterion.max_steps,
                    steps=steps,
                )
            )
            new[key] = value
        elif score.steps != steps:
            old[key], new[key] = criterion.value(score.steps), value
            score.steps = steps


def save_ranking(session: Session, round_id: int, judge_id: int, order: list[int]) -> None:
    """The judge's order of their whole shortlist, best first: ranks 1, 2, ... (each change audited).

    The moved entries' ranks are cleared, then set: no statement ever gives two entries of the
    judge the same rank (SQLite checks the unique rank per statement, PostgreSQL at the commit)."""
    theirs = dict(
        session.execute(
            select(Assignment.id, Assignment.rank).where(
                Assignment.round_id == round_id,
                Assignment.judge_id == judge_id,
                Assignment.state == AssignmentState.assigned,
            )
        ).all()
    )
    if sorted(order) != sorted(theirs):
        raise JuryRefused(_l("The order must list each entry of your shortlist once."))
    ranks = {assignment_id: rank for rank, assignment_id in enumerate(order, start=1)}
    locked = [_editable(session, assignment_id, judge_id) for assignment_id in order]
    _clear_recused_ranks(session, round_id, judge_id)
    for assignment, _round in locked:
        if assignment.rank != ranks[assignment.id]:
            assignment.rank = None
    session.flush()
    for assignment, round_ in locked:
        old = {"rank": theirs[assignment.id]} if theirs[assignment.id] is not None else {}
        assignment.rank = ranks[assignment.id]
        _saved(session, assignment, round_, judge_id, old, {"rank": ranks[assignment.id]})
    session.flush()


def _clear_recused_ranks(session: Session, round_id: int, judge_id: int) -> None:
    """An entry taken away (recused, e.g. for a conflict declared later) leaves the judge's order."""
    session.execute(
        update(Assignment)
        .where(
            Assignment.round_id == round_id,
            Assignment.judge_id == judge_id,
            Assignment.state == AssignmentState.recused,
            Assignment.rank.is_not(None),
        )
        .values(rank=None)
        .execution_options(synchronize_session=False)
    )
