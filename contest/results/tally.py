"""The tally of a round: every entry's figure and place, and which tie rule decided where.

The figures come from ``contest.results.tally_core`` (the rule, on arrays). Entries are ordered
by figure, best first (entries without a mark last); entries whose figures are equal (to 9
decimals) are ordered by the round's tie rules, in the recorded order, ``code`` always last so
that the order is total and the same for the same sheet whatever the order of its marks. Every
tie rule reads the judges' *merits* of an entry (higher is better: the total used, normalised
or raw; 1/0 for yes/no; the Borda points for ranking rounds):

* ``median``: the higher median merit;
* ``firsts``: more first places (ranking), more "yes" (yes/no), more marks that are their
  judge's highest total in the round (score);
* ``lowest_spread``: the smaller (population) standard deviation of the merits;
* ``code``: the smaller entry code.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from contest.results.sheet import Sheet, TieBreak
from contest.results.tally_core import Figures, MarkArrays, figures, mark_arrays

DECIMALS = 9  # figures equal to this many decimals are a tie


@dataclass(frozen=True)
class TallyRow:
    entry: str  # code
    place: int  # 1 = best; equal figures never share a place (tie-break rules decide)
    figure: float | None  # the final figure (see tally_core); None if no mark
    raw: float | None  # score rounds: mean of raw weighted totals
    normalised: float | None  # score rounds with normalisation: mean of normalised totals
    judges: int  # marks counted
    decided_by: TieBreak | None  # the rule that separated this row from the one above, if tied
    yes: int | None = None  # yes/no rounds


@dataclass(frozen=True)
class Tally:
    sheet: Sheet
    rows: tuple[TallyRow, ...]  # in place order
    pairwise: dict[str, dict[str, int]] | None  # Schulze: d[a][b] judges preferring a over b
    strongest: dict[str, dict[str, int]] | None  # Schulze strongest paths


def tally(sheet: Sheet) -> Tally:
    """The round's ranking from its sheet alone (what an outsider recomputes from the raw file)."""
    arrays = mark_arrays(sheet)
    found = figures(arrays, sheet.settings)
    order, decided = place_order(arrays, found, sheet.settings.tie_break)
    rows = tuple(_row(arrays, found, i, place, decided[i]) for place, i in enumerate(order, start=1))
    return Tally(sheet, rows, _matrix(arrays, found.pairwise), _matrix(arrays, found.strongest))


def place_order(
    arrays: MarkArrays, found: Figures, rules: tuple[TieBreak, ...]
) -> tuple[list[int], dict[int, TieBreak | None]]:
    """Entry indices in place order, and for each the rule that put it below its predecessor."""
    marked = ~np.isnan(found.figure)
    key = np.where(marked, -np.round(np.nan_to_num(found.figure), DECIMALS), 0.0)
    order = np.lexsort((np.arange(arrays.n_entries), key, ~marked)).tolist()
    decided: dict[int, TieBreak | None] = dict.fromkeys(order)
    rules = (*(r for r in rules if r is not TieBreak.code), TieBreak.code)
    ties = _TieKeys(arrays, found)
    start = 0
    for end in range(1, len(order) + 1):
        if end < len(order) and _same(found.figure, order[start], order[end]):
            continue
        if end - start > 1:
            order[start:end] = _break(order[start:end], rules, ties, decided)
        start = end
    return order, decided


def _same(figure: np.ndarray, a: int, b: int) -> bool:
    fa, fb = figure[a], figure[b]
    if np.isnan(fa) or np.isnan(fb):
        return bool(np.isnan(fa) and np.isnan(fb))
    return round(float(fa), DECIMALS) == round(float(fb), DECIMALS)


def _break(group: list[int], rules, ties: _TieKeys, decided: dict[int, TieBreak | None]) -> list[int]:
    keyed = sorted(group, key=lambda i: tuple(ties.key(rule, i) for rule in rules))
    for above, below in itertools.pairwise(keyed):
        decided[below] = next(r for r in rules if ties.key(r, above) != ties.key(r, below))
    return keyed


class _TieKeys:
    """Sort keys of the tie rules (smaller is better), computed for tied entries only."""

    def __init__(self, arrays: MarkArrays, found: Figures):
        self.arrays, self.found = arrays, found
        self._merits: dict[int, np.ndarray] | None = None
        self._top: np.ndarray | None = None

    def key(self, rule: TieBreak, i: int) -> float:
        if rule is TieBreak.code:
            return float(i)  # codes are sorted: the index orders them
        merits = self.merits(i)
        if rule is TieBreak.median:
            return -round(float(np.median(merits)), DECIMALS) if len(merits) else 0.0
        if rule is TieBreak.lowest_spread:
            return round(float(np.std(merits)), DECIMALS) if len(merits) else 0.0
        return -float(self.firsts(i))

    def merits(self, i: int) -> np.ndarray:
        if self._merits is None:
            self._merits = {}
        if i not in self._merits:
            self._merits[i] = self.found.merit[self.arrays.entry == i]
        return self._merits[i]

    def firsts(self, i: int) -> int:
        mine = self.arrays.entry == i
        if self.arrays.kind == "ranking":
            return int((self.arrays.value[mine] == 1).sum())
        if self.arrays.kind == "yes_no":
            return int(self.arrays.value[mine].sum())
        return int(self.judge_tops()[mine].sum())

    def judge_tops(self) -> np.ndarray:
        """Per mark: is it its judge's highest raw total in the round?"""
        if self._top is None:
            a = self.arrays
            high = np.full(a.n_judges, -np.inf)
            np.maximum.at(high, a.judge, a.value)
            self._top = a.value >= high[a.judge] - 1e-9
        return self._top


def _row(arrays: MarkArrays, found: Figures, i: int, place: int, decided: TieBreak | None) -> TallyRow:
    count = int(found.count[i])
    yes = int(found.yes[i]) if found.yes is not None else None
    return TallyRow(
        entry=arrays.codes[i],
        place=place,
        figure=_float(found.figure[i]),
        raw=_float(found.raw[i]) if found.raw is not None else None,
        normalised=_float(found.normalised[i]) if found.normalised is not None else None,
        judges=count,
        decided_by=decided,
        yes=yes,
    )


def _float(value) -> float | None:
    return None if np.isnan(value) else float(value)


def _matrix(arrays: MarkArrays, m: np.ndarray | None) -> dict[str, dict[str, int]] | None:
    if m is None:
        return None
    codes = arrays.codes
    return {a: {b: int(m[i, j]) for j, b in enumerate(codes) if j != i} for i, a in enumerate(codes)}
