"""The vote in one PostgreSQL statement: every rule, the insert and both counters.

The vote button's hot path (quick_vote) sends it on the vote pool in autocommit mode;
contest.voting.services.record_vote runs the very same text inside its session. What it
refuses, the rules in contest.voting.services explain (tests/test_vote_fast_path.py holds
the two to the same answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine

from contest.contests.models import VoteCountDisplay, VotePolicy, counts_visible
from contest.db import now_utc
from contest.timeutil import vn_today
from contest.voting.eligibility import REFUSAL_SQL
from contest.voting.signals import VoteSignals, hashed, since_view_ms


def month_of(day: date) -> date:
    return day.replace(day=1)


# What a vote that passed every rule but was not written means, per policy: under one vote per
# entry (ever, or per day) only the (entry, voter, period) constraint can refuse it.
ONCE_PER_ENTRY_REFUSALS = {
    VotePolicy.once_per_entry: "already_voted",
    VotePolicy.once_per_entry_per_day: "already_voted_today",
}


@dataclass(frozen=True)
class QuickVote:
    """What quick_vote did: a vote recorded, or one refused for a reason the statement knows
    for sure (``refusal``, a code of REFUSALS), with what the vote button shows after it."""

    vote_id: int | None  # None: refused
    entry_count: int
    counts_visible: bool
    refusal: str | None = None


def quick_vote(
    engine: Engine,
    *,
    code: str,
    voter_id: int,
    login_session: str,
    signals: VoteSignals,
    viewed_entry_id: int | None,
    secret: str,
    at: datetime | None = None,
) -> QuickVote | None:
    """The vote button's hot path on PostgreSQL: the whole vote in one statement, or None.

    The statement checks every rule that record_vote checks, from the entry's code and the
    voter's id, and that the voter's login (``login_session``, as the session cookie names it)
    is still open (contest.auth.sessions). Under a policy of one vote per entry (ever, or per
    Vietnam day), a vote that every rule allows but the policy's unique constraint refuses
    can only be a second vote: it comes back refused (``already_voted`` or
    ``already_voted_today``), a double click answered by the same one statement. A vote that
    contest.voting.eligibility refuses (a judge, an organizer, the entry's author) comes back
    refused with that rule's code. None means that it wrote nothing for another reason (a
    rule met, no such entry, the day's quota or a race for its slot, another database) and
    the caller takes the general path, which tells the voter why in their language.
    ``signals.viewed_at`` is when an entry page was served, ``viewed_entry_id`` which entry's
    (the vote keeps the delay only if it is this entry).

    The statement runs on a pooled connection of ``engine`` (Database.vote_engine, whose
    connections are in autocommit mode), sent by the driver itself, tests included: one
    statement is atomic, the vote is one round trip (the pool checks only a connection that
    sat idle, contest.db.PING_AFTER_IDLE_S) and none of SQLAlchemy's execution machinery
    runs, which cost as much CPU as the driver's own work. No ORM session is made for it.
    """
    if engine.dialect.name != "postgresql":
        return None
    at = at or now_utc()
    params = statement_params(code.upper(), voter_id, signals, viewed_entry_id, secret, at, login_session)
    found = _autocommit_statement(engine, VOTE_SQL, params)
    if found is None:
        return None
    vote_id, entry_count, display, closes_at, policy, ineligible = found
    refusal = None
    if vote_id is None:
        refusal = ineligible or ONCE_PER_ENTRY_REFUSALS.get(VotePolicy(policy))
        if refusal is None:
            return None  # the general path tells why
    return QuickVote(vote_id, entry_count, counts_visible(VoteCountDisplay(display), closes_at, at), refusal)


def _autocommit_statement(engine: Engine, sql: str, params: dict) -> tuple | None:
    """The first row of one statement run on a connection of ``engine``'s pool, which must be
    in autocommit mode (Database.vote_engine): elsewhere the pool would roll the vote back."""
    pooled = engine.raw_connection()
    try:
        driver = pooled.driver_connection
        if not driver.autocommit:
            raise ValueError("the vote's statement needs a pool in autocommit mode (Database.vote_engine)")
        return driver.execute(sql, params).fetchone()
    finally:
        pooled.close()  # back to the pool


def statement_params(
    code: str,
    voter_id: int,
    signals: VoteSignals,
    viewed_entry_id: int | None,
    secret: str,
    at: datetime,
    login_session: str | None = None,
) -> dict:
    """The statement's parameters; ``login_session`` None: the caller has checked the voter's
    login itself (the general path, through Flask-Login)."""
    day = vn_today(at)
    return {
        "code": code,
        "voter_id": voter_id,
        "login_session": login_session,
        "at": at,
        "day": day,
        "day_key": day.isoformat(),
        "month": month_of(day),
        "viewed_entry_id": viewed_entry_id,
        "since_view_ms": since_view_ms(signals.viewed_at, at),
        **hashed(secret, signals),
    }


# The vote, its entry's counter and its month's counter in one statement (PostgreSQL's
# data-modifying CTEs). ``target`` holds the rules of check_vote: an approved entry of a
# published contest, inside the voting window, an active account with a confirmed address,
# logged in on a login that is still open (a primary-key probe of login_sessions).
# ``ballot`` holds the policy: the period of the unique (entry, voter, period) constraint
# ('' once per entry, the Vietnam day otherwise) and, under "N votes a day", the slot of the
# unique (contest, voter, day, slot) constraint: the voter's count of the day plus one, and
# nothing past the quota. What ON CONFLICT DO NOTHING skips counts nowhere. The statement
# returns a row whenever every rule of ``target`` holds: the new vote's id and the entry's
# count after it, or no id (nothing written) and the count as it was. ``ineligible`` is
# contest.voting.eligibility's rule (who may vote): when it names a refusal, nothing is
# written and the row says which. account_age_s
# and since_view_ms are what record_vote's general path computes. Plain driver SQL (psycopg's
# %(name)s parameters): the hot path sends it on the driver's own connection, the other
# paths through SQLAlchemy's exec_driver_sql, so both run the very same text.
VOTE_SQL = f"""
    WITH target AS (
        SELECT e.id AS entry_id, e.vote_count AS entry_votes, c.id AS contest_id, c.vote_policy,
               c.votes_per_day, c.vote_counts, c.voting_closes_at, u.created_at AS voter_created_at,
               {REFUSAL_SQL} AS ineligible
        FROM entries AS e
        JOIN contests AS c ON c.id = e.contest_id
        JOIN users AS u ON u.id = %(voter_id)s
        WHERE e.code = %(code)s AND e.status = 'approved' AND c.is_published
          AND c.voting_opens_at <= %(at)s AND %(at)s < c.voting_closes_at
          AND u.active AND u.email_verified_at IS NOT NULL
          AND (CAST(%(login_session)s AS varchar) IS NULL OR EXISTS (
              SELECT FROM login_sessions AS s WHERE s.id = %(login_session)s AND s.user_id = u.id
                AND s.revoked_at IS NULL AND %(at)s < s.expires_at))
    ), ballot AS (
        SELECT target.*,
               CASE WHEN vote_policy = 'once_per_entry' THEN '' ELSE CAST(%(day_key)s AS varchar) END AS period,
               CASE WHEN vote_policy = 'daily_quota' THEN
                   (SELECT count(*) FROM votes AS v
                    WHERE v.contest_id = target.contest_id AND v.voter_id = %(voter_id)s AND v.day = %(day)s) + 1
               END AS slot
        FROM target
    ), new_vote AS (
        INSERT INTO votes (contest_id, entry_id, voter_id, created_at, day, period, slot,
                           ip_hash, net_hash, ua_hash, account_age_s, since_view_ms)
        SELECT contest_id, entry_id, %(voter_id)s, %(at)s, %(day)s, period, slot,
               %(ip_hash)s, %(net_hash)s, %(ua_hash)s,
               GREATEST(0, trunc(EXTRACT(EPOCH FROM (CAST(%(at)s AS timestamptz) - voter_created_at))))::integer,
               CASE WHEN entry_id = CAST(%(viewed_entry_id)s AS integer) THEN CAST(%(since_view_ms)s AS integer) END
        FROM ballot
        WHERE ineligible IS NULL AND (vote_policy <> 'daily_quota' OR slot <= votes_per_day)
        ON CONFLICT DO NOTHING
        RETURNING id, entry_id, contest_id
    ), entry_count AS (
        UPDATE entries SET vote_count = entries.vote_count + 1
        FROM new_vote WHERE entries.id = new_vote.entry_id
        RETURNING entries.vote_count
    ), month_count AS (
        INSERT INTO monthly_vote_counts (entry_id, month, contest_id, votes)
        SELECT entry_id, %(month)s, contest_id, 1 FROM new_vote
        ON CONFLICT (entry_id, month) DO UPDATE SET votes = monthly_vote_counts.votes + 1
    )
    SELECT new_vote.id, COALESCE(entry_count.vote_count, ballot.entry_votes), ballot.vote_counts,
           ballot.voting_closes_at, ballot.vote_policy, ballot.ineligible
    FROM ballot LEFT JOIN new_vote ON true LEFT JOIN entry_count ON true
    """
