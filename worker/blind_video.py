"""The jury's copy of an original video: its streams unchanged, without tags that can name the author.

Issue 15 (blind judging): an MP4 or MOV's global and stream tags (artist, comment,
location, com.apple.quicktime.author ...), its chapters, cover art and data tracks can name
the author. The copy is a stream copy (no re-encode, the judge sees every original frame)
of the video streams that are not attached pictures (``0:V``: a cover image could be
anyone's photo) and the audio streams, with every tag and chapter dropped, the muxer's
bitexact mode (no encoder name) and the index in front (``+faststart``: the browser plays
it before the download ends). The rotation stays: it is the track's display matrix, not a tag.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from contest.entries.kinds import AssetKind
from worker.renditions import Rendition, file_sha256
from worker.video import FFMPEG, run_ffmpeg

JURY_COPY_TIMEOUT_S = 300  # a stream copy reads and writes the file once


def jury_copy_args(source: Path, target: Path) -> list[str]:
    """ffmpeg's arguments: read as MOV/MP4 from a file only (as every run), copy, strip, fast start."""
    return [
        FFMPEG,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        *("-f", "mov", "-protocol_whitelist", "file", "-enable_drefs", "0", "-i", str(source)),
        *("-map", "0:V", "-map", "0:a?", "-c", "copy"),
        *("-map_metadata", "-1", "-map_metadata:s", "-1", "-map_chapters", "-1"),
        *("-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact"),
        *("-movflags", "+faststart", "-f", target.suffix.lstrip("."), "-y", str(target)),
    ]


def make_video_jury_copy(
    source: Path,
    workdir: Path,
    *,
    container: str,
    mime_type: str,
    size: tuple[int, int],
    duration_s: float | None,
) -> Rendition:
    """Write the jury copy of the checked video ``source`` (``container``: "mp4" or "mov") in a new
    folder of ``workdir``; ``size`` and ``duration_s`` are the original's, recorded on the copy.

    TranscodeFailed (the file's fault) when ffmpeg cannot copy it; the folder is then removed,
    so no half-made copy is ever uploaded.
    """
    folder = Path(tempfile.mkdtemp(prefix="jury-copy-", dir=workdir))
    target = folder / f"original.{container}"
    run_ffmpeg(jury_copy_args(source, target), folder, JURY_COPY_TIMEOUT_S)
    return Rendition(
        kind=AssetKind.jury_original,
        path=target,
        mime_type=mime_type,
        width=size[0],
        height=size[1],
        bytes=target.stat().st_size,
        sha256=file_sha256(target),
        duration_s=duration_s,
    )
