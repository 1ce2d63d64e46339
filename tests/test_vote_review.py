"""Vote review: suspicious clusters found on generated data, voiding and restoring, the audit log.

The data is generated as a campaign would leave it: a ring of 12 young accounts with
look-alike names, created together, voting for one entry from one /24 within minutes,
over a background of ordinary voters (older accounts, each on its own network, voting
over several days after reading the entry page).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from contest.audit.models import AuditEvent
from contest.auth.models import User
from contest.contests.models import Contest
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.results.audience import category_awards
from contest.voting import clusters
from contest.voting import review as vote_review
from contest.voting.clusters.entry_burst import entry_bursts
from contest.voting.clusters.kinds import ClusterKind, cluster_id
from contest.voting.clusters.lookalike_names import email_stem, lookalike_names, name_skeleton
from contest.voting.clusters.network_burst import network_bursts
from contest.voting.models import MonthlyVoteCount, Vote
from contest.voting.services import cast_vote, official_tally
from contest.voting.signals import VoteSignals
from tests.support import PASSWORD, create_user, log_in

EN = {"Accept-Language": "en"}
SECRET = "test-secret-" + "x" * 32  # the test app's SECRET_KEY (tests/support.py)

RING_NAMES = [
    "Nguyễn Văn An 01",
    "nguyen van an2",
    "NGUYỄN VĂN AN 03",
    "Nguyen Van An_4",
    "nguyễn văn an 05",
    "Nguyen-Van-An 6",
    "NguyenVanAn07",
    "nguyen van an 8",
    "Nguyễn  Văn  An 9",
    "nguyen.van.an10",
    "Nguyễn Văn An (11)",
    "NGUYEN VAN AN 12",
]
FAMILY = ["Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
GIVEN = ["Thị Lan", "Minh Tuấn", "Quốc Bảo", "Thu Hà", "Đức Long", "Ngọc Mai", "Hải Nam", "Khánh Vy"]


def approved_entry(db, contest: Contest, author: User, number: int, category=None) -> Entry:
    entry = Entry(
        code=f"{contest.code_prefix}-{number:04d}",
        contest_id=contest.id,
        category_id=(category or contest.categories[0]).id,
        author_id=author.id,
        place_id=contest.places[0].id,
        title=f"Work {number}",
        taken_on=date(2024, 5, 1),
        status=EntryStatus.approved,
        approved_at=now_utc(),
    )
    db.add(entry)
    db.commit()
    return entry


@cache
def password_hash() -> str:
    return generate_password_hash(PASSWORD)


def voter(db, email: str, name: str, created_at: datetime) -> User:
    """A verified entrant account created at ``created_at`` (hashed once: many voters per test)."""
    user = User(
        email=email,
        full_name=name,
        password_hash=password_hash(),
        birth_year=1990,
        email_verified_at=created_at + timedelta(minutes=2),
        created_at=created_at,
    )
    db.add(user)
    db.flush()
    return user


def vote(db, contest, entry, user, at: datetime, address: str, *, read_s: float | None = 20) -> Vote:
    viewed_at = None if read_s is None else at - timedelta(seconds=read_s)
    signals = VoteSignals(address=address, user_agent="Mozilla/5.0 (Linux; Android 14)", viewed_at=viewed_at)
    cast = cast_vote(db, contest=contest, entry=entry, voter=user, signals=signals, secret=SECRET, at=at)
    db.commit()
    return cast


@dataclass
class Campaign:
    contest: Contest
    target: Entry  # the ring's entry
    rival: Entry  # same category: leads once the ring's votes are voided
    others: list[Entry]
    ring: list[User]
    ring_votes: list[Vote]
    background: list[User]
    background_votes: list[Vote]


@pytest.fixture
def campaign(db, contest) -> Campaign:
    rng = random.Random(20250901)
    now = now_utc()
    author = create_user(db, "author@example.com", full_name="Phan Tác Giả")
    photo, series, video = contest.categories[0], contest.categories[1], contest.categories[2]
    target = approved_entry(db, contest, author, 1, photo)
    rival = approved_entry(db, contest, author, 2, photo)
    others = [approved_entry(db, contest, author, 3, series), approved_entry(db, contest, author, 4, video)]

    # Background: 48 ordinary voters, accounts 20 to 80 days old (hours apart), each on its
    # own network, voting over the last six days after reading the page.
    background, background_votes = [], []
    names = [f"{family} {given}" for family in FAMILY for given in GIVEN]
    rng.shuffle(names)
    for index in range(48):
        created = now - timedelta(days=20 + index * 1.25, minutes=rng.randrange(600))
        plain = name_skeleton(names[index])
        user = voter(db, f"{plain}@example.org", names[index], created)
        background.append(user)
        address = f"100.{64 + index // 4}.{index}.{rng.randrange(1, 250)}"
        # Fixed shares: the rival 12 votes, the target 5, the others the rest.
        choices = [rival] if index < 12 else [target] if index < 17 else others
        for day in sorted(rng.sample([1, 3, 5], 2 if index >= 17 else 1)):  # distinct days
            at = now - timedelta(days=day, minutes=rng.randrange(24 * 60))
            entry = rng.choice(choices)
            background_votes.append(vote(db, contest, entry, user, at, address, read_s=rng.uniform(4, 90)))

    # The ring: 12 accounts created within 55 minutes, three days ago; votes from one /24
    # within 22 minutes, two hours later, cast a moment after (or without) a page view.
    start = now - timedelta(days=3)
    ring, ring_votes = [], []
    for index, name in enumerate(RING_NAMES):
        user = voter(db, f"nguyenvanan{index + 1:02d}@gmail.com", name, start + timedelta(minutes=5 * index))
        ring.append(user)
    for index, user in enumerate(ring):
        at = start + timedelta(hours=2, minutes=2 * index)
        read_s = None if index % 3 == 0 else 0.8
        ring_votes.append(vote(db, contest, target, user, at, f"203.0.113.{10 + index}", read_s=read_s))
    return Campaign(contest, target, rival, others, ring, ring_votes, background, background_votes)


def ids(votes) -> tuple[int, ...]:
    return tuple(sorted(v.id for v in votes))


def tally_of(db, contest: Contest) -> dict[int, int]:
    return {standing.entry_id: standing.votes for standing in official_tally(db, contest)}


def monthly_total(db, entry: Entry) -> int:
    db.expire_all()
    return db.scalar(select(func.sum(MonthlyVoteCount.votes)).where(MonthlyVoteCount.entry_id == entry.id))


def void_events(db) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.action == "vote.voided").order_by(AuditEvent.id))
    )


# --- detection ----------------------------------------------------------------------------
def test_the_ring_is_found_and_ordinary_voters_are_not(db, campaign):
    found = clusters.detect(db, campaign.contest.id)

    by_kind = {c.kind: c for c in found}
    # The ring's accounts are young, registered within the hour and vote for nothing else:
    # the young cohort rule (issue 18) finds it too.
    assert set(by_kind) == {ClusterKind.network_burst, ClusterKind.lookalike_names, ClusterKind.young_cohort}
    assert len(found) == 3
    for cluster in found:
        assert cluster.entry_id == campaign.target.id
        assert cluster.vote_ids == ids(campaign.ring_votes)
        assert cluster.voter_ids == tuple(sorted(u.id for u in campaign.ring))
        assert cluster.first_at == campaign.ring_votes[0].created_at
        assert cluster.last_at == campaign.ring_votes[-1].created_at
        assert cluster.id == cluster_id(cluster.kind, cluster.vote_ids)
    background = {v.id for v in campaign.background_votes}
    assert not background & {vote_id for c in found for vote_id in c.vote_ids}
    assert by_kind[ClusterKind.network_burst].details["minutes"] == 22
    assert by_kind[ClusterKind.lookalike_names].details["created_within_minutes"] == 55
    assert by_kind[ClusterKind.young_cohort].details["minutes"] == 22
    assert by_kind[ClusterKind.young_cohort].details["networks"] == 1
    [case] = clusters.detect_cases(db, campaign.contest.id)
    assert case.vote_ids == case.default_vote_ids == ids(campaign.ring_votes)


def test_cluster_ids_are_stable_and_name_the_votes(db, campaign):
    first = {c.id for c in clusters.detect(db, campaign.contest.id)}
    assert first == {c.id for c in clusters.detect(db, campaign.contest.id)}
    assert cluster_id("network_burst", [3, 1, 2]) == cluster_id(ClusterKind.network_burst, (1, 2, 3))
    assert cluster_id("network_burst", [1, 2, 3]) != cluster_id("lookalike_names", [1, 2, 3])
    assert cluster_id("network_burst", [1, 2, 3]) != cluster_id("network_burst", [1, 2, 4])
    # One more ring vote changes the cluster, and so its id.
    late = voter(db, "nguyenvanan13@gmail.com", "Nguyen Van An 13", campaign.ring[-1].created_at)
    vote(db, campaign.contest, campaign.target, late, campaign.ring_votes[-1].created_at, "203.0.113.99")
    second = {c.id for c in clusters.detect(db, campaign.contest.id)}
    assert not first & second


def test_votes_of_another_contest_are_not_mixed_in(db, campaign):
    other = Contest(
        slug="other",
        code_prefix="OTHER",
        title_vi="Khác",
        title_en="Other",
        submission_opens_at=campaign.contest.submission_opens_at,
        submission_closes_at=campaign.contest.submission_closes_at,
        voting_opens_at=campaign.contest.voting_opens_at,
        voting_closes_at=campaign.contest.voting_closes_at,
    )
    db.add(other)
    db.commit()
    assert clusters.detect(db, other.id) == []


# Detection rules, each at its edge: (kind, accounts, how they vote) -> clusters expected.
def burst(db, contest, entry, count, *, age, spacing, net="198.18.7", read_s=20, start=None, prefix="b"):
    """``count`` votes for ``entry``, ``spacing`` apart, by accounts ``age`` old, from network ``net``."""
    start = start or now_utc() - timedelta(days=2)
    votes = []
    for index in range(count):
        at = start + spacing * index
        name = (
            f"{FAMILY[index % 12]} {GIVEN[index % 8]} {prefix}{chr(97 + index // 12)}{chr(97 + index % 12)}"
        )
        user = voter(
            db, f"{prefix}{index}-{chr(97 + index % 26)}x{chr(97 + index // 26)}@example.net", name, at - age
        )
        address = f"{net}.{index + 1}" if net else f"198.{19 + index}.1.1"
        votes.append(vote(db, contest, entry, user, at, address, read_s=read_s))
    return votes


def test_network_burst_edges(db, contest):
    author = create_user(db, "author@example.com")
    entries = [approved_entry(db, contest, author, number) for number in range(1, 7)]
    young, old = timedelta(days=6, hours=23), timedelta(days=7, hours=1)
    minute = timedelta(minutes=1)
    five = burst(db, contest, entries[0], 5, age=young, spacing=7 * minute, prefix="a")  # 28 minutes
    burst(db, contest, entries[1], 4, age=young, spacing=minute, prefix="b")  # too few
    burst(db, contest, entries[2], 5, age=young, spacing=8 * minute, prefix="c")  # 32 minutes
    burst(db, contest, entries[3], 5, age=old, spacing=minute, prefix="d")  # accounts too old
    burst(db, contest, entries[4], 5, age=young, spacing=minute, net=None, prefix="e")  # five networks
    start = now_utc() - timedelta(days=3)
    morning = burst(db, contest, entries[5], 6, age=young, spacing=minute, start=start, prefix="f")
    evening = burst(
        db, contest, entries[5], 5, age=young, spacing=minute, start=start + timedelta(hours=9), prefix="g"
    )

    found = network_bursts(db, contest.id)
    assert sorted(c.vote_ids for c in found) == sorted([ids(five), ids(morning), ids(evening)])


def test_entry_burst_edges(db, contest):
    author = create_user(db, "author@example.com")
    hasty_entry, calm_entry, small_entry = (approved_entry(db, contest, author, n) for n in (1, 2, 3))
    seconds, base = timedelta(seconds=20), now_utc() - timedelta(days=2)
    # 25 votes in 4 minutes, each from its own network: 13 hasty (young accounts, or no
    # page view), 12 by older accounts after reading the page.
    hasty = burst(
        db,
        contest,
        hasty_entry,
        7,
        age=timedelta(hours=30),
        spacing=seconds,
        net=None,
        start=base,
        prefix="h",
    )
    hasty += burst(
        db,
        contest,
        hasty_entry,
        6,
        age=timedelta(days=40),
        spacing=seconds,
        net=None,
        read_s=None,
        prefix="i",
    )
    calm = burst(
        db,
        contest,
        hasty_entry,
        12,
        age=timedelta(days=40),
        spacing=seconds,
        net=None,
        read_s=30,
        start=base + timedelta(seconds=5),
        prefix="j",
    )
    # A popular entry shared on Facebook: 30 votes in 10 minutes by real readers.
    burst(db, contest, calm_entry, 30, age=timedelta(days=40), spacing=seconds, net=None, prefix="k")
    # 19 votes only, all hasty.
    burst(
        db, contest, small_entry, 19, age=timedelta(hours=3), spacing=seconds, net=None, read_s=1, prefix="l"
    )

    found = entry_bursts(db, contest.id)
    assert len(found) == 1
    [cluster] = found
    assert cluster.entry_id == hasty_entry.id
    assert cluster.vote_ids == ids(hasty)
    assert cluster.details["votes_in_burst"] == 25
    assert not set(cluster.vote_ids) & {v.id for v in calm}
    assert "13 of 25 votes within 4 minutes" in cluster.summary()


def test_entry_burst_needs_a_majority_of_hasty_votes(db, contest):
    author = create_user(db, "author@example.com")
    entry = approved_entry(db, contest, author, 1)
    seconds, base = timedelta(seconds=20), now_utc() - timedelta(days=2)
    young, old = timedelta(hours=5), timedelta(days=30)
    burst(db, contest, entry, 11, age=young, spacing=seconds, net=None, start=base, prefix="m")
    calm = {"spacing": seconds, "net": None, "start": base + timedelta(seconds=7), "prefix": "n"}
    burst(db, contest, entry, 11, age=old, **calm)
    assert entry_bursts(db, contest.id) == []  # 11 of 22: half, not most

    burst(
        db,
        contest,
        entry,
        1,
        age=young,
        spacing=seconds,
        net=None,
        start=base + timedelta(minutes=3),
        prefix="o",
    )
    [cluster] = entry_bursts(db, contest.id)  # 12 of 23
    assert (len(cluster.vote_ids), cluster.details["votes_in_burst"]) == (12, 23)

    smallest = approved_entry(db, contest, author, 2)
    burst(db, contest, smallest, 11, age=young, spacing=seconds, net=None, start=base, prefix="p")
    burst(db, contest, smallest, 9, age=old, **{**calm, "prefix": "q"})
    found = {c.entry_id: c for c in entry_bursts(db, contest.id)}
    assert (len(found[smallest.id].vote_ids), found[smallest.id].details["votes_in_burst"]) == (11, 20)


@pytest.mark.parametrize(
    ("name", "skeleton"),
    [
        ("Nguyễn Văn An 01", "nguyenvanan"),
        ("nguyen van an2", "nguyenvanan"),
        ("ĐẶNG THỊ HƯƠNG", "dangthihuong"),
        ("Đỗ  Đức-Đạt_99", "doducdat"),
        ("Lê Thị Ánh Tuyết", "lethianhtuyet"),
        ("Nguye\u0302\u0303n Va\u0306n An", "nguyenvanan"),  # typed with combining accents
        ("2024", ""),
    ],
)
def test_name_skeleton(name, skeleton):
    assert name_skeleton(name) == skeleton


def test_email_stem():
    assert email_stem("nguyenvanan01@gmail.com") == email_stem("nguyenvanan2@yahoo.com") == "nguyenvanan"
    assert email_stem("lan.tran@example.org") != email_stem("lantran@example.org")


def lookalike_ring(db, contest, entry, names, emails, *, created_apart: timedelta, start=None):
    start = start or now_utc() - timedelta(days=4)
    votes = []
    for index, (name, email) in enumerate(zip(names, emails, strict=True)):
        user = voter(db, email, name, start + created_apart * index)
        at = now_utc() - timedelta(days=1, hours=index * 3)  # votes spread: no burst
        votes.append(vote(db, contest, entry, user, at, f"198.{20 + index}.0.1"))
    return votes


def test_lookalike_edges(db, contest):
    author = create_user(db, "author@example.com")
    entries = [approved_entry(db, contest, author, number) for number in range(1, 6)]
    minutes = timedelta(minutes=1)
    similar = ["Trần Thị Lan 1", "tran thi lan 2", "TRAN THI LAN3", "Trần-Thị-Lan 4"]
    emails = [f"{prefix}@example.com" for prefix in ("lan.a", "lan.b", "lan.c", "lan.d")]
    by_name = lookalike_ring(db, contest, entries[0], similar, emails, created_apart=19 * minutes)
    lookalike_ring(
        db,
        contest,
        entries[1],
        similar[:3],
        [e.replace("@", "x@") for e in emails[:3]],
        created_apart=minutes,
    )
    lookalike_ring(
        db, contest, entries[2], similar, [e.replace("@", "y@") for e in emails], created_apart=21 * minutes
    )
    by_email = lookalike_ring(
        db,
        contest,
        entries[3],
        ["Hoàng Minh", "Phạm Quốc Bảo", "Vũ Thu Hà", "Bùi Đức Long"],
        [f"tuan.pham{n}@gmail.com" for n in (1, 22, 333, 4444)],
        created_apart=10 * minutes,
    )
    # Common names, accounts created days apart: different people.
    lookalike_ring(
        db,
        contest,
        entries[4],
        similar,
        [e.replace("@", "z@") for e in emails],
        created_apart=timedelta(days=2),
    )

    found = lookalike_names(db, contest.id)
    assert sorted(c.vote_ids for c in found) == sorted([ids(by_name), ids(by_email)])


# --- the organizers' pages ----------------------------------------------------------------
def test_the_case_list_and_page(client, db, campaign, organizer):
    """Three rules caught the ring: one case, each rule stated, each vote with the rules it met."""
    log_in(client, organizer)
    page = client.get("/admin/votes/cases", headers=EN)
    assert page.status_code == 200
    html = page.text
    assert "Young accounts from one network" in html
    assert "Look-alike accounts" in html
    assert "Young accounts registered together" in html
    assert "12 votes within 22 minutes from one network, by accounts younger than 7 days." in html
    assert "12 accounts with look-alike names or e-mail addresses, created within 55 minutes." in html
    assert "1 case found." in html
    assert html.count(f'<span class="entry-code">{campaign.target.code}</span>') == 1

    [case] = clusters.detect_cases(db, campaign.contest.id)
    link = f"/admin/votes/cases/{case.id}?contest={campaign.contest.id}"
    assert link.replace("&", "&amp;") in html
    detail = client.get(link, headers=EN)
    assert detail.status_code == 200
    rows = re.findall(r'<tr id="vote-(\d+)" class="counted">', detail.text)
    assert sorted(int(r) for r in rows) == sorted(case.vote_ids)
    ticked = re.findall(r'name="votes" value="(\d+)" form="void-case"[^>]*checked', detail.text)
    assert sorted(int(v) for v in ticked) == sorted(case.vote_ids)
    assert detail.text.count('<li class="rule-tag rule-network_burst rule-voiding">') == 12
    for user in campaign.ring:
        assert user.email in detail.text
    assert "Nguyễn Văn An (11)" in detail.text
    assert "no page view" in detail.text
    assert "0.8 s" in detail.text
    net_prefix = campaign.ring_votes[0].net_hash[:6]
    assert detail.text.count(f">{net_prefix}</code>") == 12
    assert client.get(f"/admin/votes/cases/{'0' * 16}?contest={campaign.contest.id}").status_code == 404

    by_rule = client.get(f"/admin/votes/cases?contest={campaign.contest.id}&kind=lookalike_names", headers=EN)
    assert "1 case found." in by_rule.text
    other_rule = client.get(f"/admin/votes/cases?contest={campaign.contest.id}&kind=entry_burst", headers=EN)
    assert "No suspicious votes." in other_rule.text


def test_voiding_the_ring_takes_exactly_its_votes_out_of_every_count(client, db, campaign, organizer):
    contest, target, rival = campaign.contest, campaign.target, campaign.rival
    before_tally = tally_of(db, contest)
    assert before_tally[target.id] == 5 + 12
    assert before_tally[rival.id] == 12
    db.expire_all()
    before_counts = {e.id: e.vote_count for e in (target, rival, *campaign.others)}
    before_month = monthly_total(db, target)
    awards = category_awards(db, contest)
    assert awards[0].placed[0].entry.id == target.id  # the ring's entry leads
    [case] = clusters.detect_cases(db, contest.id)
    log_in(client, organizer)

    # No reason, or no vote selected: the form says so and nothing changes.
    url = f"/admin/votes/cases/{case.id}/void?contest={contest.id}"
    chosen = list(case.default_vote_ids)
    refused = client.post(url, data={"reason": "  ", "votes": chosen}, headers=EN)
    assert refused.status_code == 400
    assert "Please say why the votes are voided." in refused.text
    unselected = client.post(url, data={"reason": "Ring"}, headers=EN)
    assert unselected.status_code == 400
    assert "Select the votes to void." in unselected.text
    assert tally_of(db, contest) == before_tally
    assert void_events(db) == []

    reason = "Ring of fake accounts (one network, look-alike names)"
    response = client.post(url, data={"reason": reason, "votes": chosen})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/votes/cases?contest={contest.id}"

    after_tally = tally_of(db, contest)
    assert after_tally[target.id] == before_tally[target.id] - 12
    assert {k: v for k, v in after_tally.items() if k != target.id} == {
        k: v for k, v in before_tally.items() if k != target.id
    }
    db.expire_all()
    assert target.vote_count == before_counts[target.id] - 12
    assert {e.id: e.vote_count for e in (rival, *campaign.others)} == {
        k: v for k, v in before_counts.items() if k != target.id
    }
    assert monthly_total(db, target) == before_month - 12
    awards = category_awards(db, contest)
    assert awards[0].placed[0].entry.id == rival.id
    events = void_events(db)
    assert sorted(e.subject_id for e in events) == sorted(case.vote_ids)
    assert {(e.actor_id, e.reason, e.details["cluster"]) for e in events} == {(organizer.id, reason, case.id)}
    # The ring leaves the list: its votes no longer count.
    assert clusters.detect(db, contest.id) == []
    listing = client.get(f"/admin/votes/cases?contest={contest.id}", headers=EN).text
    assert "12 votes were voided." in listing
    assert "No suspicious votes." in listing

    # Voiding again is a no-op.
    again = client.post(url, data={"reason": "Again", "votes": chosen}, headers=EN, follow_redirects=True)
    assert "Nothing was voided" in again.text
    assert vote_review.void_case(db, case, case.vote_ids, organizer, "Again") == 0
    db.commit()
    assert len(void_events(db)) == 12
    assert tally_of(db, contest) == after_tally
    assert monthly_total(db, target) == before_month - 12


def test_restoring_brings_the_votes_back(client, db, campaign, organizer):
    contest, target = campaign.contest, campaign.target
    before = tally_of(db, contest)
    before_month = monthly_total(db, target)
    [case] = clusters.detect_cases(db, contest.id)
    log_in(client, organizer)
    client.post(
        f"/admin/votes/cases/{case.id}/void?contest={contest.id}",
        data={"reason": "Ring", "votes": list(case.default_vote_ids)},
    )
    assert tally_of(db, contest)[target.id] == before[target.id] - 12

    refused = client.post(
        f"/admin/votes/{campaign.ring_votes[0].id}/restore", data={"reason": ""}, headers=EN
    )
    assert refused.status_code == 400
    assert "Please say why the vote counts again." in refused.text
    assert tally_of(db, contest)[target.id] == before[target.id] - 12

    for cast in campaign.ring_votes:
        response = client.post(f"/admin/votes/{cast.id}/restore", data={"reason": "A real family club"})
        assert response.status_code == 302
    assert tally_of(db, contest) == before
    assert monthly_total(db, target) == before_month
    db.expire_all()
    assert target.vote_count == before[target.id]
    restored = db.scalars(select(AuditEvent).where(AuditEvent.action == "vote.restored")).all()
    assert sorted(e.subject_id for e in restored) == sorted(case.vote_ids)
    assert {e.reason for e in restored} == {"A real family club"}
    # Counted again, the ring is a case again, under the same id.
    assert [c.id for c in clusters.detect_cases(db, contest.id)] == [case.id]


def test_votes_of_an_entry_or_a_voter_and_voiding_one(client, db, campaign, organizer):
    contest, target = campaign.contest, campaign.target
    log_in(client, organizer)
    page = client.get(f"/admin/votes?contest={contest.id}&entry={target.code.lower()}", headers=EN).text
    listed = [int(i) for i in re.findall(r'<tr id="vote-(\d+)"', page)]
    expected = sorted(
        (v for v in campaign.ring_votes + campaign.background_votes if v.entry_id == target.id),
        key=lambda v: (v.created_at, v.id),
        reverse=True,
    )
    assert listed == [v.id for v in expected]
    assert "17 counted votes" in page

    one = campaign.background_votes[0]
    by_voter = client.get(
        f"/admin/votes?contest={contest.id}&voter={one.voter.email.upper()}", headers=EN
    ).text
    assert sorted(int(i) for i in re.findall(r'<tr id="vote-(\d+)"', by_voter)) == sorted(
        v.id for v in campaign.background_votes if v.voter_id == one.voter_id
    )

    refused = client.post(f"/admin/votes/{one.id}/void", data={"reason": ""}, headers=EN)
    assert refused.status_code == 400
    assert "Please say why the votes are voided." in refused.text
    db.expire_all()
    assert one.voided_at is None

    back = f"/admin/votes?contest={contest.id}&voter={one.voter.email}"
    response = client.post(f"/admin/votes/{one.id}/void", data={"reason": "Asked by the voter", "next": back})
    assert response.status_code == 302
    assert response.headers["Location"] == back
    db.expire_all()
    assert (one.void_reason, one.voided_by_id) == ("Asked by the voter", organizer.id)
    voided = client.get(f"/admin/votes?contest={contest.id}&state=voided", headers=EN).text
    assert re.findall(r'<tr id="vote-(\d+)"', voided) == [str(one.id)]
    assert "Asked by the voter" in voided
    valid = client.get(f"/admin/votes?contest={contest.id}&state=valid", headers=EN).text
    assert f'<tr id="vote-{one.id}"' not in valid

    unknown = client.get(f"/admin/votes?contest={contest.id}&entry=NOPE-0001", headers=EN).text
    assert "No entry of this contest has this code" in unknown


def test_the_audit_log_lists_decisions_newest_first(client, db, campaign, organizer):
    contest = campaign.contest
    log_in(client, organizer)
    first, second = campaign.background_votes[:2]
    client.post(f"/admin/votes/{first.id}/void", data={"reason": "First reason"})
    client.post(f"/admin/votes/{second.id}/void", data={"reason": "Second reason"})
    client.post(f"/admin/votes/{first.id}/restore", data={"reason": "Third reason"})

    page = client.get("/admin/audit", headers=EN)
    assert page.status_code == 200
    html = page.text
    reasons = re.findall(r"<td>(First|Second|Third) reason</td>", html)
    assert reasons == ["Third", "Second", "First"]
    assert "Vote voided" in html and "Vote restored" in html
    assert f"vote {first.id}" in html
    only_restored = client.get("/admin/audit?action=vote.restored", headers=EN).text
    assert re.findall(r"<td>(First|Second|Third) reason</td>", only_restored) == ["Third"]
    by_contest = client.get(f"/admin/audit?contest={contest.id}", headers=EN).text
    assert len(re.findall(r"<td>(First|Second|Third) reason</td>", by_contest)) == 3
    assert client.get("/admin/audit?action=nonsense", headers=EN).status_code == 400


def test_a_changed_case_cannot_be_voided_blindly(client, db, campaign, organizer):
    """The organizer voids what they saw: a case that gained a vote since has a new id."""
    contest = campaign.contest
    [case] = clusters.detect_cases(db, contest.id)
    late = voter(db, "nguyenvanan13@gmail.com", "Nguyen Van An 13", campaign.ring[-1].created_at)
    vote(db, contest, campaign.target, late, campaign.ring_votes[-1].created_at, "203.0.113.99")
    log_in(client, organizer)
    response = client.post(
        f"/admin/votes/cases/{case.id}/void?contest={contest.id}",
        data={"reason": "Ring", "votes": list(case.default_vote_ids)},
        headers=EN,
    )
    assert response.status_code == 302
    assert void_events(db) == []
    assert client.get(f"/admin/votes/cases/{case.id}?contest={contest.id}", headers=EN).status_code == 404


def test_pages_render_in_vietnamese(client, db, campaign, organizer):
    log_in(client, organizer, lang=None)
    [case] = clusters.detect_cases(db, campaign.contest.id)
    for url in (
        "/admin/votes/cases",
        f"/admin/votes/cases/{case.id}?contest={campaign.contest.id}",
        "/admin/votes",
        "/admin/audit",
        f"/admin/votes/{campaign.ring_votes[0].id}/void",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<html lang="vi">' in response.text


# --- who may do what --------------------------------------------------------------------
ROLES = ["anonymous", "entrant", "judge", "organizer"]
ACCESS = {
    ("GET", "/admin/votes"): (302, 403, 403, 200),
    ("GET", "/admin/votes/{vote}/void"): (302, 403, 403, 200),
    ("POST", "/admin/votes/{vote}/void"): (302, 403, 403, 302),
    ("GET", "/admin/votes/{vote}/restore"): (302, 403, 403, 200),
    ("POST", "/admin/votes/{vote}/restore"): (302, 403, 403, 302),
    ("GET", "/admin/audit"): (302, 403, 403, 200),
}


@pytest.fixture
def small_ring(db, contest):
    """Five young accounts voting for one entry from one network: one cluster."""
    author = create_user(db, "author@example.com")
    entry = approved_entry(db, contest, author, 1)
    votes = burst(db, contest, entry, 5, age=timedelta(days=1), spacing=timedelta(minutes=1), prefix="r")
    return entry, votes


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "route"), list(ACCESS))
def test_access_matrix(request, client, db, contest, small_ring, method, route, role):
    _entry, votes = small_ring
    if route.endswith("/restore"):  # restoring needs a voided vote
        votes[0].voided_at, votes[0].void_reason = now_utc(), "Test"
        db.commit()
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    url = route.format(vote=votes[0].id)
    response = client.open(url, method=method, data={"reason": "Ring"} if method == "POST" else None)
    assert response.status_code == ACCESS[(method, route)][ROLES.index(role)]
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")
    if role != "organizer":
        assert void_events(db) == []
        db.expire_all()
        assert (votes[0].voided_at is None) is not route.endswith("/restore")
