"""Submitting, editing and withdrawing entries, and what the entrant sees of them.

Services flush and never commit: the view commits once. A stored original whose entry
cannot be saved is deleted here before the error goes up, so no object is left behind.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.datastructures import FileStorage

from contest.auth.models import User
from contest.contests.models import Category, Contest
from contest.db import now_utc
from contest.entries.failures import failure_message
from contest.entries.models import TRANSITIONS, AssetKind, Entry, EntryStatus, MediaAsset
from contest.entries.validation import check_photo
from contest.processing.dispatch import send_after_commit
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import create_job
from contest.storage import StorageError, get_storage, new_key
from contest.timeutil import to_vn

log = logging.getLogger(__name__)

PURGE_ENTRY_MEDIA_TASK = "worker.purge_entry_media"

STATUS_LABELS = {
    EntryStatus.draft: _l("Draft"),
    EntryStatus.submitted: _l("Received"),
    EntryStatus.processing: _l("Processing"),
    EntryStatus.pending_review: _l("Awaiting review"),
    EntryStatus.approved: _l("Accepted"),
    EntryStatus.rejected: _l("Not accepted"),
    EntryStatus.withdrawn: _l("Withdrawn"),
    EntryStatus.failed: _l("File refused"),
}

# Statuses in which the worker has not finished with the entry yet.
PENDING = frozenset({EntryStatus.submitted, EntryStatus.processing})

# Extension of the stored original, by the format read from its content.
_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "heif": "heic"}
_CHUNK = 1024 * 1024


class SubmissionRefused(Exception):
    """The entrant may not submit now; ``message`` says why, in their language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- who may submit ----------------------------------------------------------------------
def contest_year(contest: Contest) -> int:
    """The edition's year: the year (in Vietnam) in which its submission opens."""
    return to_vn(contest.submission_opens_at).year


def _active_entries(author: User, contest: Contest):
    return select(func.count(Entry.id)).where(
        Entry.author_id == author.id, Entry.contest_id == contest.id, Entry.status != EntryStatus.withdrawn
    )


def check_can_submit(
    session: Session, author: User, contest: Contest, category: Category | None = None
) -> None:
    """Raise SubmissionRefused unless ``author`` may submit one more entry now."""
    if not contest.submission_open():
        raise SubmissionRefused(_("Submissions to %(contest)s are closed.", contest=contest.title))
    _check_age(author, contest)
    _check_limits(session, author, contest, category)


def _check_age(author: User, contest: Contest) -> None:
    year = contest_year(contest)
    if author.birth_year is None or year - author.birth_year < contest.min_entrant_age:
        raise SubmissionRefused(
            _(
                "Entrants must be at least %(age)s years old in %(year)s.",
                age=contest.min_entrant_age,
                year=year,
            )
        )


def _check_limits(session: Session, author: User, contest: Contest, category: Category | None) -> None:
    """Entries that are not withdrawn count towards the contest's and the category's limits."""
    limit = contest.max_entries_per_person
    if limit is not None and session.scalar(_active_entries(author, contest)) >= limit:
        raise SubmissionRefused(
            ngettext(
                "You have reached the limit of %(num)s entry per person in this contest. "
                "Withdraw an entry to submit another.",
                "You have reached the limit of %(num)s entries per person in this contest. "
                "Withdraw an entry to submit another.",
                limit,
            )
        )
    if category is None or category.max_entries_per_person is None:
        return
    limit = category.max_entries_per_person
    in_category = _active_entries(author, contest).where(Entry.category_id == category.id)
    if session.scalar(in_category) >= limit:
        raise SubmissionRefused(
            ngettext(
                "You have reached the limit of %(num)s entry per person in the category %(category)s. "
                "Withdraw an entry to submit another.",
                "You have reached the limit of %(num)s entries per person in the category %(category)s. "
                "Withdraw an entry to submit another.",
                limit,
                category=category.name,
            )
        )


# --- submitting -----------------------------------------------------------------------------
@contextmanager
def upload_on_disk(upload: FileStorage, tmp_dir: str | Path) -> Iterator[Path]:
    """A path to the uploaded file's bytes.

    Werkzeug spools uploads to memory or to an unnamed temporary file, so the bytes are
    usually copied (in chunks) to a named file in ``tmp_dir``, removed on the way out.
    """
    name = getattr(upload.stream, "name", None)
    if isinstance(name, str) and Path(name).is_file():
        yield Path(name)
        return
    Path(tmp_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="upload-", suffix=".part") as copy:
        if upload.stream.seekable():
            upload.stream.seek(0)
        shutil.copyfileobj(upload.stream, copy, _CHUNK)
        copy.flush()
        yield Path(copy.name)


def display_filename(name: str | None) -> str:
    """The upload's own name, kept for organizers: no folders, no control characters, <= 255."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if not unicodedata.category(ch).startswith("C")).strip()
    base = " ".join(base.split()) or "photo"
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:255]
    return base


def submit_entry(
    session: Session,
    author: User,
    contest: Contest,
    category: Category,
    *,
    title: str,
    description: str,
    place_id: int,
    taken_on: date,
    upload_path: str | Path,
    original_filename: str | None,
) -> Entry:
    """Check, store and queue a new single-photo entry; raises SubmissionRefused or MediaRejected.

    The original is stored before any row is written: on PostgreSQL the entry code's
    counter row stays locked until the commit, and the upload should not be inside that.
    """
    _lock_author(session, author)
    check_can_submit(session, author, contest, category)
    info = check_photo(upload_path, category, max_pixels=current_app.config["MAX_IMAGE_PIXELS"], quick=True)
    storage = get_storage()
    key = new_key(f"originals/{contest.slug}", "." + _EXTENSIONS[info.format])
    try:
        with open(upload_path, "rb") as source:
            storage.save(key, source, content_type=info.mime_type)
        entry = Entry(
            contest_id=contest.id,
            category_id=category.id,
            author_id=author.id,
            place_id=place_id,
            title=title,
            description=description,
            taken_on=taken_on,
            status=EntryStatus.draft,
            code=contest.next_entry_code(session),
        )
        entry.assets.append(
            MediaAsset(
                kind=AssetKind.original,
                position=0,
                storage_key=key,
                mime_type=info.mime_type,
                width=info.width,
                height=info.height,
                bytes=info.bytes,
                original_filename=display_filename(original_filename),
            )
        )
        session.add(entry)
        session.flush()
        entry.transition(EntryStatus.submitted)
        entry.submitted_at = entry.declarations_accepted_at = now_utc()
        create_job(session, entry, JobKind.photo)
    except BaseException:
        discard_objects([key])
        raise
    return entry


def _lock_author(session: Session, author: User) -> None:
    # One submission at a time per person, so two at once cannot both pass the limits.
    session.execute(select(User.id).where(User.id == author.id).with_for_update())


def stored_keys(entry: Entry) -> list[str]:
    return [asset.storage_key for asset in entry.assets]


def discard_objects(keys: list[str]) -> None:
    """Delete stored objects whose rows will not exist; a failure is logged, never raised."""
    storage = get_storage()
    for key in keys:
        try:
            storage.delete(key)
        except StorageError:
            log.warning("could not delete %s; the object is left behind", key, exc_info=True)


# --- changing an entry -----------------------------------------------------------------------
def may_edit(entry: Entry) -> bool:
    return entry.contest.submission_open() and entry.is_editable


def may_withdraw(entry: Entry) -> bool:
    return entry.contest.submission_open() and EntryStatus.withdrawn in TRANSITIONS[entry.status]


def update_entry(
    session: Session, entry: Entry, *, title: str, description: str, place_id: int, taken_on: date
) -> None:
    entry.title = title
    entry.description = description
    entry.place_id = place_id
    entry.taken_on = taken_on
    session.flush()


def withdraw_entry(session: Session, entry: Entry) -> None:
    """Withdraw the entry; after the commit the worker deletes its files."""
    entry.transition(EntryStatus.withdrawn)
    session.flush()
    send_after_commit(session, PURGE_ENTRY_MEDIA_TASK, entry.id)


# --- what the entrant sees -------------------------------------------------------------------
def owned_entry(session: Session, code: str, owner: User) -> Entry | None:
    """The entry with ``code`` if ``owner`` wrote it, else None (others must not learn it exists)."""
    return session.scalar(select(Entry).where(Entry.code == code, Entry.author_id == owner.id))


def latest_job_states(session: Session, entry_ids: list[int]) -> dict[int, JobState]:
    if not entry_ids:
        return {}
    rows = session.execute(
        select(ProcessingJob.entry_id, ProcessingJob.state)
        .where(ProcessingJob.entry_id.in_(entry_ids))
        .order_by(ProcessingJob.created_at.desc(), ProcessingJob.id.desc())
    )
    states: dict[int, JobState] = {}
    for entry_id, state in rows:
        states.setdefault(entry_id, state)
    return states


def _asset_url(entry: Entry, kind: AssetKind) -> str | None:
    asset = entry.asset(kind)
    return get_storage().url(asset.storage_key) if asset else None


@dataclass(frozen=True)
class EntryCard:
    """One entry as the entrant's "My entries" page shows it."""

    entry: Entry
    job_state: JobState | None
    thumb_webp_url: str | None
    thumb_jpeg_url: str | None
    can_edit: bool
    can_withdraw: bool

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.entry.status])

    @property
    def is_pending(self) -> bool:
        return self.entry.status in PENDING

    @property
    def is_retrying(self) -> bool:
        return self.is_pending and self.job_state is JobState.retrying

    @property
    def failure(self) -> str | None:
        if self.entry.status is not EntryStatus.failed:
            return None
        return failure_message(self.entry.failure_code, self.entry.failure_params)


def my_entries(session: Session, author: User) -> list[EntryCard]:
    """The author's entries in every contest, newest first."""
    entries = session.scalars(
        select(Entry)
        .where(Entry.author_id == author.id)
        .options(
            selectinload(Entry.assets),
            selectinload(Entry.category),
            selectinload(Entry.place),
            selectinload(Entry.contest),
        )
        .order_by(Entry.created_at.desc(), Entry.id.desc())
    ).all()
    states = latest_job_states(session, [e.id for e in entries])
    return [_card(entry, states.get(entry.id)) for entry in entries]


def _card(entry: Entry, job_state: JobState | None) -> EntryCard:
    shown = entry.status is not EntryStatus.withdrawn
    return EntryCard(
        entry=entry,
        job_state=job_state,
        thumb_webp_url=_asset_url(entry, AssetKind.thumb_webp) if shown else None,
        thumb_jpeg_url=_asset_url(entry, AssetKind.thumb_jpeg) if shown else None,
        can_edit=may_edit(entry),
        can_withdraw=may_withdraw(entry),
    )


def status_summary(session: Session, entry: Entry) -> dict:
    """What the "My entries" page polls while the worker processes the entry."""
    state = latest_job_states(session, [entry.id]).get(entry.id)
    shown = entry.status is not EntryStatus.withdrawn
    return {
        "code": entry.code,
        "status": entry.status.value,
        "job_state": state.value if state else None,
        "thumb_url": _asset_url(entry, AssetKind.thumb_jpeg) if shown else None,
    }
