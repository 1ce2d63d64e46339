"""Photo renditions against libvips, side by side on the same real photographs.

``photo_cpu_ratio_vs_vips``: CPU seconds (children's rusage, which counts every descendant)
of our photo job's work for all public renditions of real 5120x2880 JPEGs (Debian's
plasma-workspace-wallpapers) -- the header checks, the one decode, display and thumbnail in
JPEG and WebP, the original's digest; no storage -- divided by the CPU seconds of
``vipsthumbnail`` run once per rendition (1600 px and 400 px, JPEG Q=85 and WebP Q=80,
metadata stripped) on the same files. Our jobs run in one Python process, as in a worker,
and each photo's work in a decode child of it (worker.render_child), as the worker does:
the child's start and imports are paid per photo and counted. The CPU of starting the
parent and importing the application (paid once per worker, not per photo) is measured by
an identical process given no photo, and taken off. vipsthumbnail's own start is part of
its cost, since it is one process per rendition.

``photo_cpu_ratio_vs_vips_one_decode`` is the like-for-like figure: the same work of ours,
its process's start and imports counted this time, over libvips doing what our job does in
one process (pyvips on Debian's libvips, the same library as vipsthumbnail): one decode with
shrink-on-load to 1600 px, held in memory, the 400 px thumbnail derived from it, each
written as JPEG Q85 progressive with optimised Huffman tables and WebP Q80 effort 4,
metadata stripped, the original's sha256; the Python process's start and pyvips' import
counted too.

Memory, from a fresh parent process that runs one photo job's work (the largest over the
photos for each figure):

- ``photo_peak_rss_mb``: the peak resident memory of the decode child (the parent's
  ``RUSAGE_CHILDREN`` ru_maxrss: its largest child), imports included (about 22 MB);
- ``photo_worker_peak_rss_mb``: the parent's own peak (VmHWM), i.e. the worker's, with the
  application's imports (about 63 MB);
- ``photo_job_rss_sum_mb``: the two added, the conservative memory one photo job needs at a
  time (the child's peak and the parent's need not coincide);
- ``photo_job_rss_growth_mb``: what the job added to the worker's own peak (VmHWM after the
  job less VmRSS before it); the decode's memory is the child's and goes back to the system
  when it exits.

``photo_cpu_ratio_before_vs_vips`` measures, the same way, the previous pipeline, in the
worker's process: a full decode as the integrity check, then a second decode at reduced
scale for the renditions.

Run alone: ``python -m bench.photo``; ``make bench`` calls measure().
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ["Volna", "Flow", "SafeLanding"]
ROUNDS = 3  # each side is measured this many times, interleaved; the median is kept
MAX_PIXELS = 120_000_000
# Rendition sizes and encoder settings: the same as worker.photo's.
VIPS_OUTPUTS = [
    ("1600x1600", "display.jpg[Q=85,strip]"),
    ("1600x1600", "display.webp[Q=80,strip]"),
    ("400x400", "thumb.jpg[Q=85,strip]"),
    ("400x400", "thumb.webp[Q=80,strip]"),
]


REPORT = """
Photo renditions (bench/photo.py): our photo job's work (header checks, one decode at
reduced scale, display 1600 px and thumbnail 400 px in JPEG q85 progressive+optimised and
WebP q80 method 4, the original's sha256; no storage), each photo in a decode child process
as the worker runs it (the child's start and imports included), against vipsthumbnail run
once per rendition (the same sizes and qualities, metadata stripped), CPU seconds of all
descendant processes, the same three real 5120x2880 JPEGs (two progressive 4:4:4, one
baseline). photo_cpu_ratio_vs_vips_one_decode: the same, our process's start counted, over
libvips in one process (pyvips) decoding each photo once with shrink-on-load and writing the
same four renditions with the same encoder settings (JPEG progressive + optimised, WebP
effort 4), its process's start counted (target <= 1.0). "before" is the previous pipeline, in the worker's process (a full decode as the
check, a second decode for the renditions). Peak RSS, from a fresh parent running one job:
photo_peak_rss_mb is the decode child's (imports ~22 MB included), photo_worker_peak_rss_mb
the parent's own (the worker's imports ~63 MB included), photo_job_rss_sum_mb their sum,
photo_job_rss_growth_mb what the job added to the parent's peak.
"""


def wallpaper(name: str) -> Path:
    return Path("/usr/share/wallpapers") / name / "contents" / "images" / "5120x2880.jpg"


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run_children(commands: list[list[str]]) -> float:
    """CPU seconds the commands took, run one after the other."""
    before = _children_cpu_s()
    for command in commands:
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return _children_cpu_s() - before


def pipeline_cpu_s(photos: list[Path], mode: str = "jobs") -> tuple[float, float]:
    """Our job's CPU seconds for ``photos``: without the process's start and imports, and with."""
    with_photos = _run_children([[sys.executable, "-m", "bench.photo", mode, *map(str, photos)]])
    start_only = _run_children([[sys.executable, "-m", "bench.photo", mode]])
    return with_photos - start_only, with_photos


def vips_one_decode_cpu_s(photos: list[Path]) -> float:
    """libvips' CPU seconds for our job's work in one process (pyvips), its start included."""
    return _run_children([[sys.executable, "-m", "bench.photo", "vips-once", *map(str, photos)]])


def vips_cpu_s(photos: list[Path]) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-vips-") as out:
        commands = [
            ["vipsthumbnail", str(photo), "--size", size, "-o", f"{out}/{target}"]
            for photo in photos
            for size, target in VIPS_OUTPUTS
        ]
        return _run_children(commands)


def job_memory(photo: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.photo", "job", str(photo)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def ensure_vips() -> None:
    if shutil.which("vipsthumbnail") is None:
        raise SystemExit("vipsthumbnail is missing: 'make bench' installs Debian's libvips-tools")
    try:
        import pyvips  # noqa: F401  (the bench's own package, not the application's)
    except ImportError as error:
        raise SystemExit(f"pyvips is missing ({error}): 'make bench' installs it into the venv") from None


def measure(photos: list[Path] | None = None) -> dict:
    ensure_vips()
    photos = photos or [wallpaper(name) for name in PHOTOS]
    ours, ours_started, before, vips, vips_once = [], [], [], [], []
    for _ in range(ROUNDS):
        work, whole = pipeline_cpu_s(photos)
        ours.append(work)
        ours_started.append(whole)
        vips.append(vips_cpu_s(photos))
        vips_once.append(vips_one_decode_cpu_s(photos))
        before.append(pipeline_cpu_s(photos, "before")[0])
    memory = [job_memory(photo) for photo in photos]
    baseline = [m for m in memory if not m["progressive"]]
    ours_s, whole_s, vips_s, once_s, before_s = map(
        statistics.median, (ours, ours_started, vips, vips_once, before)
    )
    return {
        "photo_cpu_ratio_vs_vips": ours_s / vips_s,
        "photo_cpu_ratio_vs_vips_one_decode": whole_s / once_s,
        "photo_cpu_s_per_photo": ours_s / len(photos),
        "photo_cpu_s_per_photo_with_start": whole_s / len(photos),
        "vips_cpu_s_per_photo": vips_s / len(photos),
        "vips_one_decode_cpu_s_per_photo": once_s / len(photos),
        "photo_cpu_ratio_before_vs_vips": before_s / vips_s,
        "photo_peak_rss_mb": max(m["child_peak_rss_mb"] for m in memory),
        "photo_worker_peak_rss_mb": max(m["parent_peak_rss_mb"] for m in memory),
        "photo_job_rss_sum_mb": max(m["child_peak_rss_mb"] + m["parent_peak_rss_mb"] for m in memory),
        "photo_job_rss_growth_mb": max(m["parent_peak_rss_mb"] - m["parent_rss_before_mb"] for m in memory),
        # Progressive JPEGs make libjpeg hold every DCT coefficient of the full-size image
        # whatever the output scale (88 MB for 5120x2880 4:4:4); baseline JPEGs, what
        # phone cameras write, stream.
        "photo_peak_rss_mb_baseline_jpeg": max((m["child_peak_rss_mb"] for m in baseline), default=0.0),
        "photos_in_photo_bench": len(photos),
    }


# --- the child processes ---------------------------------------------------------------------
def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _category():
    from contest.contests.demo import _categories

    return _categories()[0]  # the demo contest's photo category and its real rules


def _limits():
    """The decode child's limits from the configuration (the environment, else the defaults)."""
    from contest.config import load_settings
    from worker.jobs.photo import RenderLimits

    return RenderLimits.from_config(load_settings())


def run_jobs(paths: list[str]) -> None:
    """The photo job's work for each path, as the worker does it, without storage."""
    from worker.jobs.photo import render_original

    category, limits = _category(), _limits()
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="bench-photo-") as out:
            render_original(Path(path), category, Path(out), position=0, max_pixels=MAX_PIXELS, limits=limits)


def run_before(paths: list[str]) -> None:
    """The previous pipeline: a full decode as the check, then a reduced decode for the renditions."""
    from contest.entries.validation import check_photo
    from worker.photo import render_photo
    from worker.renditions import file_sha256

    category = _category()
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="bench-photo-") as out:
            check_photo(path, category, max_pixels=MAX_PIXELS, quick=False)
            render_photo(Path(path), Path(out))
            file_sha256(Path(path))


def run_vips_once(paths: list[str]) -> None:
    """Our job's work done by libvips: one decode per photo (shrink-on-load), four renditions.

    The display image is made once and held in memory (``copy_memory``): libvips' pipelines
    are lazy, and writing it twice would otherwise decode the photo twice.
    """
    import pyvips

    jpeg = {"Q": 85, "interlace": True, "optimize_coding": True, "strip": True}
    webp = {"Q": 80, "effort": 4, "strip": True}
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="bench-vips-once-") as out:
            display = pyvips.Image.thumbnail(path, 1600, height=1600, size="down").copy_memory()
            thumb = display.thumbnail_image(400, height=400, size="down")
            for name, image in (("display", display), ("thumb", thumb)):
                image.jpegsave(f"{out}/{name}.jpg", **jpeg)
                image.webpsave(f"{out}/{name}.webp", **webp)
            hashlib.sha256(Path(path).read_bytes()).hexdigest()  # not the app's helper: no Flask import


def run_one_job(path: str) -> None:
    """One photo job's work in this fresh process; prints its memory figures as JSON."""
    from PIL import Image

    from worker.jobs.photo import render_original

    with Image.open(path) as image:
        progressive = bool(image.info.get("progressive"))
    category, limits = _category(), _limits()
    if limits is None:
        raise SystemExit("PHOTO_RENDER_IN_CHILD is off: this figure measures the decode child")
    before = _status_mb("VmRSS")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-photo-") as out:
        renditions, _facts = render_original(
            Path(path), category, Path(out), position=0, max_pixels=MAX_PIXELS, limits=limits
        )
    print(
        json.dumps(
            {
                "wall_s": time.perf_counter() - started,
                "parent_rss_before_mb": before,
                "parent_peak_rss_mb": _status_mb("VmHWM"),
                # This process starts exactly one child, the decode child: its peak.
                "child_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "renditions": len(renditions),
                "progressive": progressive,
            }
        )
    )


def main(argv: list[str]) -> None:
    if argv and argv[0] == "jobs":
        return run_jobs(argv[1:])
    if argv and argv[0] == "before":
        return run_before(argv[1:])
    if argv and argv[0] == "vips-once":
        return run_vips_once(argv[1:])
    if argv and argv[0] == "job":
        return run_one_job(argv[1])
    figures = measure()
    print("\n".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
