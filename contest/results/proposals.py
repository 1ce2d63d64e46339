"""What the awards page proposes for every place of every prize slot.

- Jury prizes of a category: the tally of the category's final round (the last closed round
  that judged it), in place order; the category's slots take the places in their order (1st
  x1 takes place 1, 2nd x2 places 2-3, ...).
- Audience prizes of a category, when the contest keeps the public vote a separate prize
  (audience mode "separate", the default): the most voted entries of the category, in order.
  In mode "share" the votes are part of the final round's figure: no audience proposal.
- Monthly prizes: each finished month's winners, month after month.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.contests.models import Contest
from contest.entries.models import Entry, EntryStatus
from contest.jury.models import Round, RoundStatus, round_categories
from contest.results import audience
from contest.results.prizes import PrizeKind, PrizeSlot


@dataclass(frozen=True)
class Proposal:
    entry_id: int
    round_id: int | None  # the round it comes from (jury prizes)


def slot_proposals(session: Session, contest: Contest, slot: PrizeSlot) -> dict[int, Proposal]:
    """Place -> the proposed entry, for one slot."""
    return contest_proposals(session, contest).get(slot.id, {})


def contest_proposals(session: Session, contest: Contest) -> dict[int, dict[int, Proposal]]:
    """Slot id -> place -> the proposed entry, for every slot of the contest."""
    slots = session.scalars(
        select(PrizeSlot).where(PrizeSlot.contest_id == contest.id).order_by(PrizeSlot.position, PrizeSlot.id)
    ).all()
    groups: dict[tuple[PrizeKind, int | None], list[PrizeSlot]] = defaultdict(list)
    for slot in slots:
        groups[(slot.kind, slot.category_id)].append(slot)
    found: dict[int, dict[int, Proposal]] = {}
    for (kind, category_id), group in groups.items():
        ranked = _ranked(session, contest, kind, category_id, sum(s.count for s in group))
        found.update(_deal(group, ranked))
    return found


def _deal(slots: list[PrizeSlot], ranked: list[Proposal]) -> dict[int, dict[int, Proposal]]:
    """The slots take the ranked entries in order, each as many as its count."""
    dealt, queue = {}, iter(ranked)
    for slot in slots:
        dealt[slot.id] = {}
        for place in range(1, slot.count + 1):
            proposal = next(queue, None)
            if proposal is None:
                return dealt
            dealt[slot.id][place] = proposal
    return dealt


def _ranked(
    session: Session, contest: Contest, kind: PrizeKind, category_id: int | None, n: int
) -> list[Proposal]:
    if kind is PrizeKind.jury and category_id is not None:
        return _jury_order(session, contest, category_id)
    if (
        kind is PrizeKind.audience
        and category_id is not None
        and audience_mode(session, contest) == "separate"
    ):
        return _audience_order(session, contest, category_id, n)
    if kind is PrizeKind.monthly:
        return _monthly_order(session, contest)
    return []


def final_round(session: Session, contest: Contest, category_id: int) -> Round | None:
    """The last closed round that judged the category."""
    query = (
        select(Round)
        .join(round_categories, round_categories.c.round_id == Round.id)
        .where(
            Round.contest_id == contest.id,
            Round.status == RoundStatus.closed,
            round_categories.c.category_id == category_id,
        )
        .order_by(Round.closes_at.desc(), Round.id.desc())
    )
    return session.scalars(query).first()


def _jury_order(session: Session, contest: Contest, category_id: int) -> list[Proposal]:
    """The final round's order: its tally, or in mode "share" its final figures (contest.results.final)."""
    from contest.results.final import final_figures
    from contest.results.readout import round_sheet
    from contest.results.tally import tally

    round_ = final_round(session, contest, category_id)
    if round_ is None:
        return []
    result = tally(round_sheet(session, round_.id)[0])
    final = final_figures(session, round_, result)
    rows = [row for row in (final or result).rows if row.figure is not None]
    ids = _approved_ids(session, contest, [row.entry for row in rows], category_id)
    return [Proposal(ids[row.entry], round_.id) for row in rows if row.entry in ids]


def _approved_ids(session: Session, contest: Contest, codes: list[str], category_id: int) -> dict[str, int]:
    if not codes:
        return {}
    query = select(Entry.code, Entry.id).where(
        Entry.contest_id == contest.id,
        Entry.category_id == category_id,
        Entry.status == EntryStatus.approved,
        Entry.code.in_(codes),
    )
    return dict(session.execute(query).all())


def audience_mode(session: Session, contest: Contest) -> str:
    """ "separate" (the default) or "share": the contest's choice (contest.results.settings)."""
    from contest.results.settings import results_settings

    return results_settings(session, contest.id).audience_mode.value


def _audience_order(session: Session, contest: Contest, category_id: int, n: int) -> list[Proposal]:
    for award in audience.category_awards(session, contest, places=n):
        if award.category.id == category_id:
            return [Proposal(placed.entry.id, None) for placed in award.placed]
    return []


def _monthly_order(session: Session, contest: Contest) -> list[Proposal]:
    months = audience.monthly_awards(session, contest)
    return [Proposal(placed.entry.id, None) for month in months if month.final for placed in month.placed]
