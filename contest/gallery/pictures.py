"""What the public pages show of an entry's renditions: <picture> sources, video sources.

Every URL comes from the storage (presigned on S3), so nothing here is stored: it is
computed for the page being served. The public pages show approved entries, whose
renditions have public copies; a preview of any other entry gets its private copies' URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, partial

from flask import current_app

from contest.contests.models import CategoryKind
from contest.entries.models import AssetKind, MediaAsset
from contest.media.publication import rendition_url
from contest.storage import get_storage

# From small to large: (WebP, JPEG) of the same picture.
PHOTO_LADDER = (
    (AssetKind.thumb_webp, AssetKind.thumb_jpeg),
    (AssetKind.display_webp, AssetKind.display_jpeg),
)
POSTER_LADDER = ((AssetKind.poster_webp, AssetKind.poster_jpeg),)
# The rendition a browser tries first (small enough for a phone on 4G), then the others.
VIDEO_ORDER = ("720p", "1080p", "480p")


@dataclass(frozen=True)
class Picture:
    """One image as a <picture>: WebP and JPEG candidates by width, and the largest JPEG."""

    src: str
    jpeg_srcset: str
    webp_srcset: str
    width: int | None
    height: int | None
    full_url: str
    full_width: int | None
    full_height: int | None


@dataclass(frozen=True)
class VideoSource:
    label: str
    url: str
    mime_type: str
    width: int | None
    height: int | None

    @property
    def lines(self) -> int:
        """Its height in pixels (the 720 of 720p): the player's menu lists the best first."""
        return self.height or 0

    @property
    def name(self) -> str:
        """What the player's menu calls it: its label (720p), else its lines."""
        return self.label or (f"{self.height}p" if self.height else "")


def _by_kind(assets: Iterable[MediaAsset], position: int) -> dict[AssetKind, MediaAsset]:
    return {a.kind: a for a in assets if a.position == position and a.label == ""}


def _srcset(assets: Sequence[MediaAsset], url: Callable[[str], str]) -> str:
    """``url 400w, url 1600w``; one candidate per width (a small original has one size)."""
    seen, parts = set(), []
    for asset in assets:
        if asset.width and asset.width not in seen:
            seen.add(asset.width)
            parts.append(f"{url(asset.storage_key)} {asset.width}w")
    return ", ".join(parts)


def _url_maker(public: bool) -> Callable[[str], str]:
    """Each rendition's URL made once (src, srcset, zoom link): public, or (an entry that is not
    approved, seen by its author or an organizer) its private copy's signed URL."""
    return cache(get_storage().url if public else partial(rendition_url, public=False))


def picture(
    assets: Iterable[MediaAsset], position: int = 0, ladder=PHOTO_LADDER, *, public: bool = True
) -> Picture | None:
    """The <picture> of the work at ``position``, or None while it has no JPEG rendition."""
    found = _by_kind(assets, position)
    jpegs = [found[jpeg] for _, jpeg in ladder if jpeg in found]
    webps = [found[webp] for webp, _ in ladder if webp in found]
    if not jpegs:
        return None
    small, large = jpegs[0], jpegs[-1]
    url = _url_maker(public)
    return Picture(
        src=url(small.storage_key),
        jpeg_srcset=_srcset(jpegs, url),
        webp_srcset=_srcset(webps, url),
        width=small.width,
        height=small.height,
        full_url=url(large.storage_key),
        full_width=large.width,
        full_height=large.height,
    )


def preview(kind: CategoryKind, assets: Iterable[MediaAsset]) -> Picture | None:
    """A card's image: a video's poster, else the (first) photo."""
    if kind is CategoryKind.video:
        return picture(assets, 0, POSTER_LADDER)
    return picture(assets, 0, PHOTO_LADDER)


def photo_count(assets: Iterable[MediaAsset]) -> int:
    """How many works have a public rendition (the photos of a series)."""
    return len({a.position for a in assets if a.kind is AssetKind.thumb_jpeg})


def video_sources(assets: Iterable[MediaAsset], *, public: bool = True) -> list[VideoSource]:
    """The ladder's renditions, 720p first, then 1080p, 480p and any other by height."""
    videos = [a for a in assets if a.kind is AssetKind.video_mp4]

    def rank(asset: MediaAsset) -> tuple[int, int]:
        known = VIDEO_ORDER.index(asset.label) if asset.label in VIDEO_ORDER else len(VIDEO_ORDER)
        return known, -(asset.height or 0)

    url = _url_maker(public)
    return [
        VideoSource(a.label, url(a.storage_key), a.mime_type, a.width, a.height)
        for a in sorted(videos, key=rank)
    ]


def share_image(kind: CategoryKind, assets: Iterable[MediaAsset]) -> MediaAsset | None:
    """The JPEG a shared link shows: the display image (first of a series) or a video's poster."""
    found = _by_kind(assets, 0)
    preferred = (
        (AssetKind.poster_jpeg, AssetKind.thumb_jpeg)
        if kind is CategoryKind.video
        else (AssetKind.display_jpeg, AssetKind.thumb_jpeg)
    )
    return next((found[k] for k in preferred if k in found), None)


def absolute(url: str) -> str:
    """An absolute URL: the local storage's paths are put under PUBLIC_BASE_URL."""
    if url.startswith("/"):
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url
    return url
