"""The photo job: check the original, make the display image and thumbnail, record them."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from flask import current_app

from contest.entries.failures import MediaRejected
from contest.entries.validation import check_photo
from contest.storage import ObjectMissing, copy_to_tempfile
from worker.jobs.base import MediaAttempt, OriginalFacts
from worker.photo import render_photo
from worker.renditions import file_sha256


class PhotoAttempt(MediaAttempt):
    """A single photo: four public renditions (display and thumbnail, JPEG and WebP)."""

    def process(self) -> None:
        with TemporaryDirectory(prefix="photo-job-") as tmp:
            try:
                source = copy_to_tempfile(self.storage, self.original.storage_key, tmp)
            except ObjectMissing:
                return self.give_up("the original file is missing from storage")
            self.beat()
            try:
                info = check_photo(
                    source, self.category, quick=False, max_pixels=current_app.config["MAX_IMAGE_PIXELS"]
                )
            except MediaRejected as exc:
                return self.reject(exc)
            original_sha256 = file_sha256(source)
            renditions = render_photo(source, Path(tmp))
            self.beat()
            assets = [self.upload(rendition) for rendition in renditions]
            facts = OriginalFacts(position=0, sha256=original_sha256, width=info.width, height=info.height)
            self.finish(assets, [facts])
