"""The deal's guarantees (contest.jury.deal), property-based on the in-memory algorithm.

Judges are ids 1..n; entrants 100+; an entry's author can be a judge (their own entry).
After the first deal and after random additions, removals, recusals and scores, every check
of ``assert_guarantees`` must hold and every given score must still be where it was.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from contest.jury.deal import DealInput, Holding, plan

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def rounds(draw):
    judges = draw(st.integers(min_value=1, max_value=8))
    authors = list(range(1, judges + 1)) + list(range(100, 106))
    entries = draw(st.integers(min_value=0, max_value=30))
    entry_authors = {1000 + i: draw(st.sampled_from(authors)) for i in range(entries)}
    quorum = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=5)))
    conflicts = draw(st.sets(st.tuples(st.integers(1, judges), st.sampled_from(authors)), max_size=6))
    blocked = {j: frozenset({j} | {a for cj, a in conflicts if cj == j}) for j in range(1, judges + 1)}
    return DealInput(entry_authors, tuple(range(1, judges + 1)), blocked, quorum)


def apply(holdings: dict, data: DealInput, seed) -> dict:
    """Deal ``data`` over ``holdings`` ((entry, judge) -> Holding) as the database would."""
    result = plan(
        DealInput(data.entries, data.judges, data.blocked, data.quorum, tuple(holdings.values())), seed
    )
    after = dict(holdings)
    for pair in result.remove:
        assert not after[pair].scored and not after[pair].recused  # nothing given is lost
        del after[pair]
    for entry, judge in result.add:
        assert (entry, judge) not in after  # never the same entry twice
        after[(entry, judge)] = Holding(entry, judge)
    return after


def loads(holdings: dict, data: DealInput) -> dict[int, int]:
    load = dict.fromkeys(data.judges, 0)
    for h in holdings.values():
        if not h.recused and h.judge in load:
            load[h.judge] += 1
    return load


def may_judge(data: DealInput, judge: int, entry: int) -> bool:
    return data.entries[entry] not in data.blocked.get(judge, frozenset())


def assert_guarantees(holdings: dict, data: DealInput) -> None:
    load = loads(holdings, data)
    for entry in data.entries:
        had = {j for (e, j) in holdings if e == entry}
        holders = {h.judge for h in holdings.values() if h.entry == entry and not h.recused}
        candidates = [j for j in data.judges if j not in had and may_judge(data, j, entry)]
        if data.quorum is None:
            assert candidates == []
        else:
            assert len(holders) <= data.quorum
            assert len(holders) == data.quorum or candidates == []
        for h in (h for h in holdings.values() if h.entry == entry and not h.recused and not h.scored):
            assert h.judge in data.judges and may_judge(data, h.judge, entry)
            # No better move: a candidate is never two or more below an unscored holder.
            assert all(load[b] > load[h.judge] - 2 for b in candidates)


@SETTINGS
@given(rounds(), st.integers(min_value=0, max_value=2**62))
def test_first_deal_is_even_and_respects_conflicts(data, seed):
    holdings = apply({}, data, seed)
    assert_guarantees(holdings, data)
    for entry in data.entries:
        eligible = [j for j in data.judges if may_judge(data, j, entry)]
        dealt = [j for (e, j) in holdings if e == entry]
        assert len(dealt) == len(set(dealt)) == min(data.quorum or len(eligible), len(eligible))


@SETTINGS
@given(rounds(), st.integers(min_value=0, max_value=2**62))
def test_without_conflicts_loads_differ_by_at_most_one(data, seed):
    data = DealInput(data.entries, data.judges, {}, data.quorum)
    load = loads(apply({}, data, seed), data)
    assert max(load.values()) - min(load.values()) <= 1


@SETTINGS
@given(rounds(), st.integers(min_value=0, max_value=2**62))
def test_same_seed_same_deal(data, seed):
    assert plan(data, seed) == plan(data, seed)


operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "remove", "recuse", "score", "judge_scores_all"]), st.integers(0, 10_000)
    ),
    max_size=8,
)


@SETTINGS
@given(rounds(), operations, st.integers(min_value=0, max_value=2**62))
def test_changes_mid_round_keep_the_guarantees_and_every_score(data, steps, seed):
    holdings = apply({}, data, seed)
    judges = list(data.judges)
    for n, (operation, pick) in enumerate(steps):
        scored = {pair for pair, h in holdings.items() if h.scored}
        holdings, judges = _change(operation, pick, holdings, judges, data)
        data = DealInput(data.entries, tuple(judges), data.blocked, data.quorum)
        holdings = apply(holdings, data, f"{seed}:{n}")
        assert scored <= {pair for pair, h in holdings.items() if h.scored}
        assert_guarantees(holdings, data)


def _change(operation: str, pick: int, holdings: dict, judges: list[int], data: DealInput):
    held = sorted(pair for pair, h in holdings.items() if not h.recused)
    if operation == "add":
        new = max([*judges, *data.blocked, 0]) + 1
        data.blocked[new] = frozenset({new})  # a new judge: blocked from nobody else's entries
        return holdings, [*judges, new]
    if operation == "remove" and judges:
        gone = judges[pick % len(judges)]
        return holdings, [j for j in judges if j != gone]
    if operation == "judge_scores_all" and judges:
        judge = judges[pick % len(judges)]
        return {
            p: Holding(*p, scored=True) if p in held and p[1] == judge else h for p, h in holdings.items()
        }, judges
    if operation in ("recuse", "score") and held:
        pair = held[pick % len(held)]
        old = holdings[pair]
        if operation == "recuse" and old.judge in judges:
            holdings = {**holdings, pair: Holding(*pair, recused=True, scored=old.scored)}
        elif operation == "score" and old.judge in judges:
            holdings = {**holdings, pair: Holding(*pair, scored=True)}
    return holdings, judges


def test_a_removed_judge_keeps_what_they_scored_and_loses_the_rest():
    data = DealInput({1000 + i: 100 for i in range(12)}, (1, 2, 3, 4), {}, 2)
    holdings = apply({}, data, 7)
    theirs = sorted(pair for pair in holdings if pair[1] == 1)
    holdings[theirs[0]] = Holding(*theirs[0], scored=True)
    fewer = DealInput(data.entries, (2, 3, 4), {}, 2)
    after = apply(holdings, fewer, 8)
    assert [pair for pair in after if pair[1] == 1] == [theirs[0]]
    assert after[theirs[0]].scored
    assert_guarantees(after, fewer)
