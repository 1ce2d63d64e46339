"""What goes into the ZIP of the winners' originals, and under which names.

Each award's entry contributes its original files as ``<prize>/<category>/<code>[-n].<ext>``:
folder names made ASCII from the prizes' and categories' Vietnamese names ("Giải Nhất" ->
``giai-nhat``), ``-n`` numbering the works of a series.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contest.contests.models import Category
from contest.entries.models import Entry, MediaAsset
from contest.results.prizes import Award, PrizeSlot

_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "video/mp4": ".mp4"}


@dataclass(frozen=True)
class ZipItem:
    name: str  # the path inside the ZIP
    storage_key: str
    code: str
    bytes: int  # as recorded at the upload: the progress bar's total
    modified: datetime  # when the original was stored (the ZIP's file time)


def slug(text: str) -> str:
    """ASCII letters, digits and dashes: "Ảnh đơn - Phong cảnh" -> ``anh-don-phong-canh``."""
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = plain.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def folder(name_vi: str, name_en: str, fallback: str) -> str:
    return slug(name_vi) or slug(name_en) or fallback


def extension(asset: MediaAsset) -> str:
    """The original's own extension when it is a plain one (``.JPG`` -> ``.jpg``), else its type's."""
    suffix = PurePosixPath(asset.original_filename or "").suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        return suffix
    return _EXTENSIONS.get(asset.mime_type) or mimetypes.guess_extension(asset.mime_type) or ".bin"


def entry_files(prefix: str, entry: Entry) -> list[ZipItem]:
    originals = entry.originals()
    numbered = len(originals) > 1
    return [
        ZipItem(
            name=f"{prefix}/{entry.code}{f'-{n}' if numbered else ''}{extension(asset)}",
            storage_key=asset.storage_key,
            code=entry.code,
            bytes=asset.bytes,
            modified=asset.created_at,
        )
        for n, asset in enumerate(originals, start=1)
    ]


def zip_items(session: Session, contest_id: int) -> list[ZipItem]:
    """The winners' originals, by prize (in the slots' order), category and place."""
    rows = session.execute(
        select(Award, PrizeSlot, Entry, Category)
        .join(PrizeSlot, PrizeSlot.id == Award.slot_id)
        .join(Entry, Entry.id == Award.entry_id)
        .join(Category, Category.id == Entry.category_id)
        .where(PrizeSlot.contest_id == contest_id)
        .order_by(PrizeSlot.position, PrizeSlot.id, Award.place, Entry.code)
        .options(selectinload(Entry.assets))
    ).all()
    items: list[ZipItem] = []
    for _award, slot, entry, category in rows:
        prize = folder(slot.name_vi, slot.name_en, f"prize-{slot.id}")
        group = folder(category.name_vi, category.name_en, category.slug)
        items.extend(entry_files(f"{prize}/{group}", entry))
    return _unique(items)


def _unique(items: list[ZipItem]) -> list[ZipItem]:
    """One file per name: two prizes whose names read alike keep both files (``-b``, ``-c`` ...)."""
    seen: set[str] = set()
    unique = []
    for item in items:
        name, letter = item.name, ord("b")
        while name in seen:
            stem, dot, ext = item.name.rpartition(".")
            name, letter = f"{stem}-{chr(letter)}{dot}{ext}", letter + 1
        seen.add(name)
        unique.append(replace(item, name=name))
    return unique
