"""How much a round's judges agree: one figure per round, on the measure that suits its kind.

- ranking rounds: Kendall's W with the correction for tied ranks (Kendall & Babington Smith 1939;
  Siegel & Castellan 1988, ch. 9), on the entries every judge ranked;
- score rounds: the one-way random-effects intra-class correlation ICC(1) (Shrout & Fleiss 1979,
  case 1; McGraw & Wong 1996, ICC(1) and ICC(k)), because each entry is scored by its own subset
  of judges; unequal subsets use k0 (Snedecor & Cochran's average group size);
- yes/no rounds: Fleiss' kappa (Fleiss 1971), with the number of judges allowed to vary by entry.

Each figure comes with a plain-language band from its own literature (``BANDS``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class Measure(enum.StrEnum):
    kendall_w = "kendall_w"
    icc = "icc"
    fleiss_kappa = "fleiss_kappa"


class Band(enum.StrEnum):
    poor = "poor"
    moderate = "moderate"
    good = "good"
    excellent = "excellent"


class Undefined(enum.StrEnum):
    """Why a round's agreement has no figure."""

    few_judges = "few_judges"  # fewer than two judges marked anything
    no_common_entries = "no_common_entries"  # ranking: fewer than two entries ranked by every judge
    few_repeats = "few_repeats"  # no entry has two marks: nothing to compare
    no_spread = "no_spread"  # every mark is the same: agreement is not measurable


# Lower bounds of "moderate", "good" and "excellent" per measure. ICC: Koo & Li (2016), J Chiropr
# Med 15(2). Kendall's W: Schmidt (1997), Decision Sciences 28(3) (0.5 moderate, 0.7 strong, 0.9
# unusually strong). Fleiss' kappa: Landis & Koch (1977), Biometrics 33 (0.41 moderate, 0.61
# substantial, 0.81 almost perfect).
BANDS: dict[Measure, tuple[float, float, float]] = {
    Measure.icc: (0.5, 0.75, 0.9),
    Measure.kendall_w: (0.5, 0.7, 0.9),
    Measure.fleiss_kappa: (0.41, 0.61, 0.81),
}


@dataclass(frozen=True)
class Agreement:
    measure: Measure
    value: float | None  # None when undefined (see ``undefined``)
    entries: int  # entries the figure is computed on
    judges: int
    band: Band | None = None
    average: float | None = None  # ICC(k0): the reliability of an entry's mean of k0 judges
    k0: float | None = None  # ICC: the average number of judges per entry (unbalanced groups)
    undefined: Undefined | None = None
    normalised: bool = False  # ICC: on the judges' normalised totals (the round normalises)


def band(measure: Measure, value: float) -> Band:
    moderate, good, excellent = BANDS[measure]
    if value >= excellent:
        return Band.excellent
    if value >= good:
        return Band.good
    return Band.moderate if value >= moderate else Band.poor


def _agreement(measure: Measure, value: float, entries: int, judges: int, **extra) -> Agreement:
    return Agreement(measure, value, entries, judges, band(measure, value), **extra)


def average_ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks 1..n of ``values``, ties sharing the mean of their ranks (scipy's rankdata 'average')."""
    x = np.asarray(values, dtype=float)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.r_[0, np.flatnonzero(np.diff(xs)) + 1]
    ends = np.r_[starts[1:], len(xs)]
    ranks = np.empty(len(x))
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def kendall_w(ranks: np.ndarray) -> float | None:
    """Kendall's W of a judges x entries matrix of ranks (each row re-ranked, ties averaged).

    W = 12 S / (m² (n³ - n) - m Σ T), S the sum of squared deviations of the entries' rank sums
    from their mean and T = Σ (t³ - t) over each judge's groups of t tied ranks. None when every
    judge ties every entry (the denominator is zero)."""
    m, n = ranks.shape
    rows = np.array([average_ranks(row) for row in ranks])
    sums = rows.sum(axis=0)
    s = float(((sums - sums.mean()) ** 2).sum())
    ties = sum(
        float((counts**3 - counts).sum()) for counts in (np.unique(r, return_counts=True)[1] for r in rows)
    )
    denominator = m * m * (n**3 - n) - m * ties
    return 12 * s / denominator if denominator > 0 else None


def ranking_agreement(judge: np.ndarray, entry: np.ndarray, rank: np.ndarray) -> Agreement:
    """Kendall's W on the entries every judge ranked, re-ranked within them (parallel mark arrays)."""
    judges = np.unique(judge)
    if len(judges) < 2:
        return Agreement(Measure.kendall_w, None, 0, len(judges), undefined=Undefined.few_judges)
    common = np.flatnonzero(np.bincount(entry) == len(judges))
    if len(common) < 2:
        return Agreement(
            Measure.kendall_w, None, len(common), len(judges), undefined=Undefined.no_common_entries
        )
    matrix = np.zeros((len(judges), entry.max() + 1))
    matrix[np.searchsorted(judges, judge), entry] = rank
    value = kendall_w(matrix[:, common])
    if value is None:
        return Agreement(Measure.kendall_w, None, len(common), len(judges), undefined=Undefined.no_spread)
    return _agreement(Measure.kendall_w, value, len(common), len(judges))


def icc_one_way(entry: np.ndarray, value: np.ndarray, judges: int) -> Agreement:
    """ICC(1) and ICC(k0) from the one-way ANOVA of marks grouped by entry (parallel arrays).

    MSB = Σ kᵢ (ȳᵢ - ȳ)² / (a - 1), MSW = Σ (y - ȳᵢ)² / (N - a), k0 = (N - Σ kᵢ² / N) / (a - 1);
    ICC(1) = (MSB - MSW) / (MSB + (k0 - 1) MSW), ICC(k0) = (MSB - MSW) / MSB.
    Entries with a single mark count in MSB only, as in the ANOVA."""
    counts = np.bincount(entry)
    keep = counts > 0
    k, sums = counts[keep], np.bincount(entry, weights=value)[keep]
    a, total = len(k), int(k.sum())
    if judges < 2:
        return Agreement(Measure.icc, None, a, judges, undefined=Undefined.few_judges)
    if a < 2 or total == a:
        return Agreement(Measure.icc, None, a, judges, undefined=Undefined.few_repeats)
    means = np.zeros(len(counts))
    means[keep] = sums / k
    msb = float((k * (sums / k - value.mean()) ** 2).sum()) / (a - 1)
    msw = float(((value - means[entry]) ** 2).sum()) / (total - a)
    k0 = (total - float((k**2).sum()) / total) / (a - 1)
    if msb <= 0:
        return Agreement(Measure.icc, None, a, judges, undefined=Undefined.no_spread)
    icc = (msb - msw) / (msb + (k0 - 1) * msw)
    return _agreement(Measure.icc, icc, a, judges, average=(msb - msw) / msb, k0=k0)


def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa of an entries x categories matrix of how many judges chose each category.

    Pᵢ = (Σⱼ nᵢⱼ² - nᵢ) / (nᵢ (nᵢ - 1)) per entry (entries with fewer than two judges dropped),
    P̄ their mean, pⱼ each category's share of all judgements, Pₑ = Σ pⱼ²; κ = (P̄ - Pₑ) / (1 - Pₑ).
    With the same number of judges per entry this is Fleiss (1971) exactly. None when Pₑ = 1."""
    counts = np.asarray(counts, dtype=float)
    n = counts.sum(axis=1)
    counts, n = counts[n >= 2], n[n >= 2]
    if len(n) == 0:
        return None
    p_bar = float((((counts**2).sum(axis=1) - n) / (n * (n - 1))).mean())
    shares = counts.sum(axis=0) / n.sum()
    p_e = float((shares**2).sum())
    return (p_bar - p_e) / (1 - p_e) if p_e < 1 else None


def yes_no_agreement(entry: np.ndarray, yes: np.ndarray, judges: int) -> Agreement:
    """Fleiss' kappa over the entries that two judges or more decided (yes: 1.0 / 0.0 per mark)."""
    n = np.bincount(entry)
    y = np.bincount(entry, weights=yes)
    repeated = n >= 2
    if judges < 2:
        return Agreement(Measure.fleiss_kappa, None, 0, judges, undefined=Undefined.few_judges)
    if not repeated.any():
        return Agreement(Measure.fleiss_kappa, None, 0, judges, undefined=Undefined.few_repeats)
    value = fleiss_kappa(np.column_stack([y[repeated], n[repeated] - y[repeated]]))
    entries = int(repeated.sum())
    if value is None:
        return Agreement(Measure.fleiss_kappa, None, entries, judges, undefined=Undefined.no_spread)
    return _agreement(Measure.fleiss_kappa, value, entries, judges)
