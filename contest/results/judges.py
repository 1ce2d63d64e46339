"""Each judge of a round beside the others: how many marks, how lenient, how much in line.

A judge's consensus is the mean of the OTHER judges' marks on the same entries (their own mark
left out), so that a judge is never compared with themself. Pearson on score totals and yes/no,
Spearman (Pearson on ranks) for ranking rounds, where a mark is the judge's relative position
(rank - 1) / (list length - 1) so that lists of different lengths compare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contest.results.agreement import average_ranks

# A judge stands apart when their mean is further than this many standard deviations of the
# judges' means from the mean of the other judges' means (needs MIN_JUDGES_FOR_MEANS judges), and
# by at least APART_MEAN_MIN_GAP standard deviations of all the round's marks (a medium effect by
# Cohen's d: when the other judges' means are all alike, a trifling gap is not "apart")...
APART_MEAN_SDS = 1.5
APART_MEAN_MIN_GAP = 0.5
MIN_JUDGES_FOR_MEANS = 3
# ...or when their marks correlate less than this with the others' consensus, over at least
# APART_MIN_SHARED entries that another judge marked too (fewer say too little).
APART_CORRELATION = 0.2
APART_MIN_SHARED = 10


@dataclass(frozen=True)
class ApartRules:
    """The thresholds above, for the page that explains the badge."""

    mean_sds: float = APART_MEAN_SDS
    correlation: float = APART_CORRELATION
    min_shared: int = APART_MIN_SHARED


@dataclass(frozen=True)
class JudgeStats:
    judge: str  # pseudonym
    marks: int
    mean: float | None  # mean total (score), yes share (yes/no); None for rankings
    sd: float | None  # spread of their totals (score), None otherwise or with one mark
    correlation: float | None  # with the others' consensus; None when not computable
    shared: int  # marks on entries another judge marked too
    apart_mean: bool = False
    apart_correlation: bool = False

    @property
    def apart(self) -> bool:
        return self.apart_mean or self.apart_correlation


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _others_mean(entry: np.ndarray, value: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per mark: the mean of the other marks of its entry, and whether there is any."""
    sums = np.bincount(entry, weights=value)
    counts = np.bincount(entry)
    others = counts[entry] - 1
    shared = others > 0
    mean = np.divide(sums[entry] - value, others, out=np.zeros(len(value)), where=shared)
    return mean, shared


def judge_stats(
    judges: tuple[str, ...], judge: np.ndarray, entry: np.ndarray, value: np.ndarray, *, kind: str
) -> tuple[JudgeStats, ...]:
    """Statistics per judge from parallel mark arrays (judge index, entry index, value); ``kind``
    is the round's: "score" (value = total), "yes_no" (1.0 / 0.0) or "ranking" (position)."""
    consensus, shared = _others_mean(entry, value)
    ranking = kind == "ranking"

    rows = []
    for j, name in enumerate(judges):
        mine = judge == j
        own, both = value[mine], mine & shared
        x, y = value[both], consensus[both]
        if ranking:
            x, y = average_ranks(x), average_ranks(y)
        mean = None if ranking or not len(own) else float(own.mean())
        sd = float(own.std(ddof=1)) if kind == "score" and len(own) > 1 else None
        rows.append(JudgeStats(name, int(mine.sum()), mean, sd, _pearson(x, y), int(both.sum())))
    return _mark_apart(rows, float(value.std()) if len(value) else 0.0)


def _mark_apart(rows: list[JudgeStats], marks_sd: float) -> tuple[JudgeStats, ...]:
    means = np.array([r.mean for r in rows if r.mean is not None])
    spread = float(means.std(ddof=1)) if len(means) >= MIN_JUDGES_FOR_MEANS else 0.0
    gap = max(APART_MEAN_SDS * spread, APART_MEAN_MIN_GAP * marks_sd)
    marked = []
    for r in rows:
        apart_mean = False
        if r.mean is not None and spread > 0:
            others = (means.sum() - r.mean) / (len(means) - 1)
            apart_mean = bool(abs(r.mean - others) > gap)
        apart_corr = (
            r.shared >= APART_MIN_SHARED and r.correlation is not None and r.correlation < APART_CORRELATION
        )
        marked.append(
            JudgeStats(r.judge, r.marks, r.mean, r.sd, r.correlation, r.shared, apart_mean, apart_corr)
        )
    return tuple(marked)
