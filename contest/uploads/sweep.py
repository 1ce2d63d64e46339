"""The periodic sweep of uploads: those left half-way are aborted, those never taken by an
entry are deleted, once UPLOAD_ABANDON_AFTER_S has passed (the worker's beat calls it).

A bucket lifecycle rule (AbortIncompleteMultipartUpload, see the README) does the first on S3
as well; this sweep also keeps the rows true and covers the local backend.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from contest.storage import StorageError
from contest.storage_multipart import LocalMultipart
from contest.uploads.models import Upload, UploadState
from contest.uploads.services import abort_upload, multipart

log = logging.getLogger(__name__)
BATCH = 200


def sweep_uploads(session: Session, now: datetime, abandon_after_s: int) -> list[str]:
    """Abort the uploads started, and delete those stored but never attached, longer ago than the limit;
    commit after each, so one storage failure leaves the rest done. Returns their ids."""
    abandoned = _abandoned(now - timedelta(seconds=abandon_after_s))
    due = session.scalars(select(Upload.id).where(abandoned).order_by(Upload.created_at).limit(BATCH)).all()
    swept = []
    for upload_id in due:
        upload = _claim(session, upload_id, abandoned)
        if upload is None:  # an entry is taking it, or another sweep has it
            continue
        try:
            abort_upload(upload)
        except StorageError:
            log.warning(
                "sweep: could not drop upload %s; the next sweep tries again", upload.id, exc_info=True
            )
            session.rollback()
            continue
        session.commit()
        swept.append(upload.id)
    _drop_orphan_parts(session, now - timedelta(seconds=abandon_after_s))
    return swept


def _drop_orphan_parts(session: Session, before: datetime) -> None:
    """Local backend: folders of parts no started upload names (its row never committed)."""
    store = multipart()
    if not isinstance(store, LocalMultipart):
        return  # S3: the bucket's lifecycle rule (README)
    for token in store.folders_older_than(before.timestamp()):
        named = select(Upload.id).where(Upload.multipart_id == token, Upload.state == UploadState.started)
        if session.scalar(named) is None:
            store.abort("", token)


def _abandoned(before: datetime):
    """Started before ``before`` and unfinished, or finished before it and taken by no entry."""
    return or_(
        and_(Upload.state == UploadState.started, Upload.created_at < before),
        and_(Upload.state == UploadState.stored, Upload.completed_at < before),
    )


def _claim(session: Session, upload_id: str, abandoned) -> Upload | None:
    """The upload, locked, if it is still abandoned and nobody holds its row (an entry taking it)."""
    return session.scalar(
        select(Upload)
        .where(Upload.id == upload_id, abandoned)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
