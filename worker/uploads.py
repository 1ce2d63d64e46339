"""The beat's sweep of uploads sent straight to storage (contest.uploads.sweep)."""

from __future__ import annotations

import logging

from flask import current_app

from contest.db import now_utc
from contest.extensions import db
from contest.uploads.sweep import sweep_uploads
from worker.celery_app import celery

log = logging.getLogger(__name__)


@celery.task(name="worker.sweep_uploads")
def sweep_abandoned_uploads() -> None:
    """Abort uploads left half-way and delete those no entry took, after UPLOAD_ABANDON_AFTER_S."""
    swept = sweep_uploads(db.session, now_utc(), current_app.config["UPLOAD_ABANDON_AFTER_S"])
    if swept:
        log.info("sweep: dropped abandoned uploads %s", swept)
