"""The video job: check the original with ffprobe, transcode the ladder, record the renditions."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from flask import current_app

from contest.entries.video import VideoInfo, check_video
from contest.storage import ObjectMissing, copy_to_tempfile
from worker.blind_video import make_video_jury_copy
from worker.jobs.base import MediaAttempt, OriginalFacts
from worker.renditions import Rendition, file_sha256
from worker.video import transcode_video

log = logging.getLogger(__name__)
WORKDIR_PREFIX = "video-job-"
# A working folder untouched for this long belongs to a worker that was killed (no job
# outlives Celery's 30-minute limit); the next video job removes it.
STALE_WORKDIR_S = 2 * 60 * 60


class VideoAttempt(MediaAttempt):
    """A single video: the H.264 ladder, a poster (JPEG and WebP), three frames and the jury's copy."""

    def process(self) -> None:
        remove_stale_workdirs()
        with TemporaryDirectory(prefix=WORKDIR_PREFIX) as tmp:
            try:
                source = copy_to_tempfile(self.storage, self.original.storage_key, tmp)
            except ObjectMissing:
                return self.give_up("the original file is missing from storage")
            self.beat()
            info = check_video(source, self.category, quick=False)  # MediaRejected: the file's fault
            original_sha256 = file_sha256(source)
            renditions = self.transcode(source, info, Path(tmp))
            renditions.append(self.jury_copy(source, info, Path(tmp)))
            self.beat()
            assets = []
            for rendition in renditions:
                assets.append(self.upload(rendition))
                self.beat()
            self.finish(assets, [original_facts(info, original_sha256)])

    def transcode(self, source: Path, info: VideoInfo, workdir: Path) -> list[Rendition]:
        """The renditions; TranscodeFailed when ffmpeg cannot make them (worker.jobs.faults)."""
        config = current_app.config
        return transcode_video(
            source,
            info,
            workdir,
            threads=config["VIDEO_THREADS"],
            timeout_s=config["VIDEO_TIMEOUT_S"],
            beat=self.beat,
            beat_every_s=beat_interval_s(config["JOB_STALE_AFTER_S"]),
        )

    def jury_copy(self, source: Path, info: VideoInfo, workdir: Path) -> Rendition:
        """The original without its tags, for the jury (worker.blind_video)."""
        size = (info.width, info.height)
        return make_video_jury_copy(
            source,
            workdir,
            container=info.format,
            mime_type=info.mime_type,
            size=size,
            duration_s=info.duration_s,
        )


def beat_interval_s(stale_after_s: int) -> float:
    """Often enough that a live job never looks stale: four beats per stale period, at most 10 s apart."""
    return max(0.5, min(10.0, stale_after_s / 4))


def original_facts(info: VideoInfo, sha256: str) -> OriginalFacts:
    return OriginalFacts(
        position=0,
        sha256=sha256,
        width=info.width,
        height=info.height,
        duration_s=info.duration_s,
        details={
            "container": info.format,
            "codecs": {"video": info.video_codec, "audio": info.audio_codec},
            "fps": info.avg_fps,
            "rotation": info.rotation,
            "bit_rate": info.bit_rate,
            "gps": info.gps.value,  # the verdict only (contest.entries.gps)
        },
    )


def remove_stale_workdirs(now: float | None = None) -> list[Path]:
    """Delete the working folders that killed workers left behind (SIGKILL skips clean-up)."""
    limit = (now or time.time()) - STALE_WORKDIR_S
    stale = [p for p in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*") if _modified(p) < limit]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed %s, left by a killed worker", folder)
    return stale


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")
