"""The kinds of file an entry holds, importable without SQLAlchemy.

The worker's photo decode child (worker.render_child) names its renditions with these;
contest.entries.models stores them.
"""

from __future__ import annotations

import enum


class AssetKind(enum.StrEnum):
    original = "original"
    thumb_jpeg = "thumb_jpeg"
    thumb_webp = "thumb_webp"
    display_jpeg = "display_jpeg"
    display_webp = "display_webp"
    # Video: one row per rung of the ladder (label "1080p", "720p" ...), a poster and
    # a few frames (label "1", "2" ...).
    video_mp4 = "video_mp4"
    poster_jpeg = "poster_jpeg"
    poster_webp = "poster_webp"
    frame_jpeg = "frame_jpeg"
    # The original without metadata that can name its author, for the jury (issue 15; worker.blind).
    # Stored under a private key (never under public/): it is never published.
    jury_original = "jury_original"
