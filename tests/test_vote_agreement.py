"""The vote's one statement and the rules in Python give the same answers, on the production pool.

statement.quick_vote sends the vote on Database.vote_engine, whose connections are in
autocommit mode, as production does: its votes commit outside any test transaction. So these
tests run on a PostgreSQL database of this module's own, set their data up committed, and
empty every table after each test; the rest of the suite never sees them.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.contests.models import VoteCountDisplay, VotePolicy
from contest.db import Base
from contest.entries.models import Entry, EntryStatus
from contest.voting import services, statement
from contest.voting.models import MonthlyVoteCount, Vote
from contest.voting.services import VoteRefused
from tests.support import (
    app_on_own_database,
    create_user,
    log_in,
    make_entry,
    open_login,
    vn,
)
from tests.test_voting import SECRET, SIGNALS

JSON = {"Accept": "application/json"}


# --- a database of this module's own, its data committed -------------------------------------
@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    with app_on_own_database(tmp_path_factory.mktemp("votes")) as (app, _url):
        yield app


@pytest.fixture
def live(live_app) -> Iterator[Session]:
    """A session whose commits are real, on the module's database; every table emptied after."""
    engine = live_app.extensions["db"].engine
    session = Session(bind=engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def voting(live):
    """The demo contest, voting open through June and July 2025 (Vietnam time), committed."""
    contest, _ = build_demo_contest(live)
    contest.voting_opens_at, contest.voting_closes_at = vn(2025, 6, 1), vn(2025, 8, 1)
    contest.vote_policy = VotePolicy.once_per_entry_per_day
    live.commit()
    return contest


def rows(session) -> tuple[int, int, int]:
    """Votes, the sum of the entries' counters and of the monthly counters, as committed."""
    session.rollback()
    return (
        session.scalar(select(func.count(Vote.id))),
        session.scalar(select(func.coalesce(func.sum(Entry.vote_count), 0))),
        session.scalar(select(func.coalesce(func.sum(MonthlyVoteCount.votes), 0))),
    )


def general(session, contest, entry, voter, at) -> str:
    """What the rules in Python (no one-statement vote) answer, undone afterwards."""
    savepoint = session.begin_nested()
    try:
        services.check_vote(contest, entry, voter, at)
        services.record_by_rules(
            session, contest=contest, entry=entry, voter=voter, signals=SIGNALS, secret=SECRET, at=at
        )
        return "counted"
    except VoteRefused as refused:
        return refused.code
    finally:
        savepoint.rollback()
        session.rollback()


def quick(app, session, entry, voter, at, code: str | None = None) -> statement.QuickVote | None:
    """The vote as the button sends it: on the votes' own pool, in autocommit mode."""
    login = open_login(session, voter)
    session.commit()
    return statement.quick_vote(
        app.extensions["db"].vote_engine,
        code=code or entry.code,
        voter_id=voter.id,
        login_session=login,
        signals=SIGNALS,
        viewed_entry_id=None,
        secret=SECRET,
        at=at,
    )


def by_rules(session, contest, entry, voter, at) -> Vote:
    """An earlier vote of a case's set-up, written without the statement under test."""
    services.check_vote(contest, entry, voter, at)
    done = services.record_by_rules(
        session, contest=contest, entry=entry, voter=voter, signals=SIGNALS, secret=SECRET, at=at
    )
    return session.get(Vote, done.vote_id)


# --- the cases: set the situation up (earlier votes included), return the vote's moment -------
def _open(s, contest, entry, voter):
    return vn(2025, 6, 10, 9)


def _at_the_opening_instant(s, contest, entry, voter):
    return contest.voting_opens_at


def _before_window(s, contest, entry, voter):
    return contest.voting_opens_at - timedelta(microseconds=1)


def _at_close(s, contest, entry, voter):
    return contest.voting_closes_at


def _status(status: EntryStatus) -> Callable:
    def setup(s, contest, entry, voter):
        entry.status = status
        return vn(2025, 6, 10, 9)

    return setup


def _unpublished_contest(s, contest, entry, voter):
    contest.is_published = False
    return vn(2025, 6, 10, 9)


def _unverified_voter(s, contest, entry, voter):
    voter.email_verified_at = None
    return vn(2025, 6, 10, 9)


def _disabled_voter(s, contest, entry, voter):
    voter.active = False
    return vn(2025, 6, 10, 9)


def _again_the_same_vietnam_day(s, contest, entry, voter):
    by_rules(s, contest, entry, voter, vn(2025, 6, 10, 0))
    return vn(2025, 6, 10, 23, 59, 59)


def _the_next_vietnam_day(s, contest, entry, voter):
    by_rules(s, contest, entry, voter, vn(2025, 6, 10, 23, 59, 59))
    return vn(2025, 6, 11, 0)


def _once_per_entry_next_day(s, contest, entry, voter):
    contest.vote_policy = VotePolicy.once_per_entry
    _again_the_same_vietnam_day(s, contest, entry, voter)
    return vn(2025, 6, 20, 9)


def _void(s, vote: Vote) -> None:
    organizer = create_user(s, "organizer@example.com", role=Role.organizer)
    assert services.void_votes(s, [vote], actor=organizer, reason="a test") == 1


def _voided_then_again_the_same_day(s, contest, entry, voter):
    """A voided vote keeps its place: the account cannot vote again in its stead."""
    _void(s, by_rules(s, contest, entry, voter, vn(2025, 6, 10, 8)))
    return vn(2025, 6, 10, 9)


def _voided_then_the_next_day(s, contest, entry, voter):
    _void(s, by_rules(s, contest, entry, voter, vn(2025, 6, 10, 8)))
    return vn(2025, 6, 11, 9)


def _other_entry(s, contest):
    return make_entry(s, contest, create_user(s, "other-author@example.com"))


def _quota_left(s, contest, entry, voter):
    contest.vote_policy, contest.votes_per_day = VotePolicy.daily_quota, 2
    by_rules(s, contest, _other_entry(s, contest), voter, vn(2025, 6, 10, 8))
    return vn(2025, 6, 10, 9)


def _quota_used(s, contest, entry, voter):
    _quota_left(s, contest, entry, voter)
    contest.votes_per_day = 1
    return vn(2025, 6, 10, 9)


def _quota_used_by_a_voided_vote(s, contest, entry, voter):
    contest.vote_policy, contest.votes_per_day = VotePolicy.daily_quota, 1
    _void(s, by_rules(s, contest, _other_entry(s, contest), voter, vn(2025, 6, 10, 8)))
    return vn(2025, 6, 10, 9)


def _quota_the_same_entry_again(s, contest, entry, voter):
    contest.vote_policy, contest.votes_per_day = VotePolicy.daily_quota, 3
    by_rules(s, contest, entry, voter, vn(2025, 6, 10, 8))
    return vn(2025, 6, 10, 9)


def _quota_the_same_entry_the_next_day(s, contest, entry, voter):
    _quota_the_same_entry_again(s, contest, entry, voter)
    return vn(2025, 6, 11, 9)


def _role(role: Role, allowed: bool) -> Callable:
    def setup(s, contest, entry, voter):
        voter.role = role
        contest.judges_may_vote = contest.organizers_may_vote = allowed
        return vn(2025, 6, 10, 9)

    return setup


def _author(allowed: bool) -> Callable:
    def setup(s, contest, entry, voter):
        entry.author_id = voter.id
        contest.authors_may_vote_for_own = allowed
        return vn(2025, 6, 10, 9)

    return setup


# What the statement does with each: counts the vote, refuses it with the rules' own code, or
# defers (writes nothing and returns None: the general path tells the voter why).
COUNTS, REFUSES, DEFERS = "counts", "refuses", "defers"
CASES: dict[str, tuple[Callable, str, str]] = {
    "open": (_open, "counted", COUNTS),
    "at the opening instant": (_at_the_opening_instant, "counted", COUNTS),
    "just before the window": (_before_window, "not_open", DEFERS),
    "at the close": (_at_close, "closed", DEFERS),
    "pending entry": (_status(EntryStatus.pending_review), "not_votable", DEFERS),
    "rejected entry": (_status(EntryStatus.rejected), "not_votable", DEFERS),
    "withdrawn entry": (_status(EntryStatus.withdrawn), "not_votable", DEFERS),
    "failed entry": (_status(EntryStatus.failed), "not_votable", DEFERS),
    "unpublished contest": (_unpublished_contest, "not_votable", DEFERS),
    "unverified voter": (_unverified_voter, "not_verified", DEFERS),
    "disabled voter": (_disabled_voter, "not_verified", DEFERS),
    "again the same Vietnam day": (_again_the_same_vietnam_day, "already_voted_today", REFUSES),
    "the next Vietnam day": (_the_next_vietnam_day, "counted", COUNTS),
    "once per entry, a later day": (_once_per_entry_next_day, "already_voted", REFUSES),
    "a voided vote, again the same day": (_voided_then_again_the_same_day, "already_voted_today", REFUSES),
    "a voided vote, the next day": (_voided_then_the_next_day, "counted", COUNTS),
    "daily quota, one left": (_quota_left, "counted", COUNTS),
    "daily quota, used": (_quota_used, "daily_quota_used", DEFERS),
    "daily quota, used by a voided vote": (_quota_used_by_a_voided_vote, "daily_quota_used", DEFERS),
    "daily quota, the same entry again": (_quota_the_same_entry_again, "already_voted_today", DEFERS),
    "daily quota, the same entry the next day": (_quota_the_same_entry_the_next_day, "counted", COUNTS),
    "judge": (_role(Role.judge, False), "judges_do_not_vote", REFUSES),
    "judge, judges may vote": (_role(Role.judge, True), "counted", COUNTS),
    "organizer": (_role(Role.organizer, False), "organizers_do_not_vote", REFUSES),
    "organizer, organizers may vote": (_role(Role.organizer, True), "counted", COUNTS),
    "the entry's author": (_author(False), "own_entry", REFUSES),
    "the entry's author, authors may vote for their own": (_author(True), "counted", COUNTS),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_one_statement_answers_as_the_rules_do(live_app, live, voting, case):
    setup, rules_say, statement_does = CASES[case]
    voter = create_user(live, "voter@example.com")
    entry = make_entry(live, voting, create_user(live, "author@example.com"))
    at = setup(live, voting, entry, voter)
    live.commit()
    assert general(live, voting, entry, voter, at) == rules_say
    before, entry_count = rows(live), live.get(Entry, entry.id).vote_count

    answer = quick(live_app, live, entry, voter, at)

    if statement_does == COUNTS:
        assert answer is not None and answer.vote_id is not None and answer.refusal is None, answer
        assert answer.entry_count == entry_count + 1
        assert rows(live) == tuple(n + 1 for n in before)
    elif statement_does == REFUSES:
        assert answer is not None and answer.vote_id is None, answer
        assert answer.refusal == rules_say and answer.entry_count == entry_count
        assert rows(live) == before
    else:
        assert answer is None, answer
        assert rows(live) == before


# --- the statement on production's pool ---------------------------------------------------------
def test_the_statement_is_sent_only_to_the_votes_own_pool(live_app, live, voting):
    """The application's own pool rolls back what a connection holds when it comes back: the
    statement goes only to a pool in autocommit mode (Database.vote_engine), where it commits."""
    state = live_app.extensions["db"]
    voter = create_user(live, "voter@example.com")
    entry = make_entry(live, voting, create_user(live, "author@example.com"))
    arguments = {
        "code": entry.code,
        "voter_id": voter.id,
        "login_session": open_login(live, voter),
        "signals": SIGNALS,
        "viewed_entry_id": None,
        "secret": SECRET,
        "at": vn(2025, 6, 10, 9),
    }
    live.commit()
    with pytest.raises(ValueError, match="autocommit"):
        statement.quick_vote(state.engine, **arguments)
    assert rows(live) == (0, 0, 0)
    counted = statement.quick_vote(state.vote_engine, **arguments)
    assert counted.vote_id is not None and counted.entry_count == 1
    url = str(state.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
    with psycopg.connect(url) as other:  # committed: another connection sees it
        assert other.execute("SELECT count(*), max(id) FROM votes").fetchone() == (1, counted.vote_id)
    assert statement.quick_vote(state.vote_engine, **{**arguments, "code": "NONE-0000"}) is None


def test_hidden_counts_stay_hidden_in_the_answer(live_app, live, voting):
    voting.vote_counts = VoteCountDisplay.after_close
    entry = make_entry(live, voting, create_user(live, "a@example.com"))
    counted = quick(live_app, live, entry, create_user(live, "v@example.com"), vn(2025, 6, 10, 9))
    assert counted.entry_count == 1 and counted.counts_visible is False


# --- through the vote button ------------------------------------------------------------------
@pytest.fixture
def open_now(live, voting):
    """The contest with voting open now (the button's requests vote at the present moment)."""
    voting.voting_opens_at = voting.voting_opens_at.replace(year=2000)
    voting.voting_closes_at = voting.voting_closes_at.replace(year=2100)
    live.commit()
    return voting


@pytest.mark.parametrize("policy", [VotePolicy.once_per_entry, VotePolicy.once_per_entry_per_day])
def test_a_second_vote_is_answered_as_the_general_path_answers_it(
    live_app, live, open_now, monkeypatch, policy
):
    open_now.vote_policy = policy
    entry = make_entry(live, open_now, create_user(live, "author@example.com"))
    voter = create_user(live, "voter@example.com")
    client = live_app.test_client()
    log_in(client, voter)
    url = f"/e/{entry.code}/vote"
    assert client.post(url, headers=JSON).status_code == 200

    def answers() -> tuple:
        as_json, as_page = client.post(url, headers=JSON), client.post(url)
        with client.session_transaction() as kept:
            flashed = kept.pop("_flashes", [])
        return as_json.status_code, as_json.get_json(), as_page.status_code, as_page.location, flashed

    by_statement = answers()
    monkeypatch.setattr(statement, "quick_vote", lambda *args, **kwargs: None)  # the general path
    by_rules = answers()

    assert by_statement == by_rules
    assert by_statement[:2] == (409, {**by_statement[1], "ok": False, "count": 1, "state": "voted"})
    assert by_statement[2:4] == (302, f"/e/{entry.code}") and by_statement[4][0][0] == "error"
    assert rows(live)[0] == 1


# Who, the contest's setting that lets them vote, the button's state and the message otherwise.
WHO = {
    "judge": (
        Role.judge,
        "judges_may_vote",
        "judges_do_not_vote",
        "Judges of this contest do not take part in the public vote.",
    ),
    "organizer": (
        Role.organizer,
        "organizers_may_vote",
        "organizers_do_not_vote",
        "Organizers of this contest do not take part in the public vote.",
    ),
    "author": (Role.entrant, "authors_may_vote_for_own", "own_entry", "You cannot vote for your own entry."),
}


@pytest.mark.parametrize("path", ["statement", "general"])
@pytest.mark.parametrize("who", list(WHO))
def test_who_may_vote_on_the_button_and_both_paths(live_app, live, open_now, monkeypatch, who, path):
    role, setting, state, message = WHO[who]
    voter = create_user(live, "voter@example.com", role=role)
    author = voter if who == "author" else create_user(live, "author@example.com")
    entry = make_entry(live, open_now, author)
    client = live_app.test_client()
    log_in(client, voter)
    if path == "general":
        monkeypatch.setattr(statement, "quick_vote", lambda *args, **kwargs: None)
    url = f"/e/{entry.code}/vote"

    page = html.unescape(client.get(f"/e/{entry.code}").get_data(as_text=True))
    assert message in page and "Vote for this entry" not in page
    refused = client.post(url, headers=JSON)
    assert refused.status_code == 409
    assert refused.get_json() == {"ok": False, "message": message, "count": 0, "state": state}
    assert rows(live) == (0, 0, 0)

    setattr(open_now, setting, True)
    live.commit()
    assert "Vote for this entry" in client.get(f"/e/{entry.code}").get_data(as_text=True)
    counted = client.post(url, headers=JSON)
    assert counted.status_code == 200 and counted.get_json()["count"] == 1
    assert rows(live) == (1, 1, 1)
