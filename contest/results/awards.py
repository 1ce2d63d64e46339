"""Prize slots and awards: the organizer's side of who wins what.

The awards page is pre-filled with a proposal for every place: the final round's tally for
the jury's prizes of a category, the votes for the audience and monthly prizes. Accepting a
proposal needs no words; giving a place to another entry needs a reason (the database
refuses it otherwise, ``ck_awards_departure_has_reason``). Awards change only while the
results are a draft (contest.results.publication freezes them). Services flush; the request
commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.contests.models import Contest
from contest.entries.models import Entry, EntryStatus
from contest.results import proposals as proposing
from contest.results.prizes import Award, PrizeKind, PrizeSlot, Publication, PublicationState


class AwardRefused(ValueError):
    """A change the rules do not allow; the message is for the organizer."""


@dataclass(frozen=True)
class SlotSpec:
    kind: PrizeKind
    category_id: int | None
    name_vi: str
    name_en: str
    count: int
    position: int


@dataclass(frozen=True)
class Winner:
    """One place of one slot and its entry (the exports and the ZIP read these)."""

    slot: PrizeSlot
    place: int
    entry: Entry
    award: Award


# The 2025 rules: a 1st, 2nd and 3rd prize per category, its audience prize, a monthly prize.
RULES_2025 = (
    (PrizeKind.jury, "Giải Nhất", "First prize", 1),
    (PrizeKind.jury, "Giải Nhì", "Second prize", 1),
    (PrizeKind.jury, "Giải Ba", "Third prize", 1),
    (PrizeKind.audience, "Giải Bình chọn", "Audience prize", 1),
)


def default_slots(contest: Contest) -> list[PrizeSlot]:
    """The 2025 rules' slots for ``contest`` (the demo seeds them; organizers edit them)."""
    slots = [
        PrizeSlot(
            contest_id=contest.id,
            category_id=category.id,
            kind=kind,
            name_vi=vi,
            name_en=en,
            count=n,
            position=i,
        )
        for category in contest.categories
        for i, (kind, vi, en, n) in enumerate(RULES_2025)
    ]
    monthly = PrizeSlot(
        contest_id=contest.id,
        kind=PrizeKind.monthly,
        name_vi="Giải Bình chọn tháng",
        name_en="Monthly vote prize",
    )
    return [*slots, monthly]


def contest_slots(session: Session, contest_id: int) -> list[PrizeSlot]:
    """The contest's slots: per category in the contest's order, contest-wide ones last."""
    slots = session.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == contest_id))
    return sorted(slots, key=_slot_order)


def _slot_order(slot: PrizeSlot) -> tuple:
    category_position = slot.category.position if slot.category is not None else 10**6
    return (category_position, slot.category_id or 0, slot.position, slot.id)


def ensure_draft(session: Session, contest_id: int) -> None:
    """Awards and slots change only while the results are a draft."""
    pub = session.get(Publication, contest_id)
    if pub is not None and pub.state is not PublicationState.draft:
        raise AwardRefused("frozen")


def save_slot(
    session: Session, contest: Contest, spec: SlotSpec, *, actor_id: int, slot: PrizeSlot | None = None
) -> PrizeSlot:
    """Add a slot or change one; a slot's count cannot fall below the places already given."""
    ensure_draft(session, contest.id)
    _check_category(contest, spec)
    if (
        slot is not None
        and (spec.kind, spec.category_id) != (slot.kind, slot.category_id)
        and _given(session, slot)
    ):
        raise AwardRefused("slot_in_use")
    if slot is not None and spec.count < _highest_place(session, slot):
        raise AwardRefused("count_below_given")
    slot = slot or PrizeSlot(contest_id=contest.id)
    for field in ("kind", "category_id", "name_vi", "name_en", "count", "position"):
        setattr(slot, field, getattr(spec, field))
    session.add(slot)
    session.flush()
    _audit(
        session, actor_id, "prize_slot.saved", "prize_slot", slot.id, contest.id, details=_slot_details(slot)
    )
    return slot


def delete_slot(session: Session, contest: Contest, slot: PrizeSlot, *, actor_id: int) -> None:
    ensure_draft(session, contest.id)
    if _given(session, slot):
        raise AwardRefused("slot_in_use")
    _audit(
        session,
        actor_id,
        "prize_slot.deleted",
        "prize_slot",
        slot.id,
        contest.id,
        details=_slot_details(slot),
    )
    session.delete(slot)
    session.flush()


def _check_category(contest: Contest, spec: SlotSpec) -> None:
    if spec.category_id is not None and spec.category_id not in {c.id for c in contest.categories}:
        raise AwardRefused("unknown_category")
    if spec.kind is PrizeKind.jury and spec.category_id is None:
        raise AwardRefused("jury_needs_category")


def _given(session: Session, slot: PrizeSlot) -> bool:
    return session.scalar(select(func.count()).where(Award.slot_id == slot.id)) > 0


def _highest_place(session: Session, slot: PrizeSlot) -> int:
    return session.scalar(select(func.coalesce(func.max(Award.place), 0)).where(Award.slot_id == slot.id))


def _slot_details(slot: PrizeSlot) -> dict:
    return {
        "kind": slot.kind.value,
        "category_id": slot.category_id,
        "name_vi": slot.name_vi,
        "name_en": slot.name_en,
        "count": slot.count,
    }


# --- awards ---------------------------------------------------------------------------------
def contest_awards(session: Session, contest_id: int) -> dict[tuple[int, int], Award]:
    """(slot id, place) -> the award given there."""
    query = (
        select(Award).join(PrizeSlot, PrizeSlot.id == Award.slot_id).where(PrizeSlot.contest_id == contest_id)
    )
    return {(a.slot_id, a.place): a for a in session.scalars(query)}


def accept_proposals(session: Session, contest: Contest, *, actor_id: int) -> int:
    """Give every empty place to its proposed entry; returns how many places were filled."""
    ensure_draft(session, contest.id)
    given = contest_awards(session, contest.id)
    taken = {(a.entry_id, a.category_id) for a in given.values() if a.kind is PrizeKind.jury}
    proposed, filled = proposing.contest_proposals(session, contest), 0
    for slot in contest_slots(session, contest.id):
        for place, proposal in proposed.get(slot.id, {}).items():
            second = slot.kind is PrizeKind.jury and (proposal.entry_id, slot.category_id) in taken
            if (slot.id, place) in given or second:
                continue
            session.add(_award(slot, place, proposal.entry_id, proposal, actor_id, reason=None))
            taken.add((proposal.entry_id, slot.category_id))
            filled += 1
    session.flush()
    _audit(
        session, actor_id, "awards.prefilled", "contest", contest.id, contest.id, details={"places": filled}
    )
    return filled


def assign(
    session: Session, contest: Contest, slot: PrizeSlot, place: int, code: str, reason: str, *, actor_id: int
) -> Award:
    """Give ``place`` of ``slot`` to the entry ``code``; a reason is needed unless it is the proposal."""
    ensure_draft(session, contest.id)
    if not 1 <= place <= slot.count:
        raise AwardRefused("no_such_place")
    entry = _eligible_entry(session, contest, slot, code)
    proposal = proposing.slot_proposals(session, contest, slot).get(place)
    reason = reason.strip() or None
    if (proposal is None or proposal.entry_id != entry.id) and not reason:
        raise AwardRefused("reason_needed")
    award = contest_awards(session, contest.id).get((slot.id, place))
    previous = award.entry_id if award is not None else None
    _refuse_second_jury_prize(session, slot, entry, award)
    if award is None:
        award = _award(slot, place, entry.id, proposal, actor_id, reason)
        session.add(award)
    else:
        award.entry_id, award.assigned_by_id, award.reason = entry.id, actor_id, reason
    session.flush()
    details = {"slot": slot.id, "place": place, "entry": entry.code, "previous_entry_id": previous}
    details["proposed_entry_id"] = proposal.entry_id if proposal else None
    _audit(
        session,
        actor_id,
        "award.assigned",
        "award",
        award.id,
        contest.id,
        reason=reason or "",
        details=details,
    )
    return award


def _award(slot: PrizeSlot, place: int, entry_id: int, proposal, actor_id: int, reason: str | None) -> Award:
    return Award(
        slot_id=slot.id,
        kind=slot.kind,
        category_id=slot.category_id,
        place=place,
        entry_id=entry_id,
        proposed_entry_id=proposal.entry_id if proposal else None,
        round_id=proposal.round_id if proposal else None,
        assigned_by_id=actor_id,
        reason=reason,
    )


def _eligible_entry(session: Session, contest: Contest, slot: PrizeSlot, code: str) -> Entry:
    entry = session.scalar(
        select(Entry).where(Entry.contest_id == contest.id, Entry.code == code.strip().upper())
    )
    if entry is None or entry.status is not EntryStatus.approved:
        raise AwardRefused("unknown_entry")
    if slot.category_id is not None and entry.category_id != slot.category_id:
        raise AwardRefused("wrong_category")
    return entry


def _refuse_second_jury_prize(session: Session, slot: PrizeSlot, entry: Entry, award: Award | None) -> None:
    """The unique index is the rule; this says it in words before the database does."""
    if slot.kind is not PrizeKind.jury:
        return
    other = select(Award.id).where(
        Award.kind == PrizeKind.jury, Award.category_id == slot.category_id, Award.entry_id == entry.id
    )
    if award is not None:
        other = other.where(Award.id != award.id)
    if session.scalar(other) is not None:
        raise AwardRefused("already_has_jury_prize")


def winners(session: Session, contest_id: int) -> list[Winner]:
    """Every award of the contest, in slot and place order (for the exports and the ZIP)."""
    found = contest_awards(session, contest_id)
    order = {slot.id: i for i, slot in enumerate(contest_slots(session, contest_id))}
    keys = sorted(found, key=lambda key: (order[key[0]], key[1]))
    return [Winner(found[k].slot, k[1], found[k].entry, found[k]) for k in keys]


def _audit(
    session, actor_id, action, subject_type, subject_id, contest_id, reason: str = "", details=None
) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        contest_id=contest_id,
        reason=reason,
        details=details,
    )
