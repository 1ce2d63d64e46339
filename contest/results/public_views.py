"""The public results page, /results: the winners per category and prize, once published.

Before publication it says so (404: there is no such page yet) and names no prize: it reads
the awards only through contest.results.publication.public_awards, as every public page does.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from contest.contests.models import Contest, current_contest
from contest.entries.models import Entry
from contest.extensions import db
from contest.gallery import pictures
from contest.results.publication import PublicPrize, public_awards

bp = Blueprint("results_public", __name__)


@dataclass(frozen=True)
class Winner:
    prize: PublicPrize
    entry: Entry
    photos: list
    poster: object
    videos: list


@dataclass(frozen=True)
class CategoryResults:
    name: str
    winners: list[Winner]


@bp.get("/results")
def index():
    contest = current_contest(db.session) or abort(404)
    found = public_awards(db.session, contest.id)
    if not found:
        return render_template("results/not_published.html", contest=contest), 404
    return render_template("results/public.html", contest=contest, sections=_sections(contest, found))


def _sections(contest: Contest, found: dict[int, list[PublicPrize]]) -> list[CategoryResults]:
    """Per category (contest-wide prizes last), its winners in prize and place order."""
    entries = {
        e.id: e
        for e in db.session.scalars(
            select(Entry)
            .where(Entry.id.in_(found))
            .options(selectinload(Entry.assets), selectinload(Entry.author))
        )
    }
    winners = [_winner(prize, entries[entry_id]) for entry_id, prizes in found.items() for prize in prizes]
    winners.sort(key=lambda w: (w.prize.position, w.prize.slot_id, w.prize.place, w.entry.code))
    sections = []
    for category in contest.categories:
        mine = [w for w in winners if w.prize.category_id == category.id]
        if mine:
            sections.append(CategoryResults(category.name, mine))
    wide = [w for w in winners if w.prize.category_id is None]
    if wide:
        sections.append(CategoryResults(contest.title, wide))
    return sections


def _winner(prize: PublicPrize, entry: Entry) -> Winner:
    shown = entry.media_is_public
    positions = sorted({a.position for a in entry.assets if a.is_public})
    photos = [p for p in (pictures.picture(entry.assets, i, public=shown) for i in positions) if p]
    poster = pictures.picture(entry.assets, 0, pictures.POSTER_LADDER, public=shown)
    return Winner(prize, entry, photos, poster, pictures.video_sources(entry.assets, public=shown))
