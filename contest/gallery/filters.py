"""The visitor's gallery request, checked: category, place, search text, order and page.

What the query string asks is read into a GalleryFilter before anything else, with unknown
or forbidden values falling back to defaults: it is hashable and part of every cache key.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from contest.gallery.public_contest import GalleryCategory, GalleryContest, GalleryPlace

LAST_PAGE = 10_000
SEARCH_MAX_CHARS = 100


class Sort(enum.StrEnum):
    random = "random"
    newest = "newest"
    votes = "votes"


@dataclass(frozen=True)
class GalleryFilter:
    """What the visitor asked for, checked against the contest (hashable: a cache key)."""

    category_id: int | None = None
    place_id: int | None = None
    q: str = ""
    sort: Sort = Sort.random
    page: int = 1


def find_category(contest: GalleryContest, value: str | None) -> GalleryCategory | None:
    """The contest's category named by slug or by id; None when unknown or empty."""
    value = (value or "").strip()
    return next((c for c in contest.categories if value in (c.slug, str(c.id))), None) if value else None


def find_place(contest: GalleryContest, code: str | None) -> GalleryPlace | None:
    code = (code or "").strip().lower()
    return next((p for p in contest.places if p.code == code), None) if code else None


def normalize_query(q: str | None) -> str:
    return " ".join((q or "").split())[:SEARCH_MAX_CHARS]


def choose_sort(value: str | None, counts_visible: bool) -> Sort:
    """The asked order; "votes" only while counts are public (it would reveal them)."""
    try:
        sort = Sort(value or Sort.random)
    except ValueError:
        return Sort.random
    return Sort.random if sort is Sort.votes and not counts_visible else sort


def gallery_filter(
    contest: GalleryContest,
    *,
    category: str | None,
    place: str | None,
    q: str | None,
    sort: str | None,
    page: int | None,
    counts_visible: bool,
) -> GalleryFilter:
    found_category, found_place = find_category(contest, category), find_place(contest, place)
    return GalleryFilter(
        category_id=found_category.id if found_category else None,
        place_id=found_place.id if found_place else None,
        q=normalize_query(q),
        sort=choose_sort(sort, counts_visible),
        page=min(max(page or 1, 1), LAST_PAGE),
    )
