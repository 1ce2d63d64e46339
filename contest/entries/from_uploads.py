"""Entries made from files already in storage, and files kept when a form comes back with an error.

A file the browser sent straight to storage, or one posted with a form that failed on another
field, is a stored Upload (contest.uploads). An entry made from uploads waits in "checking"
until the worker has read every file with the form's own checks (worker.jobs.check): only
then does it count as submitted and get processed.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.models import Category, CategoryKind, Contest
from contest.db import now_utc
from contest.entries.checks import SubmissionRefused, UploadedFile, check_files, display_filename
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.entries.services import (
    EXTENSIONS,
    check_can_submit,
    discard_objects,
    lock_author,
)
from contest.entries.validation import series_count_problem
from contest.processing.models import JobKind
from contest.processing.services import create_job
from contest.storage import get_storage, new_key
from contest.uploads.models import Upload, UploadState
from contest.uploads.services import stored_upload

# The most files one reference field may name (a series' largest is far below).
MAX_REFERENCES = 100
_UNKNOWN_TYPE = "application/octet-stream"


class UploadNotUsable(Exception):
    """A referenced upload is not the entrant's stored file of this category and field."""

    def __init__(self) -> None:
        super().__init__("upload not usable")
        self.message = _("This file is no longer available: please choose it again.")


def referenced_uploads(
    session: Session, author: User, category: Category, field: str, upload_ids: Sequence[str]
) -> list[Upload]:
    """The uploads ``upload_ids`` names, in its order; UploadNotUsable when one is another
    user's, of another category or field, not whole in storage, already taken, or named twice."""
    if len(set(upload_ids)) != len(upload_ids) or len(upload_ids) > MAX_REFERENCES:
        raise UploadNotUsable
    uploads = [stored_upload(session, author, upload_id, category, field) for upload_id in upload_ids]
    if any(upload is None for upload in uploads):
        raise UploadNotUsable
    return uploads


def keep_posted_files(
    session: Session,
    author: User,
    contest: Contest,
    category: Category,
    field: str,
    files: Sequence[UploadedFile],
) -> list[Upload]:
    """Store files posted with a form that came back with an error, so the entrant need not send them again.

    Only files that pass the request's checks are kept (MediaRejected or SubmissionRefused
    otherwise); each becomes a stored Upload the re-rendered form refers to. Flushes; if
    anything fails, the objects stored are deleted.
    """
    checked = check_files(category, files)
    storage, keys, uploads = get_storage(), [], []
    try:
        for item in checked:
            key = new_key(f"uploads/{contest.slug}", "." + EXTENSIONS[item.format])
            with open(item.upload.path, "rb") as source:
                storage.save(key, source, content_type=item.mime_type)
            keys.append(key)
            uploads.append(_stored(author, contest, category, field, item, key))
        session.add_all(uploads)
        session.flush()
    except BaseException:
        discard_objects(keys)
        raise
    return uploads


def _stored(author: User, contest: Contest, category: Category, field: str, item, key: str) -> Upload:
    return Upload(
        user_id=author.id,
        contest_id=contest.id,
        category_id=category.id,
        field=field,
        filename=display_filename(item.upload.filename),
        content_type=item.mime_type,
        size=item.bytes,
        part_size=item.bytes,
        part_count=1,
        storage_key=key,
        state=UploadState.stored,
        completed_at=now_utc(),
    )


def submit_from_uploads(
    session: Session,
    author: User,
    contest: Contest,
    category: Category,
    *,
    uploads: Sequence[Upload],
    title: str,
    description: str,
    place_id: int,
    taken_on,
    title_en: str = "",
    description_en: str = "",
) -> Entry:
    """A new entry whose files are ``uploads``, in their order: it waits in "checking", and
    a check job reads its files after the commit. Raises SubmissionRefused."""
    lock_author(session, author)
    check_can_submit(session, author, contest, category)
    if category.kind is CategoryKind.photo_series:
        problem = series_count_problem(len(uploads), category)
        if problem:
            raise SubmissionRefused(problem)
    elif len(uploads) != 1:
        raise ValueError(f"a {category.kind.value} entry takes one file, not {len(uploads)}")
    entry = Entry(
        contest_id=contest.id,
        category_id=category.id,
        author_id=author.id,
        place_id=place_id,
        title=title,
        description=description,
        title_en=title_en,
        description_en=description_en,
        taken_on=taken_on,
        status=EntryStatus.draft,
        code=contest.next_entry_code(session),
    )
    entry.assets.extend(_unchecked_original(upload, position) for position, upload in enumerate(uploads))
    session.add(entry)
    session.flush()
    for upload in uploads:
        upload.entry_id = entry.id
        upload.move_to(UploadState.attached)
    entry.transition(EntryStatus.checking)
    entry.declarations_accepted_at = now_utc()
    create_job(session, entry, JobKind.check)
    return entry


def _unchecked_original(upload: Upload, position: int) -> MediaAsset:
    """The original as the upload declared it; the check job records what the content says."""
    return MediaAsset(
        kind=AssetKind.original,
        position=position,
        storage_key=upload.storage_key,
        mime_type=(upload.content_type or _UNKNOWN_TYPE)[:100],
        bytes=upload.size,
        original_filename=upload.filename,
    )
