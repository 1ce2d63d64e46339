"""How reliable was a round's jury: agreement, judges who stand apart, stability of the top places.

Entry point for the tally page (``templates/results/_reliability.html`` reads the variable
``reliability``)::

    reliability = round_reliability(sheet, tally, places=10, resamples=200, seed=None)

- ``reliability.agreement``: ``contest.results.agreement.Agreement`` (Kendall's W, ICC(1) or
  Fleiss' kappa by the round's kind, with its band);
- ``reliability.judges``: one ``contest.results.judges.JudgeStats`` per judge;
- ``reliability.stability``: ``contest.results.stability.Stability`` of the top ``places``.

Pure functions of the sheet and its tally: no database, no clock; the same sheet and seed give
the same result (the seed defaults to the round's id and is recorded in the result).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from contest.results import tally_core
from contest.results.agreement import (
    Agreement,
    icc_one_way,
    ranking_agreement,
    yes_no_agreement,
)
from contest.results.judges import ApartRules, JudgeStats, judge_stats
from contest.results.sheet import Sheet, TallySettings
from contest.results.stability import Stability, stability
from contest.results.tally import Tally

DEFAULT_PLACES = 10  # prize places looked at when the contest does not say
DEFAULT_RESAMPLES = 200


@dataclass(frozen=True)
class Reliability:
    kind: str
    agreement: Agreement
    judges: tuple[JudgeStats, ...]
    stability: Stability

    @property
    def rules(self) -> ApartRules:
        """The thresholds of "stands apart", for the page that explains them."""
        return ApartRules()

    @property
    def apart(self) -> tuple[str, ...]:
        """Pseudonyms of the judges who stand apart."""
        return tuple(j.judge for j in self.judges if j.apart)


def agreement(arrays: tally_core.MarkArrays, settings: TallySettings | None = None) -> Agreement:
    """The round's agreement on the measure its kind calls for; score rounds on the totals the
    tally uses (normalised when the round normalises: what an entry's figure is made of)."""
    judges = len(np.unique(arrays.judge))
    if arrays.kind == "ranking":
        return ranking_agreement(arrays.judge, arrays.entry, arrays.value)
    if arrays.kind == "yes_no":
        return yes_no_agreement(arrays.entry, arrays.value, judges)
    if settings is not None and settings.normalise:
        return replace(
            icc_one_way(arrays.entry, tally_core.normalised_totals(arrays), judges), normalised=True
        )
    return icc_one_way(arrays.entry, arrays.value, judges)


def positions(arrays: tally_core.MarkArrays) -> np.ndarray:
    """Ranking marks as relative positions (rank - 1) / (list length - 1): 0 first, 1 last."""
    listed = np.bincount(arrays.judge, minlength=arrays.n_judges)[arrays.judge]
    return np.divide(arrays.value - 1, listed - 1, out=np.full(len(listed), 0.5), where=listed > 1)


def round_reliability(
    sheet: Sheet,
    tally: Tally,
    *,
    places: int = DEFAULT_PLACES,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int | None = None,
    arrays: tally_core.MarkArrays | None = None,
) -> Reliability:
    """Agreement, judges and stability of the tally's first ``places`` places (``arrays``: the
    sheet's marks as arrays when the caller already has them)."""
    arrays = arrays if arrays is not None else tally_core.mark_arrays(sheet)
    values = positions(arrays) if arrays.kind == "ranking" else arrays.value
    judges = judge_stats(arrays.judges, arrays.judge, arrays.entry, values, kind=arrays.kind)
    top = tuple(row.entry for row in tally.rows[:places] if row.figure is not None)
    seed = sheet.round_id if seed is None else seed
    stable = stability(arrays, sheet.settings, top, resamples=resamples, seed=seed)
    return Reliability(arrays.kind, agreement(arrays, sheet.settings), judges, stable)
