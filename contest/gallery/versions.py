"""The public pages' version: a number per contest that moves on when what they show changes.

The gallery's pages are kept for visitors (contest.gallery.cache) under a key that holds
the contest's ``public_version``. Every ORM flush that writes something a public page shows
moves that number on, in the same transaction, so a kept copy is never served after the
change is committed: an approved entry appears, a withdrawn or rejected one disappears, an
edited title or an author's new name shows, at once (within the second a web process takes
to look at the number again), however long the copy would otherwise have lived.

What moves it:

- an entry that is approved, or was before this flush (its status leaving ``approved``),
  with any column changed but its vote counter (votes come by the second; pages fill in the
  counts apart) and ``updated_at``;
- a rendition (MediaAsset) of an approved entry added, changed or deleted;
- an author's ``full_name``, for the contests of their approved entries;
- the contest itself (but its entry-code counter and this number), its categories, places.

The vote's own statement (raw SQL, contest.voting.services) and the bench's COPY bypass the
ORM: neither writes anything that needs a new version.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event, inspect, or_, select, update
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.models import Category, Contest, Place
from contest.entries.models import Entry, EntryStatus, MediaAsset

# Columns whose change alone leaves the public pages as they are.
UNSHOWN = {
    Entry: frozenset({"vote_count", "rank_votes", "updated_at"}),
    Contest: frozenset({"entry_counter", "public_version"}),
}


@event.listens_for(Session, "after_flush")
def _note_public_changes(session: Session, _flush_context) -> None:
    contests: set[int] = set()
    assets_of: set[int] = set()
    authors: set[int] = set()
    added_or_deleted = set(chain(session.new, session.deleted))
    for obj in chain(added_or_deleted, session.dirty):
        if isinstance(obj, Entry):
            if _was_or_is_approved(obj) and (obj in added_or_deleted or _changed(obj, UNSHOWN[Entry])):
                contests.add(obj.contest_id)
        elif isinstance(obj, MediaAsset):
            assets_of.add(obj.entry_id)
        elif isinstance(obj, User):
            if inspect(obj).attrs.full_name.history.has_changes():
                authors.add(obj.id)
        elif isinstance(obj, Contest):
            if obj in added_or_deleted or _changed(obj, UNSHOWN[Contest]):
                contests.add(obj.id)
        elif isinstance(obj, Category | Place):
            contests.add(obj.contest_id)
    _move_on(session, contests, assets_of, authors)


def _was_or_is_approved(entry: Entry) -> bool:
    history = inspect(entry).attrs.status.history
    return EntryStatus.approved in chain(history.added, history.unchanged, history.deleted)


def _changed(obj, unshown: frozenset[str]) -> bool:
    """Whether this flush writes a column of ``obj`` outside ``unshown``."""
    state = inspect(obj)
    return any(
        state.attrs[column.key].history.has_changes()
        for column in state.mapper.column_attrs
        if column.key not in unshown
    )


def _move_on(session: Session, contests: set[int], assets_of: set[int], authors: set[int]) -> None:
    approved = Entry.status == EntryStatus.approved
    whose = []
    if contests:
        whose.append(Contest.id.in_(contests))
    if assets_of:
        whose.append(Contest.id.in_(select(Entry.contest_id).where(Entry.id.in_(assets_of), approved)))
    if authors:
        whose.append(Contest.id.in_(select(Entry.contest_id).where(Entry.author_id.in_(authors), approved)))
    if whose:
        # Core, not the ORM: one statement inside this flush's transaction.
        table = Contest.__table__
        session.connection().execute(
            update(table).where(or_(*whose)).values(public_version=table.c.public_version + 1)
        )
