"""The upload API the entry form's script speaks (JSON; CSRF by the X-CSRFToken header).

POST /uploads, GET /uploads/<id>/parts/<n>, GET /uploads/<id>/parts, POST /uploads/<id>/complete,
DELETE /uploads/<id>; with the local backend the parts themselves come to
PUT /uploads/<id>/parts/<n>/data, signed for the owner. Errors are {"error": message}, 4xx.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from contest.auth.models import Role
from contest.contests.models import Category, current_contest
from contest.errors import MESSAGES
from contest.extensions import csrf, db, limiter
from contest.storage import StorageError
from contest.storage_multipart import LocalMultipart, PartTooLarge
from contest.uploads import services
from contest.uploads.forms import StartUploadForm, named_parts
from contest.uploads.models import UploadState
from contest.uploads.rules import UploadRefused

log = logging.getLogger(__name__)
bp = Blueprint("uploads", __name__)


def _error(message, status: int):
    return jsonify(error=str(message)), status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if isinstance(exc, CSRFError):
        return _error(_("The page was open too long. Please reload it and send the file again."), 400)
    status = exc.code or 500
    return _error(MESSAGES.get(status, MESSAGES[400])[1], status)


@bp.errorhandler(UploadRefused)
def _refused(exc: UploadRefused):
    db.session.rollback()
    return _error(exc.message, exc.status)


@bp.errorhandler(StorageError)
def _storage_error(exc: StorageError):
    log.warning("storage failed during an upload", exc_info=True)
    db.session.rollback()
    return _error(_("Our file storage is unavailable at the moment. Please try again in a few minutes."), 503)


def _user_key() -> str:
    return f"account:{current_user.get_id()}" if current_user.is_authenticated else request.remote_addr or ""


def _start_limit() -> str:
    return current_app.config["UPLOAD_RATE_LIMIT"]


def _part_limit() -> str:
    return current_app.config["UPLOAD_PART_RATE_LIMIT"]


def entrant_api(view):
    """Logged-in, verified entrants only, answered in JSON (no redirect to a page)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return _error(_("Please log in to send your entry."), 401)
        if current_user.role is not Role.entrant:
            return _error(MESSAGES[403][1], 403)
        if not current_user.is_verified:
            return _error(_("Please confirm your e-mail address before sending an entry."), 403)
        return view(*args, **kwargs)

    return wrapped


def _own_upload(upload_id: str, *, lock: bool = False):
    upload = services.owned_upload(db.session, current_user, upload_id, lock=lock)
    if upload is None:
        raise UploadRefused(_("This upload does not exist or is not yours."), 404)
    return upload


@bp.post("")
@limiter.limit(_start_limit, key_func=_user_key)
@entrant_api
def create():
    form = StartUploadForm()
    if not form.validate():
        raise UploadRefused(_("The file's details are missing or wrong. Please choose the file again."))
    contest = current_contest(db.session)
    category = (
        next((c for c in contest.categories if c.id == form.category_id.data), None) if contest else None
    )
    if category is None:
        raise UploadRefused(_("Choose one of the categories shown."))
    upload = services.start_upload(
        db.session,
        current_user,
        contest,
        category,
        form.field.data,
        form.filename.data,
        form.type.data or "",
        form.size.data,
    )
    db.session.commit()
    body = {
        "id": upload.id,
        "key": upload.storage_key,
        "uploadId": upload.multipart_id,
        "partSize": upload.part_size,
        "partCount": upload.part_count,
    }
    return jsonify(body), 201


@bp.get("/<upload_id>/parts/<int:number>")
@limiter.limit(_part_limit, key_func=_user_key)
@entrant_api
def part_url(upload_id: str, number: int):
    return jsonify(services.part_target(_own_upload(upload_id), number))


@bp.put("/<upload_id>/parts/<int:number>/data")
@csrf.exempt  # the URL's signature, bound to the account and short-lived, stands for the token
@limiter.limit(_part_limit, key_func=_user_key)
@entrant_api
def part_data(upload_id: str, number: int):
    """The local backend's part: streamed to a part file, answered with its ETag as S3 does."""
    upload = services.owned_upload(db.session, current_user, upload_id)
    signed = upload is not None and services.part_signature_ok(
        upload, number, current_user, request.args.get("exp", 0, type=int), request.args.get("sig", "")
    )
    if not signed:
        return _error(_("This upload link is not valid for your account, or it has expired."), 403)
    store = services.multipart()
    if upload.state is not UploadState.started or not isinstance(store, LocalMultipart):
        raise UploadRefused(_("This upload is already finished or cancelled."), 409)
    if not 1 <= number <= upload.part_count:
        raise UploadRefused(_("This upload has no part %(number)s.", number=number))
    if (request.content_length or 0) > upload.part_size:
        return _error(_("This part is larger than the upload allows."), 413)
    try:
        part = store.write_part(upload.multipart_id, number, request.stream, upload.part_size)
    except PartTooLarge:
        return _error(_("This part is larger than the upload allows."), 413)
    response = jsonify(part.as_json())
    response.headers["ETag"] = part.etag
    return response


@bp.get("/<upload_id>/parts")
@limiter.limit(_part_limit, key_func=_user_key)
@entrant_api
def parts(upload_id: str):
    return jsonify([p.as_json() for p in services.stored_parts(_own_upload(upload_id))])


@bp.post("/<upload_id>/complete")
@limiter.limit(_start_limit, key_func=_user_key)
@entrant_api
def complete(upload_id: str):
    upload = _own_upload(upload_id, lock=True)
    if upload.state is UploadState.stored:  # a completion sent again after a lost answer
        return jsonify(services.describe(upload))
    named = named_parts(request.get_json(silent=True))
    if named is None:
        raise UploadRefused(_("The list of the file's parts is missing or wrong."))
    try:
        services.complete_upload(db.session, upload, named, db.session.get(Category, upload.category_id))
    except UploadRefused:
        db.session.commit()  # the upload was aborted and its parts deleted: record it
        raise
    db.session.commit()
    return jsonify(services.describe(upload))


@bp.delete("/<upload_id>")
@limiter.limit(_start_limit, key_func=_user_key)
@entrant_api
def abort(upload_id: str):
    upload = _own_upload(upload_id, lock=True)
    if upload.state is UploadState.attached:
        raise UploadRefused(_("This file belongs to an entry already."), 409)
    services.abort_upload(upload)
    db.session.commit()
    return jsonify(services.describe(upload))
