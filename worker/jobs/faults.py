"""Whose fault a failed job attempt is: decided here, and nowhere else.

The file's fault: the entry fails with the reason its entrant reads, and the job is never
retried (the same file fails the same way every time). The system's (storage or database
away, the decode child killed from outside, a bug): the attempt is retried after a backoff
(worker.tasks), and the entry fails with "processing_error" after JOB_MAX_ATTEMPTS.
"""

from __future__ import annotations

from contest.entries.failures import MediaRejected
from worker.video import TranscodeFailed, TranscodeTimeout


def file_fault(exc: BaseException) -> MediaRejected | None:
    """The refusal to record when ``exc`` is the file's fault; None when it is the system's.

    ffmpeg failing, or ending well but leaving outputs that cannot be read (its source's
    data ran out), is the file's fault; running past VIDEO_TIMEOUT_S means too complex.
    """
    if isinstance(exc, MediaRejected):
        return exc
    if isinstance(exc, TranscodeTimeout):
        return MediaRejected("too_complex")
    if isinstance(exc, TranscodeFailed):
        return MediaRejected("damaged_file")
    return None
