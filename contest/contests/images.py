"""The edition's logo and banner: an uploaded picture checked with Pillow and stored as a public
rendition (never the uploaded file itself, so nothing it carried besides the pixels is served)."""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.contests.models import Contest
from contest.storage import PUBLIC_PREFIX, get_storage, new_key

MAX_UPLOAD_BYTES = 15_000_000
MAX_PIXELS = 50_000_000
ACCEPTED = {"JPEG", "PNG", "WEBP"}
# Largest rendition: a logo fits a square (PNG, keeping transparency), a banner a wide strip (JPEG).
BOXES = {"logo": (512, 512), "banner": (2400, 800)}
FORMATS = {"logo": ("PNG", "png", "image/png"), "banner": ("JPEG", "jpg", "image/jpeg")}


class ImageRefused(ValueError):
    """An upload that is not a usable picture; the message is for the organizer."""


def store_image(session: Session, contest: Contest, which: str, upload: BinaryIO, *, actor_id: int) -> str:
    """Check ``upload``, store its rendition and point the contest's logo or banner at it."""
    picture = _open(upload)
    pil_format, extension, content_type = FORMATS[which]
    key = new_key(f"{PUBLIC_PREFIX}contest-{contest.slug}", f"-{which}.{extension}")
    rendition = _rendition(picture, BOXES[which], pil_format)
    get_storage().save(key, io.BytesIO(rendition), content_type=content_type)
    setattr(contest, f"{which}_key", key)
    record(
        session,
        actor_id=actor_id,
        action=f"contest.{which}_changed",
        subject_type="contest",
        subject_id=contest.id,
        contest_id=contest.id,
    )
    session.flush()
    return key


def _open(upload: BinaryIO) -> Image.Image:
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise ImageRefused(_l("Choose a picture to upload."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRefused(_l("The picture is larger than 15 MB."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            if picture.format not in ACCEPTED or picture.width * picture.height > MAX_PIXELS:
                raise ImageRefused(_l("Upload a JPEG, PNG or WebP picture of at most 50 megapixels."))
            picture.load()
    except ImageRefused:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise ImageRefused(_l("This file is not a picture that can be read (JPEG, PNG or WebP).")) from exc
    return picture


def _rendition(picture: Image.Image, box: tuple[int, int], pil_format: str) -> bytes:
    picture = ImageOps.exif_transpose(picture)
    picture = picture.convert("RGBA" if pil_format == "PNG" else "RGB")
    picture.thumbnail(box, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    options = {"optimize": True} if pil_format == "PNG" else {"quality": 85, "progressive": True}
    picture.save(out, format=pil_format, **options)
    return out.getvalue()


def image_url(key: str | None) -> str | None:
    return get_storage().url(key) if key else None
