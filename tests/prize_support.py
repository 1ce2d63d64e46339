"""A contest whose photo category has a closed, scored final round and prize slots."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.contests.models import CategoryKind, Contest
from contest.entries.models import Entry
from contest.jury.models import Assignment, AssignmentState, Round
from contest.jury.rounds import close_round, open_round
from contest.jury.scores import Judgement, save_judgement
from contest.results.prizes import PrizeKind, PrizeSlot
from tests.jury_support import Jury, build_jury, new_round
from tests.support import category


@dataclass
class Prizes:
    jury: Jury
    round: Round
    ranked: list[Entry]  # the photo entries, best first (as the scores make them)
    first: PrizeSlot  # x1
    second: PrizeSlot  # x2
    third: PrizeSlot  # x3


def scored_contest(db: Session, contest: Contest) -> Prizes:
    """Three judges (full panel) score every photo entry; entry n of ``jury.entries`` gets
    10 - n/2 for content: a known order. The demo's own slots are replaced by 1st x1, 2nd x2,
    3rd x3 in the photo category."""
    jury = build_jury(db, contest, judges=3, entries_each=3)
    round_ = new_round(db, jury, quorum=None)
    open_round(db, round_, actor_id=jury.organizer.id, seed=3)
    content, technique = round_.criteria
    rank_of = {entry.id: n for n, entry in enumerate(jury.entries)}
    held = select(Assignment).where(
        Assignment.round_id == round_.id, Assignment.state == AssignmentState.assigned
    )
    for assignment in db.scalars(held).all():
        values = {content.id: 10 - rank_of[assignment.entry_id] / 2, technique.id: 3}
        save_judgement(db, assignment.id, assignment.judge_id, Judgement(values=values))
    close_round(db, round_, actor_id=jury.organizer.id)
    for slot in db.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == contest.id)).all():
        db.delete(slot)
    photo = category(contest, CategoryKind.photo).id
    slots = [
        PrizeSlot(
            contest_id=contest.id,
            category_id=photo,
            kind=PrizeKind.jury,
            name_vi=vi,
            name_en=en,
            count=n,
            position=n,
        )
        for vi, en, n in (
            ("Giải Nhất", "First prize", 1),
            ("Giải Nhì", "Second prize", 2),
            ("Giải Ba", "Third prize", 3),
        )
    ]
    db.add_all(slots)
    db.commit()
    return Prizes(jury, round_, list(jury.entries), *slots)
