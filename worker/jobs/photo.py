"""Photo jobs: check each original, decode it once, make its renditions, record them.

A single photo and a photo series run the same steps; a series processes its photos in
the entrant's order (positions 0..n-1) and is ready only when every photo is. Renditions
are written to local files first and uploaded only once every photo of the entry has been
rendered, so a photo refused half-way leaves no object in storage.

Each original's file work (header checks, the one decode, renditions, fingerprints) runs in
a short-lived child process (worker.render_child) under limits: address space
(PHOTO_RENDER_MAX_MEMORY_MB), CPU seconds and wall time (PHOTO_RENDER_TIMEOUT_S), no core
file; it dies with the worker. A photo that crashes the decoder, or needs more memory or
time than allowed, is refused as "damaged_file"; a child killed from outside (the kernel's
OOM killer, an operator) or failing for another reason is an error, retried like any other.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from tempfile import TemporaryDirectory

from flask import current_app

from contest.config import ROOT
from contest.contests.models import Category
from contest.entries.failures import MediaRejected
from contest.entries.models import AssetKind, MediaAsset
from contest.media.limits import ChildLimits, LimitHit, ending, run_limited
from contest.media.photo_files import PhotoRules
from contest.storage import ObjectMissing, copy_to_tempfile
from worker import render_child
from worker.jobs.base import MediaAttempt, OriginalFacts
from worker.renditions import Rendition

log = logging.getLogger(__name__)
# The child needs none of the worker's secrets (database, storage credentials): only these.
_CHILD_ENVIRONMENT = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE")


class PhotoRenderFailed(RuntimeError):
    """The decode child failed for a reason that is not the photo's (retried like any error)."""


class RenderLimits(ChildLimits):
    """The decode child's limits (contest.media.limits), or None to decode in this process."""

    @classmethod
    def from_config(cls, config: dict) -> RenderLimits | None:
        """None when PHOTO_RENDER_IN_CHILD is off: the work then runs in the worker's process."""
        if not config["PHOTO_RENDER_IN_CHILD"]:
            return None
        return cls.of(config)


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
                    raise self.refusal(exc, original) from exc
                finally:
                    source.unlink(missing_ok=True)  # a series keeps one original on disk at a time
                renditions += rendered
                facts.append(fact)
                self.beat()
            assets = [self.upload(rendition) for rendition in renditions]
            self.finish(assets, facts)

    def render_one(
        self, original: MediaAsset, source: Path, out_dir: Path
    ) -> tuple[list[Rendition], OriginalFacts]:
        config = current_app.config
        return render_original(
            source,
            self.category,
            out_dir,
            position=original.position,
            max_pixels=config["MAX_IMAGE_PIXELS"],
            limits=RenderLimits.from_config(config),
        )


def render_original(
    source: Path,
    category: Category,
    out_dir: Path,
    *,
    position: int,
    max_pixels: int,
    limits: RenderLimits | None,
) -> tuple[list[Rendition], OriginalFacts]:
    """One original's work: header checks, one decode, four renditions, the facts to record.

    Pure file work (no database, no storage), in a decode child under ``limits`` (in this
    process when None); the benchmark runs exactly this. ``out_dir`` is removed on failure.
    """
    rules = PhotoRules.of(category)
    try:
        if limits is None:
            result = render_child.render_original_files(
                source, out_dir, rules, position=position, max_pixels=max_pixels
            )
        else:
            asked = render_child.request(source, out_dir, rules, position=position, max_pixels=max_pixels)
            result = run_render_child(asked, limits)
        return _renditions(result, out_dir), _facts(result, position)
    except BaseException:
        shutil.rmtree(out_dir, ignore_errors=True)
        raise


def run_render_child(asked: str, limits: RenderLimits) -> dict:
    """Run ``python -m worker.render_child`` on the request ``asked``; its JSON result.

    MediaRejected("damaged_file") when the photo crashed the decoder or overran a limit;
    PhotoRenderFailed when the child failed for another reason.
    """
    command = [sys.executable, "-m", "worker.render_child", asked]
    environment = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    try:
        done = run_limited(command, limits, cwd=ROOT, env=environment)
    except LimitHit as exc:
        log.warning("photo decode refused: %s", exc)
        raise MediaRejected("damaged_file") from None
    if done.returncode == render_child.EXIT_OUT_OF_MEMORY:
        log.warning("photo decode ran out of memory (limit %s MB): refused", limits.max_memory_mb)
        raise MediaRejected("damaged_file")
    if done.returncode != 0:
        raise PhotoRenderFailed(
            f"photo decode child ended with {ending(done.returncode)}: {_tail(done.stderr)}"
        )
    try:
        return json.loads(done.stdout)
    except ValueError as exc:
        raise PhotoRenderFailed(f"photo decode child printed no result: {_tail(done.stderr)}") from exc


def _tail(stderr: bytes) -> str:
    return stderr[-2000:].decode(errors="replace").strip()


def _renditions(result: dict, out_dir: Path) -> list[Rendition]:
    """The renditions the child wrote (MediaRejected when it refused the photo)."""
    if "rejected" in result:
        raise MediaRejected(result["rejected"], **result["params"])
    return [_rendition(item, out_dir) for item in result["renditions"]]


def _rendition(item: dict, out_dir: Path) -> Rendition:
    path = out_dir / item["file"]
    # Only a plain file of out_dir is uploaded, whatever a (compromised) child says.
    if path.parent != out_dir or path.is_symlink() or not path.is_file():
        raise PhotoRenderFailed(f"the decode child reported a file outside its folder: {item['file']!r}")
    return Rendition(
        kind=AssetKind(item["kind"]),
        path=path,
        mime_type=item["mime_type"],
        width=item["width"],
        height=item["height"],
        bytes=item["bytes"],
        sha256=item["sha256"],
        position=item["position"],
    )


def _facts(result: dict, position: int) -> OriginalFacts:
    facts = result["facts"]
    return OriginalFacts(
        position=position,
        sha256=facts["sha256"],
        width=facts["width"],
        height=facts["height"],
        phash=facts["phash"],
        details=facts["details"],
    )


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
