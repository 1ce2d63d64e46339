"""Public renditions of a video: a ladder of H.264/AAC MP4 files, a poster and a few frames.

Pure media work, no database and no storage. One ffmpeg process decodes the source once
and encodes every rung of the ladder from it: the frames are turned upright (ffmpeg's
autorotate), made constant-rate once (``fps``), and each rung is scaled from the rung
above it (a cascade: each scaler reads the smallest picture it can). A second, short
ffmpeg process seeks to four instants and writes the poster (JPEG + WebP) and the frames.

Encoding: libx264 ``veryfast`` (PeerTube's default preset) at CRF 23 (x264's default
quality) with a VBV cap per size: about 3 CPU seconds per second of 1080p footage for the
whole ladder on a 2.5 GHz Xeon, clean at the sizes the gallery plays. Keyframes fall
every 2 s on every rung (fixed GOP, no scene-cut keyframes), so the rungs stay aligned.
When the source is already web-safe (H.264 yuv420p, AAC or no audio, upright, within the
bitrate cap of its size) the top rung is the source's own stream copied into a new MP4
(a remux), and the lower rungs put their keyframes where the source has its own.

Every ffmpeg run: an argument list (no shell) holding no user-supplied string, the
source read as MOV/MP4 only (``-f mov``) through the ``file`` protocol only, external data
references off, ``-nostdin``, a thread cap on the decoder, the filters and each encoder,
a timeout, and its own temporary folder, removed when the run fails. Every output is
stripped of metadata (global, stream and chapter) and of the encoder's name.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import ffmpeg

from contest.entries.models import AssetKind
from contest.entries.video import VideoInfo, ffprobe, probe_limits
from contest.media import mp4
from contest.media.limits import LimitHit, die_with_parent, run_limited
from worker.renditions import Rendition, file_sha256

log = logging.getLogger(__name__)
FFMPEG = "ffmpeg"
LADDER = (1080, 720, 480)  # short edge of each rung, largest first
PRESET, CRF = "veryfast", 23
KEYFRAME_INTERVAL_S = 2
MAX_FPS = 60
AUDIO_BITRATE = {1080: "128k", 720: "128k", 480: "96k"}
POSTER_EDGE, FRAME_EDGE = 1280, 400
POSTER_AT, FRAMES_AT = 0.10, (0.25, 0.50, 0.75)  # fractions of the duration
JPEG_QUALITY = 3  # mjpeg qscale: 2 (best) .. 31
WEBP_QUALITY = 80
IMAGES_TIMEOUT_S = 120
# A rendition shorter than this share of the duration the source declares: its data ran out.
DECODED_SHARE_REQUIRED = 0.9
# Frame rates a camera records; a measured average near one of them is taken as it.
_STANDARD_RATES = tuple(
    Fraction(n, d)
    for n, d in ((24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (50, 1), (60000, 1001), (60, 1))
)
_SOURCE_OPTIONS = {"f": "mov", "protocol_whitelist": "file", "enable_drefs": 0}
_STRIP = {"map_metadata": -1, "map_metadata:s": -1, "map_chapters": -1, "fflags": "+bitexact"}


class TranscodeFailed(Exception):
    """ffmpeg exited with an error (the tail of its stderr is the message)."""


class TranscodeTimeout(TranscodeFailed):
    """ffmpeg ran longer than its timeout and was killed."""


class OutputUnreadable(TranscodeFailed):
    """ffmpeg ended well but its outputs are missing, unreadable or cut short: the source's data ran out."""


@dataclass(frozen=True)
class Rung:
    label: str
    width: int
    height: int
    short_edge: int
    copy: bool = False

    @property
    def filename(self) -> str:
        return f"video-{self.label}.mp4"


# --- the plan -----------------------------------------------------------------------
def bitrate_cap(width: int, height: int) -> int:
    """Bits per second a rung of this size may use: about 5 bits a pixel a second, at least 2 Mb/s."""
    return max(2_000_000, 5 * width * height)


def is_web_safe(info: VideoInfo) -> bool:
    """True when browsers play the source as it is, so its top rung may be a plain copy."""
    return (
        info.video_codec == "h264"
        and info.pix_fmt == "yuv420p"
        and info.audio_codec in (None, "aac")
        and info.rotation == 0
        and info.avg_fps <= MAX_FPS
        and min(info.width, info.height) <= LADDER[0]
        and info.bit_rate is not None
        and info.bit_rate <= bitrate_cap(info.width, info.height)
    )


def plan_ladder(info: VideoInfo) -> list[Rung]:
    """The rungs, largest first: those of LADDER no larger than the source (at least one)."""
    short = min(info.width, info.height)
    rungs = [_rung(info, edge) for edge in LADDER if edge <= short] or [_rung(info, short - short % 2)]
    if is_web_safe(info):
        top = Rung(f"{short}p", info.width, info.height, short, copy=True)
        rungs = [top, *(r for r in rungs if r.short_edge < short)]
    return rungs


def _rung(info: VideoInfo, short_edge: int) -> Rung:
    scale = short_edge / min(info.width, info.height)
    long_edge = max(2, round(max(info.width, info.height) * scale / 2) * 2)
    width, height = (long_edge, short_edge) if info.width >= info.height else (short_edge, long_edge)
    return Rung(f"{short_edge}p", width, height, short_edge)


def output_fps(info: VideoInfo) -> Fraction:
    """The constant frame rate of the encoded rungs: the source's, snapped and capped."""
    if info.avg_fps <= 0:
        return Fraction(30)
    measured = Fraction(info.avg_fps).limit_denominator(1001)
    near = min(_STANDARD_RATES, key=lambda rate: abs(rate - measured))
    rate = near if abs(near - measured) / near < 0.03 else Fraction(max(1, round(info.avg_fps)))
    return min(rate, Fraction(MAX_FPS))


# --- the ladder ---------------------------------------------------------------------
def transcode_video(
    source: Path,
    info: VideoInfo,
    workdir: Path,
    *,
    threads: int = 2,
    timeout_s: float = 1200,
    beat: Callable[[], None] | None = None,
    beat_every_s: float = 10,
) -> list[Rendition]:
    """Every public rendition of the video at ``source``, written under ``workdir``.

    ``source`` must be a path the caller named itself; ``info`` is what check_video found.
    ``beat`` is called every ``beat_every_s`` while ffmpeg runs (the job's heartbeat).
    """
    running = {"threads": threads, "beat": beat, "beat_every_s": beat_every_s}
    videos = encode_ladder(source, info, workdir, timeout_s=timeout_s, **running)
    for video in videos:
        if video.duration_s < info.duration_s * DECODED_SHARE_REQUIRED:
            raise OutputUnreadable(
                f"{video.label} lasts {video.duration_s} s of the {info.duration_s} s declared"
            )
    return videos + extract_images(source, info, workdir, **running)


def encode_ladder(
    source: Path,
    info: VideoInfo,
    workdir: Path,
    *,
    threads: int = 2,
    timeout_s: float = 1200,
    beat: Callable[[], None] | None = None,
    beat_every_s: float = 10,
) -> list[Rendition]:
    """The rungs of the ladder, from one ffmpeg process, in a new folder under ``workdir``."""
    rungs = plan_ladder(info)
    keyframes = _source_keyframes(source, info.video_index) if rungs[0].copy else None
    folder = _new_folder(workdir, "ladder-")
    args = ladder_args(source, info, rungs, folder, threads=threads, keyframes=keyframes)
    run_ffmpeg(args, folder, timeout_s, beat=beat, beat_every_s=beat_every_s)
    for rung in rungs:
        mp4.clear_encoder_name(folder / rung.filename)
    return _read_outputs(lambda: [_video_rendition(folder / rung.filename, rung) for rung in rungs])


def ladder_args(
    source: Path,
    info: VideoInfo,
    rungs: list[Rung],
    folder: Path,
    *,
    threads: int,
    keyframes: list[float] | None = None,
) -> list[str]:
    """The ffmpeg arguments of the one process that writes every rung."""
    source_in = ffmpeg.input(f"file:{source}", threads=threads, **_SOURCE_OPTIONS)
    video = source_in[f"v:{info.video_index}"]
    audio = source_in[f"a:{info.audio_index}"] if info.audio_codec else None
    outputs = []
    encoded = [rung for rung in rungs if not rung.copy]
    if rungs[0].copy:
        streams = [video] + ([audio] if audio else [])
        outputs.append(ffmpeg.output(*streams, _out(folder, rungs[0]), c="copy", **_mp4_options()))
    if encoded:
        fps = output_fps(info)
        pictures = _scaled_cascade(video, info, encoded, fps)
        for rung, picture in zip(encoded, pictures, strict=True):
            streams = [picture] + ([audio] if audio else [])
            options = _x264_options(rung, fps, threads, keyframes)
            if audio:
                options.update({"c:a": "aac", "b:a": AUDIO_BITRATE.get(rung.short_edge, "96k"), "ac": 2})
            outputs.append(ffmpeg.output(*streams, _out(folder, rung), **options, **_mp4_options()))
    return _command(ffmpeg.merge_outputs(*outputs), threads)


def _scaled_cascade(video, info: VideoInfo, rungs: list[Rung], fps: Fraction) -> list:
    """One filtered stream per rung: upright, constant rate, each scaled from the one above."""
    stream = video.filter("fps", fps=str(fps)).filter("format", "yuv420p")
    size = (info.width, info.height)
    pictures = []
    for index, rung in enumerate(rungs):
        if (rung.width, rung.height) != size:
            stream = stream.filter("scale", rung.width, rung.height, flags="bicubic").filter("setsar", 1)
            size = (rung.width, rung.height)
        if index == len(rungs) - 1:
            pictures.append(stream)
        else:
            split = stream.filter_multi_output("split", 2)
            pictures.append(split[0])
            stream = split[1]
    return pictures


def _x264_options(rung: Rung, fps: Fraction, threads: int, keyframes: list[float] | None) -> dict:
    gop = max(1, round(fps * KEYFRAME_INTERVAL_S))
    cap = bitrate_cap(rung.width, rung.height)
    if keyframes:  # match the copied top rung's keyframes
        forced = ",".join(f"{t:.3f}" for t in keyframes)
    else:
        forced = f"expr:gte(t,n_forced*{KEYFRAME_INTERVAL_S})"
    return {
        "c:v": "libx264",
        "preset": PRESET,
        "crf": CRF,
        "maxrate": cap,
        "bufsize": 2 * cap,
        "profile:v": "high",
        "g": gop,
        "keyint_min": 1 if keyframes else gop,
        "sc_threshold": 0,
        "force_key_frames": forced,
        "fps_mode": "cfr",
        "threads": threads,
    }


def _mp4_options() -> dict:
    return {"f": "mp4", "movflags": "+faststart", "sn": None, "dn": None, **_STRIP}


def _out(folder: Path, rung: Rung) -> str:
    return f"file:{folder / rung.filename}"


def _source_keyframes(source: Path, video_index: int, limit: int = 5000) -> list[float] | None:
    """Times (s, from the start) of the source's keyframes, read from packet flags (no decoding)."""
    command = [
        "ffprobe", "-v", "error", "-protocol_whitelist", "file", "-f", "mov", "-enable_drefs", "0",
        "-select_streams", f"v:{video_index}", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0",
        f"file:{source}",
    ]  # fmt: skip
    try:
        done = run_limited(command, probe_limits(quick=False))
    except (LimitHit, OSError):
        return None
    if done.returncode != 0:
        return None
    times = []
    for line in done.stdout.decode(errors="replace").splitlines():
        pts, _, flags = line.partition(",")
        if "K" in flags and pts not in ("", "N/A"):
            times.append(float(pts))
    if not times or len(times) > limit:
        return None
    start = min(times)
    return sorted({round(t - start, 3) for t in times})


def _video_rendition(path: Path, rung: Rung) -> Rendition:
    probe = ffprobe(path, quick=False)
    video = next(s for s in probe["streams"] if s.get("codec_type") == "video")
    return Rendition(
        kind=AssetKind.video_mp4,
        path=path,
        mime_type="video/mp4",
        width=int(video["width"]),
        height=int(video["height"]),
        bytes=path.stat().st_size,
        sha256=file_sha256(path),
        label=rung.label,
        duration_s=round(float(probe["format"]["duration"]), 3),
    )


# --- poster and frames --------------------------------------------------------------
def extract_images(
    source: Path,
    info: VideoInfo,
    workdir: Path,
    *,
    threads: int = 2,
    beat: Callable[[], None] | None = None,
    beat_every_s: float = 10,
) -> list[Rendition]:
    """Poster (JPEG and WebP, long edge 1280) and frames (JPEG, long edge 400), one ffmpeg run."""
    folder = _new_folder(workdir, "images-")
    poster_size, frame_size = _fit(info, POSTER_EDGE), _fit(info, FRAME_EDGE)
    poster = _seek(source, info, POSTER_AT, threads).filter("scale", *poster_size).split()
    outputs = [
        _image_out(poster[0], folder / "poster.jpg", {"q:v": JPEG_QUALITY}),
        _image_out(poster[1], folder / "poster.webp", {"c:v": "libwebp", "quality": WEBP_QUALITY}),
    ]
    for number, at in enumerate(FRAMES_AT, start=1):
        frame = _seek(source, info, at, threads).filter("scale", *frame_size)
        outputs.append(_image_out(frame, folder / f"frame-{number}.jpg", {"q:v": JPEG_QUALITY}))
    args = _command(ffmpeg.merge_outputs(*outputs), threads)
    run_ffmpeg(args, folder, IMAGES_TIMEOUT_S, beat=beat, beat_every_s=beat_every_s)
    images = [
        (folder / "poster.jpg", AssetKind.poster_jpeg, "image/jpeg", poster_size, ""),
        (folder / "poster.webp", AssetKind.poster_webp, "image/webp", poster_size, ""),
        *(
            (folder / f"frame-{n}.jpg", AssetKind.frame_jpeg, "image/jpeg", frame_size, str(n))
            for n in range(1, len(FRAMES_AT) + 1)
        ),
    ]
    return _read_outputs(lambda: [_image(*image) for image in images])


def _read_outputs(read: Callable[[], list[Rendition]]) -> list[Rendition]:
    """The renditions ``read`` finds; OutputUnreadable when ffmpeg left them missing or unreadable.

    ffmpeg ends well when the source's data runs out early (it logs "partial file"), leaving
    an output short or not written at all: that is the file's fault, never a temporary one.
    """
    try:
        return read()
    except Exception as exc:
        raise OutputUnreadable(f"ffmpeg's output cannot be read: {type(exc).__name__}: {exc}") from exc


def _seek(source: Path, info: VideoInfo, fraction: float, threads: int):
    at = round(info.duration_s * fraction, 3)
    return ffmpeg.input(f"file:{source}", ss=at, threads=threads, **_SOURCE_OPTIONS)[f"v:{info.video_index}"]


def _image_out(stream, path: Path, options: dict):
    return ffmpeg.output(
        stream,
        f"file:{path}",
        f="image2",
        update=1,
        **{"frames:v": 1, "flags:v": "+bitexact"},
        **options,
        **_STRIP,
    )


def _fit(info: VideoInfo, long_edge: int) -> tuple[int, int]:
    scale = min(1.0, long_edge / max(info.width, info.height))
    return max(2, round(info.width * scale / 2) * 2), max(2, round(info.height * scale / 2) * 2)


def _image(path: Path, kind: AssetKind, mime_type: str, size: tuple[int, int], label: str = "") -> Rendition:
    return Rendition(
        kind=kind,
        path=path,
        mime_type=mime_type,
        width=size[0],
        height=size[1],
        bytes=path.stat().st_size,
        sha256=file_sha256(path),
        label=label,
    )


# --- running ffmpeg -----------------------------------------------------------------
def _command(stream, threads: int) -> list[str]:
    """The full argument list: our global options first, then ffmpeg-python's graph."""
    global_options = [
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-filter_complex_threads",
        str(threads),
    ]
    return [FFMPEG, *global_options, *ffmpeg.get_args(stream), "-y"]


def _new_folder(workdir: Path, prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=workdir))


def run_ffmpeg(
    args: list[str],
    folder: Path,
    timeout_s: float,
    *,
    beat: Callable[[], None] | None = None,
    beat_every_s: float = 10,
) -> None:
    """Run ffmpeg in ``folder``; TranscodeFailed on error, TranscodeTimeout when too slow.

    The folder is removed when the run fails. The child dies with its parent
    (PR_SET_PDEATHSIG), so a killed worker leaves no ffmpeg behind.
    """
    try:
        _run(args, folder, timeout_s, beat, beat_every_s)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _run(args: list[str], folder: Path, timeout_s: float, beat, beat_every_s: float) -> None:
    log.debug("ffmpeg %s", " ".join(args[1:]))
    started = time.monotonic()
    stderr_path = folder / "ffmpeg.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            args, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            preexec_fn=die_with_parent,
        )  # fmt: skip
        try:
            _wait(process, started, timeout_s, beat, beat_every_s)
        except BaseException:
            process.kill()
            process.wait()
            raise
    message = stderr_path.read_bytes()[-4000:].decode(errors="replace")
    stderr_path.unlink()
    if process.returncode != 0:
        raise TranscodeFailed(message.strip() or f"ffmpeg exited with {process.returncode}")
    log.info("ffmpeg done in %.1f s", time.monotonic() - started)


def _wait(process: subprocess.Popen, started: float, timeout_s: float, beat, beat_every_s: float) -> None:
    last_beat = started
    while True:
        try:
            process.wait(timeout=min(1.0, beat_every_s))
            return
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if now - started > timeout_s:
            raise TranscodeTimeout(f"ffmpeg ran longer than {timeout_s:.0f} s")
        if beat is not None and now - last_beat >= beat_every_s:
            beat()
            last_beat = now
