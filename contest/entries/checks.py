"""The request's checks of a submission's files: one implementation for every path.

The form (a file sent with the page), a new file for a rejected entry (contest.entries.fixing)
and the worker's check of a file that arrived straight in storage (worker.jobs.check) all call
check_files, so each rule (sniffing, ffprobe, pixel limits, formats) is written once.
"""

from __future__ import annotations

import shutil
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask import current_app
from werkzeug.datastructures import FileStorage

from contest.contests.models import Category, CategoryKind
from contest.entries.failures import MediaRejected
from contest.entries.validation import check_photo, series_count_problem
from contest.entries.video import check_video

_CHUNK = 1024 * 1024


class SubmissionRefused(Exception):
    """The entrant may not submit now; ``message`` says why, in their language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@contextmanager
def upload_on_disk(upload: FileStorage, tmp_dir: str | Path) -> Iterator[Path]:
    """A path to the uploaded file's bytes.

    Werkzeug spools uploads to memory or to an unnamed temporary file, so the bytes are
    usually copied (in chunks) to a named file in ``tmp_dir``, removed on the way out.
    """
    name = getattr(upload.stream, "name", None)
    if isinstance(name, str) and Path(name).is_file():
        yield Path(name)
        return
    Path(tmp_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="upload-", suffix=".part") as copy:
        if upload.stream.seekable():
            upload.stream.seek(0)
        shutil.copyfileobj(upload.stream, copy, _CHUNK)
        copy.flush()
        yield Path(copy.name)


def display_filename(name: str | None) -> str:
    """The upload's own name, kept for organizers: no folders, no control characters, <= 255."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if not unicodedata.category(ch).startswith("C")).strip()
    base = " ".join(base.split()) or "photo"
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:255]
    return base


@dataclass(frozen=True)
class UploadedFile:
    """One file of a submission, on disk, with the name the entrant's device gave it."""

    path: Path
    filename: str | None


@dataclass(frozen=True)
class CheckedFile:
    """An uploaded file that passed the request's checks, with what they read from it."""

    upload: UploadedFile
    format: str
    mime_type: str
    bytes: int
    width: int | None
    height: int | None
    duration_s: float | None = None


def check_files(category: Category, files: Sequence[UploadedFile]) -> list[CheckedFile]:
    """The request's checks of every file, in order; MediaRejected names the photo of a series at fault."""
    if category.kind is CategoryKind.photo_series:
        problem = series_count_problem(len(files), category)
        if problem:
            raise SubmissionRefused(problem)
        return [_check_series_photo(category, position, upload) for position, upload in enumerate(files)]
    if len(files) != 1:
        raise ValueError(f"a {category.kind.value} entry takes one file, not {len(files)}")
    if category.kind is CategoryKind.video:
        return [_check_video(category, files[0])]
    return [_check_photo(category, files[0])]


def _check_photo(category: Category, upload: UploadedFile) -> CheckedFile:
    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
    info = check_photo(upload.path, category, max_pixels=max_pixels, quick=True)
    return CheckedFile(upload, info.format, info.mime_type, info.bytes, info.width, info.height)


def _check_series_photo(category: Category, position: int, upload: UploadedFile) -> CheckedFile:
    try:
        return _check_photo(category, upload)
    except MediaRejected as exc:
        raise MediaRejected(
            "series_item",
            position=position,
            filename=display_filename(upload.filename),
            item_code=exc.code,
            item_params=exc.params,
        ) from exc


def _check_video(category: Category, upload: UploadedFile) -> CheckedFile:
    info = check_video(upload.path, category, quick=True)
    return CheckedFile(
        upload, info.format, info.mime_type, info.bytes, info.width, info.height, info.duration_s
    )
