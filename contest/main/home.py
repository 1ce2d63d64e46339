"""What the home page shows: the featured photograph, the phase, prizes, categories, recent entries.

Everything here is public: approved entries' public renditions, the prize slots (their
names, never who won before the results are published), dates. The page is kept for
anonymous visitors like the gallery's (contest.gallery.cache), so nothing here depends on
the visitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, joinedload, selectinload

from contest.audit.services import record
from contest.contests.models import Category, CategoryKind, Contest
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.gallery import pictures
from contest.gallery.pictures import Picture
from contest.main.phase import PhaseNow, phase_now, seconds_until_change
from contest.results.awards import contest_slots
from contest.results.publication import is_published

RECENT_ENTRIES = 8
PHOTO_KINDS = (CategoryKind.photo, CategoryKind.photo_series)
# Small pictures (a category's sample, the recent strip): the thumbnail only, a video's poster.
THUMB_LADDER = ((AssetKind.thumb_webp, AssetKind.thumb_jpeg),)


class FeatureRefused(ValueError):
    """Only an approved entry of the contest can be featured."""


@dataclass(frozen=True)
class Shown:
    """An entry as a picture on the home page."""

    entry: Entry
    picture: Picture


@dataclass(frozen=True)
class PrizeLine:
    name: str
    count: int


@dataclass(frozen=True)
class HomeCategory:
    category: Category
    sample: Shown | None
    prizes: list[PrizeLine]


@dataclass(frozen=True)
class HomePage:
    contest: Contest
    phase: PhaseNow
    now: datetime
    featured: Shown | None
    categories: list[HomeCategory]
    wide_prizes: list[PrizeLine]  # contest-wide: monthly, audience over every category
    recent: list[Shown]
    lives_s: float | None  # until the phase may change: the kept page must not outlive it


def home_page(session: Session, contest: Contest, now: datetime) -> HomePage:
    counts_visible = contest.vote_counts_visible(now)
    slots = contest_slots(session, contest.id)
    return HomePage(
        contest=contest,
        phase=phase_now(contest, is_published(session, contest.id, now), now),
        now=now,
        featured=featured(session, contest, counts_visible),
        categories=[
            HomeCategory(c, category_sample(session, c), _prize_lines(slots, c.id))
            for c in contest.categories
        ],
        wide_prizes=_prize_lines(slots, None),
        recent=recent(session, contest.id),
        lives_s=seconds_until_change(contest, now),
    )


# --- the featured photograph -----------------------------------------------------------------
def featured(session: Session, contest: Contest, counts_visible: bool) -> Shown | None:
    """The organizers' choice while it is approved, else the best approved photograph: the
    most voted while counts are public (otherwise that would tell them), else the first approved."""
    chosen = session.get(Entry, contest.featured_entry_id) if contest.featured_entry_id else None
    if chosen is not None and _featurable(chosen, contest):
        shown = _shown(chosen, pictures.preview(chosen.category.kind, chosen.assets))
        if shown is not None:
            return shown
    order = (Entry.rank_votes.desc(),) if counts_visible else ()  # the indexed copy of the counts
    query = (
        _public(contest.id)
        .join(Category, Category.id == Entry.category_id)
        .where(Category.kind.in_(PHOTO_KINDS), _has(AssetKind.display_jpeg))
        .order_by(*order, Entry.approved_at, Entry.id)
    )
    best = session.scalars(query.limit(1)).first()
    return _shown(best, pictures.picture(best.assets)) if best is not None else None


def _featurable(entry: Entry, contest: Contest) -> bool:
    return entry.contest_id == contest.id and entry.status is EntryStatus.approved


def feature(session: Session, contest: Contest, entry: Entry | None, actor) -> None:
    """Show ``entry`` large on the home page (None: let the page choose); audited."""
    if entry is not None and not _featurable(entry, contest):
        raise FeatureRefused(entry.code)
    before = contest.featured_entry_id
    contest.featured_entry_id = entry.id if entry is not None else None
    record(
        session,
        actor_id=actor.id,
        action="entry.featured" if entry is not None else "entry.unfeatured",
        subject_type="entry",
        subject_id=entry.id if entry is not None else before,
        contest_id=contest.id,
    )
    session.flush()


# --- categories and recent entries -----------------------------------------------------------
def category_sample(session: Session, category: Category) -> Shown | None:
    """The category's newest approved entry that has a small picture."""
    small = AssetKind.poster_jpeg if category.kind is CategoryKind.video else AssetKind.thumb_jpeg
    query = _public(category.contest_id).where(Entry.category_id == category.id, _has(small))
    entry = session.scalars(query.order_by(Entry.approved_at.desc(), Entry.id.desc()).limit(1)).first()
    return _shown(entry, _small_picture(entry)) if entry is not None else None


def recent(session: Session, contest_id: int, limit: int = RECENT_ENTRIES) -> list[Shown]:
    query = _public(contest_id).order_by(Entry.approved_at.desc(), Entry.id.desc()).limit(limit)
    found = (_shown(e, _small_picture(e)) for e in session.scalars(query))
    return [shown for shown in found if shown is not None]


def _small_picture(entry: Entry) -> Picture | None:
    ladder = pictures.POSTER_LADDER if entry.category.kind is CategoryKind.video else THUMB_LADDER
    return pictures.picture(entry.assets, 0, ladder)


def _public(contest_id: int) -> Select:
    return (
        select(Entry)
        .where(Entry.contest_id == contest_id, Entry.status == EntryStatus.approved)
        .options(selectinload(Entry.assets), joinedload(Entry.category), joinedload(Entry.author))
    )


def _has(kind: AssetKind):
    return exists().where(MediaAsset.entry_id == Entry.id, MediaAsset.kind == kind, MediaAsset.position == 0)


def _shown(entry: Entry, picture: Picture | None) -> Shown | None:
    return Shown(entry, picture) if picture is not None else None


def _prize_lines(slots, category_id: int | None) -> list[PrizeLine]:
    return [PrizeLine(s.name, s.count) for s in slots if s.category_id == category_id]
