"""Hints for the organizers: duplicates across the contest, EXIF and GPS eligibility hints.

A flag never rejects an entry nor changes its status; it only asks an organizer to look.
``record_flags`` runs when an entry's media is processed (worker.jobs.base.MediaAttempt.finish),
from what the worker recorded on the originals: ``sha256``, ``phash``, ``details["exif"]`` and
``details["gps"]`` (contest.entries.gps, which also sets the entry's ``gps_check`` then).

Duplicates are flagged once per pair, on the newer entry (higher id), pointing to the
older one: the later upload is the one to question, and the pair is shown together on the
organizers' page. Whichever of the two is processed last writes the flag, so the order in
which the worker finishes them does not matter.

Near duplicates: the 64-bit difference hashes (worker.inspect) of two photos differ in at
most NEAR_DUPLICATE_BITS bits. Measured on real 5120x2880 photographs: the same photo
resized, recompressed, slightly brightened or cropped by 3-5 % lies 0 to 10 bits away;
17 different real photographs lie 16 bits or more apart from each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session, selectinload

from contest.entries.gps import gps_flags, record_gps_check
from contest.entries.models import AssetKind, Entry, EntryFlag, EntryStatus, FlagKind, MediaAsset
from contest.media.publication import rendition_url

NEAR_DUPLICATE_BITS = 10
DUPLICATE_KINDS = (FlagKind.exact_duplicate, FlagKind.near_duplicate)
# Names in the EXIF Software tag of programs that edit pixels; a camera's own firmware
# (e.g. "Ver.1.00", an iOS version, "HDR+ 1.0") is not an editor and is not flagged.
EDITING_SOFTWARE = (
    "photoshop",
    "lightroom",
    "snapseed",
    "gimp",
    "affinity",
    "capture one",
    "luminar",
    "darktable",
    "rawtherapee",
    "pixelmator",
    "picsart",
    "vsco",
    "facetune",
    "meitu",
    "paintshop",
    "paint.net",
    "photoscape",
    "dxo",
    "topaz",
    "canva",
    "fotor",
    "acdsee",
    "on1 photo",
)

FLAG_LABELS = {
    FlagKind.exact_duplicate: _l("Same file as another entry"),
    FlagKind.near_duplicate: _l("Looks like another entry's photo"),
    FlagKind.taken_outside_window: _l("Taken outside the contest's dates"),
    FlagKind.edited_with_software: _l("Edited with software"),
    FlagKind.gps_outside_province: _l("GPS outside Nghệ An"),
}


@dataclass(frozen=True)
class _Photo:
    """One original of another entry of the contest, as the duplicate search reads it."""

    entry_id: int
    position: int
    fingerprint: str  # sha256 or phash


def record_flags(session: Session, entry: Entry) -> list[EntryFlag]:
    """Work out the entry's flags again from its originals; returns the flags written.

    Idempotent: the entry's flags, and the duplicate flags of newer entries that point to
    it, are deleted and written again, so running twice leaves the same rows.
    """
    session.execute(
        delete(EntryFlag).where(
            or_(
                EntryFlag.entry_id == entry.id,
                and_(EntryFlag.other_entry_id == entry.id, EntryFlag.kind.in_(DUPLICATE_KINDS)),
            )
        )
    )
    originals = entry.originals()
    record_gps_check(entry, originals)
    flags = [*duplicate_flags(session, entry, originals), *exif_flags(entry, originals)]
    flags = _unique([*flags, *gps_flags(entry, originals)])
    session.add_all(flags)
    session.flush()
    return flags


# --- duplicates -------------------------------------------------------------------------------
def duplicate_flags(session: Session, entry: Entry, originals: Sequence[MediaAsset]) -> list[EntryFlag]:
    exact = _exact_matches(session, entry, originals)
    near = _near_matches(session, entry, originals)
    flags = [
        _pair_flag(entry, position, FlagKind.exact_duplicate, other, {"sha256": original_sha})
        for position, other, original_sha in exact
    ]
    exact_pairs = {(position, other.entry_id, other.position) for position, other, _ in exact}
    flags += [
        _pair_flag(entry, position, FlagKind.near_duplicate, other, {"distance": distance})
        for position, other, distance in near
        if (position, other.entry_id, other.position) not in exact_pairs
    ]
    return flags


def _others(entry: Entry, column):
    """(entry id, position, ``column``) of the originals of the contest's other live entries."""
    return (
        select(MediaAsset.entry_id, MediaAsset.position, column)
        .join(Entry, Entry.id == MediaAsset.entry_id)
        .where(
            Entry.contest_id == entry.contest_id,
            Entry.id != entry.id,
            Entry.status != EntryStatus.withdrawn,
            MediaAsset.kind == AssetKind.original,
            column.is_not(None),
        )
    )


def _exact_matches(
    session: Session, entry: Entry, originals: Sequence[MediaAsset]
) -> list[tuple[int, _Photo, str]]:
    wanted = {o.sha256: o.position for o in originals if o.sha256}
    if not wanted:
        return []
    rows = session.execute(_others(entry, MediaAsset.sha256).where(MediaAsset.sha256.in_(list(wanted))))
    return [(wanted[sha], _Photo(entry_id, position, sha), sha) for entry_id, position, sha in rows]


def _near_matches(
    session: Session, entry: Entry, originals: Sequence[MediaAsset]
) -> list[tuple[int, _Photo, int]]:
    mine = [o for o in originals if o.phash]
    if not mine:
        return []
    # One query for the whole contest, then a popcount scan in Python: about 20 ms for
    # 20,000 photos, and no per-pair query.
    others = [_Photo(*row) for row in session.execute(_others(entry, MediaAsset.phash))]
    return [
        (original.position, other, distance)
        for original in mine
        for other, distance in near_duplicates(original.phash, others)
    ]


def near_duplicates(
    phash: str, photos: Iterable[_Photo], max_bits: int = NEAR_DUPLICATE_BITS
) -> list[tuple[_Photo, int]]:
    """The photos whose hash lies at most ``max_bits`` bits from ``phash``, with the distance."""
    target = int(phash, 16)
    found = []
    for photo in photos:
        distance = (target ^ int(photo.fingerprint, 16)).bit_count()
        if distance <= max_bits:
            found.append((photo, distance))
    return found


def _pair_flag(entry: Entry, position: int, kind: FlagKind, other: _Photo, details: dict) -> EntryFlag:
    """The flag of a duplicate pair, on the newer of the two entries."""
    if entry.id > other.entry_id:
        return EntryFlag(
            entry_id=entry.id,
            position=position,
            kind=kind,
            other_entry_id=other.entry_id,
            details={**details, "other_position": other.position},
        )
    return EntryFlag(
        entry_id=other.entry_id,
        position=other.position,
        kind=kind,
        other_entry_id=entry.id,
        details={**details, "other_position": position},
    )


# --- EXIF hints -------------------------------------------------------------------------------
def exif_flags(entry: Entry, originals: Sequence[MediaAsset]) -> list[EntryFlag]:
    flags = []
    for original in originals:
        exif = exif_of(original)
        camera = {"camera_make": exif.get("camera_make"), "camera_model": exif.get("camera_model")}
        outside = _outside_window(
            exif.get("date_taken"), entry.category.works_from, entry.category.works_until
        )
        if outside:
            details = {**outside, "declared_taken_on": entry.taken_on.isoformat(), **camera}
            flags.append(_flag(entry, original.position, FlagKind.taken_outside_window, details))
        software = exif.get("software")
        if editing_software(software):
            details = {"software": software, **camera}
            flags.append(_flag(entry, original.position, FlagKind.edited_with_software, details))
    return flags


def exif_of(original: MediaAsset) -> dict:
    exif = (original.details or {}).get("exif")
    return exif if isinstance(exif, dict) else {}


def editing_software(software: object) -> bool:
    if not isinstance(software, str):
        return False
    name = software.lower()
    return any(editor in name for editor in EDITING_SOFTWARE)


def _outside_window(taken: object, works_from: date | None, works_until: date | None) -> dict | None:
    """The window's details when the EXIF date falls outside it, else None."""
    if not isinstance(taken, str) or (works_from is None and works_until is None):
        return None
    try:
        day = datetime.fromisoformat(taken).date()  # the camera's own calendar day
    except ValueError:
        return None
    if (works_from and day < works_from) or (works_until and day > works_until):
        return {
            "date_taken": taken,
            "works_from": works_from.isoformat() if works_from else None,
            "works_until": works_until.isoformat() if works_until else None,
        }
    return None


def _flag(entry: Entry, position: int, kind: FlagKind, details: dict) -> EntryFlag:
    return EntryFlag(entry_id=entry.id, position=position, kind=kind, details=details)


def _unique(flags: list[EntryFlag]) -> list[EntryFlag]:
    """One flag per (entry, position, kind, other entry): the closest match wins."""
    chosen: dict[tuple, EntryFlag] = {}
    for flag in flags:
        key = (flag.entry_id, flag.position, flag.kind, flag.other_entry_id)
        if key not in chosen or _distance(flag) < _distance(chosen[key]):
            chosen[key] = flag
    return list(chosen.values())


def _distance(flag: EntryFlag) -> int:
    return (flag.details or {}).get("distance", 0)


# --- the organizers' review -------------------------------------------------------------------
@dataclass(frozen=True)
class FlaggedEntry:
    """An entry and its flags, as the organizers' page shows them."""

    entry: Entry
    flags: list[EntryFlag]


@dataclass(frozen=True)
class FlagPage:
    entries: list[FlaggedEntry]
    page: int
    has_next: bool


def flagged_entries(
    session: Session, contest_id: int, kind: FlagKind | None = None, page: int = 1, per_page: int = 50
) -> FlagPage:
    """The contest's live flagged entries, newest first, ``per_page`` at a time."""
    flagged = (
        select(EntryFlag.entry_id)
        .join(Entry, Entry.id == EntryFlag.entry_id)
        .where(Entry.contest_id == contest_id, Entry.status != EntryStatus.withdrawn)
        .distinct()
    )
    if kind is not None:
        flagged = flagged.where(EntryFlag.kind == kind)
    ids = list(
        session.scalars(
            flagged.order_by(EntryFlag.entry_id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
        )
    )
    has_next, ids = len(ids) > per_page, ids[:per_page]
    query = (
        select(EntryFlag)
        .where(EntryFlag.entry_id.in_(ids))
        .options(
            selectinload(EntryFlag.entry).selectinload(Entry.assets),
            selectinload(EntryFlag.other_entry).selectinload(Entry.assets),
        )
        .order_by(EntryFlag.entry_id.desc(), EntryFlag.position, EntryFlag.kind, EntryFlag.other_entry_id)
    )
    if kind is not None:
        query = query.where(EntryFlag.kind == kind)
    groups: dict[int, FlaggedEntry] = {}
    for flag in session.scalars(query):
        groups.setdefault(flag.entry_id, FlaggedEntry(flag.entry, [])).flags.append(flag)
    return FlagPage(list(groups.values()), page, has_next)


def thumb_url(entry: Entry, position: int = 0) -> str | None:
    """The small public image of one work of ``entry`` (a photo's thumbnail, a video's poster)."""
    for kind in (AssetKind.thumb_jpeg, AssetKind.poster_jpeg):
        asset = entry.asset(kind, position)
        if asset is not None:
            return rendition_url(asset.storage_key, public=entry.media_is_public)
    return None


def as_date(value: object) -> date | None:
    """The calendar day of an ISO date or date-time string (EXIF hints, category window)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None
