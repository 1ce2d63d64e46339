"""Small real files for the journeys' entrant: JPEGs made with Pillow that meet a category's rules
(long side, smallest and largest size), and a one-second MP4 cut from real footage with ffmpeg.

Small on purpose: the worker makes real renditions of them in about a second each, where the
5120x2880 wallpapers take several.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

from PIL import Image, ImageDraw

from tests.support import real_video_source

LONG, SHORT = 3200, 2000  # above the demo photo categories' 3,000 px


def rule_jpeg(folder: Path, name: str, variant: int, *, min_long: int | None, min_bytes: int | None) -> Path:
    """A JPEG at least ``min_long`` px on its long side and ``min_bytes`` big; each ``variant``
    looks different (another gradient under the grain), so no two are duplicates of each other."""
    long_side = max(LONG, min_long or 0)
    size = (long_side, long_side * SHORT // LONG)
    grain = Image.frombytes("RGB", (size[0] // 2, size[1] // 2), os.urandom(size[0] * size[1] * 3 // 4))
    grain = grain.resize(size, Image.Resampling.NEAREST)
    ramp = Image.linear_gradient("L").resize(size).rotate(90 * variant)
    colour = Image.merge(
        "RGB", (ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), Image.new("L", size, 50 * variant))
    )
    # A dark disc whose place depends on the variant: what a perceptual hash tells apart.
    x, y, r = size[0] * (1 + variant % 3) // 4, size[1] * (1 + variant // 3 % 3) // 4, size[1] // 5
    ImageDraw.Draw(colour).ellipse((x - r, y - r, x + r, y + r), fill=(20, 20, 20))
    picture = Image.blend(grain, colour, 0.6)
    for quality in (85, 90, 95):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        if out.tell() >= (min_bytes or 0):
            break
    path = folder / f"{name}.jpg"
    path.write_bytes(out.getvalue())
    return path


def short_clip(folder: Path) -> Path:
    """One second of Big Buck Bunny at 640x360 (H.264 and AAC in an MP4), made with ffmpeg."""
    path = folder / "clip.mp4"
    command = [
        "ffmpeg", "-loglevel", "error", "-y", "-i", str(real_video_source()), "-t", "1",
        "-vf", "scale=640:-2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "2",
        "-movflags", "+faststart", str(path),
    ]  # fmt: skip
    subprocess.run(command, check=True, timeout=60)
    return path


def saved_again(path: Path, name: str) -> Path:
    """The same picture saved again at another quality: a different file, the same photograph."""
    copy = path.with_name(f"{name}.jpg")
    with Image.open(path) as picture:
        picture.save(copy, "JPEG", quality=97)
    return copy
