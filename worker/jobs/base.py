"""What every media job attempt shares: claiming, heartbeat, uploads, and clean-up.

An attempt uploads its renditions under new keys, then swaps them in with one commit; if
anything goes wrong before that commit, what it uploaded is deleted, and an earlier
attempt's renditions are deleted only after the commit that replaced them.
"""

from __future__ import annotations

import logging
import resource
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.entries.failures import MediaRejected
from contest.entries.flags import record_flags
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.processing import services
from contest.processing.models import JobState, ProcessingJob
from contest.storage import PUBLIC_PREFIX, Storage, delete_with_copy, new_key, private_copy_key
from worker.jobs.faults import file_fault
from worker.renditions import Rendition

log = logging.getLogger(__name__)
RENDITION_KINDS = frozenset(AssetKind) - {AssetKind.original}
JURY_PREFIX = "jury"  # the jury copies' keys: never under public/, so never published


@dataclass
class OriginalFacts:
    """What the worker learnt about one uploaded file, recorded with the renditions."""

    position: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    details: dict | None = None
    phash: str | None = None

    def record_on(self, original: MediaAsset) -> None:
        original.sha256, original.width, original.height = self.sha256, self.width, self.height
        original.duration_s = self.duration_s
        if self.details is not None:
            original.details = self.details
        if self.phash is not None:
            original.phash = self.phash


class MediaAttempt:
    """One attempt at one media job; subclasses implement ``process()``."""

    def __init__(self, session: Session, job: ProcessingJob, storage: Storage) -> None:
        self.session, self.job, self.storage = session, job, storage
        self.number = job.attempts
        # Read now what the work needs: after the claim's commit no transaction is open.
        self.entry: Entry = job.entry
        self.category = self.entry.category
        self.original = self.entry.asset(AssetKind.original)
        self.uploaded: list[str] = []

    def run(self) -> None:
        started, rss_before = time.monotonic(), _peak_rss_mb()
        if self.entry.status is EntryStatus.withdrawn:
            return self.abandon("entry withdrawn before processing")
        if self.original is None:
            return self.give_up("the entry has no original file")
        if self.number > 1:
            self.drop_leftovers()
        try:
            self.process()
        except BaseException as exc:
            self.discard_uploads()
            refusal = file_fault(exc)
            if refusal is None:
                raise  # the system's fault: retried (worker.tasks)
            log.info("job %s: the file's fault: %s", self.job.id, exc)
            self.reject(refusal)
        log.info(
            "job %s: entry %s done in %.2f s; worker peak RSS %.0f MB (%.0f MB before)",
            self.job.id,
            self.entry.code,
            time.monotonic() - started,
            _peak_rss_mb(),
            rss_before,
        )

    def process(self) -> None:
        raise NotImplementedError

    def leftover_prefixes(self) -> list[str]:
        return job_prefixes(self.job.id)

    def drop_leftovers(self) -> None:
        """Delete what an earlier attempt of this job stored and no row names: it was killed
        (or lost its claim) before its commit. Its own clean-up never ran."""
        named = {
            private_copy_key(key) if key.startswith(PUBLIC_PREFIX) else key
            for key in self.session.scalars(
                select(MediaAsset.storage_key).where(MediaAsset.entry_id == self.entry.id)
            )
        }
        self.session.commit()  # ends the read: no transaction open while storage works
        left = [k for p in self.leftover_prefixes() for k in self.storage.keys(p) if k not in named]
        self.delete_objects(left)
        if left:
            log.info("job %s: %d objects of an earlier attempt deleted", self.job.id, len(left))

    def beat(self) -> None:
        services.heartbeat(self.session, self.job)
        self.session.commit()

    def upload(self, rendition: Rendition) -> MediaAsset:
        key = upload_rendition(self.storage, rendition, self.job.id)
        self.uploaded.append(key)
        asset = rendition.asset(key)
        asset.entry_id = self.entry.id
        return asset

    def finish(self, assets: list[MediaAsset], originals: list[OriginalFacts]) -> None:
        """Swap the renditions in one commit; the replaced objects are deleted afterwards."""
        if not self.still_ours():
            return self.discard_uploads()
        if self.entry.status is EntryStatus.withdrawn:
            return self.abandon("entry withdrawn during processing")
        replaced = self.remove_old_renditions()
        self.session.add_all(assets)
        for facts in originals:
            facts.record_on(self.entry.asset(AssetKind.original, facts.position))
        record_flags(self.session, self.entry)
        services.complete(self.session, self.job)
        self.session.commit()
        self.uploaded = []
        self.delete_objects(replaced)

    def remove_old_renditions(self) -> list[str]:
        """Rendition rows of an earlier partial attempt; deleted before the new ones are added."""
        old = self.session.scalars(
            select(MediaAsset).where(
                MediaAsset.entry_id == self.entry.id,
                MediaAsset.kind.in_(RENDITION_KINDS),
            )
        ).all()
        for asset in old:
            self.session.delete(asset)
        self.session.flush()  # before the inserts: (entry, position, kind, label) is unique
        return [asset.storage_key for asset in old]

    def still_ours(self) -> bool:
        """Lock the job and its entry, read fresh: False if another worker took the job over."""
        job = self.session.get(ProcessingJob, self.job.id, with_for_update=True, populate_existing=True)
        self.entry = services.lock_entry(self.session, job)
        held = job.state is JobState.running and job.attempts == self.number
        if not held:
            self.session.rollback()
            log.warning("job %s: taken over by another worker; this attempt's results are dropped", job.id)
        return held

    def reject(self, exc: MediaRejected) -> None:
        if not self.still_ours():
            return
        services.fail(self.session, self.job, exc.code, error=f"rejected: {exc.code}", **exc.params)
        self.session.commit()
        log.info("job %s: entry %s rejected: %s %s", self.job.id, self.entry.code, exc.code, exc.params)

    def give_up(self, reason: str) -> None:
        if not self.still_ours():
            return
        services.fail(self.session, self.job, "processing_error", error=reason)
        self.session.commit()
        log.warning("job %s: entry %s failed: %s", self.job.id, self.entry.code, reason)

    def abandon(self, reason: str) -> None:
        self.session.rollback()
        self.discard_uploads()
        if self.still_ours():
            services.abandon(self.session, self.job, reason)
            self.session.commit()
        log.info("job %s: %s", self.job.id, reason)

    def discard_uploads(self) -> None:
        keys, self.uploaded = self.uploaded, []
        self.delete_objects(keys)

    def delete_objects(self, keys: list[str]) -> None:
        for key in keys:
            try:
                delete_with_copy(self.storage, key)
            except Exception:  # best effort: an orphan object is harmless, a crash here is not
                log.warning("could not delete %s", key, exc_info=True)


def upload_rendition(storage: Storage, rendition: Rendition, job_id: int | None = None) -> str:
    """Store ``rendition``; the key its row names.

    A public rendition's row names its public key, and the object is kept at its private copy
    until the entry is approved (contest.media.publication). The jury's copy of an original
    lives under a private key of its own: publication never copies it anywhere. A media job's
    renditions go under its own prefixes (``job_prefixes``), where a rerun finds what an
    attempt killed before its commit left.
    """
    scope = f"/j{job_id}" if job_id is not None else ""
    if rendition.kind is AssetKind.jury_original:
        key = stored = new_key(JURY_PREFIX + scope, f"/{rendition.path.name}")
    else:
        key = new_key("public/r" + scope, f"/{rendition.path.name}")
        stored = private_copy_key(key)
    with rendition.path.open("rb") as stream:
        storage.save(stored, stream, content_type=rendition.mime_type)
    return key


def job_prefixes(job_id: int) -> list[str]:
    """Where the attempts of job ``job_id`` store objects before the commit that names them."""
    return [private_copy_key(f"public/r/j{job_id}/"), f"{JURY_PREFIX}/j{job_id}/"]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
