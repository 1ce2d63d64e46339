"""What may be uploaded, checked before a byte is stored: the category's field, the file's
type and extension, its declared size, the contest's submission window and the account's
open uploads. The content itself is checked once the object is whole (as for the form).
"""

from __future__ import annotations

import math
from pathlib import PurePosixPath

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.models import Category, CategoryKind, Contest
from contest.entries import services as entry_services
from contest.entries.failures import failure_message
from contest.storage_multipart import MAX_PARTS, S3_MIN_PART_BYTES
from contest.uploads.models import Upload, UploadState

# The form field that takes each kind's files (contest.entries.forms.NewEntryForm).
FIELD_OF_KIND = {
    CategoryKind.photo: "photo",
    CategoryKind.photo_series: "photos",
    CategoryKind.video: "video",
}
# Per format (contest.media.photo_files.PHOTO_FORMATS, contest.entries.video.VIDEO_FORMATS):
# the extensions and the MIME types browsers give such a file.
FORMAT_FILES = {
    "jpeg": ({"jpg", "jpeg"}, {"image/jpeg", "image/pjpeg"}),
    "png": ({"png"}, {"image/png"}),
    "webp": ({"webp"}, {"image/webp"}),
    "heif": ({"heic", "heif"}, {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"}),
    "mp4": ({"mp4", "m4v"}, {"video/mp4", "video/x-m4v"}),
    "mov": ({"mov"}, {"video/quicktime"}),
}
# What a browser says when it does not know the type (HEIC on some phones): the extension decides.
UNKNOWN_TYPES = {"", "application/octet-stream"}


class UploadRefused(Exception):
    """An upload the rules refuse, with the message for the entrant."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def check_start(
    session: Session,
    user: User,
    contest: Contest,
    category: Category,
    field: str,
    filename: str,
    content_type: str,
    size: int,
) -> str:
    """Raise UploadRefused unless ``user`` may start this upload; return the file's format."""
    if FIELD_OF_KIND[category.kind] != field:
        raise UploadRefused(_("This file does not belong to the chosen category."))
    try:
        entry_services.check_can_submit(session, user, contest, category)
    except entry_services.SubmissionRefused as exc:
        raise UploadRefused(exc.message, 403) from None
    file_format = format_of(category, filename, content_type)
    check_size(category, size)
    if open_uploads(session, user) >= current_app.config["UPLOAD_MAX_OPEN"]:
        raise UploadRefused(
            _("You have too many uploads in progress. Finish or cancel one before starting another."), 429
        )
    return file_format


def format_of(category: Category, filename: str, content_type: str) -> str:
    """The category's format that the file's extension and type name; UploadRefused if none."""
    extension = PurePosixPath(filename).suffix.lower().lstrip(".")
    content_type = (content_type or "").split(";")[0].strip().lower()
    for name in category.allowed_formats:
        extensions, types = FORMAT_FILES.get(name, (set(), set()))
        if extension in extensions and (content_type in types or content_type in UNKNOWN_TYPES):
            return name
    allowed = ", ".join(f.upper() for f in category.allowed_formats if f in FORMAT_FILES)
    raise UploadRefused(
        _(
            "“%(filename)s” is not a file this category accepts: it takes %(allowed)s.",
            filename=filename,
            allowed=allowed,
        )
    )


def check_size(category: Category, size: int) -> None:
    """The declared (or stored) size against the category's bounds and the site's cap."""
    if size <= 0:
        raise UploadRefused(failure_message("empty_file"))
    if category.min_bytes and size < category.min_bytes and category.kind is not CategoryKind.video:
        raise UploadRefused(failure_message("too_small_bytes", {"size": size, "min": category.min_bytes}))
    most = category.max_bytes or current_app.config["MAX_CONTENT_LENGTH"]
    if most and size > most:
        raise UploadRefused(failure_message("too_large_bytes", {"size": size, "max": most}))


def open_uploads(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Upload)
        .where(Upload.user_id == user.id, Upload.state == UploadState.started)
    )


def part_plan(size: int, wanted_part_bytes: int) -> tuple[int, int]:
    """(part size, part count) for ``size`` bytes: at least S3's minimum, at most MAX_PARTS parts."""
    part_size = max(wanted_part_bytes, S3_MIN_PART_BYTES, math.ceil(size / MAX_PARTS))
    return part_size, max(1, math.ceil(size / part_size))
