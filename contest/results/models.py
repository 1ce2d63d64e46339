"""How results are reckoned: each round's tally settings, and the contest's place for public votes.

Recorded in the database with the round, so that the published ranking and the raw-score file
say how the figures were made and anyone can run the same tally again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from contest.db import Base, now_utc, str_enum
from contest.results.sheet import RankingMethod, TallySettings, TieBreak

DEFAULT_TIE_BREAK = "median,firsts,code"
MAX_AUDIENCE_SHARE = 0.5


class AudienceMode(enum.StrEnum):
    separate = "separate"  # an audience prize of its own (the default, as the national contest does)
    share = "share"  # the votes are a weighted share of the final round's figure


def parse_tie_break(text: str) -> tuple[TieBreak, ...]:
    """ "median,firsts,code" -> the rules; an unknown or repeated rule is refused (ValueError)."""
    rules = tuple(TieBreak(part.strip()) for part in text.split(",") if part.strip())
    if len(set(rules)) != len(rules):
        raise ValueError(f"a tie rule is repeated in {text!r}")
    return rules


def format_tie_break(rules: tuple[TieBreak, ...]) -> str:
    return ",".join(rule.value for rule in rules)


class RoundTallySettings(Base):
    """How a round is tallied (TallySettings); a round without a row uses the defaults."""

    __tablename__ = "round_tally_settings"
    __table_args__ = (CheckConstraint("tie_break != ''", name="tie_break_given"),)

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    normalise: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    trimmed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ranking_method: Mapped[RankingMethod] = mapped_column(
        str_enum(RankingMethod, "ranking_method"), nullable=False, default=RankingMethod.borda
    )
    tie_break: Mapped[str] = mapped_column(String(120), nullable=False, default=DEFAULT_TIE_BREAK)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc, onupdate=now_utc)

    def as_settings(self) -> TallySettings:
        return TallySettings(
            normalise=self.normalise,
            trimmed=self.trimmed,
            ranking_method=self.ranking_method,
            tie_break=parse_tie_break(self.tie_break),
        )


class ResultsSettings(Base):
    """A contest's choice for public votes in the result; a contest without a row keeps them separate."""

    __tablename__ = "results_settings"
    __table_args__ = (
        CheckConstraint(
            f"audience_share >= 0 AND audience_share <= {MAX_AUDIENCE_SHARE}", name="share_range"
        ),
        CheckConstraint("audience_mode = 'separate' OR audience_share > 0", name="share_given"),
    )

    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True)
    audience_mode: Mapped[AudienceMode] = mapped_column(
        str_enum(AudienceMode, "audience_mode"), nullable=False, default=AudienceMode.separate
    )
    audience_share: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc, onupdate=now_utc)
