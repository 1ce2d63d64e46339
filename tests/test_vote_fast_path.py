"""The vote button's hot path: one statement on PostgreSQL that must refuse what the rules refuse.

statement.quick_vote checks every rule in SQL and writes nothing when one fails; it says why
itself only for a second vote under a one-vote-per-entry policy, and otherwise the general
path (services.record_vote) says why. These tests hold the two to the same rules, run
the statement in autocommit mode on a database of its own as production does, and cover the
request side: the voter named by the session, the remember cookie, a disabled account, CSRF
and the language kept in the session at login.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from contest import create_app
from contest.auth import sessions
from contest.contests.demo import build_demo_contest
from contest.contests.models import VoteCountDisplay, VotePolicy
from contest.entries.models import Entry, EntryStatus
from contest.extensions import db as db_ext
from contest.voting import services, statement
from contest.voting.models import MonthlyVoteCount, Vote
from contest.voting.services import VoteRefused
from contest.voting.signals import VoteSignals
from tests.support import (
    PASSWORD,
    create_user,
    driver_statements,
    log_in,
    make_entry,
    make_test_config,
    migrate,
    new_database,
    open_login,
    vn,
)
from tests.test_voting import SECRET, SIGNALS

JSON = {"Accept": "application/json"}


@pytest.fixture
def pg(db):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("the one-statement vote is PostgreSQL's; SQLite takes the general path")
    return db


def rows(db) -> tuple[int, int, int]:
    """Votes, the sum of the entries' counters and of the monthly counters."""
    db.expire_all()
    return (
        db.scalar(select(func.count(Vote.id))),
        db.scalar(select(func.coalesce(func.sum(Entry.vote_count), 0))),
        db.scalar(select(func.coalesce(func.sum(MonthlyVoteCount.votes), 0))),
    )


def general(db, contest, entry, voter, at) -> str:
    """What the rules in Python (no one-statement vote) do, undone afterwards."""
    savepoint = db.begin_nested()
    try:
        services.check_vote(contest, entry, voter, at)
        services.record_by_rules(
            db, contest=contest, entry=entry, voter=voter, signals=SIGNALS, secret=SECRET, at=at
        )
        return "counted"
    except VoteRefused as refused:
        return refused.code
    finally:
        savepoint.rollback()
        db.expire_all()


def by_rules(db, contest, entry, voter, at) -> None:
    """An earlier vote of a case's set-up, written without the statement under test."""
    services.check_vote(contest, entry, voter, at)
    services.record_by_rules(
        db, contest=contest, entry=entry, voter=voter, signals=SIGNALS, secret=SECRET, at=at
    )


def quick(db, entry, voter, at) -> statement.QuickVote | None:
    return statement.quick_vote(
        db.connection(),
        code=entry.code,
        voter_id=voter.id,
        login_session=open_login(db, voter),
        signals=SIGNALS,
        viewed_entry_id=None,
        secret=SECRET,
        at=at,
    )


# Each case: set the situation up (it may cast earlier votes), then the moment of the vote.
def _open(db, contest, entry, voter):
    return vn(2025, 6, 10, 9)


def _before_window(db, contest, entry, voter):
    return contest.voting_opens_at - timedelta(seconds=1)


def _at_close(db, contest, entry, voter):
    return contest.voting_closes_at


def _pending_entry(db, contest, entry, voter):
    entry.status = EntryStatus.pending_review
    return vn(2025, 6, 10, 9)


def _rejected_entry(db, contest, entry, voter):
    entry.status = EntryStatus.rejected
    return vn(2025, 6, 10, 9)


def _unpublished_contest(db, contest, entry, voter):
    contest.is_published = False
    return vn(2025, 6, 10, 9)


def _unverified_voter(db, contest, entry, voter):
    voter.email_verified_at = None
    return vn(2025, 6, 10, 9)


def _disabled_voter(db, contest, entry, voter):
    voter.active = False
    return vn(2025, 6, 10, 9)


def _again_the_same_vietnam_day(db, contest, entry, voter):
    by_rules(db, contest, entry, voter, vn(2025, 6, 10, 0))
    return vn(2025, 6, 10, 23, 59, 59)


def _the_next_vietnam_day(db, contest, entry, voter):
    by_rules(db, contest, entry, voter, vn(2025, 6, 10, 23, 59, 59))
    return vn(2025, 6, 11, 0)


def _once_per_entry_next_day(db, contest, entry, voter):
    contest.vote_policy = VotePolicy.once_per_entry
    _again_the_same_vietnam_day(db, contest, entry, voter)
    return vn(2025, 6, 20, 9)


def _quota_left(db, contest, entry, voter):
    contest.vote_policy, contest.votes_per_day = VotePolicy.daily_quota, 2
    other = make_entry(db, contest, create_user(db, "other-author@example.com"))
    by_rules(db, contest, other, voter, vn(2025, 6, 10, 8))
    return vn(2025, 6, 10, 9)


def _quota_used(db, contest, entry, voter):
    _quota_left(db, contest, entry, voter)
    contest.votes_per_day = 1
    return vn(2025, 6, 10, 9)


CASES: dict[str, Callable] = {
    "open": _open,
    "before the window": _before_window,
    "at the close": _at_close,
    "pending entry": _pending_entry,
    "rejected entry": _rejected_entry,
    "unpublished contest": _unpublished_contest,
    "unverified voter": _unverified_voter,
    "disabled voter": _disabled_voter,
    "again the same Vietnam day": _again_the_same_vietnam_day,
    "the next Vietnam day": _the_next_vietnam_day,
    "once per entry, a later day": _once_per_entry_next_day,
    "daily quota, one left": _quota_left,
    "daily quota, used": _quota_used,
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_one_statement_refuses_what_the_rules_refuse(pg, voting, case):
    author, voter = create_user(pg, "author@example.com"), create_user(pg, "voter@example.com")
    entry = make_entry(pg, voting, author)
    at = CASES[case](pg, voting, entry, voter)
    pg.flush()
    expected = general(pg, voting, entry, voter, at)
    before, entry_count = rows(pg), pg.get(Entry, entry.id).vote_count
    counted = quick(pg, entry, voter, at)
    if expected == "counted":
        assert counted is not None and counted.entry_count == entry_count + 1 and counted.refusal is None
        assert rows(pg) == tuple(n + 1 for n in before)
    elif expected in ("already_voted", "already_voted_today"):
        # A second vote: the statement itself says so, with the count as it stands.
        assert counted is not None and counted.vote_id is None, f"{case}: the statement counted the vote"
        assert counted.refusal == expected and counted.entry_count == entry_count
        assert rows(pg) == before
    else:
        assert counted is None, f"{case}: the rules say {expected}, the statement says {counted}"
        assert rows(pg) == before


def test_the_counter_update_touches_no_index(pg, voting):
    """No index holds entries.vote_count (the gallery sorts by its copy, rank_votes): the vote's
    update of the counter is a heap-only (HOT) update, which writes no index entry."""
    voters = [create_user(pg, f"v{i}@example.com") for i in range(3)]
    entry = make_entry(pg, voting, create_user(pg, "author@example.com"))
    pg.flush()
    counted = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'entries'"
    updated, hot = pg.connection().exec_driver_sql(counted).one()
    for voter in voters:
        assert quick(pg, entry, voter, vn(2025, 6, 10, 9)).refusal is None
    assert pg.connection().exec_driver_sql(counted).one() == (updated + 3, hot + 3)


def test_the_one_statement_writes_what_the_general_path_writes(pg, voting):
    voter = create_user(pg, "voter@example.com")
    voter.created_at = vn(2025, 6, 10, 8)
    first, second = (make_entry(pg, voting, create_user(pg, f"a{i}@example.com")) for i in range(2))
    pg.flush()
    at = vn(2025, 6, 10, 9)
    signals = VoteSignals("203.0.113.7", "UA-1", viewed_at=at - timedelta(seconds=12))
    done = services.record_by_rules(
        pg, contest=voting, entry=first, voter=voter, signals=signals, secret=SECRET, at=at
    )
    by_general = pg.get(Vote, done.vote_id)
    by_statement = pg.get(
        Vote,
        statement.quick_vote(
            pg.connection(),
            code=second.code.lower(),
            voter_id=voter.id,
            login_session=open_login(pg, voter),
            signals=signals,
            viewed_entry_id=second.id,
            secret=SECRET,
            at=at,
        ).vote_id,
    )
    for column in (
        "day",
        "period",
        "slot",
        "account_age_s",
        "since_view_ms",
        "ip_hash",
        "net_hash",
        "ua_hash",
        "created_at",
    ):
        assert getattr(by_statement, column) == getattr(by_general, column), column
    assert by_statement.account_age_s == 3600 and by_statement.since_view_ms == 12_000
    # A view token of another entry's page is not this vote's signal.
    other_page = statement.quick_vote(
        pg.connection(),
        code=first.code,
        voter_id=voter.id,
        login_session=open_login(pg, voter),
        signals=signals,
        viewed_entry_id=second.id,
        secret=SECRET,
        at=at + timedelta(days=1),
    )
    assert pg.get(Vote, other_page.vote_id).since_view_ms is None


def test_hidden_counts_stay_hidden_in_the_answer(pg, voting):
    voting.vote_counts = VoteCountDisplay.after_close
    entry, voter = make_entry(pg, voting, create_user(pg, "a@example.com")), create_user(pg, "v@example.com")
    pg.flush()
    counted = quick(pg, entry, voter, vn(2025, 6, 10, 9))
    assert counted.entry_count == 1 and counted.counts_visible is False


def test_sqlite_takes_the_general_path(db, voting):
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("about SQLite")
    entry, voter = make_entry(db, voting, create_user(db, "a@example.com")), create_user(db, "v@example.com")
    db.flush()
    assert quick(db, entry, voter, vn(2025, 6, 10, 9)) is None
    assert rows(db)[0] == 0


# --- production's branch: a database of its own, autocommit ------------------------------
def test_the_statement_is_not_sent_where_the_pool_would_roll_it_back(app, pg):
    """The application's own pool rolls back what a connection holds when it comes back:
    the statement goes only to a pool in autocommit mode (Database.vote_engine)."""
    state = app.extensions["db"]
    arguments = {"code": "NONE-0000", "voter_id": 1, "login_session": "none", "signals": SIGNALS, "viewed_entry_id": None}
    with pytest.raises(ValueError, match="autocommit"):
        statement.quick_vote(state.engine, **arguments, secret=SECRET)
    # The votes' own pool is accepted: no such entry, so nothing is written (None).
    assert statement.quick_vote(state.engine, **arguments, secret=SECRET, engine=state.vote_engine) is None


def test_on_a_database_of_its_own_a_vote_is_one_committed_statement(tmp_path):
    databases = new_database("postgresql", tmp_path)
    url = next(databases)
    migrate(url)
    app = create_app(make_test_config(tmp_path, url))
    try:
        with app.app_context():
            session = db_ext.session
            contest, _ = build_demo_contest(session)
            session.commit()
            voter = create_user(session, "voter@example.com")
            entry = make_entry(session, contest, create_user(session, "author@example.com"))
            session.commit()
            code, entry_id = entry.code, entry.id
        client = app.test_client()
        log_in(client, voter)
        state = app.extensions["db"]
        state.engine.pool.dispose()  # connections made from now on record what they send
        sent_by_the_app, statements = driver_statements(state.engine), driver_statements(state.vote_engine)

        answer = client.post(f"/e/{code}/vote", headers=JSON)
        assert answer.status_code == 200 and answer.get_json()["count"] == 1
        # What reached the driver, pool checks included: the vote, on the votes' own pool, and
        # nothing else on either pool.
        assert len(statements) == 1 and "INSERT INTO votes" in statements[0]
        assert sent_by_the_app == []
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as other:
            assert other.execute("SELECT count(*) FROM votes").fetchone()[0] == 1
            assert (
                other.execute("SELECT vote_count FROM entries WHERE id = %s", (entry_id,)).fetchone()[0] == 1
            )
            assert other.execute("SELECT sum(votes) FROM monthly_vote_counts").fetchone()[0] == 1

        again = client.post(f"/e/{code}/vote", headers=JSON)
        assert again.status_code == 409
        assert again.get_json() == {
            "ok": False,
            "message": "You have already voted for this entry today. You can vote for it again tomorrow.",
            "count": 1,
            "state": "voted",
        }
        # The refusal came from the same one statement: nothing else reached the driver.
        assert len(statements) == 2 and "INSERT INTO votes" in statements[1]
        assert sent_by_the_app == []
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as other:
            assert other.execute("SELECT count(*) FROM votes").fetchone()[0] == 1
            # No connection was left in a transaction by the vote.
            assert (
                other.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%%'"
                ).fetchone()[0]
                == 0
            )
    finally:
        app.extensions["db"].dispose()
        next(databases, None)


@pytest.mark.parametrize("async_commit", [False, True])
def test_only_the_votes_commit_may_skip_waiting_for_the_disk(tmp_path, async_commit):
    databases = new_database("postgresql", tmp_path)
    url = next(databases)
    migrate(url)
    app = create_app(make_test_config(tmp_path, url, VOTE_ASYNC_COMMIT=async_commit))
    state = app.extensions["db"]
    try:
        with app.app_context():
            contest, _ = build_demo_contest(db_ext.session)
            voter = create_user(db_ext.session, "voter@example.com")
            entry = make_entry(db_ext.session, contest, create_user(db_ext.session, "author@example.com"))
            db_ext.session.commit()
            code = entry.code
        client = app.test_client()
        log_in(client, voter)
        state.engine.pool.dispose()
        sent_by_the_app, sent_for_votes = (
            driver_statements(state.engine),
            driver_statements(state.vote_engine),
        )

        assert client.post(f"/e/{code}/vote", headers=JSON).get_json()["count"] == 1

        # The votes' own pool, in autocommit mode: the vote is sent with no mode switch around it.
        assert state.vote_engine is not state.engine
        assert [s for s in sent_for_votes if "INSERT INTO votes" in s]
        assert not [s for s in sent_by_the_app if "INSERT INTO votes" in s]
        settings = {}
        for name, engine in (("app", state.engine), ("votes", state.vote_engine)):
            with engine.connect() as conn:
                settings[name] = (
                    conn.exec_driver_sql("SHOW synchronous_commit").scalar(),
                    conn.connection.driver_connection.autocommit,
                )
        assert settings == {"app": ("on", False), "votes": ("off" if async_commit else "on", True)}
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as other:
            counted = "SELECT (SELECT count(*) FROM votes), (SELECT sum(vote_count) FROM entries)"
            assert other.execute(counted).fetchone() == (1, 1)
    finally:
        state.dispose()
        next(databases, None)


# --- the request side ----------------------------------------------------------------------
@pytest.fixture
def open_entry(db, contest):
    return make_entry(db, contest, create_user(db, "author@example.com"))


def test_a_voter_known_only_by_the_remember_cookie_votes(client, db, contest, open_entry):
    voter = create_user(db, "voter@example.com")
    answer = client.post("/account/login", data={"email": voter.email, "password": PASSWORD, "remember": "y"})
    assert answer.status_code == 302
    client.delete_cookie("session")
    answer = client.post(f"/e/{open_entry.code}/vote", headers=JSON)
    assert answer.status_code == 200 and answer.get_json()["ok"] is True
    assert rows(db)[0] == 1


@pytest.mark.parametrize("policy", [VotePolicy.once_per_entry, VotePolicy.once_per_entry_per_day])
def test_a_second_vote_is_answered_as_the_general_path_answers_it(
    client, pg, contest, open_entry, monkeypatch, policy
):
    contest.vote_policy = policy
    voter = create_user(pg, "voter@example.com")
    log_in(client, voter)
    url = f"/e/{open_entry.code}/vote"
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
    assert by_statement[2:4] == (302, f"/e/{open_entry.code}") and by_statement[4][0][0] == "error"
    assert rows(pg)[0] == 1


def test_a_disabled_account_with_a_live_session_cannot_vote(client, db, contest, open_entry):
    voter = create_user(db, "voter@example.com")
    log_in(client, voter)
    voter.active = False
    db.flush()
    answer = client.post(f"/e/{open_entry.code}/vote", headers=JSON)
    assert answer.status_code == 401 and "login_url" in answer.get_json()
    assert rows(db)[0] == 0


def test_an_unknown_code_is_not_found_for_a_voter(client, db, contest):
    log_in(client, create_user(db, "voter@example.com"))
    assert client.post("/e/HNA25-9999/vote", headers=JSON).status_code == 404


def test_a_vote_needs_the_forms_csrf_token(tmp_path):
    databases = new_database("sqlite", tmp_path)
    url = next(databases)
    migrate(url)
    app = create_app(make_test_config(tmp_path, url, WTF_CSRF_ENABLED=True))
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        session.commit()
        voter = create_user(session, "voter@example.com")
        code = make_entry(session, contest, create_user(session, "author@example.com")).code
        session.commit()
    client = app.test_client()
    log_in(client, voter)
    assert client.post(f"/e/{code}/vote", headers=JSON).status_code == 400
    page = client.get(f"/e/{code}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post(f"/e/{code}/vote", data={"csrf_token": token}, headers=JSON)
    assert answer.status_code == 200 and answer.get_json()["count"] == 1
    app.extensions["db"].dispose()


@pytest.mark.parametrize(("chosen", "kept"), [(None, "en"), ("vi", "vi")])
def test_logging_in_keeps_the_accounts_language_unless_one_was_chosen(client, db, contest, chosen, kept):
    voter = create_user(db, "voter@example.com", locale="en")
    if chosen:
        client.get(f"/language/{chosen}")
    client.post("/account/login", data={"email": voter.email, "password": PASSWORD})
    with client.session_transaction() as session:
        assert session["lang"] == kept and sessions.parse(session["_user_id"])[0] == voter.id


def test_a_vote_answer_is_in_the_language_kept_at_login(client, db, contest, open_entry):
    voter = create_user(db, "voter@example.com", locale="en")
    client.post("/account/login", data={"email": voter.email, "password": PASSWORD})
    answer = client.post(f"/e/{open_entry.code}/vote", headers=JSON)
    assert answer.get_json()["message"] == "Thank you: your vote is counted."
