"""Whose renditions are public: their copies under ``public/`` exist while the entry is approved.

The worker keeps every rendition at its private key (``storage.private_copy_key`` of the
public key its row names). When an entry's status moves into or out of "approved", the
commit that records it first copies the renditions to their public keys (an approval) or
deletes the public copies (a rejection, a take-down, a withdrawal, an edit sent back to
review). The storage calls run in ``before_commit``; a rollback after them reverses them. A
storage fault leaves ``Entry.media_published`` disagreeing with the status, and the sweep
(``worker.sweep_jobs``, ``flask contest media-sync``) finishes the work later.
"""

from __future__ import annotations

import logging
from itertools import chain
from typing import NamedTuple

from flask import has_app_context
from sqlalchemy import and_, event, inspect, or_, select
from sqlalchemy.orm import Session

from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.storage import PUBLIC_PREFIX, ObjectMissing, Storage, StorageError, get_storage, private_copy_key

log = logging.getLogger(__name__)
_CHANGED = "contest.media_status_changed"  # entry id -> whether its status crossed "approved"
_UNDO = "contest.media_undo"  # what this commit did to storage, reversed if it rolls back

Renditions = list[tuple[str, str]]  # (public key, content type)


def rendition_url(key: str, *, public: bool) -> str:
    """The URL of a rendition: its public copy, or (entry not approved) its private one, signed."""
    if public or not key.startswith(PUBLIC_PREFIX):
        return get_storage().url(key)
    return get_storage().url(private_copy_key(key))


def publish(storage: Storage, renditions: Renditions) -> None:
    """Copy each rendition to its public key (safe to repeat)."""
    for key, content_type in renditions:
        try:
            storage.copy(private_copy_key(key), key, content_type=content_type)
        except ObjectMissing:
            # Written before private copies existed: already public, or lost.
            if not storage.exists(key):
                log.warning("rendition %s has no stored copy", key)


def unpublish(storage: Storage, renditions: Renditions) -> None:
    """Delete each rendition's public copy, keeping (or first making) its private one."""
    for key, content_type in renditions:
        private = private_copy_key(key)
        if not storage.exists(private):
            try:
                storage.copy(key, private, content_type=content_type)
            except ObjectMissing:
                continue
        storage.delete(key)


def renditions_of(session: Session, entry_id: int) -> Renditions:
    rows = session.execute(
        select(MediaAsset.storage_key, MediaAsset.mime_type).where(
            MediaAsset.entry_id == entry_id,
            MediaAsset.kind != AssetKind.original,
            MediaAsset.storage_key.startswith(PUBLIC_PREFIX),
        )
    )
    return [(key, content_type) for key, content_type in rows]


def sync(session: Session, entry: Entry) -> bool:
    """Make the public copies of ``entry`` agree with its status; False if storage failed
    (``media_published`` then says the opposite, so that the sweep tries again)."""
    wanted = entry.media_is_public
    renditions = renditions_of(session, entry.id)
    if renditions and not has_app_context():
        log.warning("entry %s: no application, so no storage; the sweep publishes it", entry.code)
        entry.media_published = not wanted
        return False
    if renditions:
        session.info.setdefault(_UNDO, []).append((renditions, wanted))
        try:
            (publish if wanted else unpublish)(get_storage(), renditions)
        except StorageError:
            done = "published" if wanted else "taken down"
            log.warning("entry %s: renditions not yet %s; the sweep retries", entry.code, done, exc_info=True)
            entry.media_published = not wanted
            return False
    entry.media_published = wanted
    return True


class Synced(NamedTuple):
    entry_id: int
    code: str
    ok: bool


def sweep(session: Session, limit: int = 100, after_id: int = 0) -> list[Synced]:
    """Sync the entries (from ``after_id`` on) whose public copies disagree with their status."""
    approved = Entry.status == EntryStatus.approved
    ids = session.scalars(
        select(Entry.id)
        .where(
            Entry.id > after_id,
            or_(and_(approved, ~Entry.media_published), and_(~approved, Entry.media_published)),
        )
        .order_by(Entry.id)
        .limit(limit)
    ).all()
    synced = []
    for entry_id in ids:
        # Locked: an approval or a take-down of the same entry waits for this commit.
        entry = session.get(Entry, entry_id, with_for_update=True, populate_existing=True)
        synced.append(Synced(entry_id, entry.code, sync(session, entry)))
        session.commit()
    return synced


@event.listens_for(Session, "after_flush")
def _note_status_changes(session: Session, _flush_context) -> None:
    for obj in chain(session.new, session.dirty):
        if not isinstance(obj, Entry):
            continue
        history = inspect(obj).attrs.status.history
        if history.has_changes():
            crossed = (EntryStatus.approved in history.added) != (EntryStatus.approved in history.deleted)
            changed = session.info.setdefault(_CHANGED, {})
            changed[obj.id] = changed.get(obj.id, False) or crossed


@event.listens_for(Session, "before_commit")
def _sync_changed_entries(session: Session) -> None:
    session.flush()  # what the commit would flush next: its status changes are noted then
    if not session.info.get(_CHANGED):
        return
    for entry_id, crossed in session.info.pop(_CHANGED, {}).items():
        entry = session.get(Entry, entry_id)
        if entry is not None and (crossed or entry.media_published != entry.media_is_public):
            sync(session, entry)


@event.listens_for(Session, "after_commit")
def _forget(session: Session) -> None:
    session.info.pop(_UNDO, None)


@event.listens_for(Session, "after_soft_rollback")
def _undo(session: Session, _previous_transaction) -> None:
    """The status change did not happen: put the public copies back as they were."""
    session.info.pop(_CHANGED, None)
    for renditions, published in reversed(session.info.pop(_UNDO, [])):
        try:
            (unpublish if published else publish)(get_storage(), renditions)
        except StorageError:
            log.error("could not undo a %s of %s", "publish" if published else "take-down", renditions[0][0])
