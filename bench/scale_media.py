"""bench.scale's files and its CPU accounting.

Files: small but real, each one different (no two entries share a picture): Pillow JPEGs of
coloured noise at the bench contest's minimum long edge, and H.264 MP4s of ffmpeg's ``testsrc``
(each with its own hue). The workers' CPU: utime+stime of each worker process and of the
children it has waited for (the photo decode children, ffmpeg), from /proc/<pid>/stat.
"""

from __future__ import annotations

import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

PHOTO_SIZE = (1200, 800)  # the bench contest's minimum long edge (bench.scale.BENCH_RULES)
VIDEO_SIZE = "640x360"
VIDEO_SECONDS = 2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def make_photo(path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    noise = [Image.effect_noise(PHOTO_SIZE, rng.uniform(20, 60)) for _ in range(3)]
    tint = Image.new("RGB", PHOTO_SIZE, tuple(rng.randrange(256) for _ in range(3)))
    Image.blend(Image.merge("RGB", noise), tint, 0.5).save(path, "JPEG", quality=90)
    return path


def make_video(path: Path, seed: int) -> Path:
    source = f"testsrc=size={VIDEO_SIZE}:rate=25:duration={VIDEO_SECONDS},hue=h={seed * 7 % 360}"
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
    subprocess.run([*command, str(path)], check=True, timeout=120)
    return path


def make_files(folder: Path, photos: int, videos: int) -> tuple[list[Path], list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        photo_files = list(pool.map(lambda i: make_photo(folder / f"IMG_{i:04d}.jpg", i), range(photos)))
        video_files = list(pool.map(lambda i: make_video(folder / f"VID_{i:04d}.mp4", i), range(videos)))
    return photo_files, video_files


def cpu_seconds(pid: int) -> float | None:
    """utime + stime + cutime + cstime of ``pid`` in seconds; None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float | None:
    """The worker's CPU and that of its children still running (a photo decode, an ffmpeg)."""
    own = cpu_seconds(pid)
    if own is None:
        return None
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return own
    return own + sum(cpu_seconds(int(child)) or 0.0 for child in children)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) seconds of all the machine's cores so far, from /proc/stat: what the rest of
    a shared machine took shows beside the workers' share."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / CLOCK_TICKS, sum(fields) / CLOCK_TICKS
