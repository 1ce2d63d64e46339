"""How far a round's judging is: per judge, per entry, who is behind, and the reminder to them.

An assignment is *done* when it holds the judge's whole judgement (contest.jury.scores.finished:
a value for every criterion, a verdict or a rank). A judge is *behind* when they still have
work and their share done is below the round's average, or below the share of the round's time
already past (so that, as closing approaches, everyone short of done is behind).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth.models import User
from contest.auth.services import external_url
from contest.db import now_utc
from contest.entries.models import Entry
from contest.jury.dealing import active_judges
from contest.jury.models import Assignment, AssignmentState, Round, RoundEntry
from contest.jury.scores import finished
from contest.mail.services import queue_email, record_for, render_email

ENTRIES_PER_PAGE = 50


@dataclass(frozen=True)
class JudgeProgress:
    judge: User
    assigned: int  # entries held, not recused
    done: int
    recused: int
    last_activity: datetime | None

    @property
    def share(self) -> float:
        return self.done / self.assigned if self.assigned else 1.0

    @property
    def percent(self) -> int:
        return int(self.share * 100)


@dataclass(frozen=True)
class EntryProgress:
    entry_id: int
    code: str
    title: str
    judges: int  # holding it, not recused
    done: int
    disqualified_reason: str | None


def _held():
    return Assignment.state == AssignmentState.assigned


def judges_progress(session: Session, round_: Round) -> list[JudgeProgress]:
    """Every judge of the round (holding entries in it, or on the jury), by name."""
    counts = {
        judge_id: row
        for judge_id, *row in session.execute(
            select(
                Assignment.judge_id,
                func.sum(case((_held(), 1), else_=0)),
                func.sum(case((and_(_held(), finished(round_)), 1), else_=0)),
                func.sum(case((_held(), 0), else_=1)),
                func.max(case((_touched(), Assignment.updated_at))),
            )
            .where(Assignment.round_id == round_.id)
            .group_by(Assignment.judge_id)
        )
    }
    ids = set(counts) | set(active_judges(session, round_.contest_id))
    judges = session.scalars(select(User).where(User.id.in_(ids)).order_by(User.full_name, User.id))
    return [_judge_progress(j, counts.get(j.id)) for j in judges]


def _touched():
    """The judge gave something or stood aside (``updated_at`` starts at the deal)."""
    return or_(Assignment.scored_at.is_not(None), Assignment.state == AssignmentState.recused)


def _judge_progress(judge: User, row) -> JudgeProgress:
    assigned, done, recused, last_activity = row or (0, 0, 0, None)
    return JudgeProgress(judge, int(assigned), int(done), int(recused), last_activity)


def behind(round_: Round, progress: list[JudgeProgress], now: datetime | None = None) -> list[JudgeProgress]:
    """The judges with work left whose share done is below the average or below the calendar."""
    working = [p for p in progress if p.assigned]
    if not working:
        return []
    average = sum(p.share for p in working) / len(working)
    pace = time_share(round_, now or now_utc())
    return [p for p in working if p.done < p.assigned and (p.share < average or p.share < pace)]


def time_share(round_: Round, now: datetime) -> float:
    """The share of the round's time already past, from 0 to 1."""
    length = (round_.closes_at - round_.opens_at).total_seconds()
    past = (now - round_.opens_at).total_seconds()
    return min(1.0, max(0.0, past / length))


def entries_progress(
    session: Session, round_: Round, *, short_only: bool = False, page: int = 1
) -> tuple[list[EntryProgress], int]:
    """A page of the round's entries by code with their judges and judgements, and how many
    rows there are; ``short_only``: the entries held by fewer judges than the quorum."""
    judges = func.sum(case((_held(), 1), else_=0))
    done = func.sum(case((and_(_held(), finished(round_)), 1), else_=0))
    query = (
        select(RoundEntry.entry_id, Entry.code, Entry.title, judges, done, RoundEntry.disqualified_reason)
        .join(Entry, Entry.id == RoundEntry.entry_id)
        .outerjoin(
            Assignment,
            and_(Assignment.round_id == RoundEntry.round_id, Assignment.entry_id == RoundEntry.entry_id),
        )
        .where(RoundEntry.round_id == round_.id)
        .group_by(RoundEntry.entry_id, Entry.code, Entry.title, RoundEntry.disqualified_reason)
    )
    if short_only:
        query = query.where(RoundEntry.disqualified_at.is_(None)).having(judges < (round_.quorum or 0))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(
        query.order_by(Entry.code).limit(ENTRIES_PER_PAGE).offset((max(page, 1) - 1) * ENTRIES_PER_PAGE)
    )
    return [EntryProgress(e, c, t, int(j or 0), int(d or 0), r) for e, c, t, j, d, r in rows], total


def remind_behind(
    session: Session, round_: Round, *, actor_id: int, now: datetime | None = None
) -> list[User]:
    """E-mail each judge who is behind, in their language, after the commit; audited."""
    late = [p for p in behind(round_, judges_progress(session, round_), now) if p.judge.is_active]
    for p in late:
        _queue_reminder(session, round_, p)
    record(
        session,
        actor_id=actor_id,
        action="round.reminded",
        subject_type="round",
        subject_id=round_.id,
        contest_id=round_.contest_id,
        details={"judge_ids": [p.judge.id for p in late]},
    )
    session.flush()
    return [p.judge for p in late]


def _queue_reminder(session: Session, round_: Round, p: JudgeProgress) -> None:
    locale = p.judge.locale
    subject, body = render_email(
        "jury_reminder",
        locale,
        round_name=getattr(round_, f"name_{locale}", None) or round_.name_vi,
        done=p.done,
        assigned=p.assigned,
        closes_at=round_.closes_at,
        link=external_url("jury.round_page", round_id=round_.id),
    )
    queue_email(session, p.judge.email, subject, body, **record_for(p.judge, "jury_reminder"))
