"""The Schulze method on a ranking round's marks.

``d[a, b]`` is the number of judges who ranked both ``a`` and ``b`` and put ``a`` above ``b`` (a
judge who did not rank both, or gave them the same rank, expresses no preference between them:
with a quorum, a judge only sees part of the round). The strongest paths ``p`` are the widest
paths of the graph whose edge ``a -> b`` has width ``d[a, b]`` when ``d[a, b] > d[b, a]``, found
by Floyd-Warshall. ``a`` beats ``b`` when ``p[a, b] > p[b, a]``; an entry's figure is the number
of entries it beats, which orders the Schulze winners (equal counts go to the tie rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from contest.results.tally_core import MarkArrays

# The matrices are n x n and the strongest paths take n^3 steps: a ranking round's shortlist,
# not a whole contest.
MAX_ENTRIES = 1000


def check_size(n_entries: int) -> None:
    if n_entries > MAX_ENTRIES:
        raise ValueError(
            f"the Schulze method takes at most {MAX_ENTRIES} entries (this round has {n_entries}): use Borda"
        )


def pairwise(arrays: MarkArrays) -> np.ndarray:
    """``d[a, b]``: judges preferring entry ``a`` to entry ``b``."""
    n = arrays.n_entries
    d = np.zeros((n, n), dtype=np.int64)
    for j in range(arrays.n_judges):
        mine = arrays.judge == j
        if not mine.any():
            continue
        ranked = arrays.entry[mine]
        ranks = arrays.value[mine]
        above = ranks[:, None] < ranks[None, :]
        d[np.ix_(ranked, ranked)] += above
    return d


def strongest_paths(d: np.ndarray) -> np.ndarray:
    """``p[a, b]``: the width of the widest path from ``a`` to ``b`` (Floyd-Warshall)."""
    p = np.where(d > d.T, d, 0)
    for k in range(len(d)):
        p = np.maximum(p, np.minimum(p[:, k, None], p[None, k, :]))
    np.fill_diagonal(p, 0)
    return p


def schulze(arrays: MarkArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairwise matrix, the strongest paths and each entry's number of wins."""
    check_size(arrays.n_entries)
    d = pairwise(arrays)
    p = strongest_paths(d)
    wins = (p > p.T).sum(axis=1).astype(np.float64)
    return d, p, wins
