"""Security headers on every response, and a warning about an unconfigured reverse proxy.

Every answer (pages, JSON, media files, static files, error pages) carries a
Content-Security-Policy that runs no inline script or style and lets no other site frame
the page, ``X-Content-Type-Options: nosniff``, a Referrer-Policy and, in production,
Strict-Transport-Security. Pictures and videos may also come from the storage's own origin
(an S3 endpoint, ``S3_PUBLIC_URL``); Zalo's share button script only when ``ZALO_OA_ID`` is
set; a bot-check adapter adds the origins it names in ``csp_sources``.
"""

from __future__ import annotations

import logging
import weakref
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from contest.botcheck import get_bot_check

log = logging.getLogger(__name__)

NONE = "'none'"
HSTS = "max-age=31536000"  # a year: the site is only ever served over HTTPS in production
# Zalo's share button (ZALO_SDK): its script, and the button it draws in a frame of Zalo's.
ZALO_SOURCES = {"script-src": "https://sp.zalo.me", "frame-src": "https://*.zalo.me"}

# Any key the storage can hand out: one public, one private (signed) URL show its origins.
_PROBE_KEYS = ("public/csp/origin", "csp/origin")
_media_origins: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def init_app(app: Flask) -> None:
    app.extensions["forwarded_warning_given"] = False
    app.before_request(_warn_of_unconfigured_proxy)
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in _headers_for(current_app._get_current_object()):
        headers[name] = value
    return response


def _headers_for(app: Flask) -> tuple[tuple[str, str], ...]:
    """The headers, made once per configuration that shapes them (every response, the vote's too)."""
    config = app.config
    origins = storage_origins()
    key = (origins, config.get("BOT_CHECK"), config.get("ZALO_OA_ID"), config["ENV_NAME"])
    made = app.extensions.setdefault("security_headers", {})
    if key not in made:
        headers = [
            ("Content-Security-Policy", content_security_policy(config, origins)),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ]
        if config["ENV_NAME"] == "production":
            headers.append(("Strict-Transport-Security", HSTS))
        made[key] = tuple(headers)
    return made[key]


def content_security_policy(config, media_origins: tuple[str, ...] = ()) -> str:
    """The policy, from ``'self'`` plus what this site's configuration needs."""
    sources = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", *media_origins],
        # blob: the entry form reads a chosen video's length from the file itself, before
        # sending it (static/js/entry-upload.js); only the page's own blobs have such URLs.
        "media-src": ["'self'", "blob:", *media_origins],
        # The entry form's parts go straight to the bucket (static/js/entry-upload.js).
        "connect-src": ["'self'", *media_origins],
        "frame-src": [],
        "object-src": [],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": [],
    }
    extras = [getattr(get_bot_check(), "csp_sources", {})]
    if config.get("ZALO_OA_ID"):
        extras.append(ZALO_SOURCES)
    for extra in extras:
        for directive, origins in extra.items():
            sources.setdefault(directive, []).extend(origins.split())
    return "; ".join(f"{name} {' '.join(dict.fromkeys(values)) or NONE}" for name, values in sources.items())


def storage_origins() -> tuple[str, ...]:
    """The origins the storage's URLs point to (none for the local folder: its URLs are ours).

    Asked once per storage. A storage that cannot make a URL (S3 without credentials) adds
    none: its media cannot show anyway, and every other page must still answer.
    """
    storage = current_app.extensions["storage"]
    origins = _media_origins.get(storage)
    if origins is None:
        try:
            urls = [urlsplit(storage.url(key)) for key in _PROBE_KEYS]
        except Exception:
            log.warning("the storage makes no URL: no media origin in the security policy", exc_info=True)
            urls = []
        origins = _media_origins[storage] = tuple(
            dict.fromkeys(f"{u.scheme}://{u.netloc}" for u in urls if u.netloc)
        )
    return origins


def _warn_of_unconfigured_proxy() -> None:
    """Behind a proxy without PROXY_FIX_X_FOR every visitor has the proxy's address: rate limits
    and vote signals then lump them together. Said once per application, not per request."""
    app = current_app._get_current_object()
    if app.extensions["forwarded_warning_given"] or app.config["PROXY_FIX_X_FOR"]:
        return
    if "X-Forwarded-For" in request.headers:
        app.extensions["forwarded_warning_given"] = True
        log.warning(
            "requests carry X-Forwarded-For but PROXY_FIX_X_FOR is 0: every client is seen with the "
            "proxy's address (rate limits, vote signals); set PROXY_FIX_X_FOR to the number of proxies"
        )
