"""Submitting, editing and withdrawing entries, and what the entrant sees of them.

Services flush and never commit: the view commits once. A stored original whose entry
cannot be saved is deleted here before the error goes up, so no object is left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from contest.auth.models import User
from contest.contests.models import Category, CategoryKind, Contest
from contest.db import now_utc
from contest.entries.checks import (  # noqa: F401  (the file checks' names stay importable from here)
    CheckedFile,
    SubmissionRefused,
    UploadedFile,
    check_files,
    display_filename,
    upload_on_disk,
)
from contest.entries.editing import edits_closed
from contest.entries.failures import failure_message
from contest.entries.mails import tell_received
from contest.entries.models import TRANSITIONS, AssetKind, Entry, EntryStatus, MediaAsset
from contest.media.publication import rendition_url
from contest.processing.dispatch import send_after_commit
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import create_job
from contest.storage import StorageError, delete_with_copy, get_storage, new_key
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
    EntryStatus.checking: _l("Checking the file"),
}

# Statuses in which the worker has not finished with the entry yet.
PENDING = frozenset({EntryStatus.checking, EntryStatus.submitted, EntryStatus.processing})

# Extension of the stored original, by the format read from its content.
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "heif": "heic", "mp4": "mp4", "mov": "mov"}
# The job that processes a new entry, by its category's kind.
JOB_KINDS = {
    CategoryKind.photo: JobKind.photo,
    CategoryKind.photo_series: JobKind.photo_series,
    CategoryKind.video: JobKind.video,
}


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
    files: Sequence[UploadedFile],
    title_en: str = "",
    description_en: str = "",
) -> Entry:
    """Check, store and queue a new entry; raises SubmissionRefused or MediaRejected.

    ``files`` holds one photo, the photos of a series in the entrant's order, or one video,
    as the category's kind asks. Every file is checked, then stored, before any row is
    written (on PostgreSQL the entry code's counter row stays locked until the commit, and
    the uploads should not be inside that); if anything fails, what was stored is deleted.
    """
    lock_author(session, author)
    check_can_submit(session, author, contest, category)
    checked = check_files(category, files)
    keys: list[str] = []
    try:
        for item in checked:
            keys.append(store_original(contest, item))
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
        for position, (item, key) in enumerate(zip(checked, keys, strict=True)):
            entry.assets.append(original_asset(item, key, position))
        session.add(entry)
        session.flush()
        entry.transition(EntryStatus.submitted)
        entry.submitted_at = entry.declarations_accepted_at = now_utc()
        create_job(session, entry, JOB_KINDS[category.kind])
        tell_received(session, entry)
    except BaseException:
        discard_objects(keys)
        raise
    return entry


def store_original(contest: Contest, item: CheckedFile) -> str:
    """Stream the file to storage under a new private key; returns the key."""
    key = new_key(f"originals/{contest.slug}", "." + EXTENSIONS[item.format])
    with open(item.upload.path, "rb") as source:
        get_storage().save(key, source, content_type=item.mime_type)
    return key


def original_asset(item: CheckedFile, key: str, position: int) -> MediaAsset:
    return MediaAsset(
        kind=AssetKind.original,
        position=position,
        storage_key=key,
        mime_type=item.mime_type,
        width=item.width,
        height=item.height,
        duration_s=item.duration_s,
        bytes=item.bytes,
        original_filename=display_filename(item.upload.filename),
    )


def lock_author(session: Session, author: User) -> None:
    # One submission at a time per person, so two at once cannot both pass the limits.
    session.execute(select(User.id).where(User.id == author.id).with_for_update())


def stored_keys(entry: Entry) -> list[str]:
    return [asset.storage_key for asset in entry.assets]


def discard_objects(keys: list[str]) -> None:
    """Delete stored objects whose rows will not exist; a failure is logged, never raised."""
    storage = get_storage()
    for key in keys:
        try:
            delete_with_copy(storage, key)
        except StorageError:
            log.warning("could not delete %s; the object is left behind", key, exc_info=True)


# --- changing an entry -----------------------------------------------------------------------
def may_edit(entry: Entry) -> bool:
    return entry.contest.submission_open() and entry.is_editable and not edits_closed(entry)


def may_withdraw(entry: Entry) -> bool:
    """Whether the entrant may withdraw the entry now. Not a rejected one: it keeps its place
    under the limits (deleting the account withdraws it, contest.auth.account_services)."""
    return (
        entry.contest.submission_open()
        and entry.status is not EntryStatus.rejected
        and EntryStatus.withdrawn in TRANSITIONS[entry.status]
    )


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
    return rendition_url(asset.storage_key, public=entry.media_is_public) if asset else None


def preview_kinds(entry: Entry) -> tuple[AssetKind, AssetKind]:
    """The (WebP, JPEG) preview of the entry: a video's poster, else its first photo's thumbnail."""
    if entry.category.kind is CategoryKind.video:
        return AssetKind.poster_webp, AssetKind.poster_jpeg
    return AssetKind.thumb_webp, AssetKind.thumb_jpeg


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
    def kind(self) -> str:
        """The category's kind: "photo", "photo_series" or "video"."""
        return self.entry.category.kind.value

    @property
    def photo_count(self) -> int:
        return len(self.entry.originals())

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
    webp, jpeg = preview_kinds(entry)
    return EntryCard(
        entry=entry,
        job_state=job_state,
        thumb_webp_url=_asset_url(entry, webp) if shown else None,
        thumb_jpeg_url=_asset_url(entry, jpeg) if shown else None,
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
        "thumb_url": _asset_url(entry, preview_kinds(entry)[1]) if shown else None,
    }
