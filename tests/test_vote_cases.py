"""Vote review cases: one per suspected ring, each vote with the rule it met, honest votes spared.

The held-out scenario (tests/vote_population.py): 40 honest voters, a 25-account farm behind
one carrier network whose votes come as a burst mixing 4 honest hasty votes, and a
15-account ring spread over 15 networks.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from contest import create_app
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.extensions import db as db_ext
from contest.voting import clusters
from contest.voting.clusters.kinds import VOIDING_KINDS, ClusterKind
from contest.voting.models import Vote
from tests import vote_population
from tests.browser import live_server
from tests.support import PASSWORD, create_user, log_in, make_test_config, migrate

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


# --- the organizers' pages ------------------------------------------------------------------
EN = {"Accept-Language": "en"}
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def ring_votes(loaded, ring: str) -> set[int]:
    return {v for v, name in loaded.ring_of_vote.items() if name == ring}


@pytest.fixture
def held_out_one(db, contest):
    """The held-out scenario, one seed (the pages do not depend on it)."""
    author = create_user(db, "author@example.com", full_name="Phan Tác Giả")
    plan = vote_population.scenario(SEEDS[0])
    return vote_population.load(db, contest, author, plan)


def farm_case(db, contest, loaded):
    [farm] = cases_holding(clusters.detect_cases(db, contest.id), loaded, "farm")
    return farm


def test_each_vote_shows_the_rules_it_met_and_only_ring_votes_are_ticked(
    client, db, contest, held_out_one, organizer
):
    farm = farm_case(db, contest, held_out_one)
    log_in(client, organizer)
    page = client.get(f"/admin/votes/cases/{farm.id}?contest={contest.id}", headers=EN)
    assert page.status_code == 200
    rows = dict(re.findall(r'<tr id="vote-(\d+)" class="counted">(.*?)</tr>', page.text, re.S))
    assert sorted(int(r) for r in rows) == sorted(farm.vote_ids)
    honest = set(farm.vote_ids) - ring_votes(held_out_one, "farm")
    for vote_id, row in rows.items():
        tags = re.findall(r'<li class="rule-tag rule-(\w+)', row)
        assert tags == [kind.value for kind in farm.rules[int(vote_id)]]
        ticked = " checked" in row.split("</td>")[0]
        assert ticked is (int(vote_id) not in honest)
    for vote_id in honest:
        assert re.findall(r'<li class="rule-tag rule-(\w+)', rows[str(vote_id)]) == ["entry_burst"]
    assert "Burst of votes" in page.text and "Young accounts registered together" in page.text


def test_voiding_takes_the_ring_votes_unless_more_are_selected(client, db, contest, held_out_one, organizer):
    loaded = held_out_one
    farm = farm_case(db, contest, loaded)
    honest = sorted(set(farm.vote_ids) - ring_votes(loaded, "farm"))
    log_in(client, organizer)
    url = f"/admin/votes/cases/{farm.id}/void?contest={contest.id}"
    response = client.post(url, data={"reason": "Farm", "votes": list(farm.default_vote_ids)}, headers=EN)
    assert response.status_code == 302
    listing = client.get(response.headers["Location"], headers=EN).text
    assert "25 votes were voided." in listing
    assert "4 votes of the case still count." in listing
    db.expire_all()
    voided = set(db.scalars(select(Vote.id).where(Vote.voided_at.is_not(None))))
    assert voided == ring_votes(loaded, "farm")

    # The spread ring, and one honest vote the organizer chose to add: exactly those.
    [spread] = cases_holding(clusters.detect_cases(db, contest.id), loaded, "spread")
    assert db.get(Vote, honest[0]).voided_at is None
    chosen = [*spread.default_vote_ids]
    refused = client.post(
        f"/admin/votes/cases/{spread.id}/void?contest={contest.id}",
        data={"reason": "Ring", "votes": [*chosen, honest[0]]},  # not a vote of this case
        headers=EN,
    )
    assert refused.status_code == 400
    db.expire_all()
    assert set(db.scalars(select(Vote.id).where(Vote.voided_at.is_not(None)))) == voided
    client.post(
        f"/admin/votes/cases/{spread.id}/void?contest={contest.id}", data={"reason": "Ring", "votes": chosen}
    )
    db.expire_all()
    assert set(db.scalars(select(Vote.id).where(Vote.voided_at.is_not(None)))) == voided | ring_votes(
        loaded, "spread"
    )


def test_an_organizer_may_select_more_than_the_ring_votes(client, db, contest, held_out_one, organizer):
    farm = farm_case(db, contest, held_out_one)
    honest = sorted(set(farm.vote_ids) - ring_votes(held_out_one, "farm"))
    log_in(client, organizer)
    client.post(
        f"/admin/votes/cases/{farm.id}/void?contest={contest.id}",
        data={"reason": "Farm and its helpers", "votes": [*farm.default_vote_ids, honest[0]]},
    )
    db.expire_all()
    voided = set(db.scalars(select(Vote.id).where(Vote.voided_at.is_not(None))))
    assert voided == ring_votes(held_out_one, "farm") | {honest[0]}


def local(moment, pattern: str) -> str:
    return moment.replace(tzinfo=UTC).astimezone(VIETNAM).strftime(pattern)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_summaries_state_the_real_window_and_every_rule(client, db, contest, held_out_one, organizer, lang):
    farm = farm_case(db, contest, held_out_one)
    log_in(client, organizer, lang=lang)
    html = client.get(f"/admin/votes/cases?contest={contest.id}", headers={"Accept-Language": lang}).text
    block = re.search(
        rf'<li class="panel vote-case" id="case-{farm.id}">(.*?)</li>\s*</ul>', html, re.S
    ).group(1)
    first, last = farm.first_at, farm.last_at
    assert first.date() == last.date()
    span = round((last - first).total_seconds() / 60)
    if lang == "en":
        expected = f"29 votes by 29 accounts, {local(first, '%b %-d, %Y')}, "
        assert expected in block
        assert f"{local(first, '%-I:%M')}" in block and f"to {local(last, '%-I:%M')}" in block
        assert f"({span} minutes)" in block
        for label in (
            "Young accounts from one network",
            "Burst of votes",
            "Young accounts registered together",
        ):
            assert f"<strong>{label}</strong>" in block
        assert "25 votes met a rule that marks a ring: voided by default." in block
    else:
        assert (
            f"29 phiếu của 29 tài khoản, {local(first, '%-d')} thg {local(first, '%-m')}, {local(first, '%Y')}, từ {local(first, '%H:%M')} đến {local(last, '%H:%M')} ({span} phút)."
            in block
        )
        assert block.count("<strong>") == 3
    assert len(farm.findings) == 3


# --- who may do what ------------------------------------------------------------------------
ROLES = ["anonymous", "entrant", "judge", "organizer"]
ACCESS = {
    ("GET", "/admin/votes/cases"): (302, 403, 403, 200),
    ("GET", "/admin/votes/cases/{case}?contest={contest}"): (302, 403, 403, 200),
    ("POST", "/admin/votes/cases/{case}/void?contest={contest}"): (302, 403, 403, 302),
    ("POST", "/admin/votes/cases/run?contest={contest}"): (302, 403, 403, 302),
}


@pytest.fixture
def small_ring(db, contest):
    """Eight young accounts registered together, voting for one entry from eight networks."""
    author = create_user(db, "author@example.com")
    plan = vote_population.Plan(entries=1)
    vote_population.spread(plan, vote_population.random.Random(3), "ring", 8, 0, plan.now - timedelta(days=1))
    return vote_population.load(db, contest, author, plan)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "route"), list(ACCESS))
def test_access_matrix(request, client, db, contest, small_ring, method, route, role):
    [case] = clusters.detect_cases(db, contest.id)
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    url = route.format(case=case.id, contest=contest.id)
    data = {"reason": "Ring", "votes": list(case.default_vote_ids)} if method == "POST" else None
    response = client.open(url, method=method, data=data)
    assert response.status_code == ACCESS[(method, route)][ROLES.index(role)]
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")
    db.expire_all()
    voided = db.scalar(select(func.count()).select_from(Vote).where(Vote.voided_at.is_not(None)))
    assert voided == (8 if role == "organizer" and route.endswith("/void?contest={contest}") else 0)


# --- in a browser ---------------------------------------------------------------------------
@pytest.mark.browser
def test_the_case_pages_on_a_phone(tmp_path, browser_page):
    """390 px wide in headless Chromium: the list and a case fit, its checkboxes post with the
    form below the table, no script error or policy violation."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        create_user(session, "btc@example.com", role=Role.organizer, birth_year=None, locale="en")
        author = create_user(session, "author@example.com")
        loaded = vote_population.load(session, contest, author, vote_population.scenario(SEEDS[0]))
        farm = farm_case(session, contest, loaded)
    page = browser_page.page
    try:
        with live_server(app) as url:
            page.goto(f"{url}/account/login", wait_until="load")
            page.fill("input[name=email]", "btc@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form [type=submit]").last.click()
            page.wait_for_load_state("load")
            page.goto(f"{url}/admin/votes/cases", wait_until="load")
            assert page.locator("li.vote-case").count() == 2
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.locator(f"#case-{farm.id} h2 a").click()
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            assert page.locator("input[name=votes]:checked").count() == 25
            honest = sorted(set(farm.vote_ids) - set(farm.default_vote_ids))
            page.locator(f"#pick-{farm.default_vote_ids[0]}").uncheck()
            page.locator(f"#pick-{honest[0]}").check()
            page.fill("input[name=reason]", "Farm behind one carrier network")
            page.locator("#void-case [type=submit]").click()
            page.wait_for_load_state("load")
            assert "25 votes were voided." in page.content()
        assert browser_page.problems() == []
        with app.app_context():
            voided = set(db_ext.session.scalars(select(Vote.id).where(Vote.voided_at.is_not(None))))
        assert voided == set(farm.default_vote_ids[1:]) | {honest[0]}
    finally:
        app.extensions["db"].dispose()
