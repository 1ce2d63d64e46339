"""Vote review cases: one per suspected ring, each vote with the rule it met, honest votes spared.

The held-out scenario (tests/vote_population.py): 40 honest voters, a 25-account farm behind
one carrier network whose votes come as a burst mixing 4 honest hasty votes, and a
15-account ring spread over 15 networks.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from contest.voting import clusters
from contest.voting.clusters.kinds import VOIDING_KINDS, ClusterKind
from contest.voting.models import Vote
from tests import vote_population
from tests.support import create_user

SEEDS = [18, 1809]


@pytest.fixture(params=SEEDS)
def held_out(request, db, contest):
    author = create_user(db, "author@example.com", full_name="Phan Tác Giả")
    plan = vote_population.scenario(request.param)
    return plan, vote_population.load(db, contest, author, plan)


def cases_holding(cases, loaded, ring: str):
    return [c for c in cases if any(loaded.ring_of_vote[v] == ring for v in c.vote_ids)]


def test_the_farm_and_the_spread_ring_are_one_case_each(db, contest, held_out):
    _plan, loaded = held_out
    cases = clusters.detect_cases(db, contest.id)
    [farm] = cases_holding(cases, loaded, "farm")
    [spread] = cases_holding(cases, loaded, "spread")
    assert farm is not spread
    farm_votes = {v for v, ring in loaded.ring_of_vote.items() if ring == "farm"}
    spread_votes = {v for v, ring in loaded.ring_of_vote.items() if ring == "spread"}
    assert set(farm.default_vote_ids) == farm_votes
    assert set(spread.default_vote_ids) == spread_votes
    # The farm was caught by every rule that fits it, in one case.
    assert farm.kinds == (ClusterKind.network_burst, ClusterKind.entry_burst, ClusterKind.young_cohort)
    assert spread.kinds == (ClusterKind.young_cohort,)
    assert farm.entry_ids == (loaded.entries[0].id,)
    assert spread.entry_ids == (loaded.entries[1].id,)


def test_honest_votes_are_shown_in_the_burst_but_not_voided_by_default(db, contest, held_out):
    _plan, loaded = held_out
    cases = clusters.detect_cases(db, contest.id)
    honest = {v for v, ring in loaded.ring_of_vote.items() if not ring}
    assert not honest & {v for case in cases for v in case.default_vote_ids}
    [farm] = cases_holding(cases, loaded, "farm")
    mixed = set(farm.vote_ids) & honest
    assert len(mixed) == 4  # the four hasty honest votes of the burst, for the organizer to see
    for vote in mixed:
        assert farm.rules[vote] == (ClusterKind.entry_burst,)
    for vote in farm.default_vote_ids:
        assert VOIDING_KINDS & set(farm.rules[vote])
        assert ClusterKind.network_burst in farm.rules[vote]
    score = vote_population.score(cases, loaded.ring_of_vote)
    assert (score.recall, score.false_positive_votes) == (1.0, 0)
    assert score.cases_per_ring == {"farm": 1, "spread": 1}


def test_a_case_id_names_its_votes_and_their_rules(db, contest, held_out):
    _plan, loaded = held_out
    first = {c.id for c in clusters.detect_cases(db, contest.id)}
    assert first == {c.id for c in clusters.detect_cases(db, contest.id)}
    [spread] = cases_holding(clusters.detect_cases(db, contest.id), loaded, "spread")
    assert clusters.find_case(db, contest.id, spread.id) == spread
    assert clusters.find_case(db, contest.id, "0" * 16) is None


def test_a_young_cohort_needs_accounts_registered_together_voting_for_nothing_else(db, contest):
    author = create_user(db, "author@example.com")
    rng = vote_population.random.Random(7)
    plan = vote_population.Plan(entries=4)
    start = plan.now - timedelta(days=2)
    vote_population.spread(plan, rng, "ring", 8, 0, start)  # 8: the smallest cohort
    vote_population.spread(plan, rng, "seven", 7, 1, start)  # one too few
    vote_population.spread(plan, rng, "slow", 8, 2, start, span_min=240)  # votes hours apart
    # Registered on different days: people who came one by one.
    apart = len(plan.accounts)
    vote_population.spread(plan, rng, "apart", 8, 3, start)
    for index, account in enumerate(plan.accounts[apart:]):
        account.created_at = start - timedelta(days=1 + 0.7 * index)
    # Young accounts registered together that vote for another entry too.
    both = len(plan.accounts)
    vote_population.spread(plan, rng, "both", 8, 0, start - timedelta(hours=6))
    for index in range(both, len(plan.accounts)):
        plan.vote(index, 2, start - timedelta(hours=1), "198.51.100.7", 20)
    loaded = vote_population.load(db, contest, author, plan)

    found = clusters.detect(db, contest.id, [ClusterKind.young_cohort])
    ring = {v for v, name in loaded.ring_of_vote.items() if name == "ring"}
    assert [set(c.vote_ids) for c in found] == [ring]
    [cohort] = found
    assert cohort.details["networks"] == 8
    assert cohort.details["minutes"] <= 20


def test_a_real_share_wave_is_voided_by_no_rule(db, contest):
    """30 votes within 10 minutes after a share, 40 % by visitors who registered on arrival."""
    author = create_user(db, "author@example.com")
    plan = vote_population.Plan(entries=2)
    for seed in range(3):
        rng = vote_population.random.Random(seed)
        vote_population.share_wave(plan, rng, seed % 2, plan.now - timedelta(days=1 + seed))
    loaded = vote_population.load(db, contest, author, plan)
    assert len(loaded.ring_of_vote) == 90
    votes = db.scalars(select(Vote).where(Vote.contest_id == contest.id)).all()
    new = [v for v in votes if v.account_age_s < 3600]
    assert len(new) >= 3 * 8  # enough young accounts for a cohort, had they been made ahead
    assert all(case.default_vote_ids == () for case in clusters.detect_cases(db, contest.id))
