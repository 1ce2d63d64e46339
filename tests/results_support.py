"""Rounds judged to the end, for the results' tests: every assignment given a value."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contest.contests.models import Contest
from contest.jury.models import Assignment, AssignmentState, Round, RoundKind
from contest.jury.rounds import close_round, open_round
from contest.jury.scores import Judgement, save_judgement, save_ranking
from tests.jury_support import Jury, assignments, build_jury, new_round


def judged_round(
    db: Session, contest: Contest, kind: RoundKind = RoundKind.score, *, jury: Jury | None = None
):
    """A closed round of ``kind`` in which every judge judged every entry dealt to them, with
    values that depend on the entry and the judge (so that entries differ and judges disagree)."""
    jury = jury or build_jury(db, contest, judges=5, entries_each=3)
    round_ = new_round(db, jury, kind, quorum=3)
    open_round(db, round_, actor_id=jury.organizer.id, seed=16)
    dealt = [a for a in assignments(db, round_) if a.state is AssignmentState.assigned]
    if kind is RoundKind.ranking:
        for judge_id in sorted({a.judge_id for a in dealt}):
            # Each judge orders their shortlist by a key of their own: the judges disagree.
            theirs = sorted(
                (a for a in dealt if a.judge_id == judge_id), key=lambda a: (a.entry_id * judge_id) % 7
            )
            save_ranking(db, round_.id, judge_id, [a.id for a in theirs])
    else:
        for a in dealt:
            save_judgement(db, a.id, a.judge_id, _judgement(round_, a))
    close_round(db, round_, actor_id=jury.organizer.id)
    db.commit()
    return jury, round_


def _judgement(round_: Round, a: Assignment) -> Judgement:
    if round_.kind is RoundKind.yes_no:
        return Judgement(verdict=(a.entry_id + a.judge_id) % 3 != 0)
    content, technique = round_.criteria
    steps = (a.entry_id * 7 + a.judge_id * 3) % (content.max_steps + 1)
    return Judgement(
        values={
            content.id: content.value(steps),
            technique.id: technique.value((a.entry_id + a.judge_id) % (technique.max_steps + 1)),
        }
    )
