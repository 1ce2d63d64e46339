"""Photo jobs: check each original, decode it once, make its renditions, record them.

A single photo and a photo series run the same steps; a series processes its photos in
the entrant's order (positions 0..n-1) and is ready only when every photo is. Renditions
are written to local files first and uploaded only once every photo of the entry has been
rendered, so a photo refused half-way leaves no object in storage.
"""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from flask import current_app

from contest.contests.models import Category
from contest.entries.failures import MediaRejected
from contest.entries.models import MediaAsset
from contest.entries.validation import check_photo_header
from contest.storage import ObjectMissing, copy_to_tempfile
from worker.inspect import difference_hash, exif_hints
from worker.jobs.base import MediaAttempt, OriginalFacts
from worker.photo import RenderedPhoto, render
from worker.renditions import Rendition, file_sha256


class PhotoAttempt(MediaAttempt):
    """A single photo: four public renditions (display and thumbnail, JPEG and WebP)."""

    def photos(self) -> list[MediaAsset]:
        return [self.original]

    def refusal(self, exc: MediaRejected, original: MediaAsset) -> MediaRejected:
        """How the entrant learns that ``original`` was refused."""
        return exc

    def process(self) -> None:
        renditions: list[Rendition] = []
        facts: list[OriginalFacts] = []
        with TemporaryDirectory(prefix="photo-job-") as tmp:
            for original in self.photos():
                out_dir = Path(tmp) / str(original.position)
                try:
                    source = copy_to_tempfile(self.storage, original.storage_key, tmp)
                except ObjectMissing:
                    return self.give_up(f"original {original.position} is missing from storage")
                try:
                    rendered, fact = self.render_one(original, source, out_dir)
                except MediaRejected as exc:
                    return self.reject(self.refusal(exc, original))
                finally:
                    source.unlink(missing_ok=True)  # a series keeps one original on disk at a time
                renditions += rendered.renditions
                facts.append(fact)
                self.beat()
            assets = [self.upload(rendition) for rendition in renditions]
            self.finish(assets, facts)

    def render_one(
        self, original: MediaAsset, source: Path, out_dir: Path
    ) -> tuple[RenderedPhoto, OriginalFacts]:
        max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
        return render_original(
            source, self.category, out_dir, position=original.position, max_pixels=max_pixels
        )


def render_original(
    source: Path, category: Category, out_dir: Path, *, position: int, max_pixels: int
) -> tuple[RenderedPhoto, OriginalFacts]:
    """One original's work: header checks, one decode, four renditions, the facts to record.

    Pure file work (no database, no storage): the benchmark runs exactly this.
    """
    info = check_photo_header(source, category, max_pixels=max_pixels)
    rendered = render(source, out_dir, found=info.format, position=position)
    facts = OriginalFacts(
        position=position,
        sha256=file_sha256(source),
        width=info.width,
        height=info.height,
        # For the organizers' duplicate and eligibility flags, from the same single decode.
        phash=difference_hash(rendered.display),
        details={"exif": exif_hints(rendered.exif)},
    )
    return rendered, facts


class PhotoSeriesAttempt(PhotoAttempt):
    """An ordered set of photos, each rendered like a single photo at its own position."""

    def photos(self) -> list[MediaAsset]:
        return self.entry.originals()

    def refusal(self, exc: MediaRejected, original: MediaAsset) -> MediaRejected:
        return MediaRejected(
            "series_item",
            position=original.position,
            filename=original.original_filename or "",
            item_code=exc.code,
            item_params=exc.params,
        )
