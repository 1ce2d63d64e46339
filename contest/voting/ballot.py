"""What the vote button needs to know about an entry, its contest and the voter, in one query.

A vote is the one write a viral campaign sends by the thousand, so its request reads only
the columns the rules look at (``contest.voting.services.check_vote`` and ``record_vote``), in
one statement built once, into small frozen rows; loading the whole Entry, Contest and User
objects cost more than the vote's own write. The rows carry the same attribute names as
the models, so the services take either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from contest.auth.models import LoginSession, Role, User
from contest.auth.sessions import still_open
from contest.contests.models import Contest, VoteCountDisplay, VotePolicy, VotingRules
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus


@dataclass(frozen=True)
class BallotContest(VotingRules):
    id: int
    voting_opens_at: datetime
    voting_closes_at: datetime
    vote_policy: VotePolicy
    votes_per_day: int | None
    vote_counts: VoteCountDisplay
    is_published: bool
    judges_may_vote: bool
    organizers_may_vote: bool
    authors_may_vote_for_own: bool


@dataclass(frozen=True)
class BallotEntry:
    id: int
    code: str
    contest_id: int
    status: EntryStatus
    vote_count: int
    author_id: int


@dataclass(frozen=True)
class BallotVoter:
    id: int
    is_verified: bool
    is_active: bool
    created_at: datetime
    role: Role

    @classmethod
    def of(cls, user: User) -> BallotVoter:
        return cls(user.id, user.is_verified, user.is_active, user.created_at, user.role)


@dataclass(frozen=True)
class Ballot:
    contest: BallotContest
    entry: BallotEntry
    voter: BallotVoter | None  # None: nobody logged in, or the account is disabled


_CONTEST = (
    Contest.id,
    Contest.voting_opens_at,
    Contest.voting_closes_at,
    Contest.vote_policy,
    Contest.votes_per_day,
    Contest.vote_counts,
    Contest.is_published,
    Contest.judges_may_vote,
    Contest.organizers_may_vote,
    Contest.authors_may_vote_for_own,
)
_ENTRY = (Entry.id, Entry.code, Entry.contest_id, Entry.status, Entry.vote_count, Entry.author_id)
_VOTER = (User.id, User.email_verified_at, User.active, User.created_at, User.role)

# Built once: executing a prepared Core statement skips building and hashing it per vote.
_BALLOT = (
    select(*_CONTEST, *_ENTRY, *_VOTER)
    .select_from(Entry)
    .join(Contest, Contest.id == Entry.contest_id)
    .outerjoin(
        User,
        and_(
            User.id == bindparam("voter_id"),
            # The login the session cookie names must still be open (contest.auth.sessions).
            select(LoginSession.id)
            .where(
                LoginSession.id == bindparam("login_session"),
                LoginSession.user_id == User.id,
                still_open(bindparam("at", type_=LoginSession.expires_at.type)),
            )
            .exists(),
        ),
    )
    .where(
        Entry.code == bindparam("code"),
        Entry.status == EntryStatus.approved,
        Contest.is_published.is_(True),
    )
)


def ballot(session: Session, code: str, login: tuple[int, str] | None) -> Ballot | None:
    """The approved, published entry ``code`` with its contest and the voter of ``login``
    ((account id, login id), contest.auth.policy.session_login); None if no such entry."""
    voter_id, login_session = login or (None, None)
    parameters = {"code": code.upper(), "voter_id": voter_id, "login_session": login_session, "at": now_utc()}
    # On the session's connection: a select of columns needs none of the ORM's result handling.
    row = session.connection().execute(_BALLOT, parameters).first()
    if row is None:
        return None
    contest = BallotContest(*row[: len(_CONTEST)])
    entry = BallotEntry(*row[len(_CONTEST) : len(_CONTEST) + len(_ENTRY)])
    user_id, verified_at, active, created_at, role = row[len(_CONTEST) + len(_ENTRY) :]
    voter = (
        BallotVoter(user_id, verified_at is not None, True, created_at, role) if user_id and active else None
    )
    return Ballot(contest, entry, voter)
