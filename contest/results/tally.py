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
    rows = _rows(arrays, found, order, decided)
    return Tally(sheet, rows, _matrix(arrays, found.pairwise), _matrix(arrays, found.strongest))


def place_order(
    arrays: MarkArrays, found: Figures, rules: tuple[TieBreak, ...], top: int | None = None
) -> tuple[list[int], dict[int, TieBreak | None]]:
    """Entry indices in place order, and for each the rule that put it below its predecessor.

    With ``top``, only the first ``top`` places: the same rule applied to the contenders alone
    (``_contenders``), which the stability analysis needs hundreds of times per round."""
    rules = (*(r for r in rules if r is not TieBreak.code), TieBreak.code)
    unmarked = np.isnan(found.figure)
    figure = np.where(unmarked, 0.0, -np.round(np.nan_to_num(found.figure), DECIMALS))
    entries = _contenders(figure, unmarked, top)
    marks = None if len(entries) == arrays.n_entries else np.flatnonzero(_member(entries, arrays))
    keys = [tie_key(arrays, found, rule, marks) for rule in rules]
    sort_keys = (*(key[entries] for key in reversed(keys)), figure[entries], unmarked[entries])
    order = entries[np.lexsort(sort_keys)][:top]
    above, below = order[:-1], order[1:]
    tied = (figure[above] == figure[below]) & (unmarked[above] == unmarked[below])
    rule_index = np.full(len(below), -1)
    for n, key in reversed(list(enumerate(keys))):
        rule_index = np.where(key[above] != key[below], n, rule_index)
    decided: dict[int, TieBreak | None] = {int(order[0]): None} if len(order) else {}
    for i, is_tied, n in zip(below.tolist(), tied.tolist(), rule_index.tolist(), strict=True):
        decided[i] = rules[n] if is_tied else None
    return order.tolist(), decided


def _contenders(figure: np.ndarray, unmarked: np.ndarray, top: int | None) -> np.ndarray:
    """Entries that can take one of the first ``top`` places: those figured at least as well as
    the ``top``-th (a partial sort), ties at the boundary included; every entry without ``top``."""
    if top is None or top >= len(figure):
        return np.arange(len(figure))
    key = np.where(unmarked, np.inf, figure)
    return np.flatnonzero(key <= np.partition(key, top - 1)[top - 1])


def _member(entries: np.ndarray, arrays: MarkArrays) -> np.ndarray:
    """Per mark: is its entry one of ``entries``?"""
    chosen = np.zeros(arrays.n_entries, dtype=bool)
    chosen[entries] = True
    return chosen[arrays.entry]


def tie_key(
    arrays: MarkArrays, found: Figures, rule: TieBreak, marks: np.ndarray | None = None
) -> np.ndarray:
    """Per entry, the rule's sort key (smaller is better), rounded so that equal means equal;
    with ``marks``, read from those marks only (every mark of the entries whose key matters)."""
    if rule is TieBreak.code:
        return np.arange(arrays.n_entries, dtype=np.float64)  # codes are sorted
    entry, n_entries = arrays.entry, arrays.n_entries
    if rule is TieBreak.firsts:
        firsts = _firsts(arrays)
        entry, firsts = (entry, firsts) if marks is None else (entry[marks], firsts[marks])
        return -np.bincount(entry, weights=firsts, minlength=n_entries)
    merit = found.merit if marks is None else found.merit[marks]
    entry = entry if marks is None else entry[marks]
    count = np.bincount(entry, minlength=n_entries)
    if rule is TieBreak.lowest_spread:
        n = np.maximum(count, 1)
        mean = np.bincount(entry, weights=merit, minlength=n_entries) / n
        square = np.bincount(entry, weights=merit * merit, minlength=n_entries) / n
        return np.round(np.sqrt(np.maximum(square - mean * mean, 0.0)), DECIMALS)
    return -np.round(_medians(entry, merit, count), DECIMALS)


def _medians(entry: np.ndarray, merit: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Each entry's median merit (0 for an entry without marks)."""
    if len(entry) == 0:
        return np.zeros(len(count))
    ordered = merit[np.lexsort((merit, entry))]
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    low = np.minimum(start + (count - 1) // 2, len(ordered) - 1)
    high = np.minimum(start + count // 2, len(ordered) - 1)
    return np.where(count > 0, (ordered[low] + ordered[high]) / 2, 0.0)


def _firsts(arrays: MarkArrays) -> np.ndarray:
    """Per mark, 1 for a first place (ranking), a yes, or its judge's highest raw total (score)."""
    if arrays.kind == "ranking":
        return (arrays.value == 1).astype(np.float64)
    if arrays.kind == "yes_no":
        return arrays.value
    high = np.full(arrays.n_judges, -np.inf)
    np.maximum.at(high, arrays.judge, arrays.value)
    return (arrays.value >= high[arrays.judge] - 1e-9).astype(np.float64)


def _rows(arrays: MarkArrays, found: Figures, order: list[int], decided: dict) -> tuple[TallyRow, ...]:
    """The rows in place order (the arrays turned into Python values once, not per row)."""
    figure, raw, normalised = _floats(found.figure), _floats(found.raw), _floats(found.normalised)
    count = found.count.tolist()
    yes = found.yes.tolist() if found.yes is not None else None
    none = [None] * arrays.n_entries
    return tuple(
        TallyRow(
            entry=arrays.codes[i],
            place=place,
            figure=figure[i],
            raw=(raw or none)[i],
            normalised=(normalised or none)[i],
            judges=count[i],
            decided_by=decided[i],
            yes=yes[i] if yes is not None else None,
        )
        for place, i in enumerate(order, start=1)
    )


def _floats(values: np.ndarray | None) -> list[float | None] | None:
    """NaN (no mark) becomes None."""
    if values is None:
        return None
    return [None if v != v else v for v in values.tolist()]


def _matrix(arrays: MarkArrays, m: np.ndarray | None) -> dict[str, dict[str, int]] | None:
    if m is None:
        return None
    codes = arrays.codes
    return {a: {b: int(m[i, j]) for j, b in enumerate(codes) if j != i} for i, a in enumerate(codes)}
