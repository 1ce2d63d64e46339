"""The deal: which judge judges which entry of a round, computed in memory from ids.

``plan`` is pure (no database): the round's services read the ids it needs in a few queries,
and write the difference it returns in bulk (contest.jury.dealing).

What a plan guarantees, for the round's active judges, where an entry's *candidates* are the
active judges who may judge it (not its author by account or canonical e-mail, no declared
conflict with its author) and who never had it (recused included):

1. Every entry is held by ``quorum`` judges, or by fewer only when it has no candidate left
   (full panel: by every candidate); no judge holds an entry twice (a row per pair).
2. Nobody holds an entry they may not judge, unless they had already scored it.
3. No better move exists: there is no unscored holding (judge A, entry e) and candidate B of e
   with ``load(B) <= load(A) - 2``. Without conflicts and given scores this is "loads differ
   by at most one"; with them, it is as close as the conflicts and the kept scores allow.
4. Nothing scored moves: a scored holding stays with its judge, even a removed one.
5. The same inputs and seed give the same plan.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Holding:
    """An existing assignment as the deal sees it."""

    entry: int
    judge: int
    recused: bool = False
    scored: bool = False


@dataclass(frozen=True)
class DealInput:
    entries: Mapping[int, int]  # entry id -> author id (disqualified entries left out)
    judges: tuple[int, ...]  # the round's active judges
    blocked: Mapping[int, frozenset[int]]  # judge id -> authors they may not judge
    quorum: int | None  # None: a full panel
    holdings: tuple[Holding, ...] = ()


@dataclass
class Plan:
    add: list[tuple[int, int]] = field(default_factory=list)  # (entry, judge)
    remove: list[tuple[int, int]] = field(default_factory=list)


class _State:
    """Who holds what while a plan is made."""

    def __init__(self, data: DealInput) -> None:
        self.data = data
        self.active = set(data.judges)
        self.holders: dict[int, set[int]] = {e: set() for e in data.entries}
        self.had: dict[int, set[int]] = {e: set() for e in data.entries}
        self.load = dict.fromkeys(data.judges, 0)
        self.movable: dict[int, set[int]] = {j: set() for j in data.judges}
        self.fixed: set[tuple[int, int]] = set()

    def may_judge(self, judge: int, entry: int) -> bool:
        return self.data.entries[entry] not in self.data.blocked.get(judge, frozenset())

    def is_candidate(self, judge: int, entry: int) -> bool:
        return judge not in self.had[entry] and self.may_judge(judge, entry)

    def give(self, entry: int, judge: int) -> None:
        self.holders[entry].add(judge)
        self.had[entry].add(judge)
        self.load[judge] += 1
        self.movable[judge].add(entry)

    def take(self, entry: int, judge: int) -> None:
        self.holders[entry].discard(judge)
        self.had[entry].discard(judge)
        self.load[judge] -= 1
        self.movable[judge].discard(entry)


def plan(data: DealInput, seed: int) -> Plan:
    """The assignments to add and remove so that the round meets the guarantees above."""
    rng = random.Random(seed)
    state = _State(data)
    before = _load_holdings(state, data.holdings)
    _fill(state, rng)
    _repair(state)
    after = {(e, j) for e, judges in state.holders.items() for j in judges}
    return Plan(add=sorted(after - before), remove=sorted(before - after))


def _load_holdings(state: _State, holdings: Iterable[Holding]) -> set[tuple[int, int]]:
    """Record the existing assignments; return the held (entry, judge) pairs.

    Unscored holdings of removed judges, and of judges who may no longer judge the entry,
    are not recorded: the plan removes them.
    """
    held = set()
    for h in holdings:
        if h.entry not in state.had:
            continue  # an entry out of the deal (disqualified): left as it is
        if h.recused:
            state.had[h.entry].add(h.judge)
            continue
        held.add((h.entry, h.judge))
        if h.scored:
            state.holders[h.entry].add(h.judge)
            state.had[h.entry].add(h.judge)
            state.fixed.add((h.entry, h.judge))
            if h.judge in state.active:
                state.load[h.judge] += 1
        elif h.judge in state.active and state.may_judge(h.judge, h.entry):
            state.give(h.entry, h.judge)
    return held


def _fill(state: _State, rng: random.Random) -> None:
    """Give each entry short of judges its least loaded candidates, ties drawn at random."""
    judges = sorted(state.active)
    quorum = state.data.quorum
    entries = sorted(state.holders)
    rng.shuffle(entries)
    for entry in entries:
        holders = state.holders[entry]
        need = None if quorum is None else quorum - len(holders)
        if need is not None and need <= 0:
            continue
        candidates = [j for j in judges if state.is_candidate(j, entry)]
        if need is not None and need < len(candidates):
            load = state.load
            keyed = [(load[j], rng.random(), j) for j in candidates]
            candidates = [j for _, _, j in heapq.nsmallest(need, keyed)]
        for judge in candidates:
            state.give(entry, judge)


def _repair(state: _State) -> None:
    """Move unscored holdings from heavy to light judges until no move gains (guarantee 3).

    Every move lowers the sum of the squared loads, so the loop ends.
    """
    while _one_move(state):
        pass


def _one_move(state: _State) -> bool:
    by_load = sorted(state.active, key=lambda j: (state.load[j], j))
    for light in by_load:
        for heavy in reversed(by_load):
            if state.load[heavy] - state.load[light] < 2:
                break
            entry = _movable_entry(state, heavy, light)
            if entry is not None:
                state.take(entry, heavy)
                state.give(entry, light)
                return True
    return False


def _movable_entry(state: _State, heavy: int, light: int) -> int | None:
    for entry in sorted(state.movable[heavy]):
        if state.is_candidate(light, entry):
            return entry
    return None
