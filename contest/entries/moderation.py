"""Moderation: organizers approve the entries that reach the public gallery, or reject them.

One service function per decision (approve, reject, reopen), each going through
``Entry.transition`` (the one place where a status changes) and writing an audit event in
the same transaction; the bulk actions call them entry by entry. Functions flush; the view
commits. The entrant is told of each decision by e-mail (hooked on these functions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from contest.audit.services import record
from contest.auth.models import User
from contest.entries.mails import tell_decision
from contest.entries.models import Entry, EntryFlag, EntryStatus, FlagKind, InvalidTransition

PER_PAGE = 30
MAX_BULK = 100
# Statuses an organizer lists: the queue first, then the decided ones.
LISTED_STATUSES = (EntryStatus.pending_review, EntryStatus.approved, EntryStatus.rejected)
ANY_FLAG = "any"


class DecisionRefused(ValueError):
    """The entry's status does not allow this decision (e.g. it was withdrawn meanwhile)."""


@dataclass(frozen=True)
class Reason:
    """Why an entry is rejected: the organizer's words, or a template's two languages."""

    vi: str
    en: str = ""

    @classmethod
    def written(cls, text: str) -> Reason:
        return cls(text.strip(), "")


@dataclass(frozen=True)
class QueueFilter:
    """What the organizer looks for: a status, and optionally text, author, place, category, flag."""

    status: EntryStatus = EntryStatus.pending_review
    search: str = ""  # code or title
    author: str = ""  # name or e-mail address
    place_id: int | None = None
    category_id: int | None = None
    flag: str = ""  # "", ANY_FLAG or a FlagKind value


@dataclass(frozen=True)
class QueuePage:
    entries: list[Entry]
    flags: dict[int, list[EntryFlag]] = field(default_factory=dict)  # entry id -> its flags
    page: int = 1
    has_next: bool = False


def queue(
    session: Session, contest_id: int, wanted: QueueFilter, page: int = 1, per_page: int = PER_PAGE
) -> QueuePage:
    """The entries ``wanted`` picks: the waiting ones oldest first (first come, first reviewed), others newest first."""
    query = _filtered(select(Entry).where(Entry.contest_id == contest_id), wanted)
    if wanted.status is EntryStatus.pending_review:
        query = query.order_by(Entry.submitted_at, Entry.id)
    else:
        query = query.order_by(Entry.updated_at.desc(), Entry.id.desc())
    options = (
        selectinload(Entry.assets),
        selectinload(Entry.author),
        selectinload(Entry.category),
        selectinload(Entry.place),
    )
    found = list(session.scalars(query.options(*options).offset((page - 1) * per_page).limit(per_page + 1)))
    has_next, found = len(found) > per_page, found[:per_page]
    return QueuePage(found, flags_of(session, [e.id for e in found]), page, has_next)


def _filtered(query, wanted: QueueFilter):
    query = query.where(Entry.status == wanted.status)
    if wanted.search:
        like = f"%{_escaped(wanted.search.lower())}%"
        query = query.where(
            or_(
                func.lower(Entry.code).like(like, escape="\\"),
                func.lower(Entry.title).like(like, escape="\\"),
            )
        )
    if wanted.author:
        like = f"%{_escaped(wanted.author.lower())}%"
        query = query.join(User, User.id == Entry.author_id).where(
            or_(
                func.lower(User.full_name).like(like, escape="\\"),
                func.lower(User.email).like(like, escape="\\"),
            )
        )
    if wanted.place_id is not None:
        query = query.where(Entry.place_id == wanted.place_id)
    if wanted.category_id is not None:
        query = query.where(Entry.category_id == wanted.category_id)
    if wanted.flag:
        flagged = select(EntryFlag.entry_id).where(
            or_(EntryFlag.entry_id == Entry.id, EntryFlag.other_entry_id == Entry.id)
        )
        if wanted.flag != ANY_FLAG:
            flagged = flagged.where(EntryFlag.kind == FlagKind(wanted.flag))
        query = query.where(flagged.exists())
    return query


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def flags_of(session: Session, entry_ids: list[int]) -> dict[int, list[EntryFlag]]:
    """Each entry's flags, and the duplicate flags that point to it, with the other entry loaded."""
    if not entry_ids:
        return {}
    rows = session.scalars(
        select(EntryFlag)
        .where(or_(EntryFlag.entry_id.in_(entry_ids), EntryFlag.other_entry_id.in_(entry_ids)))
        .options(
            selectinload(EntryFlag.entry).selectinload(Entry.assets),
            selectinload(EntryFlag.other_entry).selectinload(Entry.assets),
        )
        .order_by(EntryFlag.position, EntryFlag.kind, EntryFlag.id)
    )
    found: dict[int, list[EntryFlag]] = {}
    for flag in rows:
        for entry_id in {flag.entry_id, flag.other_entry_id} & set(entry_ids):
            found.setdefault(entry_id, []).append(flag)
    return found


def status_counts(
    session: Session, contest_id: int, category_id: int | None = None
) -> dict[EntryStatus, int]:
    """How many entries of the contest (or category) are in each listed status."""
    query = select(Entry.status, func.count(Entry.id)).where(
        Entry.contest_id == contest_id, Entry.status.in_(LISTED_STATUSES)
    )
    if category_id is not None:
        query = query.where(Entry.category_id == category_id)
    counts = dict(session.execute(query.group_by(Entry.status)).all())
    return {status: counts.get(status, 0) for status in LISTED_STATUSES}


# --- decisions ----------------------------------------------------------------------------
def approve(session: Session, entry: Entry, actor: User) -> None:
    """Show the entry in the public gallery (from the queue, or after a rejection)."""
    _decide(session, entry, EntryStatus.approved, actor, "entry.approved")


def reject(session: Session, entry: Entry, actor: User, reason: Reason | str) -> None:
    """Keep the entry out of the gallery (or take it down), with a reason its author reads.

    ``reason`` is the organizer's words, or a template's Vietnamese and English texts.
    """
    reason = Reason.written(reason) if isinstance(reason, str) else reason
    if not reason.vi.strip():
        raise ValueError("a reason is required to reject an entry")
    details = {"reason_en": reason.en} if reason.en else {}
    _decide(
        session, entry, EntryStatus.rejected, actor, "entry.rejected", reason=reason.vi.strip(), **details
    )


def reopen(session: Session, entry: Entry, actor: User) -> None:
    """Put a rejected entry back in the queue, to be decided again."""
    if entry.status is not EntryStatus.rejected:
        raise DecisionRefused(f"{entry.code}: only a rejected entry is reopened")
    _decide(session, entry, EntryStatus.pending_review, actor, "entry.reopened")


def _decide(
    session: Session,
    entry: Entry,
    status: EntryStatus,
    actor: User,
    action: str,
    *,
    reason: str = "",
    **details,
) -> None:
    before = entry.status
    try:
        entry.transition(status)
    except InvalidTransition as exc:
        raise DecisionRefused(str(exc)) from exc
    decision = record(
        session,
        actor_id=actor.id,
        action=action,
        subject_type="entry",
        subject_id=entry.id,
        contest_id=entry.contest_id,
        reason=reason,
        details={"code": entry.code, "from": before.value, **details},
    )
    session.flush()
    tell_decision(session, entry, decision)


# --- bulk ---------------------------------------------------------------------------------
@dataclass
class BulkOutcome:
    done: list[str] = field(default_factory=list)  # codes decided
    refused: list[str] = field(default_factory=list)  # codes whose status did not allow it


def approve_many(session: Session, entries: list[Entry], actor: User) -> BulkOutcome:
    return _each(entries, lambda entry: approve(session, entry, actor))


def reject_many(session: Session, entries: list[Entry], actor: User, reason: Reason) -> BulkOutcome:
    return _each(entries, lambda entry: reject(session, entry, actor, reason))


def _each(entries: list[Entry], decide) -> BulkOutcome:
    outcome = BulkOutcome()
    for entry in entries:
        try:
            decide(entry)
        except DecisionRefused:
            outcome.refused.append(entry.code)
        else:
            outcome.done.append(entry.code)
    return outcome


def selected_entries(session: Session, entry_ids: list[int]) -> list[Entry]:
    """The entries ticked (at most MAX_BULK), locked for the decision, in id order."""
    if not entry_ids:
        return []
    query = select(Entry).where(Entry.id.in_(entry_ids[:MAX_BULK]))
    return list(session.scalars(query.order_by(Entry.id).with_for_update()))
