"""Uploads sent straight to storage: what other features may ask of them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.models import Category
from contest.storage import get_storage
from contest.uploads.models import Upload, UploadState


def stored_upload(
    session: Session, user: User, upload_id: str, category: Category, field: str
) -> Upload | None:
    """The user's upload ``upload_id``, whole in storage and taken by no entry, sent for
    ``category``'s ``field``; None otherwise (another user's, still in parts, attached, aborted)."""
    return session.scalar(
        select(Upload).where(
            Upload.id == str(upload_id),
            Upload.user_id == user.id,
            Upload.category_id == category.id,
            Upload.field == field,
            Upload.state == UploadState.stored,
        )
    )


def discard(upload: Upload) -> None:
    """Delete a stored upload's object and mark it aborted (the caller commits)."""
    get_storage().delete(upload.storage_key)
    upload.move_to(UploadState.aborted)
