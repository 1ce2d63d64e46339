"""Serves objects of the local storage backend (S3 serves its own, through presigned URLs)."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, abort, request, send_file

from contest.storage import PUBLIC_PREFIX, LocalStorage, StorageError, get_storage

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
    response = send_file(path, mimetype=mimetype, conditional=True, max_age=86400 * 30 if public else 0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if not public:
        response.headers["Cache-Control"] = "private, no-store"
    return response
