"""The final round's figures with a share of the public votes (the contest's "share" mode).

With share ``s`` (0 < s <= 0.5), an entry's final figure is ``(1 - s) * jury + s * votes_on_scale``,
where the votes are put on the jury's scale ``[low, high]`` linearly against the most voted entry
of the same category in the round: ``votes_on_scale = low + votes / max_votes * (high - low)``
(``low`` when no entry of the category has a vote). The scale is the round's totals' scale for a
score round, 0 to 1 (the yes share) for a yes/no round; a ranking round's points have no fixed
scale, so its figures stay the jury's. Which round is final is the caller's choice (the tally page:
a round no other round draws its entries from, ``is_final``; the awards: the category's last
closed round, ``contest.results.proposals``). Votes are the valid votes cast in the voting window
(``contest.voting.services.official_tally``). Equal final figures keep the jury's order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.contests.models import Contest
from contest.entries.models import Entry
from contest.jury.models import Round, RoundEntry
from contest.results.models import AudienceMode
from contest.results.settings import results_settings
from contest.results.sheet import Sheet
from contest.results.tally import DECIMALS, Tally
from contest.voting.services import official_tally

SHARE_KINDS = ("score", "yes_no")


@dataclass(frozen=True)
class FinalRow:
    entry: str
    place: int
    jury: float | None  # the tally's figure
    votes: int
    votes_on_scale: float
    figure: float | None  # (1 - s) * jury + s * votes_on_scale; None without a jury figure


@dataclass(frozen=True)
class FinalFigures:
    share: float
    scale: tuple[float, float]
    rows: tuple[FinalRow, ...]  # in final place order

    def by_code(self) -> dict[str, FinalRow]:
        return {row.entry: row for row in self.rows}


def figure_scale(sheet: Sheet) -> tuple[float, float]:
    """The scale the round's figures are on (score: the weighted totals'; yes/no: 0 to 1)."""
    if sheet.kind != "score":
        return (0.0, 1.0)
    weight = sum(c.weight for c in sheet.criteria)
    low = sum(c.weight * c.scale_min for c in sheet.criteria) / weight
    return low, sum(c.weight * c.scale_max for c in sheet.criteria) / weight


def combine(
    result: Tally,
    votes: dict[str, int],
    category_of: dict[str, int],
    share: float,
    scale: tuple[float, float],
) -> FinalFigures:
    """The final figures (pure: the rule stated in the module's docstring)."""
    low, high = scale
    most: dict[int, int] = {}
    for code, category in category_of.items():
        most[category] = max(most.get(category, 0), votes.get(code, 0))
    rows = []
    for row in result.rows:
        top = most.get(category_of.get(row.entry, -1), 0)
        on_scale = low + (votes.get(row.entry, 0) / top) * (high - low) if top else low
        figure = None if row.figure is None else (1 - share) * row.figure + share * on_scale
        rows.append((row.entry, row.figure, votes.get(row.entry, 0), on_scale, figure))
    # A stable sort: equal final figures keep the jury's order (its tie rules).
    rows.sort(key=lambda r: (r[4] is None, -round(r[4] or 0.0, DECIMALS)))
    return FinalFigures(share, scale, tuple(FinalRow(r[0], n, *r[1:]) for n, r in enumerate(rows, start=1)))


def is_final(session: Session, round_: Round) -> bool:
    return session.scalar(select(Round.id).where(Round.source_round_id == round_.id).limit(1)) is None


def final_figures(session: Session, round_: Round, result: Tally) -> FinalFigures | None:
    """The final figures of a final round (the caller's choice) when the contest puts a share of
    the votes in the result, else None."""
    chosen = results_settings(session, round_.contest_id)
    if chosen.audience_mode is not AudienceMode.share or result.sheet.kind not in SHARE_KINDS:
        return None
    contest = session.get(Contest, round_.contest_id)
    category_of = dict(
        session.execute(
            select(Entry.code, Entry.category_id)
            .join(RoundEntry, RoundEntry.entry_id == Entry.id)
            .where(RoundEntry.round_id == round_.id, RoundEntry.disqualified_at.is_(None))
        ).all()
    )
    votes = {s.code: s.votes for s in official_tally(session, contest) if s.code in category_of}
    return combine(result, votes, category_of, chosen.audience_share, figure_scale(result.sheet))
