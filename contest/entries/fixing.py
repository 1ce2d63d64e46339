"""A rejected entry fixed by its author with a new file (or files), while submission is open.

The new file(s) take the place of the old ones and of everything made from them; the entry
goes back through processing (submitted) and then to the organizers' queue. Its new details
alone go through contest.entries.editing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth.models import User
from contest.db import now_utc
from contest.entries import services
from contest.entries.models import Entry, EntryStatus
from contest.processing.services import create_job


class FixRefused(ValueError):
    """Only a rejected entry takes a new file, and only while submission is open."""


def may_send_new_file(entry: Entry) -> bool:
    return entry.status is EntryStatus.rejected and entry.contest.submission_open()


def replace_files(
    session: Session, entry: Entry, author: User, files: Sequence[services.UploadedFile]
) -> list[str]:
    """Check and store the new file(s), drop the old ones' rows, queue processing; returns the
    old storage keys, to delete after the commit. Raises FixRefused or MediaRejected first."""
    if not may_send_new_file(entry):
        raise FixRefused(entry.code)
    checked = services.check_files(entry.category, files)
    keys: list[str] = []
    try:
        for item in checked:
            keys.append(services.store_original(entry.contest, item))
        old = services.stored_keys(entry)
        entry.assets.clear()
        session.flush()  # the old rows go before the new ones take their positions
        for position, (item, key) in enumerate(zip(checked, keys, strict=True)):
            entry.assets.append(services.original_asset(item, key, position))
        entry.transition(EntryStatus.submitted)
        entry.submitted_at = now_utc()
        create_job(session, entry, services.JOB_KINDS[entry.category.kind])
        record(
            session,
            actor_id=author.id,
            action="entry.file_replaced",
            subject_type="entry",
            subject_id=entry.id,
            contest_id=entry.contest_id,
            details={"code": entry.code, "from": EntryStatus.rejected.value, "files": len(keys)},
        )
        session.flush()
    except BaseException:
        services.discard_objects(keys)
        raise
    return old
