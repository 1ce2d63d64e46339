"""What the moderation queue shows of an entry's work: the full-size picture(s) or the video.

An approved entry's renditions are public; any other entry's are shown from their private
copies through signed URLs (contest.media.publication), never at a public key. The file as
uploaded is offered as its jury copy (the metadata that can name the author taken out), signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contest.contests.models import CategoryKind
from contest.entries.models import AssetKind, Entry
from contest.gallery import pictures
from contest.storage import get_storage


@dataclass(frozen=True)
class ReviewMedia:
    photos: list[pictures.Picture] = field(default_factory=list)
    videos: list[pictures.VideoSource] = field(default_factory=list)
    poster: pictures.Picture | None = None
    originals: list[str] = field(default_factory=list)  # signed URLs of the jury copies


def review_media(entry: Entry) -> ReviewMedia:
    public = entry.media_is_public
    if entry.category.kind is CategoryKind.video:
        return ReviewMedia(
            videos=pictures.video_sources(entry.assets, public=public),
            poster=pictures.picture(entry.assets, 0, pictures.POSTER_LADDER, public=public),
            originals=_originals(entry),
        )
    positions = sorted({a.position for a in entry.assets if a.kind is AssetKind.display_jpeg})
    photos = [pictures.picture(entry.assets, n, public=public) for n in positions]
    return ReviewMedia(photos=[p for p in photos if p is not None], originals=_originals(entry))


def _originals(entry: Entry) -> list[str]:
    storage = get_storage()
    copies = [entry.asset(AssetKind.jury_original, o.position) for o in entry.originals()]
    return [storage.url(copy.storage_key) for copy in copies if copy is not None]
