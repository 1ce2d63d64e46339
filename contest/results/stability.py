"""How stable a round's top places are when its jury changes a little.

Two checks, both re-running THE tally's own array rule (``contest.results.tally_core.figures``
and the tally's ordering, ``contest.results.tally.place_order``) on other juries:

- leave one judge out: for each judge, the tally without their marks; a place "changes" when
  another entry takes it;
- bootstrap: ``resamples`` juries drawn from the round's judges with replacement (a judge drawn
  twice counts twice, ``tally_core.resample``), from a seed recorded in the result so that the
  same seed gives the same figures; a place "holds" in the share of resamples in which the same
  entry takes it, and its entry "stays in the top" in the share in which it is among the top N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contest.results import tally_core
from contest.results.sheet import TallySettings
from contest.results.tally import place_order


@dataclass(frozen=True)
class PlaceStability:
    place: int
    entry: str  # the entry's code in the tally
    holds: float  # share of resamples in which the same entry takes this place (0..1)
    in_top: float  # share of resamples in which the entry stays among the top places
    changed_by: tuple[str, ...]  # judges whose removal gives this place to another entry


@dataclass(frozen=True)
class Stability:
    places: tuple[PlaceStability, ...]
    resamples: int
    seed: int
    judges: int


def _top(arrays: tally_core.MarkArrays, settings: TallySettings, n: int) -> np.ndarray:
    """The entry indices of the first ``n`` places under the tally's own rule and tie breaks."""
    order, _ = place_order(arrays, tally_core.figures(arrays, settings), settings.tie_break, top=n)
    return np.asarray(order, dtype=np.int64)


def _retally(
    arrays: tally_core.MarkArrays, settings: TallySettings, multiplicity: np.ndarray, n: int
) -> np.ndarray:
    return _top(tally_core.resample(arrays, multiplicity), settings, n)


def _changed_by(arrays: tally_core.MarkArrays, settings: TallySettings, base: np.ndarray) -> list[list[str]]:
    changed: list[list[str]] = [[] for _ in base]
    if arrays.n_judges < 2:
        return changed
    for j, name in enumerate(arrays.judges):
        multiplicity = np.ones(arrays.n_judges, dtype=np.int64)
        multiplicity[j] = 0
        top = _retally(arrays, settings, multiplicity, len(base))
        for p in np.flatnonzero(_padded(top, len(base)) != base):
            changed[p].append(name)
    return changed


def _padded(top: np.ndarray, n: int) -> np.ndarray:
    """``top`` with -1 where a smaller jury left fewer than ``n`` entries with a figure."""
    return np.pad(top, (0, n - len(top)), constant_values=-1) if len(top) < n else top


def _bootstrap(
    arrays: tally_core.MarkArrays, settings: TallySettings, base: np.ndarray, resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    holds = np.zeros(len(base))
    in_top = np.zeros(len(base))
    m = arrays.n_judges
    for _ in range(resamples):
        multiplicity = np.bincount(rng.integers(0, m, size=m), minlength=m)
        top = _padded(_retally(arrays, settings, multiplicity, len(base)), len(base))
        holds += top == base
        in_top += np.isin(base, top)
    return holds / max(resamples, 1), in_top / max(resamples, 1)


def stability(
    arrays: tally_core.MarkArrays, settings: TallySettings, top: tuple[str, ...], *, resamples: int, seed: int
) -> Stability:
    """The stability of the tally's top places ``top`` (codes in place order)."""
    index = {code: i for i, code in enumerate(arrays.codes)}
    base = np.array([index[code] for code in top], dtype=np.int64)
    if arrays.n_judges == 0 or not len(base):
        return Stability((), 0, seed, arrays.n_judges)
    holds, in_top = _bootstrap(arrays, settings, base, resamples, seed)
    changed = _changed_by(arrays, settings, base)
    places = tuple(
        PlaceStability(p + 1, code, float(holds[p]), float(in_top[p]), tuple(changed[p]))
        for p, code in enumerate(top)
    )
    return Stability(places, resamples, seed, arrays.n_judges)
