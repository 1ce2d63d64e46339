"""Voting rules: policies and their Vietnam-time days, the window, who may vote, counters,
voided votes leaving every tally, audience prizes, and concurrent clicks counting once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from contest import create_app
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.contests.models import Contest, VoteCountDisplay, VotePolicy
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.extensions import db as db_ext
from contest.results import audience
from contest.voting import services
from contest.voting.counts import live_ranking
from contest.voting.models import MonthlyVoteCount, Vote
from contest.voting.services import VoteRefused, cast_vote, official_tally, recount, void_votes
from contest.voting.signals import VoteSignals, network_of
from tests.support import create_entry_with_original, create_user, make_test_config, migrate, new_database, vn

SECRET = "test-secret"
SIGNALS = VoteSignals(address="203.0.113.7", user_agent="Mozilla/5.0 (Linux; Android 14)")


def approved_entry(db, contest, author=None, *, category=None, title="Biển Cửa Lò") -> Entry:
    author = author or create_user(db, f"author-{contest.entry_counter + 1}@example.com")
    entry = create_entry_with_original(
        db,
        contest,
        author,
        storage_key=f"originals/t/{contest.entry_counter + 1}.jpg",
        size=1,
        category=category,
        title=title,
    )
    entry.status = EntryStatus.approved
    entry.approved_at = now_utc()
    db.flush()
    return entry


def vote(db, contest, entry, voter, at, signals=SIGNALS):
    return cast_vote(db, contest=contest, entry=entry, voter=voter, signals=signals, secret=SECRET, at=at)


def refused(db, contest, entry, voter, at) -> str:
    with pytest.raises(VoteRefused) as caught:
        vote(db, contest, entry, voter, at)
    return caught.value.code


def counts(db, entry) -> tuple[int, dict[date, int]]:
    db.expire_all()
    months = dict(
        db.execute(
            select(MonthlyVoteCount.month, MonthlyVoteCount.votes).where(
                MonthlyVoteCount.entry_id == entry.id
            )
        ).all()
    )
    return db.get(Entry, entry.id).vote_count, months


# --- policies ----------------------------------------------------------------------------------
def test_once_per_entry_per_day_turns_at_midnight_vietnam_time(db, voting):
    entry, voter = approved_entry(db, voting), create_user(db, "voter@example.com")
    vote(db, voting, entry, voter, vn(2025, 6, 10, 23, 59, 0))
    assert refused(db, voting, entry, voter, vn(2025, 6, 10, 23, 59, 59)) == "already_voted_today"
    vote(db, voting, entry, voter, vn(2025, 6, 11, 0, 0, 0))  # 17:00 UTC: a new day in Vietnam
    assert refused(db, voting, entry, voter, vn(2025, 6, 11, 6)) == "already_voted_today"
    assert counts(db, entry) == (2, {date(2025, 6, 1): 2})


def test_once_per_entry_lasts_the_whole_contest(db, voting):
    voting.vote_policy = VotePolicy.once_per_entry
    entry, voter = approved_entry(db, voting), create_user(db, "voter@example.com")
    other = approved_entry(db, voting)
    vote(db, voting, entry, voter, vn(2025, 6, 10, 9))
    assert refused(db, voting, entry, voter, vn(2025, 7, 20, 9)) == "already_voted"
    vote(db, voting, other, voter, vn(2025, 6, 10, 9, 1))  # another entry is another vote
    assert counts(db, entry)[0] == 1 and counts(db, other)[0] == 1


def test_daily_quota_counts_votes_in_all_and_resets_at_midnight(db, voting):
    voting.vote_policy, voting.votes_per_day = VotePolicy.daily_quota, 3
    voter = create_user(db, "voter@example.com")
    entries = [approved_entry(db, voting) for _ in range(5)]
    for minute, entry in enumerate(entries[:3]):
        vote(db, voting, entry, voter, vn(2025, 6, 10, 23, 50 + minute))
    assert services.votes_left_today(db, voting, voter.id, at=vn(2025, 6, 10, 23, 58)) == 0
    assert refused(db, voting, entries[3], voter, vn(2025, 6, 10, 23, 59, 59)) == "daily_quota_used"
    # one vote per entry and day even with votes left
    vote(db, voting, entries[3], voter, vn(2025, 6, 11, 0, 0, 0))
    assert refused(db, voting, entries[3], voter, vn(2025, 6, 11, 0, 1)) == "already_voted_today"
    assert services.votes_left_today(db, voting, voter.id, at=vn(2025, 6, 11, 1)) == 2
    slots = db.scalars(select(Vote.slot).where(Vote.voter_id == voter.id).order_by(Vote.id)).all()
    assert slots == [1, 2, 3, 1]


def test_voting_window_is_closed_before_and_at_its_ends(db, voting):
    entry, voter = approved_entry(db, voting), create_user(db, "voter@example.com")
    assert refused(db, voting, entry, voter, voting.voting_opens_at - timedelta(seconds=1)) == "not_open"
    assert refused(db, voting, entry, voter, voting.voting_closes_at) == "closed"
    vote(db, voting, entry, voter, voting.voting_closes_at - timedelta(seconds=1))
    vote(db, voting, entry, voter, voting.voting_opens_at)
    assert counts(db, entry)[0] == 2


def test_only_verified_active_accounts_vote_for_approved_entries_of_the_contest(db, voting):
    entry = approved_entry(db, voting)
    at = vn(2025, 6, 10, 9)
    assert (
        refused(db, voting, entry, create_user(db, "new@example.com", verified=False), at) == "not_verified"
    )
    assert refused(db, voting, entry, create_user(db, "off@example.com", active=False), at) == "not_verified"
    voter = create_user(db, "voter@example.com")
    for status in (EntryStatus.pending_review, EntryStatus.rejected, EntryStatus.withdrawn):
        entry.status = status
        assert refused(db, voting, entry, voter, at) == "not_votable"
    entry.status = EntryStatus.approved
    other = Contest(
        slug="other",
        code_prefix="OTH25",
        title_vi="Khác",
        title_en="Other",
        submission_opens_at=voting.submission_opens_at,
        submission_closes_at=voting.submission_closes_at,
        voting_opens_at=voting.voting_opens_at,
        voting_closes_at=voting.voting_closes_at,
    )
    db.add(other)
    db.flush()
    assert refused(db, other, entry, voter, at) == "not_votable"
    assert db.scalar(select(func.count(Vote.id))) == 0


def test_signals_are_kept_hashed(db, voting):
    entry = approved_entry(db, voting)
    first, second = create_user(db, "a@example.com"), create_user(db, "b@example.com")
    first.created_at = vn(2025, 6, 10, 8)
    at = vn(2025, 6, 10, 9)
    a = vote(
        db, voting, entry, first, at, VoteSignals("203.0.113.7", "UA-1", viewed_at=at - timedelta(seconds=12))
    )
    b = vote(db, voting, entry, second, at, VoteSignals("203.0.113.200", "UA-1"))
    assert a.net_hash == b.net_hash and a.ip_hash != b.ip_hash and a.ua_hash == b.ua_hash
    assert len(a.ip_hash) == 16 and "203" not in a.ip_hash + a.net_hash
    assert a.account_age_s == 3600
    assert a.since_view_ms == 12000 and b.since_view_ms is None
    assert network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert network_of("::ffff:198.51.100.9") == "198.51.100.0/24"
    assert network_of("not an address") == ""


# --- voiding, counters and tallies ------------------------------------------------------------------
def test_voided_votes_leave_every_tally_and_restoring_brings_them_back(db, voting):
    organizer = create_user(db, "boss@example.com", role=Role.organizer)
    honest, ringed = approved_entry(db, voting), approved_entry(db, voting)
    voters = [create_user(db, f"v{i}@example.com") for i in range(5)]
    for i, voter in enumerate(voters[:2]):
        vote(db, voting, honest, voter, vn(2025, 6, 10, 9, i))
    ring = [vote(db, voting, ringed, voter, vn(2025, 6, 10, 10, i)) for i, voter in enumerate(voters)]
    assert counts(db, ringed) == (5, {date(2025, 6, 1): 5})
    award = audience.category_awards(db, voting)[0]
    assert [p.entry.id for p in award.placed] == [ringed.id]

    assert void_votes(db, ring[:4], actor=organizer, reason="ring from one network") == 4
    assert void_votes(db, ring[:4], actor=organizer, reason="again") == 0  # already void
    assert counts(db, ringed) == (1, {date(2025, 6, 1): 1})
    assert {s.entry_id: s.votes for s in official_tally(db, voting)} == {honest.id: 2, ringed.id: 1}
    assert [p.entry.id for p in audience.category_awards(db, voting)[0].placed] == [honest.id]
    assert [e.id for e in live_ranking(db, voting, voting.categories[0])] == [honest.id, ringed.id]
    june = audience.monthly_awards(db, voting, at=vn(2025, 7, 5))[0]
    assert [(p.entry.id, p.votes) for p in june.placed] == [(honest.id, 2)]
    assert recount(db, voting) == 0  # the counters agree with the votes
    with pytest.raises(ValueError):
        void_votes(db, ring[4:], actor=organizer, reason="  ")

    assert services.restore_votes(db, ring[:2], actor=organizer, reason="real people") == 2
    assert counts(db, ringed) == (3, {date(2025, 6, 1): 3})
    assert recount(db, voting) == 0


def test_recount_repairs_counters_that_drifted(db, voting):
    entry, voter = approved_entry(db, voting), create_user(db, "voter@example.com")
    vote(db, voting, entry, voter, vn(2025, 6, 10, 9))
    vote(db, voting, entry, voter, vn(2025, 7, 2, 9))
    entry.vote_count = 40
    db.execute(MonthlyVoteCount.__table__.delete())
    assert recount(db, voting) == 1
    assert counts(db, entry) == (2, {date(2025, 6, 1): 1, date(2025, 7, 1): 1})


def test_category_prize_breaks_ties_by_who_reached_the_count_first(db, voting):
    early, late = approved_entry(db, voting), approved_entry(db, voting)
    voters = [create_user(db, f"v{i}@example.com") for i in range(2)]
    vote(db, voting, early, voters[0], vn(2025, 6, 10, 9))
    vote(db, voting, late, voters[0], vn(2025, 6, 10, 10))
    vote(db, voting, early, voters[1], vn(2025, 6, 11, 9))
    vote(db, voting, late, voters[1], vn(2025, 6, 11, 10))
    placed = audience.category_awards(db, voting, places=2)[0].placed
    assert [(p.place, p.entry.id, p.votes, p.tied) for p in placed] == [
        (1, early.id, 2, False),
        (2, late.id, 2, False),
    ]
    # votes outside the window never count in the official tally
    db.add(
        Vote(
            contest_id=voting.id,
            entry_id=late.id,
            voter_id=voters[0].id,
            day=date(2025, 8, 2),
            period="2025-08-02",
            created_at=vn(2025, 8, 2, 9),
        )
    )
    db.flush()
    assert {s.entry_id: s.votes for s in official_tally(db, voting)}[late.id] == 2


def test_the_tally_of_the_top_ranks_keeps_every_entry_that_can_place_per_category(db, voting):
    photo, series = voting.categories[0], voting.categories[1]
    voters = [create_user(db, f"v{i}@example.com") for i in range(4)]

    def entry_with(votes_at, category):
        entry = approved_entry(db, voting, category=category)
        for voter, at in zip(voters, votes_at, strict=False):
            vote(db, voting, entry, voter, at)
        return entry

    first = entry_with([vn(2025, 6, 10, 9)] * 3, photo)
    second = entry_with([vn(2025, 6, 10, 9)] * 2, photo)
    tied_a = entry_with([vn(2025, 6, 10, 11)], photo)  # third place, shared: same count, same time
    tied_b = entry_with([vn(2025, 6, 10, 11)], photo)
    later = entry_with([vn(2025, 6, 10, 12)], photo)  # the same count, reached later: fifth
    series_top = entry_with([vn(2025, 6, 10, 9)], series)

    every = {s.entry_id: s for s in official_tally(db, voting)}
    top = {s.entry_id: s for s in official_tally(db, voting, top=3)}
    assert set(every) == {first.id, second.id, tied_a.id, tied_b.id, later.id, series_top.id}
    assert set(top) == {first.id, second.id, tied_a.id, tied_b.id, series_top.id}
    assert all(top[entry_id] == every[entry_id] for entry_id in top)
    assert {s.entry_id for s in official_tally(db, voting, top=1)} == {first.id, series_top.id}

    placed = audience.category_awards(db, voting, places=3)[0].placed
    assert [(p.place, p.entry.id, p.votes, p.tied) for p in placed] == [
        (1, first.id, 3, False),
        (2, second.id, 2, False),
        (3, min((tied_a, tied_b), key=lambda e: e.code).id, 1, True),
    ]


def test_a_monthly_winner_cannot_win_again(db, voting):
    voting.monthly_prize_winners = 1
    star, runner = approved_entry(db, voting), approved_entry(db, voting)
    voters = [create_user(db, f"v{i}@example.com") for i in range(3)]
    for i, voter in enumerate(voters):
        vote(db, voting, star, voter, vn(2025, 6, 10, 9, i))
        vote(db, voting, star, voter, vn(2025, 7, 10, 9, i))
    vote(db, voting, runner, voters[0], vn(2025, 6, 10, 11))
    vote(db, voting, runner, voters[0], vn(2025, 7, 10, 11))
    months = audience.monthly_awards(db, voting, at=vn(2025, 7, 20))
    assert [(m.month, [p.entry.id for p in m.placed], m.final) for m in months] == [
        (date(2025, 6, 1), [star.id], True),
        (date(2025, 7, 1), [runner.id], False),  # July is not over yet
    ]
    voting.monthly_prize_winners = 0
    assert audience.monthly_awards(db, voting, at=vn(2025, 7, 20)) == []


def test_counts_are_hidden_until_the_close_when_configured(db, voting):
    voting.vote_counts = VoteCountDisplay.after_close
    assert not voting.vote_counts_visible(at=vn(2025, 7, 31, 23, 59))
    assert voting.vote_counts_visible(at=vn(2025, 8, 1))
    voting.vote_counts = VoteCountDisplay.live
    assert voting.vote_counts_visible(at=vn(2025, 6, 2))


# --- concurrency: real commits from many threads ------------------------------------------------------
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def committed_app(request, tmp_path_factory):
    """An app on its own database where every request and thread really commits."""
    databases = new_database(request.param, tmp_path_factory.mktemp(f"votes-{request.param}"))
    url = next(databases)
    migrate(url)
    app = create_app(make_test_config(tmp_path_factory.mktemp("instance"), url))
    yield app
    app.extensions["db"].dispose()
    next(databases, None)


def _setup(app, policy: VotePolicy, *, entries: int, votes_per_day: int | None = None):
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        contest.voting_opens_at, contest.voting_closes_at = (
            now_utc() - timedelta(days=1),
            now_utc() + timedelta(days=1),
        )
        contest.vote_policy, contest.votes_per_day = policy, votes_per_day
        session.commit()
        suffix = f"{policy.value}-{contest.entry_counter}"
        voter = create_user(session, f"voter-{suffix}@example.com")
        author = create_user(session, f"author-{suffix}@example.com")
        made = [approved_entry(session, contest, author) for _ in range(entries)]
        session.commit()
        return contest.id, voter.id, [e.id for e in made]


def _race(app, contest_id: int, voter_id: int, entry_ids: list[int]) -> list[str]:
    """One thread per entry id, all released at once; each casts and commits one vote."""
    from contest.auth.models import User
    from contest.contests.models import Contest

    barrier = threading.Barrier(len(entry_ids))
    outcomes: list[str] = []

    def click(entry_id: int) -> None:
        try:
            with app.app_context():
                session = db_ext.session
                contest, voter = session.get(Contest, contest_id), session.get(User, voter_id)
                entry = session.get(Entry, entry_id)
                session.commit()  # hold no transaction (on SQLite: no write lock) while waiting
                barrier.wait(timeout=60)
                try:
                    vote(session, contest, entry, voter, now_utc())
                    session.commit()
                    outcomes.append("counted")
                except VoteRefused as exc:
                    session.rollback()
                    outcomes.append(exc.code)
        except Exception as exc:  # reported by the assertion, not lost in the thread
            barrier.abort()
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=click, args=(entry_id,)) for entry_id in entry_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_clicks_by_one_voter_on_one_entry_count_once(committed_app):
    contest_id, voter_id, (entry_id,) = _setup(committed_app, VotePolicy.once_per_entry_per_day, entries=1)
    outcomes = _race(committed_app, contest_id, voter_id, [entry_id] * 12)
    assert sorted(outcomes) == ["already_voted_today"] * 11 + ["counted"]
    with committed_app.app_context():
        session = db_ext.session
        assert session.scalar(select(func.count(Vote.id)).where(Vote.entry_id == entry_id)) == 1
        assert session.get(Entry, entry_id).vote_count == 1


def test_concurrent_votes_never_exceed_the_daily_quota(committed_app):
    contest_id, voter_id, entry_ids = _setup(
        committed_app, VotePolicy.daily_quota, entries=8, votes_per_day=3
    )
    outcomes = _race(committed_app, contest_id, voter_id, entry_ids)
    assert sorted(outcomes) == ["counted"] * 3 + ["daily_quota_used"] * 5
    with committed_app.app_context():
        session = db_ext.session
        votes = session.scalars(select(Vote).where(Vote.voter_id == voter_id)).all()
        assert sorted(v.slot for v in votes) == [1, 2, 3]
        assert sum(session.get(Entry, i).vote_count for i in entry_ids) == 3


def test_recount_votes_command(app, db, voting):
    entry, voter = approved_entry(db, voting), create_user(db, "voter@example.com")
    vote(db, voting, entry, voter, vn(2025, 6, 10, 9))
    entry.vote_count = 7
    db.commit()
    result = app.test_cli_runner().invoke(args=["contest", "recount-votes"])
    assert result.exit_code == 0, result.output
    assert "1 entries corrected" in result.output
    assert counts(db, entry)[0] == 1
