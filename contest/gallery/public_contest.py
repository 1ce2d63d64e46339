"""The current contest as the gallery shows it: a plain, shareable copy of its public face.

Every gallery request reads the contest's title, categories and places; an ORM object never
outlives its session, so a frozen copy is kept a few seconds per process instead, keyed by
the contest's public version (contest.gallery.versions) so that nothing outlives a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from contest.contests.models import (
    CategoryKind,
    Contest,
    VoteCountDisplay,
    _localized,
    current_public_version,
)
from contest.gallery.cache import TTLCache


@dataclass(frozen=True)
class GalleryCategory:
    id: int
    slug: str
    kind: CategoryKind
    name_vi: str
    name_en: str

    @property
    def name(self) -> str:
        return _localized(self, "name")


@dataclass(frozen=True)
class GalleryPlace:
    id: int
    code: str
    name_vi: str
    name_en: str

    @property
    def name(self) -> str:
        return _localized(self, "name")


@dataclass(frozen=True)
class GalleryContest:
    """The current contest's public face: a plain copy that the requests of one process share
    for a few seconds (an ORM object never outlives its session)."""

    id: int
    title_vi: str
    title_en: str
    vote_counts: VoteCountDisplay
    voting_closes_at: datetime
    categories: tuple[GalleryCategory, ...]
    places: tuple[GalleryPlace, ...]
    # The names cards and the filter form show, as one number (part of their cache keys:
    # an organizer's renaming makes new ones).
    names: int
    # The contest's public_version when this copy was made (contest.gallery.versions): part
    # of the key of everything kept of the gallery, so nothing outlives a change.
    version: int

    @property
    def title(self) -> str:
        return _localized(self, "title")

    def vote_counts_visible(self, at: datetime | None = None) -> bool:
        # The contest's own rule, applied to this copy of the fields it reads.
        return Contest.vote_counts_visible(self, at)  # type: ignore[arg-type]

    def category(self, category_id: int) -> GalleryCategory:
        return next(c for c in self.categories if c.id == category_id)

    def place(self, place_id: int) -> GalleryPlace:
        return next(p for p in self.places if p.id == place_id)


def gallery_contest(contest: Contest, version: int) -> GalleryContest:
    categories = tuple(
        GalleryCategory(c.id, c.slug, c.kind, c.name_vi, c.name_en) for c in contest.categories
    )
    places = tuple(GalleryPlace(p.id, p.code, p.name_vi, p.name_en) for p in contest.places)
    return GalleryContest(
        id=contest.id,
        title_vi=contest.title_vi,
        title_en=contest.title_en,
        vote_counts=contest.vote_counts,
        voting_closes_at=contest.voting_closes_at,
        categories=categories,
        places=places,
        names=hash((categories, places)),
        version=version,
    )


def current_gallery_contest(
    cache: TTLCache, session: Session, *, check_s: float, keep_s: float
) -> GalleryContest | None:
    """The current contest (contest.contests.models.current_contest) as the gallery shows it.

    Which contest is current and its public version are read again every ``check_s``
    seconds (one small query); the contest's copy is kept while that version holds, for
    ``keep_s`` at most.
    """
    found = cache.get_or_compute("current_public_version", check_s, lambda: current_public_version(session))
    if found is None:
        return None
    contest_id, version = found

    def load() -> GalleryContest | None:
        contest = session.get(Contest, contest_id)
        return gallery_contest(contest, version) if contest is not None else None

    return cache.get_or_compute(("gallery_contest", contest_id, version), keep_s, load)
