"""Generated voting populations: honest voters and rings of several kinds, as each leaves the votes table.

One generator for tests/test_vote_cases.py and bench/rings.py. A plan is pure data drawn from
a seeded random source (accounts, and ballots with their time, address and reading time);
``load`` casts it through the real vote path. Rings:

* ``farm``: accounts created in one batch, voting for one entry from one carrier network;
* ``spread``: accounts registered the same day, each voting from its own network, reading
  the page like a person, for one entry and nothing else;
* ``burst``: a farm on a few networks voting within minutes, with real visitors' hasty votes
  (a shared link, no page view) for the same entry in the same minutes;
* ``lookalike``: accounts with look-alike names created together, voting over two days.

Honest voters include a share wave: a popular entry shared, visitors registering on arrival.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache

from werkzeug.security import generate_password_hash

from contest.auth.models import User
from contest.contests.models import Contest
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.voting.services import cast_vote
from contest.voting.signals import VoteSignals

SECRET = "test-secret-" + "x" * 32  # the test app's SECRET_KEY (tests/support.py)
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Minh", "Quốc", "Thu", "Đức", "Ngọc", "Hải", "Khánh", "Thanh", "Hữu", "Bảo"]
GIVEN = ["Lan", "Tuấn", "Bảo", "Hà", "Long", "Mai", "Nam", "Vy", "Hùng", "Linh", "Dũng", "Trang", "Sơn"]
FOREIGN = ["Anna Müller", "James Carter", "Yuki Tanaka", "Kim Min-jun", "Sophie Martin", "Carlos Ruiz"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "vnpt.vn", "fpt.vn", "example.org"]
CARRIERS = ["27.64.10", "42.113.20", "171.224.30"]  # shared mobile networks (CGNAT)


@dataclass
class Account:
    email: str
    name: str
    created_at: datetime
    ring: str = ""  # "" for an honest voter


@dataclass
class Ballot:
    account: int
    entry: int
    at: datetime
    address: str
    read_s: float | None


@dataclass
class Plan:
    entries: int
    now: datetime = field(default_factory=now_utc)
    accounts: list[Account] = field(default_factory=list)
    ballots: list[Ballot] = field(default_factory=list)

    def account(self, email: str, name: str, created_at: datetime, ring: str = "") -> int:
        self.accounts.append(Account(email, name, created_at, ring))
        return len(self.accounts) - 1

    def vote(self, account: int, entry: int, at: datetime, address: str, read_s: float | None) -> None:
        self.ballots.append(Ballot(account, entry, at, address, read_s))


def person(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return rng.choice(FOREIGN)
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _email(rng: random.Random, index: int, tag: str) -> str:
    word = rng.choice(
        ["an", "hoa", "minh", "sky", "sun", "moon", "rice", "river", "lotus", "tea", "hue", "vinh"]
    )
    return f"{word}.{tag}{index}{rng.choice('abcdefghij')}{rng.randrange(1000)}@{rng.choice(DOMAINS)}"


def _home(rng: random.Random) -> str:
    return f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(2, 250)}"


def honest(plan: Plan, rng: random.Random, count: int, *, popular: int = 3) -> list[int]:
    """``count`` ordinary voters: accounts of any age (some young), home or carrier networks,
    one to four entries each over the last six days (the popular ones more), reading first."""
    weights = [4 if entry < popular else 1 for entry in range(plan.entries)]
    made = []
    for index in range(count):
        young = rng.random() < 0.15
        age = timedelta(days=rng.uniform(0.3, 6) if young else rng.uniform(8, 200))
        voter = plan.account(_email(rng, index, "h"), person(rng), plan.now - timedelta(days=6.5) - age)
        if young:  # a young account was made shortly before it votes
            plan.accounts[voter].created_at = plan.now - age
        address = f"{rng.choice(CARRIERS)}.{rng.randrange(2, 250)}" if rng.random() < 0.25 else _home(rng)
        chosen: set[int] = set()
        while len(chosen) < rng.choice([1, 1, 2, 3, 4]):
            chosen.add(rng.choices(range(plan.entries), weights)[0])
        for entry in sorted(chosen):
            earliest = max(plan.accounts[voter].created_at, plan.now - timedelta(days=6))
            at = earliest + (plan.now - earliest) * rng.random()
            read_s = None if rng.random() < 0.08 else rng.uniform(3, 120)
            plan.vote(voter, entry, at, address, read_s)
        made.append(voter)
    return made


def share_wave(plan: Plan, rng: random.Random, entry: int, start: datetime, *, size: int = 30) -> None:
    """A real share on Facebook: ``size`` votes for ``entry`` within 10 minutes, 40 % of them by
    visitors who register on arrival (and vote for nothing else), the others by old accounts."""
    for index in range(size):
        at = start + timedelta(minutes=rng.uniform(0, 10))
        new = rng.random() < 0.4
        created = (
            at - timedelta(minutes=rng.uniform(2, 6))
            if new
            else plan.now - timedelta(days=rng.uniform(20, 300))
        )
        voter = plan.account(_email(rng, index, f"w{entry}"), person(rng), created)
        address = f"{rng.choice(CARRIERS)}.{rng.randrange(2, 250)}" if rng.random() < 0.3 else _home(rng)
        plan.vote(voter, entry, at, address, None if rng.random() < 0.1 else rng.uniform(4, 60))


def farm(plan: Plan, rng: random.Random, ring: str, size: int, entry: int, start: datetime, *, span_min=36):
    """``size`` accounts created in one batch, voting for ``entry`` from one carrier network."""
    network = rng.choice(CARRIERS)
    batch = start - timedelta(days=rng.uniform(1, 4))
    for index in range(size):
        created = batch + timedelta(minutes=rng.uniform(0, 50))
        voter = plan.account(_email(rng, index, f"f{ring}"), person(rng), created, ring)
        at = start + timedelta(minutes=span_min * index / max(1, size - 1))
        plan.vote(voter, entry, at, f"{network}.{rng.randrange(2, 250)}", rng.choice([None, 0.6, 1.2]))


def spread(plan: Plan, rng: random.Random, ring: str, size: int, entry: int, start: datetime, *, span_min=20):
    """``size`` accounts registered the same day, each on its own network, reading like people."""
    day = start - timedelta(days=rng.uniform(1, 3))
    for index in range(size):
        created = day + timedelta(minutes=rng.uniform(0, 180))
        voter = plan.account(_email(rng, index, f"s{ring}"), person(rng), created, ring)
        at = start + timedelta(minutes=rng.uniform(0, span_min))
        plan.vote(voter, entry, at, _home(rng), rng.uniform(5, 40))


def burst(plan: Plan, rng: random.Random, ring: str, size: int, entry: int, start: datetime, *, mixed=4):
    """A farm on four networks voting within 8 minutes, and ``mixed`` real visitors' hasty votes
    for the same entry in those minutes (who vote for other entries too, reading them)."""
    networks = [_home(rng).rpartition(".")[0] for _ in range(4)]
    batch = start - timedelta(days=rng.uniform(1, 3))
    for index in range(size):
        voter = plan.account(
            _email(rng, index, f"b{ring}"), person(rng), batch + timedelta(minutes=index * 2), ring
        )
        address = f"{networks[index % 4]}.{rng.randrange(2, 250)}"
        plan.vote(voter, entry, start + timedelta(minutes=8 * index / size), address, rng.choice([None, 0.5]))
    for index in range(mixed):
        created = plan.now - timedelta(days=rng.uniform(30, 300))
        voter = plan.account(_email(rng, index, f"m{ring}"), person(rng), created)
        plan.vote(voter, entry, start + timedelta(minutes=rng.uniform(0, 8)), _home(rng), None)
        other = (entry + 1 + index) % plan.entries
        plan.vote(voter, other, start - timedelta(hours=rng.uniform(2, 30)), _home(rng), rng.uniform(5, 60))


def lookalike(plan: Plan, rng: random.Random, ring: str, size: int, entry: int, start: datetime):
    """``size`` accounts with look-alike names created within 40 minutes, voting over two days."""
    base = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
    created = start - timedelta(days=rng.uniform(10, 20))
    for index in range(size):
        name = f"{base} {index + 1:02d}" if index % 2 else f"{base.upper()}{index + 1}"
        email = f"{ring}.member{index}{rng.randrange(100)}@{rng.choice(DOMAINS)}"
        voter = plan.account(email, name, created + timedelta(minutes=4 * index), ring)
        plan.vote(voter, entry, start + timedelta(hours=rng.uniform(0, 48)), _home(rng), rng.uniform(4, 30))


def scenario(seed: int, *, honest_voters: int = 40, entries: int = 6) -> Plan:
    """The held-out shape: honest voters, a 25-account farm behind one carrier network whose
    votes come as a burst mixing 4 honest hasty votes, and a 15-account ring over 15 networks."""
    rng = random.Random(seed)
    plan = Plan(entries)
    honest(plan, rng, honest_voters)
    farm(plan, rng, "farm", 25, 0, plan.now - timedelta(days=2, hours=5), span_min=9)
    _mix(plan, rng, entry=0, start=plan.now - timedelta(days=2, hours=5), count=4)
    spread(plan, rng, "spread", 15, 1, plan.now - timedelta(days=1, hours=3))
    return plan


def _mix(plan: Plan, rng: random.Random, *, entry: int, start: datetime, count: int) -> None:
    """``count`` honest voters also vote for ``entry`` within the farm's minutes, hastily."""
    voters = [i for i, a in enumerate(plan.accounts) if not a.ring and a.created_at < start]
    for voter in rng.sample(voters, count):
        if any(b.account == voter and b.entry == entry for b in plan.ballots):
            plan.ballots = [b for b in plan.ballots if not (b.account == voter and b.entry == entry)]
        plan.vote(voter, entry, start + timedelta(minutes=rng.uniform(0.5, 8.5)), _home(rng), None)


def population(seed: int, *, honest_voters: int = 300, entries: int = 12) -> Plan:
    """The bench's population: honest voters and every kind of ring, two farms."""
    rng = random.Random(seed)
    plan = Plan(entries)
    honest(plan, rng, honest_voters)
    day = timedelta(days=1)
    share_wave(plan, rng, 4, plan.now - 2.5 * day)
    farm(plan, rng, "farm", 25, 0, plan.now - 4 * day)
    farm(plan, rng, "farm2", 12, 5, plan.now - 1.5 * day, span_min=20)
    spread(plan, rng, "spread", 15, 1, plan.now - 3 * day)
    burst(plan, rng, "burst", 22, 2, plan.now - 2 * day)
    lookalike(plan, rng, "lookalike", 10, 3, plan.now - 5 * day)
    return plan


@dataclass
class Loaded:
    entries: list[Entry]
    users: list[User]
    ring_of_vote: dict[int, str]  # vote id -> ring ("" honest)


@cache
def _password_hash() -> str:
    return generate_password_hash("population-password", method="pbkdf2:sha256:1000")


def load(db, contest: Contest, author: User, plan: Plan) -> Loaded:
    """The plan's entries, accounts and votes, cast through the vote path in time order."""
    entries = []
    for number in range(plan.entries):
        entry = Entry(
            code=f"{contest.code_prefix}-{9000 + number:04d}",
            contest_id=contest.id,
            category_id=contest.categories[number % len(contest.categories)].id,
            author_id=author.id,
            place_id=contest.places[0].id,
            title=f"Population work {number}",
            taken_on=date(2024, 5, 1),
            status=EntryStatus.approved,
            approved_at=plan.now - timedelta(days=10),
        )
        db.add(entry)
        entries.append(entry)
    users = [_user(account) for account in plan.accounts]
    db.add_all(users)
    db.flush()
    ring_of_vote = {}
    for ballot in sorted(plan.ballots, key=lambda b: b.at):
        viewed = None if ballot.read_s is None else ballot.at - timedelta(seconds=ballot.read_s)
        signals = VoteSignals(
            address=ballot.address, user_agent="Mozilla/5.0 (Linux; Android 14)", viewed_at=viewed
        )
        user = users[ballot.account]
        cast = cast_vote(
            db,
            contest=contest,
            entry=entries[ballot.entry],
            voter=user,
            signals=signals,
            secret=SECRET,
            at=ballot.at,
        )
        ring_of_vote[cast.id] = plan.accounts[ballot.account].ring
    db.commit()
    return Loaded(entries, users, ring_of_vote)


def _user(account: Account) -> User:
    return User(
        email=account.email,
        full_name=account.name,
        password_hash=_password_hash(),
        birth_year=1990,
        email_verified_at=account.created_at + timedelta(minutes=2),
        created_at=account.created_at,
    )


@dataclass
class Score:
    ring_votes: int  # votes cast by rings
    caught: int  # of those, voided by default in some case
    false_positive_votes: int  # honest votes a case would void by default
    cases_per_ring: dict[str, int]  # how many cases hold each ring's votes

    @property
    def recall(self) -> float:
        return self.caught / self.ring_votes if self.ring_votes else 1.0


def score(cases, ring_of_vote: dict[int, str]) -> Score:
    """How the cases answer the plan: each ring's votes caught, honest votes taken, rings split."""
    chosen = {vote for case in cases for vote in case.default_vote_ids}
    rings = {ring for ring in ring_of_vote.values() if ring}
    return Score(
        ring_votes=sum(1 for ring in ring_of_vote.values() if ring),
        caught=sum(1 for vote in chosen if ring_of_vote.get(vote)),
        false_positive_votes=sum(1 for vote in chosen if not ring_of_vote.get(vote)),
        cases_per_ring={
            ring: sum(1 for case in cases if any(ring_of_vote.get(v) == ring for v in case.vote_ids))
            for ring in sorted(rings)
        },
    )
