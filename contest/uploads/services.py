"""Uploads sent straight to storage in parts: start, sign a part, list, complete, abort.

The server bounds everything before a byte is stored (contest.uploads.rules), hands out one
short-lived URL per part, and finishes the multipart upload only when the parts add up to the
declared size within the category's bounds. Entries take a stored upload (``stored_upload``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import PurePosixPath

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.models import Category, Contest
from contest.storage import get_storage, new_key
from contest.storage_multipart import Multipart, Part, PartsMismatch, chosen_parts, multipart_for
from contest.uploads.models import UPLOAD_FIELDS, Upload, UploadState
from contest.uploads.rules import UploadRefused, check_size, check_start, part_plan

_EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "heif": "heic", "mp4": "mp4", "mov": "mov"}


def multipart() -> Multipart:
    return multipart_for(get_storage(), current_app.config["UPLOAD_PARTS_DIR"])


def start_upload(
    session: Session,
    user: User,
    contest: Contest,
    category: Category,
    field: str,
    filename: str,
    content_type: str,
    size: int,
) -> Upload:
    """A new upload in state started, its multipart upload begun (the caller commits)."""
    file_format = check_start(session, user, contest, category, field, filename, content_type, size)
    part_size, part_count = part_plan(size, current_app.config["UPLOAD_PART_BYTES"])
    key = new_key(f"originals/{contest.slug}", "." + _EXTENSIONS[file_format])
    content_type = content_type if content_type and "/" in content_type else "application/octet-stream"
    upload = Upload(
        user_id=user.id,
        contest_id=contest.id,
        category_id=category.id,
        field=field,
        filename=PurePosixPath(filename.replace("\\", "/")).name[:255] or "file",
        content_type=content_type[:100],
        size=size,
        part_size=part_size,
        part_count=part_count,
        storage_key=key,
    )
    upload.multipart_id = multipart().start(key, content_type=upload.content_type)
    session.add(upload)
    session.flush()
    return upload


def owned_upload(session: Session, user: User, upload_id: str, *, lock: bool = False) -> Upload | None:
    """The user's upload ``upload_id`` (None for another account's, or none at all); ``lock``:
    its row locked until the commit, for a change of state (completing, aborting)."""
    upload = session.get(Upload, str(upload_id)[:32], with_for_update=lock or None)
    return upload if upload is not None and upload.user_id == user.id else None


def part_target(upload: Upload, number: int) -> dict:
    """Where the browser PUTs part ``number``, and until when (Unix seconds)."""
    if upload.state is not UploadState.started:
        raise UploadRefused(_("This upload is already finished or cancelled."), 409)
    if not 1 <= number <= upload.part_count:
        raise UploadRefused(_("This upload has no part %(number)s.", number=number))
    lifetime = current_app.config["UPLOAD_PART_URL_S"]
    expires_at = int(time.time()) + lifetime
    url = multipart().part_url(
        upload.storage_key, upload.multipart_id, number, lifetime, part_length(upload, number)
    )
    if url is None:  # the local backend: the app takes the part itself
        signature = part_signature(upload.id, number, upload.user_id, expires_at)
        url = url_for("uploads.part_data", upload_id=upload.id, number=number, exp=expires_at, sig=signature)
    return {"url": url, "expiresAt": expires_at, "headers": {}}


def part_length(upload: Upload, number: int) -> int:
    """The bytes of part ``number``: the part size, the rest for the last one."""
    return (
        upload.part_size
        if number < upload.part_count
        else upload.size - upload.part_size * (upload.part_count - 1)
    )


def part_signature(upload_id: str, number: int, user_id: int, expires_at: int) -> str:
    """The local backend's part URL MAC: bound to the upload, the part, the account and the expiry."""
    message = f"upload-part\n{upload_id}\n{number}\n{user_id}\n{expires_at}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()


def part_signature_ok(upload: Upload, number: int, user: User, expires_at: int, signature: str) -> bool:
    if expires_at < time.time() or upload.user_id != user.id:
        return False
    return hmac.compare_digest(part_signature(upload.id, number, user.id, expires_at), signature or "")


def stored_parts(upload: Upload) -> list[Part]:
    if upload.state is not UploadState.started:
        return []
    return multipart().parts(upload.storage_key, upload.multipart_id)


def complete_upload(
    session: Session, upload: Upload, named: list[tuple[int, str]], category: Category
) -> Upload:
    """Join the named parts into the object if they add up to the declared size within the
    category's bounds; otherwise abort the upload, delete everything, UploadRefused."""
    if upload.state is not UploadState.started:
        raise UploadRefused(_("This upload is already finished or cancelled."), 409)
    store = multipart()
    try:
        parts = chosen_parts(store.parts(upload.storage_key, upload.multipart_id), named)
    except PartsMismatch:
        raise UploadRefused(_("Some parts of the file did not arrive. Please send it again.")) from None
    total = sum(p.size for p in parts)
    try:
        if total != upload.size:
            raise UploadRefused(
                _("The file sent does not match the file announced. Nothing was kept: please send it again.")
            )
        check_size(category, total)
    except UploadRefused:
        abort_upload(upload)
        raise
    store.complete(upload.storage_key, upload.multipart_id, parts)
    upload.move_to(UploadState.stored)
    session.flush()
    return upload


def abort_upload(upload: Upload) -> None:
    """Give up an upload: its parts and any object are deleted (the caller commits)."""
    if upload.state is UploadState.started:
        multipart().abort(upload.storage_key, upload.multipart_id)
    elif upload.state is UploadState.stored:
        get_storage().delete(upload.storage_key)
    else:
        return
    upload.move_to(UploadState.aborted)


def stored_upload(
    session: Session, user: User, upload_id: str, category: Category, field: str
) -> Upload | None:
    """The user's upload ``upload_id``, whole in storage and taken by no entry, sent for
    ``category``'s ``field``; None otherwise (another user's, still in parts, attached, aborted).
    Its row stays locked until the caller's commit: the sweep passes it by meanwhile."""
    if field not in UPLOAD_FIELDS:
        return None
    return session.scalar(
        select(Upload)
        .where(
            Upload.id == str(upload_id)[:32],
            Upload.user_id == user.id,
            Upload.category_id == category.id,
            Upload.field == field,
            Upload.state == UploadState.stored,
        )
        .with_for_update()
    )


def discard(upload: Upload) -> None:
    """Delete a stored upload's object and mark it aborted (the caller commits)."""
    get_storage().delete(upload.storage_key)
    upload.move_to(UploadState.aborted)


def describe(upload: Upload) -> dict:
    return {"id": upload.id, "state": upload.state.value, "filename": upload.filename, "size": upload.size}
