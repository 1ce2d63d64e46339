"""A small jury for the jury's tests: judges, entrants, approved entries and a round."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import Role, User
from contest.contests.models import CategoryKind, Contest
from contest.db import now_utc
from contest.entries.models import Entry
from contest.jury.members import add_judge, declare_conflict
from contest.jury.models import Assignment, AssignmentState, Round, RoundKind
from contest.jury.rounds import CriterionSpec, RoundSpec, close_round, create_round, open_round
from tests.support import category, create_user, make_entry

CRITERIA = (
    CriterionSpec("Nội dung", "Content", weight=2, scale_min=0, scale_max=10, scale_step=0.5),
    CriterionSpec("Kỹ thuật", "Technique", weight=1, scale_min=1, scale_max=5, scale_step=1),
)


@dataclass
class Jury:
    contest: Contest
    organizer: User
    judges: list[User]
    entrants: list[User]
    entries: list[Entry] = field(default_factory=list)


def build_jury(db: Session, contest: Contest, *, judges: int = 5, entries_each: int = 4) -> Jury:
    """``judges`` judges on the jury, three entrants with ``entries_each`` approved photos each,
    and one approved photo by the first judge (their own entry)."""
    organizer = create_user(db, "ban.to.chuc@example.com", role=Role.organizer, birth_year=None)
    jury = Jury(contest, organizer, [], [])
    for n in range(judges):
        judge = create_user(db, f"giam.khao{n}@example.com", role=Role.judge, birth_year=None)
        add_judge(db, contest.id, judge, actor_id=organizer.id)
        jury.judges.append(judge)
    for n in range(3):
        jury.entrants.append(create_user(db, f"tac.gia{n}@example.com"))
        for _ in range(entries_each):
            jury.entries.append(make_entry(db, contest, jury.entrants[-1]))
    jury.entries.append(make_entry(db, contest, jury.judges[0]))
    db.commit()
    return jury


def new_round(db: Session, jury: Jury, kind: RoundKind = RoundKind.score, **overrides) -> Round:
    now = now_utc()
    spec = RoundSpec(
        name_vi=overrides.pop("name_vi", "Vòng sơ khảo"),
        name_en=overrides.pop("name_en", "Preliminary round"),
        kind=kind,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=7),
        categories=(category(jury.contest, CategoryKind.photo),),
        quorum=overrides.pop("quorum", 3),
        criteria=CRITERIA if kind is RoundKind.score else (),
        **overrides,
    )
    return create_round(db, jury.contest, spec, actor_id=jury.organizer.id)


def assignments(db: Session, round_: Round) -> list[Assignment]:
    db.expire_all()
    query = select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)
    return list(db.scalars(query))


def holders(db: Session, round_: Round) -> dict[int, set[int]]:
    """Entry id -> the judges holding it (not recused)."""
    held: dict[int, set[int]] = {}
    for a in assignments(db, round_):
        if a.state is AssignmentState.assigned:
            held.setdefault(a.entry_id, set()).add(a.judge_id)
    return held


def loads(db: Session, round_: Round) -> Counter:
    return Counter(a.judge_id for a in assignments(db, round_) if a.state is AssignmentState.assigned)


@dataclass
class Scene:
    """A jury with a draft, an open and a closed round, and a conflict: every organizer page
    of the jury has something to show (contest.jury.admin_*)."""

    jury: Jury
    draft: Round
    open: Round
    closed: Round
    conflict_id: int


def round_scene(db: Session, contest: Contest) -> Scene:
    jury = build_jury(db, contest, judges=3, entries_each=2)
    actor = jury.organizer.id
    draft = new_round(db, jury, RoundKind.yes_no, name_en="Draft round")
    opened = new_round(db, jury, RoundKind.yes_no, name_en="Open round")
    closed = new_round(db, jury, RoundKind.yes_no, name_en="Closed round")
    for round_ in (opened, closed):
        open_round(db, round_, actor_id=actor, seed=7)
    close_round(db, closed, actor_id=actor)
    conflict = declare_conflict(
        db, contest.id, jury.judges[1].id, jury.entrants[2].id, "Cùng câu lạc bộ", actor_id=actor
    )
    db.commit()
    return Scene(jury, draft, opened, closed, conflict.id)
