"""The tally's figures as array operations: THE rule, shared by the tally and the stability analysis.

A sheet becomes one row per mark (entry index, judge index, value); the figures of every entry
are then a few ``np.bincount`` calls, cheap enough to run hundreds of times on resampled judges
(``contest.results.reliability``). ``contest.results.tally.tally`` adds the places and ties.

Score rounds. A judge's *total* for an entry is ``sum(w_i * v_i) / sum(w_i)``, on the round's
scale ``[sum(w_i * min_i), sum(w_i * max_i)] / sum(w_i)``. With normalisation, each total ``t`` of
judge ``j`` becomes ``clip(((t - mean_j) / sd_j) * sd + mean, scale_min, scale_max)``, where
``mean_j, sd_j`` are the judge's mean and (population) standard deviation over their totals in the
round and ``mean, sd`` those of every total in the round: a lenient and a harsh judge are put on
one footing. A judge with a single mark or no spread (``sd_j == 0``) keeps their raw totals.
An entry's raw (normalised) figure is the mean of its raw (normalised) totals; with the trimmed
mean, an entry with five marks or more loses its highest and its lowest total (of each series).

Yes/no rounds: the figure is the share of "yes". Ranking rounds: Borda, a judge's list of ``n``
entries gives ``n - rank`` points (the first ``n - 1``, the last 0; ``n`` counts that judge's
marks), the figure is the sum; or Schulze (``contest.results.schulze``), the figure is the number
of entries an entry beats by the strongest paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contest.results.sheet import RankingMethod, Sheet, TallySettings

TRIM_FROM = 5  # judges an entry needs before its highest and lowest totals are dropped


@dataclass(frozen=True)
class MarkArrays:
    """A sheet as arrays, one row per mark, in a canonical order (entry code, then judge)."""

    kind: str
    codes: tuple[str, ...]  # every entry of the round, sorted by code; ``entry`` indexes it
    judges: tuple[str, ...]  # pseudonyms; ``judge`` indexes it
    entry: np.ndarray  # int64, per mark
    judge: np.ndarray  # int64, per mark
    value: np.ndarray  # float64, per mark: the total (score), 1/0 (yes/no), the rank (ranking)
    scale: tuple[float, float] = (0.0, 1.0)  # the totals' scale (score rounds)

    @property
    def n_entries(self) -> int:
        return len(self.codes)

    @property
    def n_judges(self) -> int:
        return len(self.judges)


@dataclass(frozen=True)
class Figures:
    """Per entry (indexed like ``MarkArrays.codes``); NaN where an entry has no mark."""

    figure: np.ndarray
    count: np.ndarray  # marks counted (before trimming)
    raw: np.ndarray | None = None  # score rounds
    normalised: np.ndarray | None = None  # score rounds with normalisation
    yes: np.ndarray | None = None  # yes/no rounds: the yes count
    merit: np.ndarray | None = None  # per mark, higher is better: what the tie rules read
    pairwise: np.ndarray | None = None  # Schulze: d[a, b]
    strongest: np.ndarray | None = None  # Schulze: p[a, b]


def mark_arrays(sheet: Sheet) -> MarkArrays:
    """The sheet's marks as arrays; a mark of an unknown entry or of the wrong shape is refused."""
    codes = tuple(sorted(set(sheet.entries)))
    index = {code: i for i, code in enumerate(codes)}
    judges = sheet.judges
    jindex = {j: i for i, j in enumerate(judges)}
    marks = sheet.marks
    unknown = [m.entry for m in marks if m.entry not in index]
    if unknown:
        raise ValueError(f"marks for entries not in the round: {', '.join(sorted(set(unknown))[:5])}")
    entry = np.fromiter((index[m.entry] for m in marks), dtype=np.int64, count=len(marks))
    judge = np.fromiter((jindex[m.judge] for m in marks), dtype=np.int64, count=len(marks))
    # The canonical order (entry code, then judge): the same sums whatever the marks' order.
    order = np.lexsort((judge, entry))
    entry, judge = entry[order], judge[order]
    if ((entry[1:] == entry[:-1]) & (judge[1:] == judge[:-1])).any():
        raise ValueError("a judge has two marks for the same entry")
    if sheet.kind == "score":
        value, scale = _totals(sheet, marks)
    elif sheet.kind == "yes_no":
        value, scale = np.array([_verdict(m.verdict) for m in marks], dtype=np.float64), (0.0, 1.0)
    elif sheet.kind == "ranking":
        value, scale = np.array([_rank(m.rank) for m in marks], dtype=np.float64), (0.0, 1.0)
    else:
        raise ValueError(f"unknown round kind {sheet.kind!r}")
    value = value[order] if len(marks) else value
    return MarkArrays(sheet.kind, codes, judges, entry, judge, value, scale)


def _totals(sheet: Sheet, marks) -> tuple[np.ndarray, tuple[float, float]]:
    n = len(sheet.criteria)
    if n == 0:
        raise ValueError("a score round needs criteria")
    if any(len(m.values) != n for m in marks):
        raise ValueError(f"every mark of a score round needs {n} values")
    weights = np.array([c.weight for c in sheet.criteria], dtype=np.float64)
    if (weights <= 0).any():
        raise ValueError("criterion weights must be positive")
    values = np.array([m.values for m in marks], dtype=np.float64).reshape(len(marks), n)
    wsum = weights.sum()
    lo = float(sum(c.weight * c.scale_min for c in sheet.criteria) / wsum)
    hi = float(sum(c.weight * c.scale_max for c in sheet.criteria) / wsum)
    # Criterion by criterion, in order (not a BLAS product): the same rounding on every machine,
    # so that an outsider's recomputation gives the very same figures.
    total = np.zeros(len(marks))
    for i, weight in enumerate(weights):
        total += values[:, i] * weight
    return total / wsum, (lo, hi)


def _verdict(verdict: bool | None) -> float:
    if verdict is None:
        raise ValueError("a mark of a yes/no round needs a verdict")
    return 1.0 if verdict else 0.0


def _rank(rank: int | None) -> float:
    if rank is None or rank < 1:
        raise ValueError("a mark of a ranking round needs a rank of 1 or more")
    return float(rank)


def resample(arrays: MarkArrays, multiplicity: np.ndarray) -> MarkArrays:
    """The marks of judge ``j`` repeated ``multiplicity[j]`` times, each copy a judge of its own
    (a bootstrap resample of the judges; 0 leaves a judge out)."""
    multiplicity = np.asarray(multiplicity, dtype=np.int64)
    copies = multiplicity[arrays.judge]
    rows = np.repeat(np.arange(len(arrays.judge)), copies)
    # Copy k of judge j becomes judge offset[j] + k.
    offset = np.concatenate(([0], np.cumsum(multiplicity)[:-1]))
    first = np.repeat(np.cumsum(copies) - copies, copies)
    k = np.arange(len(rows)) - first
    judge = offset[arrays.judge[rows]] + k
    names = tuple(f"{arrays.judges[j]}{c}" for j in range(arrays.n_judges) for c in range(multiplicity[j]))
    return MarkArrays(
        arrays.kind, arrays.codes, names, arrays.entry[rows], judge, arrays.value[rows], arrays.scale
    )


def figures(arrays: MarkArrays, settings: TallySettings) -> Figures:
    """Every entry's figure under the settings (the rule stated in the module's docstring)."""
    count = np.bincount(arrays.entry, minlength=arrays.n_entries)
    if arrays.kind == "score":
        return _score_figures(arrays, settings, count)
    if arrays.kind == "yes_no":
        yes = np.bincount(arrays.entry, weights=arrays.value, minlength=arrays.n_entries)
        return Figures(_divide(yes, count), count, yes=yes.astype(np.int64), merit=arrays.value)
    points = _borda_points(arrays)
    if settings.ranking_method is RankingMethod.schulze:
        from contest.results.schulze import schulze

        d, p, wins = schulze(arrays)
        return Figures(np.where(count > 0, wins, np.nan), count, merit=points, pairwise=d, strongest=p)
    borda = np.bincount(arrays.entry, weights=points, minlength=arrays.n_entries)
    return Figures(np.where(count > 0, borda, np.nan), count, merit=points)


def _borda_points(arrays: MarkArrays) -> np.ndarray:
    listed = np.bincount(arrays.judge, minlength=arrays.n_judges)
    return listed[arrays.judge] - arrays.value


def _score_figures(arrays: MarkArrays, settings: TallySettings, count: np.ndarray) -> Figures:
    raw = _mean(arrays, arrays.value, count, settings.trimmed)
    if not settings.normalise:
        return Figures(raw, count, raw=raw, merit=arrays.value)
    normal = normalised_totals(arrays)
    mean = _mean(arrays, normal, count, settings.trimmed)
    return Figures(mean, count, raw=raw, normalised=mean, merit=normal)


def normalised_totals(arrays: MarkArrays) -> np.ndarray:
    """Each mark's total z-scored within its judge and rescaled to the round's mean and spread."""
    totals, judge = arrays.value, arrays.judge
    if len(totals) == 0:
        return totals
    n = np.bincount(judge, minlength=arrays.n_judges)
    safe_n = np.maximum(n, 1)
    mean_j = np.bincount(judge, weights=totals, minlength=arrays.n_judges) / safe_n
    sq_j = np.bincount(judge, weights=totals * totals, minlength=arrays.n_judges) / safe_n
    sd_j = np.sqrt(np.maximum(sq_j - mean_j * mean_j, 0.0))
    keeps_raw = (n < 2) | (sd_j < 1e-9 * np.maximum(1.0, np.abs(mean_j)))
    z = (totals - mean_j[judge]) / np.where(keeps_raw, 1.0, sd_j)[judge]
    rescaled = np.clip(z * totals.std() + totals.mean(), *arrays.scale)
    return np.where(keeps_raw[judge], totals, rescaled)


def _mean(arrays: MarkArrays, values: np.ndarray, count: np.ndarray, trimmed: bool) -> np.ndarray:
    total = np.bincount(arrays.entry, weights=values, minlength=arrays.n_entries)
    n = count.astype(np.float64)
    if trimmed and (count >= TRIM_FROM).any():
        high = np.full(arrays.n_entries, -np.inf)
        low = np.full(arrays.n_entries, np.inf)
        np.maximum.at(high, arrays.entry, values)
        np.minimum.at(low, arrays.entry, values)
        trim = count >= TRIM_FROM
        total = np.where(trim, total - high - low, total)
        n = np.where(trim, n - 2, n)
    return _divide(total, n)


def _divide(total: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)
