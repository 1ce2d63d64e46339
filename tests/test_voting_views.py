"""The vote button, "My votes", the ranking and the audience page, through real requests."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contest import create_app
from contest.auth.models import Role
from contest.contests.models import VoteCountDisplay, VotePolicy
from contest.db import now_utc
from contest.entries.models import EntryStatus
from contest.extensions import db as db_ext
from contest.voting.models import Vote
from tests.support import create_user, log_in, make_entry, make_test_config, migrate, new_database

EN = {"Accept-Language": "en"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def entry(db, contest):
    author = create_user(db, "author@example.com", full_name="Trần Thị Bình")
    return make_entry(db, contest, author, title="Hoàng hôn Cửa Lò")


@pytest.fixture
def voter(db):
    return create_user(db, "voter@example.com", full_name="Lê Văn Cường")


def page(client, entry) -> str:
    return html.unescape(client.get(f"/e/{entry.code}", headers=EN).get_data(as_text=True))


def view_token(text: str) -> str:
    return re.search(r'name="view_token"[^>]*value="([^"]+)"', text).group(1)


def count_votes(db, entry) -> int:
    db.expire_all()
    return db.scalar(select(func.count(Vote.id)).where(Vote.entry_id == entry.id))


def test_a_visitor_logs_in_votes_and_the_count_and_ranking_move(client, db, contest, entry, voter):
    text = page(client, entry)
    assert "Log in to vote" in text and "<strong data-vote-count>0</strong>" in text
    log_in(client, voter)
    text = page(client, entry)
    assert "Vote for this entry" in text
    response = client.post(
        f"/e/{entry.code}/vote",
        data={"view_token": view_token(text)},
        headers={**EN, "X-Forwarded-For": "1.2.3.4"},
    )
    assert response.status_code == 302 and response.location.endswith(f"/e/{entry.code}")
    text = page(client, entry)
    assert "Thank you: your vote is counted." in text  # one vote per entry and day: the default
    assert "You voted for this entry today. You can vote for it again tomorrow." in text
    assert count_votes(db, entry) == 1 and db.get(type(entry), entry.id).vote_count == 1
    vote = db.scalar(select(Vote).where(Vote.entry_id == entry.id))
    assert vote.since_view_ms is not None and vote.since_view_ms >= 0 and vote.ip_hash
    ranking = html.unescape(client.get("/ranking", headers=EN).get_data(as_text=True))
    assert "Hoàng hôn Cửa Lò" in ranking and "1</strong> vote" in ranking
    assert client.get(f"/e/{entry.code}/votes.json").get_json() == {"count": 1}
    mine = html.unescape(client.get("/votes/mine", headers=EN).get_data(as_text=True))
    assert entry.code in mine and "Hoàng hôn Cửa Lò" in mine


def test_the_second_click_is_refused_with_a_message_in_the_voters_language(client, db, contest, entry, voter):
    log_in(client, voter, lang="vi")
    assert client.post(f"/e/{entry.code}/vote", headers=JSON).get_json()["ok"] is True
    response = client.post(f"/e/{entry.code}/vote", headers=JSON)
    assert response.status_code == 409
    body = response.get_json()
    assert body["ok"] is False and body["count"] == 1 and body["state"] == "voted"
    assert body["message"].startswith("Hôm nay bạn đã bình chọn")  # "already voted for this entry today"
    assert count_votes(db, entry) == 1


def test_anonymous_and_unverified_visitors_cannot_vote(client, db, contest, entry):
    response = client.post(f"/e/{entry.code}/vote")
    assert response.status_code == 302 and "/account/login" in response.location
    assert response.location.endswith(f"next=/e/{entry.code}")
    assert client.post(f"/e/{entry.code}/vote", headers=JSON).status_code == 401
    log_in(client, create_user(db, "new@example.com", verified=False))
    assert "Please confirm your e-mail address before you vote." in page(client, entry)
    assert client.post(f"/e/{entry.code}/vote", headers={**JSON, **EN}).status_code == 409
    assert count_votes(db, entry) == 0


# Who may not vote by default, the button's state and what they read (in Vietnamese).
NOT_VOTERS = {
    "judge": (Role.judge, "judges_do_not_vote", "Giám khảo của cuộc thi không tham gia bình chọn công khai."),
    "organizer": (
        Role.organizer,
        "organizers_do_not_vote",
        "Ban tổ chức cuộc thi không tham gia bình chọn công khai.",
    ),
    "author": (Role.entrant, "own_entry", "Bạn không thể bình chọn cho tác phẩm của chính mình."),
}


@pytest.mark.parametrize("who", list(NOT_VOTERS))
def test_judges_organizers_and_authors_are_told_why_they_cannot_vote(client, db, contest, entry, who):
    """The general path (the one-statement vote on PostgreSQL: tests/test_vote_agreement.py)."""
    role, state, message = NOT_VOTERS[who]
    person = entry.author if who == "author" else create_user(db, f"{who}@example.com", role=role)
    log_in(client, person, lang="vi")
    text = html.unescape(client.get(f"/e/{entry.code}").get_data(as_text=True))
    assert message in text and 'name="view_token"' not in text
    answer = client.post(f"/e/{entry.code}/vote", headers=JSON)
    assert answer.status_code == 409
    assert answer.get_json() == {"ok": False, "message": message, "count": 0, "state": state}
    assert count_votes(db, entry) == 0


def test_only_approved_entries_take_votes(client, db, contest, voter):
    pending = make_entry(db, contest, voter, status=EntryStatus.pending_review)
    log_in(client, voter)
    assert client.post(f"/e/{pending.code}/vote").status_code == 404
    assert client.post("/e/HNA25-9999/vote").status_code == 404


def test_outside_the_window_the_button_is_gone_and_posts_are_refused(client, db, contest, entry, voter):
    contest.voting_opens_at = now_utc() + timedelta(days=1)
    contest.voting_closes_at = now_utc() + timedelta(days=9)
    db.commit()
    log_in(client, voter)
    text = page(client, entry)
    assert "Voting opens on" in text and "Vote for this entry" not in text
    response = client.post(f"/e/{entry.code}/vote", headers={**JSON, **EN})
    assert response.status_code == 409 and response.get_json()["message"] == "Voting has not opened yet."
    contest.voting_opens_at = now_utc() - timedelta(days=9)
    contest.voting_closes_at = now_utc() - timedelta(seconds=1)
    db.commit()
    assert "Voting has closed." in page(client, entry)
    assert client.post(f"/e/{entry.code}/vote", headers=JSON).status_code == 409
    assert count_votes(db, entry) == 0


def test_counts_hidden_until_the_close(client, db, contest, entry, voter):
    contest.vote_counts = VoteCountDisplay.after_close
    db.commit()
    log_in(client, voter)
    body = client.post(f"/e/{entry.code}/vote", headers=JSON).get_json()
    assert body["ok"] is True and body["count"] is None
    assert "Vote counts are shown when voting closes." in page(client, entry)
    assert client.get(f"/e/{entry.code}/votes.json").get_json() == {"count": None}
    ranking = html.unescape(client.get("/ranking", headers=EN).get_data(as_text=True))
    assert "Vote counts are shown when voting closes." in ranking and entry.title not in ranking


def test_daily_quota_shows_votes_left(client, db, contest, voter):
    contest.vote_policy, contest.votes_per_day = VotePolicy.daily_quota, 2
    db.commit()
    author = create_user(db, "author@example.com")
    first, second, third = (make_entry(db, contest, author) for _ in range(3))
    log_in(client, voter)
    assert "You have 2 votes left today." in page(client, first)
    client.post(f"/e/{first.code}/vote")
    assert "You have 1 vote left today." in page(client, second)
    client.post(f"/e/{second.code}/vote")
    text = page(client, third)
    # The box says what a vote refused now would say.
    assert "You have used your 2 votes for today. You can vote again tomorrow." in text
    assert "Vote for this entry" not in text
    voted = page(client, second)
    assert "You voted for this entry today. You can vote for it again tomorrow." in voted
    assert "You have used your votes for today. You can vote again tomorrow." in voted


class LimitedSite:
    """An app of its own, rate limits on, over a database of its own with a demo contest."""

    def __init__(self, tmp_path, url: str, **limits) -> None:
        from contest.contests.demo import build_demo_contest

        self.app = create_app(make_test_config(tmp_path, url, RATELIMIT_ENABLED=True, **limits))
        with self.app.app_context():
            session = db_ext.session
            contest, _ = build_demo_contest(session)
            session.commit()
            stamp = now_utc().timestamp()
            self.voters = [create_user(session, f"rate-{i}-{stamp}@example.com") for i in range(4)]
            author = create_user(session, f"rate-author-{stamp}@example.com")
            self.codes = [make_entry(session, contest, author).code for _ in range(4)]

    def logged_in(self, voter):
        client = self.app.test_client()
        log_in(client, voter)
        return client

    def votes(self) -> int:
        with self.app.app_context():
            return db_ext.session.scalar(select(func.count(Vote.id)))

    def close(self) -> None:
        self.app.extensions["db"].dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def limited(request, tmp_path):
    """LimitedSite's maker: the limiter counts real requests that commit (on PostgreSQL
    through the one-statement vote, in autocommit on the vote pool)."""
    databases = new_database(request.param, tmp_path)
    url = next(databases)
    migrate(url)
    sites: list[LimitedSite] = []

    def make(**limits) -> LimitedSite:
        sites.append(LimitedSite(tmp_path, url, **limits))
        return sites[-1]

    yield make
    for site in sites:
        site.close()
    next(databases, None)


def test_votes_are_rate_limited_per_account(limited):
    site = limited(VOTE_RATE_LIMIT="2 per minute")
    client, codes = site.logged_in(site.voters[0]), site.codes
    statuses = [client.post(f"/e/{code}/vote", headers=JSON).status_code for code in codes[:3]]
    assert statuses == [200, 200, 429]
    assert "Too many attempts" in client.post(f"/e/{codes[3]}/vote", headers=EN).get_data(as_text=True)
    assert site.votes() == 2  # the refused ones wrote nothing
    other = site.logged_in(site.voters[3])  # another account has its own count
    assert other.post(f"/e/{codes[3]}/vote", headers=JSON).status_code == 200


def test_votes_are_rate_limited_per_address(limited):
    """Several accounts behind one address (a vote ring on one machine) share its count."""
    site = limited(VOTE_RATE_LIMIT_PER_ADDRESS="3 per minute")
    answers = [site.logged_in(voter).post(f"/e/{site.codes[0]}/vote", headers=JSON) for voter in site.voters]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["ok"] is False
    assert site.votes() == 3
    elsewhere = site.logged_in(site.voters[3]).post(
        f"/e/{site.codes[0]}/vote", headers=JSON, environ_base={"REMOTE_ADDR": "198.51.100.9"}
    )
    assert elsewhere.status_code == 200


@pytest.mark.parametrize(
    ("role", "ranking", "mine", "audience"),
    [
        (None, 200, 302, 302),
        (Role.entrant, 200, 200, 403),
        (Role.judge, 200, 200, 403),
        (Role.organizer, 200, 200, 200),
    ],
)
def test_access_to_voting_pages_by_role(client, db, contest, entry, role, ranking, mine, audience):
    if role is not None:
        log_in(client, create_user(db, f"{role.value}-x@example.com", role=role))
    assert client.get("/ranking").status_code == ranking
    assert client.get("/votes/mine").status_code == mine
    assert client.get("/admin/audience").status_code == audience
    assert client.get(f"/e/{entry.code}/votes.json").status_code == 200


def test_the_audience_page_shows_the_official_tally(client, db, contest, entry, voter):
    organizer = create_user(db, "boss@example.com", role=Role.organizer)
    log_in(client, voter)
    client.post(f"/e/{entry.code}/vote")
    log_in(client, organizer)
    text = html.unescape(client.get("/admin/audience", headers=EN).get_data(as_text=True))
    assert "1 votes recorded, 0 voided" in text and entry.code in text and "Trần Thị Bình" in text


def test_the_bot_check_on_votes_when_the_deployment_asks_for_it(
    app, client, db, contest, entry, voter, monkeypatch
):
    from contest.botcheck import ANSWER_FIELD, TOKEN_FIELD
    from tests.test_botcheck import question_of

    monkeypatch.setitem(app.config, "BOT_CHECK", "builtin")
    monkeypatch.setitem(app.config, "BOT_CHECK_VOTES", True)
    log_in(client, voter)
    first, second, token = question_of(page(client, entry))
    wrong = client.post(
        f"/e/{entry.code}/vote", data={TOKEN_FIELD: token, ANSWER_FIELD: "0"}, headers={**JSON, **EN}
    )
    assert wrong.status_code == 400
    assert wrong.get_json()["message"] == "Please answer the check question correctly to vote."
    assert count_votes(db, entry) == 0
    right = client.post(f"/e/{entry.code}/vote", data={TOKEN_FIELD: token, ANSWER_FIELD: str(first + second)})
    assert right.status_code == 302 and count_votes(db, entry) == 1
