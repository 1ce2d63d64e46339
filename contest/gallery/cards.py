"""A gallery card's content: names in the visitor's language, photo count and preview picture.

Cards are made only for the rows of a page whose kept card fragment is missing, with the
renditions of all of them read in one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from contest.entries.models import AssetKind, MediaAsset
from contest.entries.texts import LocalText, in_language, localized
from contest.gallery import pictures
from contest.gallery.listing import CardRow
from contest.gallery.pictures import Picture
from contest.gallery.public_contest import GalleryContest

# The renditions a card needs: thumbnails of every photo (their number is a series' photo
# count), the first display image (the srcset's large candidate) and a video's poster.
_CARD_ASSETS = or_(
    MediaAsset.kind.in_(
        (AssetKind.thumb_jpeg, AssetKind.thumb_webp, AssetKind.poster_jpeg, AssetKind.poster_webp)
    ),
    and_(MediaAsset.kind.in_((AssetKind.display_jpeg, AssetKind.display_webp)), MediaAsset.position == 0),
)


@dataclass(frozen=True)
class GalleryCard:
    code: str
    title: LocalText  # in the visitor's language, else the Vietnamese one (marked as such)
    author_name: str
    category_name: str
    place_name: LocalText
    kind: str
    photo_count: int
    vote_count: int | None
    picture: Picture | None


def gallery_cards(
    session: Session, contest: GalleryContest, rows: Iterable[CardRow]
) -> dict[int, GalleryCard]:
    """The cards of ``rows`` by entry id, in the current language, with their renditions
    read in one query (plain rows: the picture needs six columns of a few assets)."""
    rows = list(rows)
    assets = defaultdict(list)
    if rows:
        found = session.execute(
            select(
                MediaAsset.entry_id,
                MediaAsset.kind,
                MediaAsset.position,
                MediaAsset.label,
                MediaAsset.storage_key,
                MediaAsset.width,
                MediaAsset.height,
            ).where(MediaAsset.entry_id.in_([r.id for r in rows]), _CARD_ASSETS)
        )
        for asset in found:
            assets[asset.entry_id].append(asset)
    return {row.id: _card(contest, row, assets[row.id]) for row in rows}


def _card(contest: GalleryContest, row: CardRow, assets: list) -> GalleryCard:
    category = contest.category(row.category_id)
    return GalleryCard(
        code=row.code,
        title=in_language({"vi": row.title, "en": row.title_en}),
        author_name=row.author_name,
        category_name=category.name,
        place_name=localized(contest.place(row.place_id), "name"),
        kind=category.kind.value,
        photo_count=pictures.photo_count(assets),
        vote_count=row.vote_count,
        picture=pictures.preview(category.kind, assets),
    )
