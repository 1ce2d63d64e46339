"""Sharing an entry: its absolute short link, the share links, the QR code, the card tags."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

import segno
from flask import current_app, url_for

from contest.entries.models import Entry
from contest.gallery import pictures

DESCRIPTION_MAX_CHARS = 200
FACEBOOK_SHARER = "https://www.facebook.com/sharer/sharer.php"
# Zalo's share plugin: a <div class="zalo-share-button" data-href data-oaid> that this
# script turns into Zalo's button; it needs the site's Zalo Official Account id. Zalo has
# no plain share URL, so without an id the page uses the phone's share sheet instead.
ZALO_SDK = "https://sp.zalo.me/plugins/sdk.js"
OG_LOCALES = {"vi": "vi_VN", "en": "en_US"}


@dataclass(frozen=True)
class ShareImage:
    url: str
    width: int | None
    height: int | None
    mime_type: str


@dataclass(frozen=True)
class Sharing:
    url: str
    facebook_url: str
    zalo_url: str
    zalo_oa_id: str
    zalo_sdk: str
    qr_url: str  # the QR code of ``url`` (an SVG image)
    description: str
    image: ShareImage | None


def absolute_url(endpoint: str, **values) -> str:
    """A URL under PUBLIC_BASE_URL: links never trust the request's Host header."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def entry_url(entry: Entry) -> str:
    return absolute_url("gallery.entry", code=entry.code)


def truncate(text: str, limit: int = DESCRIPTION_MAX_CHARS) -> str:
    """One line of at most ``limit`` characters, cut at a word with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,.;:-") + "…"


@lru_cache(maxsize=4096)
def qr_svg(url: str) -> bytes:
    """The QR code of ``url`` as an SVG document (made once per link by this process).

    Served at its own address (gallery.qr_code) and kept by browsers and shared caches: making
    one takes several milliseconds, which an entry page (most of them seen once, by someone
    who will not scan it) would otherwise pay on each first view.
    """
    out = io.BytesIO()
    segno.make(url, error="m").save(
        out, kind="svg", scale=4, border=2, dark="#000", light="#fff", xmldecl=False
    )
    return out.getvalue()


def sharing(entry: Entry, fallback_description: str) -> Sharing:
    url = entry_url(entry)
    asset = pictures.share_image(entry.category.kind, entry.assets)
    image = (
        ShareImage(
            absolute_url("gallery.og_image", code=entry.code), asset.width, asset.height, asset.mime_type
        )
        if asset
        else None
    )
    return Sharing(
        url=url,
        # ?src= tells the figures where a visit came from (contest.figures.visits); the
        # entry page ignores its query string, so its cached copy serves these links too.
        facebook_url=f"{FACEBOOK_SHARER}?{urlencode({'u': url + '?src=facebook'})}",
        zalo_url=url + "?src=zalo",
        zalo_oa_id=current_app.config.get("ZALO_OA_ID", ""),
        zalo_sdk=ZALO_SDK,
        qr_url=url_for("gallery.qr_code", code=entry.code),
        description=truncate(entry.shown_description.text) or truncate(fallback_description),
        image=image,
    )
