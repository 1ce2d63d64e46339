"""Which entries lack a jury copy of an original, and sending the task that makes them (issue 15).

The media jobs make the copies (worker.blind); entries processed before they did have none,
and the judge's panel offers no original until they have. The task (``worker.make_jury_copies``,
sent by name: contest/ never imports worker/) is sent after the commit, when a jury round
opens (contest.jury.rounds) and by ``flask --app wsgi contest jury-copies``.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, aliased

from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.processing import dispatch

TASK_NAME = "worker.make_jury_copies"
# An entry whose media job is over (a job still to run makes the copies itself).
PROCESSED = (EntryStatus.pending_review, EntryStatus.approved, EntryStatus.rejected)


def lacking(session: Session, among: Select) -> list[int]:
    """The ids, among the entry ids ``among`` selects, of processed entries with an original
    that has no jury copy."""
    copy = aliased(MediaAsset)
    has_copy = exists().where(
        copy.entry_id == MediaAsset.entry_id,
        copy.position == MediaAsset.position,
        copy.kind == AssetKind.jury_original,
    )
    query = (
        select(MediaAsset.entry_id)
        .join(Entry, Entry.id == MediaAsset.entry_id)
        .where(MediaAsset.kind == AssetKind.original, ~has_copy, Entry.status.in_(PROCESSED))
        .where(MediaAsset.entry_id.in_(among))
        .distinct()
        .order_by(MediaAsset.entry_id)
    )
    return list(session.scalars(query))


def send_after_commit_for(session: Session, among: Select) -> list[int]:
    """Send the task for each entry (among ``among``) lacking a copy, once the commit lands."""
    entry_ids = lacking(session, among)
    for entry_id in entry_ids:
        dispatch.send_after_commit(session, TASK_NAME, entry_id)
    return entry_ids


def send_for_contest(session: Session, contest_id: int) -> tuple[list[int], list[int]]:
    """Send the task now for each of the contest's entries lacking a copy: (sent, not sent)."""
    entry_ids = lacking(session, select(Entry.id).where(Entry.contest_id == contest_id))
    sent = [entry_id for entry_id in entry_ids if dispatch.send_now(TASK_NAME, entry_id)]
    return sent, [entry_id for entry_id in entry_ids if entry_id not in sent]
