"""A contest's jury: adding and removing judges, and conflicts of interest.

Each change rebalances the contest's rounds that are already dealt and not closed
(contest.jury.dealing): only what has not been scored moves.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth import services as accounts
from contest.auth.models import Role, User
from contest.db import now_utc
from contest.entries.models import Entry
from contest.jury.dealing import deal_round
from contest.jury.errors import JuryRefused
from contest.jury.models import Assignment, AssignmentState, Conflict, JuryMember, Round, RoundStatus


def add_judge(session: Session, contest_id: int, judge: User, *, actor_id: int | None) -> JuryMember:
    """Put a judge account on the contest's jury (again, after a removal)."""
    if judge.role is not Role.judge:
        raise JuryRefused(_l("Only a judge account can join the jury."))
    member = session.scalar(
        select(JuryMember).where(JuryMember.contest_id == contest_id, JuryMember.judge_id == judge.id)
    )
    if member is None:
        member = JuryMember(contest_id=contest_id, judge_id=judge.id)
        session.add(member)
    elif member.removed_at is None:
        return member
    member.removed_at = None
    member.added_at = now_utc()
    session.flush()
    _audit(session, actor_id, "jury.judge_added", member)
    rebalance_contest(session, contest_id, actor_id=actor_id, why="judge_added")
    return member


def invite_judge(
    session: Session, contest_id: int, email: str, full_name: str, locale: str, *, actor_id: int
) -> tuple[User, bool]:
    """Put the judge with this address on the jury, inviting them by e-mail when they have no
    account yet (or never chose a password); returns (judge, whether an invitation went out)."""
    judge = accounts.find_user(session, email)
    if judge is not None and judge.role is not Role.judge:
        raise JuryRefused(_l("This e-mail address belongs to an account that is not a judge's."))
    invited = judge is None or not judge.is_verified
    if judge is None:
        judge = accounts.invite_judge(session, email=email, full_name=full_name, locale=locale)
    elif invited:
        accounts.send_judge_invitation(session, judge)
    if invited:
        record(
            session,
            actor_id=actor_id,
            action="jury.judge_invited",
            subject_type="user",
            subject_id=judge.id,
            contest_id=contest_id,
        )
    add_judge(session, contest_id, judge, actor_id=actor_id)
    return judge, invited


def remove_judge(session: Session, contest_id: int, judge_id: int, *, actor_id: int | None) -> None:
    """Take a judge off the jury: their unscored entries go to others, their scores stay."""
    member = session.scalar(
        select(JuryMember).where(
            JuryMember.contest_id == contest_id,
            JuryMember.judge_id == judge_id,
            JuryMember.removed_at.is_(None),
        )
    )
    if member is None:
        return
    member.removed_at = now_utc()
    _audit(session, actor_id, "jury.judge_removed", member)
    session.flush()
    rebalance_contest(session, contest_id, actor_id=actor_id, why="judge_removed")


def declare_conflict(
    session: Session, contest_id: int, judge_id: int, entrant_id: int, reason: str, *, actor_id: int
) -> Conflict:
    """Record that a judge may not judge an entrant; their entries already dealt to the judge
    are recused (a given score stays on record but no longer counts) and dealt again."""
    reason = reason.strip()
    if not reason:
        raise JuryRefused(_l("Please give the reason for the conflict of interest."))
    conflict = session.scalar(
        select(Conflict).where(
            Conflict.contest_id == contest_id,
            Conflict.judge_id == judge_id,
            Conflict.entrant_id == entrant_id,
        )
    )
    if conflict is not None:
        return conflict
    conflict = Conflict(
        contest_id=contest_id,
        judge_id=judge_id,
        entrant_id=entrant_id,
        reason=reason,
        declared_by_id=actor_id,
    )
    session.add(conflict)
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action="jury.conflict_declared",
        subject_type="conflict",
        subject_id=conflict.id,
        contest_id=contest_id,
        reason=reason,
        details={"judge_id": judge_id, "entrant_id": entrant_id},
    )
    _recuse_conflicted(session, contest_id, judge_id, entrant_id, reason)
    rebalance_contest(session, contest_id, actor_id=actor_id, why="conflict_declared")
    return conflict


def withdraw_conflict(session: Session, conflict: Conflict, *, actor_id: int) -> None:
    """Lift a conflict: the judge may be dealt the entrant's entries again (what was recused
    for it stays recused: a judge is never dealt an entry twice)."""
    record(
        session,
        actor_id=actor_id,
        action="jury.conflict_withdrawn",
        subject_type="conflict",
        subject_id=conflict.id,
        contest_id=conflict.contest_id,
        reason=conflict.reason,
        details={"judge_id": conflict.judge_id, "entrant_id": conflict.entrant_id},
    )
    session.delete(conflict)
    session.flush()
    rebalance_contest(session, conflict.contest_id, actor_id=actor_id, why="conflict_withdrawn")


def open_loads(session: Session, contest_id: int) -> dict[int, int]:
    """Judge id -> entries they hold (not recused) in the contest's open rounds."""
    query = (
        select(Assignment.judge_id, func.count())
        .join(Round, Round.id == Assignment.round_id)
        .where(
            Round.contest_id == contest_id,
            Round.status == RoundStatus.open,
            Assignment.state == AssignmentState.assigned,
        )
        .group_by(Assignment.judge_id)
    )
    return dict(session.execute(query).all())


def _recuse_conflicted(
    session: Session, contest_id: int, judge_id: int, entrant_id: int, reason: str
) -> None:
    live_rounds = select(Round.id).where(Round.contest_id == contest_id, Round.status != RoundStatus.closed)
    their_entries = select(Entry.id).where(Entry.author_id == entrant_id)
    session.execute(
        update(Assignment)
        .where(
            Assignment.judge_id == judge_id,
            Assignment.state == AssignmentState.assigned,
            Assignment.round_id.in_(live_rounds),
            Assignment.entry_id.in_(their_entries),
        )
        .values(state=AssignmentState.recused, recusal_reason=reason)
        .execution_options(synchronize_session=False)
    )


def rebalance_contest(session: Session, contest_id: int, *, actor_id: int | None, why: str) -> None:
    """Deal again every round of the contest that was dealt and is not closed."""
    rounds = session.scalars(
        select(Round)
        .where(Round.contest_id == contest_id, Round.status != RoundStatus.closed, Round.seed.is_not(None))
        .order_by(Round.id)
    )
    for round_ in rounds:
        deal_round(session, round_, actor_id=actor_id, why=why)


def _audit(session: Session, actor_id: int | None, action: str, member: JuryMember) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        subject_type="jury_member",
        subject_id=member.id,
        contest_id=member.contest_id,
        details={"judge_id": member.judge_id},
    )
