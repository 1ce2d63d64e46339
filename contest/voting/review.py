"""The organizers' review of votes: suspicious clusters, votes by entry or voter.

Voiding and restoring go through contest.voting.services (counters and audit events in
the same transaction); functions here flush, the view commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contest.auth.emails import canonical_email
from contest.auth.models import User
from contest.entries.models import Entry
from contest.voting import services as voting
from contest.voting.clusters import Case
from contest.voting.models import Vote

VOTES_PER_PAGE = 50


# --- cases ------------------------------------------------------------------------------
def entries_of(session: Session, entry_ids: set[int]) -> dict[int, Entry]:
    if not entry_ids:
        return {}
    found = session.scalars(select(Entry).where(Entry.id.in_(entry_ids)).options(selectinload(Entry.assets)))
    return {entry.id: entry for entry in found}


def votes_by_id(session: Session, vote_ids: tuple[int, ...] | list[int], *, lock: bool = False) -> list[Vote]:
    """The votes, oldest first, with their voters and entries (locked for a change if ``lock``)."""
    votes: list[Vote] = []
    ordered = sorted(vote_ids)  # one order for every locker: no deadlock between two organizers
    for first in range(0, len(ordered), 1000):
        query = (
            select(Vote)
            .where(Vote.id.in_(ordered[first : first + 1000]))
            .options(selectinload(Vote.voter), selectinload(Vote.entry))
        )
        if lock:  # and read again: another organizer may have changed them meanwhile
            query = query.order_by(Vote.id).with_for_update(of=Vote).execution_options(populate_existing=True)
        votes += session.scalars(query)
    return sorted(votes, key=lambda v: (v.created_at, v.id))


def void_case(session: Session, case: Case, vote_ids: Iterable[int], actor: User, reason: str) -> int:
    """Void those of ``vote_ids`` that belong to ``case`` and still count; returns how many.

    The votes are locked first: two organizers voiding at once take each vote back once.
    """
    chosen = set(vote_ids) & set(case.vote_ids)
    votes = votes_by_id(session, sorted(chosen), lock=True)
    return voting.void_votes(session, votes, actor=actor, reason=reason, cluster=case.id)


# --- votes by entry or voter ------------------------------------------------------------
@dataclass(frozen=True)
class VotePage:
    votes: list[Vote]
    page: int
    has_next: bool
    entry: Entry | None = None
    voter: User | None = None
    unknown: bool = False  # the entry code or e-mail address matches nothing


def votes_page(
    session: Session,
    contest_id: int,
    *,
    entry_code: str = "",
    voter_email: str = "",
    state: str = "all",
    page: int = 1,
    per_page: int = VOTES_PER_PAGE,
) -> VotePage:
    """The contest's votes, newest first, for one entry and/or one voter, counted or voided."""
    query = select(Vote).where(Vote.contest_id == contest_id)
    entry = voter = None
    if entry_code:
        entry = session.scalar(select(Entry).where(Entry.contest_id == contest_id, Entry.code == entry_code))
        if entry is None:
            return VotePage([], page, False, unknown=True)
        query = query.where(Vote.entry_id == entry.id)
    if voter_email:
        voter = session.scalar(select(User).where(User.email_canonical == canonical_email(voter_email)))
        if voter is None:
            return VotePage([], page, False, entry=entry, unknown=True)
        query = query.where(Vote.voter_id == voter.id)
    if state == "valid":
        query = query.where(Vote.voided_at.is_(None))
    elif state == "voided":
        query = query.where(Vote.voided_at.is_not(None))
    votes = list(
        session.scalars(
            query.options(selectinload(Vote.voter), selectinload(Vote.entry), selectinload(Vote.voided_by))
            .order_by(Vote.created_at.desc(), Vote.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return VotePage(votes[:per_page], page, len(votes) > per_page, entry=entry, voter=voter)


def void_vote(session: Session, vote: Vote, actor: User, reason: str) -> int:
    return voting.void_votes(session, [vote], actor=actor, reason=reason)


def restore_vote(session: Session, vote: Vote, actor: User, reason: str) -> int:
    return voting.restore_votes(session, [vote], actor=actor, reason=reason)
