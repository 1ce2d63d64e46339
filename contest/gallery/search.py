"""Which approved entries a gallery filter finds: its category and place, and its search.

A search finds entries whose title (Vietnamese or English) or author's name contains the
text, or, when the text is an entry's code (HNA25-0123), that entry alone. The statements
select what a card shows, as plain rows (SQLAlchemy Core): the gallery builds no ORM object
it does not show.
"""

from __future__ import annotations

import re

from sqlalchemy import Select, func, select, union
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.entries.models import Entry, EntryStatus
from contest.gallery.filters import GalleryFilter, normalize_query

_CODE_RE = re.compile(r"^[A-Za-z0-9]{1,12}-\d{1,8}$")


def looks_like_code(q: str) -> bool:
    return bool(_CODE_RE.match(normalize_query(q)))


def approved_entries(contest_id: int, flt: GalleryFilter) -> Select:
    """Approved entries of the contest and the filters: what a card shows, in one join."""
    stmt = (
        select(
            Entry.id,
            Entry.code,
            Entry.title,
            Entry.title_en,
            User.full_name,
            Entry.category_id,
            Entry.place_id,
            Entry.vote_count,
        )
        .join(User, User.id == Entry.author_id)
        .where(Entry.contest_id == contest_id, Entry.status == EntryStatus.approved)
    )
    if flt.category_id is not None:
        stmt = stmt.where(Entry.category_id == flt.category_id)
    if flt.place_id is not None:
        stmt = stmt.where(Entry.place_id == flt.place_id)
    return stmt


def _text_search(stmt: Select, q: str) -> Select:
    """Entries whose title, English title or author's name contains ``q`` (any case).

    Each side is its own subquery on ``lower(entries.title)``, ``lower(entries.title_en)`` /
    ``lower(users.full_name)``, the expressions of the trigram indexes (migrations 0004, 0018)
    that PostgreSQL then uses; one OR across the join would read every approved entry instead.
    """
    pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    titles = select(Entry.id).where(func.lower(Entry.title).like(pattern, escape="\\"))
    english_titles = select(Entry.id).where(func.lower(Entry.title_en).like(pattern, escape="\\"))
    authors = (
        select(Entry.id)
        .join(User, User.id == Entry.author_id)
        .where(func.lower(User.full_name).like(pattern, escape="\\"))
    )
    return stmt.where(Entry.id.in_(union(titles, english_titles, authors).subquery().select()))


def matching_entries(contest_id: int, flt: GalleryFilter) -> Select:
    """The approved entries the filters find, their search text included."""
    stmt = approved_entries(contest_id, flt)
    return _text_search(stmt, flt.q) if flt.q else stmt


def exact_code(session: Session, contest_id: int, flt: GalleryFilter) -> list:
    """The filters' entry whose code the search text is (any case); empty when there is none."""
    if not (flt.q and looks_like_code(flt.q)):
        return []
    return session.execute(approved_entries(contest_id, flt).where(Entry.code == flt.q.upper())).all()
