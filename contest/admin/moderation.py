"""Moderation: organizers approve the entries that reach the public gallery, or reject them.

Each decision goes through ``Entry.transition`` (the one place where a status changes)
and writes an audit event in the same transaction. Functions flush; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from contest.audit.services import record
from contest.auth.models import User
from contest.entries.models import Entry, EntryFlag, EntryStatus, InvalidTransition

PER_PAGE = 30
# Statuses an organizer lists: the queue first, then the decided ones.
LISTED_STATUSES = (EntryStatus.pending_review, EntryStatus.approved, EntryStatus.rejected)


class DecisionRefused(ValueError):
    """The entry's status does not allow this decision (e.g. it was withdrawn meanwhile)."""


@dataclass(frozen=True)
class QueuePage:
    entries: list[Entry]
    flag_counts: dict[int, int]  # entry id -> number of flags
    page: int
    has_next: bool


def queue(
    session: Session,
    contest_id: int,
    status: EntryStatus,
    category_id: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> QueuePage:
    """Entries of ``status``: the waiting ones oldest first (first come, first reviewed), others newest first."""
    query = select(Entry).where(Entry.contest_id == contest_id, Entry.status == status)
    if category_id is not None:
        query = query.where(Entry.category_id == category_id)
    if status is EntryStatus.pending_review:
        query = query.order_by(Entry.submitted_at, Entry.id)
    else:
        query = query.order_by(Entry.updated_at.desc(), Entry.id.desc())
    entries = list(
        session.scalars(
            query.options(
                selectinload(Entry.assets), selectinload(Entry.author), selectinload(Entry.category)
            )
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    has_next, entries = len(entries) > per_page, entries[:per_page]
    return QueuePage(entries, flag_counts(session, [e.id for e in entries]), page, has_next)


def flag_counts(session: Session, entry_ids: list[int]) -> dict[int, int]:
    if not entry_ids:
        return {}
    rows = session.execute(
        select(EntryFlag.entry_id, func.count(EntryFlag.id))
        .where(EntryFlag.entry_id.in_(entry_ids))
        .group_by(EntryFlag.entry_id)
    )
    return dict(rows.all())


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


def approve(session: Session, entry: Entry, actor: User) -> None:
    """Show the entry in the public gallery (from the queue, or after a rejection)."""
    _decide(session, entry, EntryStatus.approved, actor, "entry.approved", reason="")


def reject(session: Session, entry: Entry, actor: User, reason: str) -> None:
    """Keep the entry out of the gallery (or take it down), with a reason for the audit log."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a reason is required to reject an entry")
    _decide(session, entry, EntryStatus.rejected, actor, "entry.rejected", reason=reason)


def _decide(
    session: Session, entry: Entry, status: EntryStatus, actor: User, action: str, *, reason: str
) -> None:
    before = entry.status
    try:
        entry.transition(status)
    except InvalidTransition as exc:
        raise DecisionRefused(str(exc)) from exc
    record(
        session,
        actor_id=actor.id,
        action=action,
        subject_type="entry",
        subject_id=entry.id,
        contest_id=entry.contest_id,
        reason=reason,
        details={"code": entry.code, "from": before.value},
    )
    session.flush()
