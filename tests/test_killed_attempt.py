"""What an attempt killed before its commit stored is deleted by the attempt that takes over.

A worker killed with SIGKILL (the scale bench does it) never runs its own clean-up: the
renditions, jury copy or checked originals it stored before its commit are named by no row.
Each job stores under prefixes of its own (worker.jobs.base.job_prefixes), so the attempt that
takes the job over lists them and deletes what no row names, before storing its own. Local
storage and S3 over HTTP (any_storage).
"""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from contest.db import now_utc
from contest.entries.models import EntryStatus, MediaAsset
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import claim_job
from contest.storage import PUBLIC_PREFIX, new_key, private_copy_key
from tests.support import wallpaper
from tests.test_upload_entries import entrant_client, post_with_upload, send_through_api
from tests.test_worker_photo import photo_category, run_job, submit

__all__ = ["entrant_client", "photo_category", "submit"]  # fixtures used here


def die_after_storing(app, db, storage, job_id: int, keys: list[str]) -> None:
    """Claim the job as a worker would, store ``keys`` as its attempt would, and die there:
    the job stays running with a heartbeat old enough for another worker to take it over."""
    with app.app_context():
        job = claim_job(db, job_id)
        db.commit()
        for key in keys:
            storage.save(key, io.BytesIO(b"half-made rendition"), content_type="image/webp")
        job.heartbeat_at = now_utc() - timedelta(seconds=app.config["JOB_STALE_AFTER_S"] + 60)
        db.commit()


def named_objects(db, entry_id: int) -> set[str]:
    db.expire_all()
    keys = db.scalars(select(MediaAsset.storage_key).where(MediaAsset.entry_id == entry_id)).all()
    return {private_copy_key(k) if k.startswith(PUBLIC_PREFIX) else k for k in keys}


def test_a_photo_jobs_rerun_deletes_what_the_killed_attempt_stored(app, db, submit, any_storage, real_photo):
    job = submit(real_photo)
    left = [
        private_copy_key(new_key(f"public/r/j{job.id}", "/display.webp")),
        private_copy_key(new_key(f"public/r/j{job.id}", "/thumb.webp")),
        new_key(f"jury/j{job.id}", "/original.jpg"),
    ]
    other_job = private_copy_key(new_key(f"public/r/j{job.id + 1000}", "/display.webp"))
    die_after_storing(app, db, any_storage, job.id, [*left, other_job])

    run_job(app, job.id)

    db.expire_all()
    job = db.get(ProcessingJob, job.id)
    assert job.state is JobState.succeeded and job.attempts == 2
    assert not any(any_storage.exists(key) for key in left)
    assert any_storage.exists(other_job)  # another job's objects are not this rerun's business
    stored = set(any_storage.keys()) - {other_job}
    assert stored == named_objects(db, job.entry_id)  # the original, 4 renditions, the jury copy
    assert len(stored) == 6


def test_a_check_jobs_rerun_deletes_the_originals_the_killed_attempt_copied(
    app, db, contest, entrant_client, any_storage
):
    photo = wallpaper("Volna").read_bytes()
    upload_id = send_through_api(entrant_client, photo_category_of(contest).id, photo, "IMG_0200.JPG")
    assert post_with_upload(entrant_client, contest, [upload_id]).status_code == 302
    job = db.scalars(select(ProcessingJob).where(ProcessingJob.kind == JobKind.check)).one()
    left = new_key(f"originals/{contest.slug}/j{job.id}", ".jpg")
    die_after_storing(app, db, any_storage, job.id, [left])

    run_job(app, job.id)

    db.expire_all()
    job = db.get(ProcessingJob, job.id)
    assert job.state is JobState.succeeded and job.entry.status is EntryStatus.submitted
    assert not any_storage.exists(left)
    assert set(any_storage.keys()) == named_objects(db, job.entry_id)  # the checked original only


def photo_category_of(contest):
    return next(c for c in contest.categories if c.slug == "photo")
