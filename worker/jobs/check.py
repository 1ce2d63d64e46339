"""The check of files that arrived straight in storage, before their entry counts as submitted.

Each file is downloaded to a temporary file and read by the form's own checks
(contest.entries.checks.check_files: sniffing, ffprobe, pixel limits, formats), so a rule is
written once. A file that passes is copied to an original's key and its upload object deleted;
the entry is then submitted and its processing job queued, in the commit that closes this job
(so it is processed once). A file that fails is deleted, with its siblings: no object is left,
and the entry fails with the reason its entrant reads (and is e-mailed).
"""

from __future__ import annotations

import logging
import tempfile

from contest.db import now_utc
from contest.entries.checks import CheckedFile, UploadedFile, check_files
from contest.entries.failures import MediaRejected
from contest.entries.mails import tell_received
from contest.entries.models import EntryStatus, MediaAsset
from contest.entries.services import EXTENSIONS, JOB_KINDS
from contest.processing import services
from contest.storage import ObjectMissing, copy_to_tempfile, new_key
from worker.jobs.base import MediaAttempt

log = logging.getLogger(__name__)


class CheckAttempt(MediaAttempt):
    """One attempt at checking the files of an entry in "checking"."""

    def process(self) -> None:
        if self.entry.status is not EntryStatus.checking:
            return self.abandon(f"entry {self.entry.status.value}: nothing to check")
        originals = [(a.id, a.storage_key, a.original_filename) for a in self.entry.originals()]
        self.prefix = f"originals/{self.entry.contest.slug}/j{self.job.id}"
        self.session.commit()  # ends the read: no transaction open while files move (nothing expires)
        with tempfile.TemporaryDirectory(prefix="check-") as tmp:
            try:
                files = [
                    UploadedFile(copy_to_tempfile(self.storage, key, tmp), name) for _, key, name in originals
                ]
            except ObjectMissing:
                return self.give_up("an uploaded file is missing from storage")
            checked = check_files(self.category, files)  # MediaRejected: the file's fault (MediaAttempt.run)
            keys = [self.store(item) for item in checked]
        self.accept([asset_id for asset_id, _, _ in originals], checked, keys)

    def leftover_prefixes(self) -> list[str]:
        return [f"originals/{self.entry.contest.slug}/j{self.job.id}/"]

    def store(self, item: CheckedFile) -> str:
        """Copy a checked file to an original's key, as the form stores one."""
        key = new_key(self.prefix, "." + EXTENSIONS[item.format])
        with open(item.upload.path, "rb") as source:
            self.storage.save(key, source, content_type=item.mime_type)
        self.uploaded.append(key)
        return key

    def accept(self, asset_ids: list[int], checked: list[CheckedFile], keys: list[str]) -> None:
        """Submit the entry and queue its processing, in the commit that closes this job."""
        if not self.still_ours():
            return self.discard_uploads()
        if self.entry.status is not EntryStatus.checking:
            return self.abandon(f"entry {self.entry.status.value} during the check")
        arrived = []
        for asset_id, item, key in zip(asset_ids, checked, keys, strict=True):
            asset = self.session.get(MediaAsset, asset_id)
            arrived.append(asset.storage_key)
            asset.storage_key, asset.mime_type, asset.bytes = key, item.mime_type, item.bytes
            asset.width, asset.height, asset.duration_s = item.width, item.height, item.duration_s
        self.entry.transition(EntryStatus.submitted)
        self.entry.submitted_at = now_utc()
        services.create_job(self.session, self.entry, JOB_KINDS[self.category.kind])
        services.complete(self.session, self.job)
        tell_received(self.session, self.entry)
        self.session.commit()
        self.uploaded = []
        self.delete_objects(arrived)
        log.info("job %s: entry %s checked and submitted", self.job.id, self.entry.code)

    def reject(self, exc: MediaRejected) -> None:
        """The file's fault: every file of the entry is deleted, and the entry fails with the reason."""
        self._close_failed(exc.code, f"rejected: {exc.code}", exc.params)

    def give_up(self, reason: str) -> None:
        self._close_failed("processing_error", reason, {})

    def _close_failed(self, code: str, error: str, params: dict) -> None:
        self.discard_uploads()
        if not self.still_ours():
            return
        arrived = [asset.storage_key for asset in self.entry.originals()]
        for asset in self.entry.originals():
            self.entry.assets.remove(asset)
        if self.entry.status is EntryStatus.checking:
            services.fail(self.session, self.job, code, error=error, **params)
        else:
            services.abandon(self.session, self.job, error)
        self.session.commit()
        self.delete_objects(arrived)
        log.info("job %s: entry %s refused after arrival: %s %s", self.job.id, self.entry.code, code, params)
