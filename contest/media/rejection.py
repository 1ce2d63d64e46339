"""The exception that refuses an uploaded file, importable without Flask.

The worker's photo decode child (worker.render_child) raises it too. Each code has its
message, in any language, in contest.entries.failures, which checks that the two lists agree.
"""

from __future__ import annotations

FAILURE_CODES = frozenset(
    {
        "empty_file",
        "too_small_bytes",
        "too_large_bytes",
        "unsupported_format",
        "not_recognised",
        "damaged_file",
        "too_complex",
        "too_small_pixels",
        "too_many_pixels",
        "processing_error",
        "series_item",
        "not_a_video",
        "video_playlist",
        "no_video_stream",
        "unsupported_codec",
        "video_too_long",
        "video_too_small",
        "video_too_large",
    }
)


class MediaRejected(Exception):
    """The file breaks a rule of its category; ``code`` is one of FAILURE_CODES."""

    def __init__(self, code: str, **params) -> None:
        if code not in FAILURE_CODES:
            raise ValueError(f"unknown failure code {code!r}")
        super().__init__(code, params)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        from contest.entries.failures import failure_message  # needs Flask-Babel: only when shown

        return failure_message(self.code, self.params)
