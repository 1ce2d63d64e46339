"""A round's raw judgements as plain values: what the tally reads, what the raw-score file holds.

One shape for both, so that the published ranking and an outsider's recomputation run the very
same function (``contest.results.tally.tally``) on the very same input. Judges appear under
pseudonyms ("A", "B", ...), entries under their public codes: nothing here names a person.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class RankingMethod(enum.StrEnum):
    borda = "borda"
    schulze = "schulze"


class TieBreak(enum.StrEnum):
    """Rules that order entries with the same figure, applied in the order the round records."""

    median = "median"  # the higher median of the judges' figures
    firsts = "firsts"  # more first places (ranking) / more top marks (score) / more yes (yes/no)
    lowest_spread = "lowest_spread"  # the judges agree more (smaller standard deviation)
    code = "code"  # the entry's code: always last, so that the order is total and deterministic


@dataclass(frozen=True)
class TallySettings:
    """How a round is tallied; recorded with the round so the result can be recomputed."""

    normalise: bool = False  # z-score per judge within the round, rescaled to the scale
    trimmed: bool = False  # drop the highest and the lowest figure when an entry has >= 5 judges
    ranking_method: RankingMethod = RankingMethod.borda
    tie_break: tuple[TieBreak, ...] = (TieBreak.median, TieBreak.firsts, TieBreak.code)


@dataclass(frozen=True)
class SheetCriterion:
    key: str  # stable within the round (the criterion's id as text)
    name: str
    weight: float
    scale_min: float
    scale_max: float


@dataclass(frozen=True)
class Mark:
    """One judge's judgement of one entry (only finished judgements are marks)."""

    entry: str  # the entry's code
    judge: str  # the judge's pseudonym within the round: "A", "B", ...
    values: tuple[float, ...] = ()  # score rounds: one value per criterion, in the sheet's order
    verdict: bool | None = None  # yes/no rounds
    rank: int | None = None  # ranking rounds: 1 is best
    at: datetime | None = None  # when the judgement was last saved


@dataclass(frozen=True)
class Sheet:
    """Everything a round's tally depends on, and nothing else."""

    round_id: int
    kind: str  # "score", "yes_no" or "ranking" (contest.jury.models.RoundKind values)
    entries: tuple[str, ...]  # every entry in the round's results (disqualified ones left out)
    marks: tuple[Mark, ...]
    criteria: tuple[SheetCriterion, ...] = ()
    settings: TallySettings = field(default_factory=TallySettings)

    @property
    def judges(self) -> tuple[str, ...]:
        return tuple(sorted({m.judge for m in self.marks}, key=lambda j: (len(j), j)))
