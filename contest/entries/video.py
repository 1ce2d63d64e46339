"""Checks of an uploaded video against its category's rules, with ffprobe.

The same code runs in the request (``quick=True``: size, the first bytes, and ffprobe of
the header with tight limits) and in the worker (``quick=False``: a deeper probe). Both
enforce the category's bytes, duration and resolution, since the header states them.

ffprobe is a large attack surface, so it is boxed in: it runs without a shell on an
argument list holding no user-supplied string (the path is one the caller named itself),
may open local files only (``-protocol_whitelist file``), must read the file as MOV/MP4
(``-f mov``: a playlist, a concat list or an AVI named .mp4 is never parsed as one), with
external data references off, bounded probe size and analysis time, and under the memory
and time limits of every child that faces an upload (contest.media.limits). A file that
ends inside one of its boxes is refused before ffprobe runs (contest.media.mp4).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from flask import current_app, has_app_context

from contest.config import load_settings
from contest.contests.models import Category
from contest.entries.failures import MediaRejected
from contest.entries.validation import check_size, sniff_format
from contest.geo.positions import video_position
from contest.geo.province import GpsCheck, check_position
from contest.media import mp4
from contest.media.limits import ChildLimits, LimitHit, run_limited

FFPROBE = "ffprobe"
VIDEO_FORMATS = {"mp4": "video/mp4", "mov": "video/quicktime"}
# Codecs we can decode and transcode; anything else is refused before the worker tries.
VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "prores", "vp9", "av1"})
AUDIO_CODECS = frozenset({"aac", "mp3", "alac", "opus"})
# Hard ceiling whatever the category says: 8K is the largest a phone records, and a
# header claiming more is a decompression bomb.
MAX_LONG_EDGE_PX = 8192
MAX_PIXELS = 8192 * 4320
# (probesize bytes, analyzeduration µs, timeout s) for the request and for the worker.
QUICK_LIMITS = (2_000_000, 2_000_000, 15)
FULL_LIMITS = (50_000_000, 20_000_000, 120)
# A video whose packets stop before this share of the frames its index declares was cut
# short (an intact file yields every packet its index lists).
READ_SHARE_REQUIRED = 0.98
# How ffprobe fails under the memory limit: its libraries cannot be mapped (the loader
# exits 127), or an allocation fails.
_EXIT_NOT_LOADED, _OUT_OF_MEMORY = 127, b"Cannot allocate memory"
# QuickTime files written without an ftyp box start with one of these atoms.
_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_PLAYLIST_MARKS = (b"#extm3u", b"ffconcat", b"concat:", b"file:", b"file '", b'file "', b"#ext-x-")


@dataclass(frozen=True)
class VideoInfo:
    format: str  # "mp4" or "mov"
    mime_type: str
    width: int  # as displayed, i.e. after rotation
    height: int
    duration_s: float
    bytes: int
    video_codec: str
    audio_codec: str | None
    rotation: int  # degrees clockwise the player turns the picture: 0, 90, 180 or 270
    avg_fps: float
    bit_rate: int | None
    pix_fmt: str | None = None
    coded_width: int = 0  # as stored, before rotation
    coded_height: int = 0
    # Which video and audio track to use, counted among the tracks of their type ("v:0", "a:1").
    video_index: int = 0
    audio_index: int = 0
    # Whether the GPS position in its tags lies in Nghe An; the position itself is not kept.
    gps: GpsCheck = GpsCheck.absent


class ProbeFailed(Exception):
    """ffprobe could not read the file as MOV/MP4 (its stderr in ``args[0]``)."""


def check_video(
    path: str | os.PathLike, category: Category, *, quick: bool, limits: ChildLimits | None = None
) -> VideoInfo:
    """Raise MediaRejected unless the file at ``path`` is an acceptable video of ``category``.

    ffprobe runs under ``limits`` (default: the configured ones, contest.media.limits).
    """
    path = Path(path).resolve()
    num_bytes = path.stat().st_size
    if num_bytes == 0:
        raise MediaRejected("empty_file")
    allowed = [f for f in category.allowed_formats if f in VIDEO_FORMATS] or ["mp4"]
    found = sniff_container(path)
    if found not in allowed:
        _refuse_container(found, allowed)
    if not mp4.is_complete(path):
        raise MediaRejected("damaged_file")  # cut short: the file ends inside a box
    try:
        probe = ffprobe(path, quick=quick, limits=limits)
    except LimitHit as exc:
        raise MediaRejected("too_complex") from exc
    except ProbeFailed as exc:
        raise MediaRejected("damaged_file") from exc
    info = video_info(probe, found, num_bytes)
    _check_limits(info, category)
    check_size(num_bytes, category)  # last: the real problem (not a video, format, pixels) first
    return info


def sniff_container(path: Path) -> str | None:
    """The container: "mp4", "mov", or what else the first bytes say ("playlist", "avi", "text", ...)."""
    with open(path, "rb") as f:
        head = f.read(512)
    if head[4:8] == b"ftyp":
        return sniff_format(path)  # "mp4", "mov" or "heif"
    if head[4:8] in _QUICKTIME_ATOMS:
        return "mov"
    if head[:4] == b"RIFF":
        return {b"AVI ": "avi", b"WAVE": "wav", b"WEBP": "webp"}.get(head[8:12], "riff")
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith(_PLAYLIST_MARKS):
        return "playlist"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"
    return sniff_format(path)


def _refuse_container(found: str | None, allowed: list[str]) -> None:
    if found == "playlist":
        raise MediaRejected("video_playlist")
    if found in (None, "text", "markup", "riff"):
        raise MediaRejected("not_a_video", allowed=allowed)
    raise MediaRejected("unsupported_format", found=found, allowed=allowed)


def ffprobe(path: Path, *, quick: bool, limits: ChildLimits | None = None) -> dict:
    """ffprobe's JSON for ``path`` read as MOV/MP4; ProbeFailed, or LimitHit when it overran ``limits``.

    The deep probe (``quick=False``) also reads every packet (no decoding), so that a file
    whose data ends before its index does is seen as damaged (video_info).
    """
    probesize, analyzeduration, _timeout_s = QUICK_LIMITS if quick else FULL_LIMITS
    limits = probe_limits(quick=quick, limits=limits)
    command = [
        FFPROBE,
        "-v", "error",
        "-protocol_whitelist", "file",
        "-probesize", str(probesize),
        "-analyzeduration", str(analyzeduration),
        "-f", "mov",
        "-enable_drefs", "0",
        "-print_format", "json",
        "-show_format",
        "-show_streams",
        *([] if quick else ["-count_packets"]),
        f"file:{path}",
    ]  # fmt: skip
    done = run_limited(command, limits)
    if done.returncode == _EXIT_NOT_LOADED or _OUT_OF_MEMORY in done.stderr:
        raise LimitHit(f"ffprobe ran out of memory (limit {limits.max_memory_mb} MB)")
    if done.returncode != 0:
        raise ProbeFailed(done.stderr.decode(errors="replace")[-2000:])
    try:
        probe = json.loads(done.stdout)
    except ValueError as exc:
        raise ProbeFailed("ffprobe printed no JSON") from exc
    if not isinstance(probe, dict) or "format" not in probe:
        raise ProbeFailed("ffprobe found no container")
    return probe


def probe_limits(*, quick: bool, limits: ChildLimits | None = None) -> ChildLimits:
    """An ffprobe run's limits: ``limits`` (default: the configured ones), within the probe's own timeout."""
    limits = limits or ChildLimits.of(current_app.config if has_app_context() else load_settings())
    timeout_s = (QUICK_LIMITS if quick else FULL_LIMITS)[2]
    return ChildLimits(min(timeout_s, limits.timeout_s), limits.max_memory_mb)


def video_info(probe: dict, found: str, num_bytes: int) -> VideoInfo:
    """The facts of ffprobe's JSON we use; MediaRejected for streams we do not accept."""
    streams = probe.get("streams") or []
    pictures = [s for s in streams if s.get("codec_type") == "video"]
    moving = [s for s in pictures if not _is_still(s)]
    if not moving:
        raise MediaRejected("no_video_stream")
    video = moving[0]
    codec = video.get("codec_name") or "unknown"
    if codec not in VIDEO_CODECS:
        raise MediaRejected("unsupported_codec", codec=codec.upper())
    sounds = [s for s in streams if s.get("codec_type") == "audio"]
    usable = [i for i, s in enumerate(sounds) if _audio_ok(s.get("codec_name") or "")]
    if sounds and not usable:
        raise MediaRejected("unsupported_codec", codec=(sounds[0].get("codec_name") or "unknown").upper())
    audio_codec = sounds[usable[0]]["codec_name"] if usable else None
    coded_w, coded_h = int(video.get("width") or 0), int(video.get("height") or 0)
    if coded_w <= 0 or coded_h <= 0 or _data_ends_early(video):
        raise MediaRejected("damaged_file")
    rotation = stream_rotation(video)
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    return VideoInfo(
        format=found,
        mime_type=VIDEO_FORMATS[found],
        width=width,
        height=height,
        duration_s=_duration(probe, video),
        bytes=num_bytes,
        video_codec=codec,
        audio_codec=audio_codec,
        rotation=rotation,
        avg_fps=_fps(video),
        bit_rate=_int_or_none(probe["format"].get("bit_rate")),
        pix_fmt=video.get("pix_fmt"),
        coded_width=coded_w,
        coded_height=coded_h,
        video_index=pictures.index(video),
        audio_index=usable[0] if usable else 0,
        gps=gps_check(probe),
    )


def gps_check(probe: dict) -> GpsCheck:
    """The verdict on the GPS position in the container's tags (absent when it has none)."""
    tags = probe["format"].get("tags")
    position = video_position(tags) if isinstance(tags, dict) else None
    return check_position(*position) if position else GpsCheck.absent


def _check_limits(info: VideoInfo, category: Category) -> None:
    long_edge = max(info.width, info.height)
    cap = min(category.max_long_edge_px or MAX_LONG_EDGE_PX, MAX_LONG_EDGE_PX)
    if long_edge > cap or info.width * info.height > MAX_PIXELS:
        raise MediaRejected("video_too_large", width=info.width, height=info.height, max=cap)
    if category.min_long_edge_px and long_edge < category.min_long_edge_px:
        raise MediaRejected(
            "video_too_small", width=info.width, height=info.height, min=category.min_long_edge_px
        )
    if info.duration_s <= 0:
        raise MediaRejected("damaged_file")
    if category.max_duration_s and info.duration_s > category.max_duration_s + 0.5:
        raise MediaRejected("video_too_long", duration=round(info.duration_s), max=category.max_duration_s)


def _data_ends_early(video: dict) -> bool:
    """True when the packets read (deep probe only) fall well short of the frames the header declares."""
    read, declared = _int_or_none(video.get("nb_read_packets")), _int_or_none(video.get("nb_frames"))
    return read is not None and bool(declared) and read < declared * READ_SHARE_REQUIRED


def _is_still(stream: dict) -> bool:
    """A cover picture or a one-frame track: an image in a video's clothes."""
    return bool((stream.get("disposition") or {}).get("attached_pic")) or stream.get("nb_frames") == "1"


def _audio_ok(codec: str) -> bool:
    return codec in AUDIO_CODECS or codec.startswith("pcm_")


def stream_rotation(stream: dict) -> int:
    """Clockwise display rotation in degrees (0, 90, 180, 270) from the display matrix."""
    degrees = 0.0
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            # ffprobe states the matrix's counter-clockwise angle: -90 means turn right.
            degrees = -float(side["rotation"])
            break
    else:
        degrees = float((stream.get("tags") or {}).get("rotate") or 0)
    return round(degrees / 90.0) * 90 % 360


def _duration(probe: dict, video: dict) -> float:
    for value in (probe["format"].get("duration"), video.get("duration")):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if seconds > 0:
            return round(seconds, 3)
    return 0.0


def _fps(video: dict) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(video.get(key) or "0/0")
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return round(float(rate), 3)
    return 0.0


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
