"""Serves objects of the local storage backend (S3 serves its own, through presigned URLs).

A public object (a rendition of an approved entry) may be kept by browsers and caches for
PUBLIC_MEDIA_MAX_AGE_S only: a take-down deletes it, and its old URL answers 404 from then on.
A signed one is kept by the browser alone (``private``) while its URL is valid, no longer: a
signed URL stays the same for a while (contest.signed_urls), so a picture fetched ahead (the
judge's next entry) is not downloaded twice.
"""

from __future__ import annotations

import mimetypes
import time

from flask import Blueprint, abort, current_app, request, send_file

from contest.storage import PUBLIC_PREFIX, LocalStorage, StorageError, download_name_safe, get_storage

bp = Blueprint("media", __name__)


@bp.get("/<path:key>")
def serve(key: str):
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        abort(404)
    try:
        expires_at = int(request.args.get("e", "0"))
    except ValueError:
        abort(404)
    try:
        if not storage.verify(key, expires_at, request.args.get("s", "")):
            abort(403)
        path = storage.path(key)
    except StorageError:
        abort(404)
    if not path.is_file():
        abort(404)
    public = key.startswith(PUBLIC_PREFIX)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    max_age = current_app.config["PUBLIC_MEDIA_MAX_AGE_S"] if public else 0
    download_name = request.args.get("dl")
    response = send_file(
        path,
        mimetype=mimetype,
        conditional=True,
        max_age=max_age,
        as_attachment=bool(download_name),
        download_name=download_name_safe(download_name) if download_name else None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not public:
        response.headers["Cache-Control"] = f"private, max-age={max(0, expires_at - int(time.time()))}"
    return response
