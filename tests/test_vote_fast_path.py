"""The vote button's hot path: one statement on PostgreSQL, what it writes and where it runs.

What it writes (the same columns as the general path, no index touched by the counter), that
it runs in autocommit mode on the votes' own pool of a database of its own as production
does, and the request side: the voter named by the session, the remember cookie, a disabled
account, CSRF and the language kept in the session at login. tests/test_vote_agreement.py
holds the statement and the rules in Python to the same answers.
"""

from __future__ import annotations

import re
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import func, select

from contest import create_app
from contest.auth import sessions
from contest.contests.demo import build_demo_contest
from contest.entries.models import Entry
from contest.extensions import db as db_ext
from contest.voting import services, statement
from contest.voting.models import MonthlyVoteCount, Vote
from contest.voting.signals import VoteSignals
from contest.voting.statement import VOTE_SQL, statement_params
from tests.support import (
    PASSWORD,
    app_on_own_database,
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


def in_transaction(db, code: str, voter, at, signals=SIGNALS, viewed_entry_id=None) -> int | None:
    """The vote's statement inside the test's transaction, as record_vote runs it; the new
    vote's id (None: nothing written). The agreement with the rules is tests/test_vote_agreement.py's."""
    params = statement_params(code, voter.id, signals, viewed_entry_id, SECRET, at)
    return db.connection().exec_driver_sql(VOTE_SQL, params).first()[0]


def test_the_counter_update_touches_no_index(pg, voting):
    """No index holds entries.vote_count (the gallery sorts by its copy, rank_votes): the vote's
    update of the counter is a heap-only (HOT) update, which writes no index entry."""
    voters = [create_user(pg, f"v{i}@example.com") for i in range(3)]
    entry = make_entry(pg, voting, create_user(pg, "author@example.com"))
    pg.flush()
    counted = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'entries'"
    updated, hot = pg.connection().exec_driver_sql(counted).one()
    for voter in voters:
        assert in_transaction(pg, entry.code, voter, vn(2025, 6, 10, 9)) is not None
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
        Vote, in_transaction(pg, second.code, voter, at, signals, viewed_entry_id=second.id)
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
    other_page = in_transaction(
        pg, first.code, voter, at + timedelta(days=1), signals, viewed_entry_id=second.id
    )
    assert pg.get(Vote, other_page).since_view_ms is None


def test_sqlite_takes_the_general_path(app, db, voting):
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("about SQLite")
    entry, voter = make_entry(db, voting, create_user(db, "a@example.com")), create_user(db, "v@example.com")
    db.flush()
    arguments = {"code": entry.code, "voter_id": voter.id, "login_session": open_login(db, voter)}
    vote_engine = app.extensions["db"].vote_engine
    assert (
        statement.quick_vote(vote_engine, **arguments, signals=SIGNALS, viewed_entry_id=None, secret=SECRET)
        is None
    )
    assert rows(db)[0] == 0


# --- production's branch: a database of its own, autocommit ------------------------------
def test_on_a_database_of_its_own_a_vote_is_one_committed_statement(tmp_path):
    with app_on_own_database(tmp_path) as (app, url):
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


@pytest.mark.parametrize("async_commit", [False, True])
def test_only_the_votes_commit_may_skip_waiting_for_the_disk(tmp_path, async_commit):
    with app_on_own_database(tmp_path, VOTE_ASYNC_COMMIT=async_commit) as (app, url):
        state = app.extensions["db"]
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
