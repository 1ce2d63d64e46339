"""An entry's page (/e/<code>): the entry it shows, and who may see it before it is public."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from contest.entries.models import Entry, EntryStatus


def entry_by_code(session: Session, code: str) -> Entry | None:
    """The entry with this code (any case), with what its page shows; None if unknown."""
    return session.scalar(
        select(Entry)
        .where(Entry.code == code.upper())
        .options(
            selectinload(Entry.assets),
            joinedload(Entry.author),
            joinedload(Entry.place),
            joinedload(Entry.category),
            joinedload(Entry.contest),
        )
    )


def is_public(entry: Entry) -> bool:
    return entry.status is EntryStatus.approved and entry.contest.is_published


def may_preview(user, entry: Entry) -> bool:
    """The author and the organizers see an entry's page before it is public."""
    return bool(user.is_authenticated and (user.id == entry.author_id or user.is_organizer))
