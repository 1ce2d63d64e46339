"""``python -m bench.jury_copy``: what the jury copy (issue 15, worker.blind) adds to the media jobs.

- jury_copy_cpu_ms_jpeg: CPU milliseconds of one lossless JPEG jury copy (segments rewritten,
  digest), median over three real 5120x2880 photographs (4-7 MB), several runs each.
- jury_copy_share_of_photo_job: that cost as a share of the whole photo job's file work for the
  same photos (worker.jobs.photo.render_original in this process: checks, decode, renditions).
- jury_copy_s_video: wall seconds of the stream copy of bigbuckbunny (1280x720, 5.3 s).

Prints ``name=value`` lines. No database, no storage: the file work alone.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.photo import MAX_PIXELS, _category, wallpaper
from worker.blind import make_jury_copy
from worker.blind_video import make_video_jury_copy
from worker.jobs.photo import render_original

PHOTOS = ("Volna", "Flow", "SafeLanding")
RUNS = 5
VIDEO = Path(__file__).resolve().parent.parent / ".cache" / "test-media" / "bigbuckbunny.mp4"


def _cpu_ms(work, *args, **kwargs) -> float:
    started = time.process_time()
    work(*args, **kwargs)
    return (time.process_time() - started) * 1000


def measure() -> dict[str, float]:
    category = _category()
    copies, jobs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-jury-copy-") as tmp:
        folder = Path(tmp)
        for name in PHOTOS:
            photo = wallpaper(name)
            for run in range(RUNS):
                out = folder / f"{name}-{run}"
                copies.append(_cpu_ms(make_jury_copy, photo, out, "jpeg", position=0, width=0, height=0))
            job_dir = folder / f"job-{name}"
            jobs.append(
                _cpu_ms(
                    render_original, photo, category, job_dir, position=0, max_pixels=MAX_PIXELS, limits=None
                )
            )
        started = time.monotonic()
        make_video_jury_copy(
            VIDEO, folder, container="mp4", mime_type="video/mp4", size=(1280, 720), duration_s=5.3
        )
        video_s = time.monotonic() - started
    copy_ms = statistics.median(copies)
    return {
        "jury_copy_cpu_ms_jpeg": copy_ms,
        "jury_copy_share_of_photo_job": copy_ms / statistics.median(jobs),
        "jury_copy_s_video": video_s,
    }


def main() -> None:
    for name, value in measure().items():
        print(f"{name}={value:.3f}")


if __name__ == "__main__":
    main()
