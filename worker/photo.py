"""Public renditions of a photo: pure image work, no database and no storage.

Each photo is decoded once, at reduced scale where the format allows (JPEG draft mode
decodes at 1/2, 1/4 or 1/8 scale, keeping the long edge >= 1600 px): that decode is also
the integrity check, a truncated or corrupt file fails in it as "damaged_file". The pixels
are brought to 8 bits (16-bit PNG, 16-bit grey), transparency is laid on white, CMYK is
read with the right polarity, the image is scaled to the display size, turned upright
from its EXIF orientation, and converted to sRGB from its embedded ICC profile (the
renditions carry no profile, so their pixels must be sRGB). The thumbnail is derived from
the display image. Every rendition is written without metadata: no EXIF, no GPS, no XMP,
no comment, no ICC profile.

Quality settings (docs: bench/report.md has their cost): JPEG quality 85, progressive
with optimised Huffman tables (smaller files, rendered progressively on slow phone
connections); WebP quality 80, method 4 (libwebp's default speed/size balance); Lanczos
resampling.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import PIL.WebPImagePlugin  # noqa: F401  the WebP encoder, without Image.init() importing every plugin
from PIL import Image, ImageChops, ImageCms

from contest.entries.kinds import AssetKind
from contest.media.photo_files import decode, open_photo, sniff_format
from contest.media.rejection import MediaRejected
from worker.renditions import Rendition, file_sha256

log = logging.getLogger(__name__)

DISPLAY_EDGE = 1600
THUMB_EDGE = 400
JPEG_OPTIONS = {"format": "JPEG", "quality": 85, "progressive": True, "optimize": True}
WEBP_OPTIONS = {"format": "WEBP", "quality": 80, "method": 4}
_KINDS = {
    ("display", "jpeg"): AssetKind.display_jpeg,
    ("display", "webp"): AssetKind.display_webp,
    ("thumb", "jpeg"): AssetKind.thumb_jpeg,
    ("thumb", "webp"): AssetKind.thumb_webp,
}
ORIENTATION = 0x0112
# EXIF orientation -> the transposition that makes the picture upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SIXTEEN_BIT_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I")


@dataclass(frozen=True)
class RenderedPhoto:
    """The renditions written for one photo, and what else the single decode gave."""

    renditions: list[Rendition]
    display: Image.Image  # upright sRGB, long edge <= DISPLAY_EDGE: for fingerprints
    exif: Image.Exif  # the original's EXIF (read, never copied into a rendition)


def render_photo(
    source: Path, out_dir: Path, *, found: str | None = None, position: int = 0
) -> list[Rendition]:
    """Write the four renditions of the photo at ``source`` into ``out_dir``."""
    return render(source, out_dir, found=found, position=position).renditions


def render(source: Path, out_dir: Path, *, found: str | None = None, position: int = 0) -> RenderedPhoto:
    """Decode ``source`` once (with the one plugin of its format) and write its renditions.

    ``found`` is the format the header check read (read_photo_header); raises MediaRejected("damaged_file")
    when the pixels cannot be decoded.
    """
    with open_photo(source, found or sniff_format(source) or "jpeg") as image:
        _refuse_bomb(image)
        display = display_image(image)
        exif = image.getexif()
    out_dir.mkdir(parents=True, exist_ok=True)
    thumb = fit(display, THUMB_EDGE)
    renditions = [
        *_save_both(display, "display", out_dir, position),
        *_save_both(thumb, "thumb", out_dir, position),
    ]
    return RenderedPhoto(renditions, display, exif)


def _refuse_bomb(image: Image.Image) -> None:
    """Backstop for callers that skipped the header check: never decode past Pillow's pixel limit."""
    width, height = image.size
    if Image.MAX_IMAGE_PIXELS and width * height > Image.MAX_IMAGE_PIXELS:
        raise MediaRejected(
            "too_many_pixels",
            megapixels=round(width * height / 1e6, 1),
            max=round(Image.MAX_IMAGE_PIXELS / 1e6),
        )


def display_image(image: Image.Image) -> Image.Image:
    """Upright sRGB image whose long edge is at most DISPLAY_EDGE, without metadata.

    Decodes ``image`` (at reduced scale where its format allows): MediaRejected on failure.
    """
    # The requested box keeps the aspect ratio, or the short side would forbid any reduction.
    image.draft(image.mode, fitted_size(image.size, DISPLAY_EDGE))
    decode(image)
    orientation = image.getexif().get(ORIENTATION, 1)
    profile = image.info.get("icc_profile")
    scaled = fit(to_working_mode(image), DISPLAY_EDGE)
    if orientation in _UPRIGHT:
        scaled = scaled.transpose(_UPRIGHT[orientation])
    return to_srgb(scaled, profile)


def fitted_size(size: tuple[int, int], long_edge: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, long_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit(image: Image.Image, long_edge: int) -> Image.Image:
    """A copy scaled down (never up) so that its long edge is at most ``long_edge``."""
    size = fitted_size(image.size, long_edge)
    scaled = (
        image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if size != image.size else image.copy()
    )
    scaled.info = {}
    return scaled


def to_working_mode(image: Image.Image) -> Image.Image:
    """8-bit L, RGB or CMYK: 16-bit grey scaled (not clipped), transparency laid on white.

    Pillow reads every CMYK JPEG as Adobe writes them (inverted); one without Adobe's
    APP14 marker stores plain CMYK and is turned back here.
    """
    if image.mode in _SIXTEEN_BIT_GREY:
        return image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    ):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if image.mode == "CMYK":
        return ImageChops.invert(image) if image.format == "JPEG" and "adobe" not in image.info else image
    if image.mode in ("L", "RGB"):
        return image
    return image.convert("RGB")


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB without colour management (see to_srgb for photos with a profile)."""
    working = to_working_mode(image)
    return working if working.mode == "RGB" else working.convert("RGB")


def to_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """RGB pixels in sRGB: converted from the embedded ICC ``profile`` when there is one.

    A profile that cannot be read or does not fit the pixels (a grey profile on colour
    pixels) is ignored: the numbers are then taken as sRGB, as browsers do.
    """
    if profile:
        try:
            transform = _transform_to_srgb(profile, image.mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            log.info("ignoring an embedded ICC profile that cannot convert %s pixels", image.mode)
        else:
            if transform is not None:
                return ImageCms.applyTransform(image, transform)
    return image if image.mode == "RGB" else image.convert("RGB")


@functools.lru_cache(maxsize=16)
def _transform_to_srgb(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """lcms transform from ``profile`` to sRGB for ``mode`` pixels; None when it already is sRGB.

    Cached: phones and cameras use a handful of profiles, and building a transform costs more
    than applying it to a display-sized image.
    """
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    if source.profile.xcolor_space.strip() == "RGB" and "srgb" in _description(source):
        return None
    return ImageCms.buildTransform(source, _srgb(), mode, "RGB", renderingIntent=ImageCms.Intent.PERCEPTUAL)


def _description(profile: ImageCms.ImageCmsProfile) -> str:
    return (profile.profile.profile_description or "").replace(" ", "").lower()


@functools.cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _save_both(image: Image.Image, name: str, out_dir: Path, position: int) -> list[Rendition]:
    return [
        _save(image, out_dir / f"{name}.jpg", _KINDS[name, "jpeg"], "image/jpeg", JPEG_OPTIONS, position),
        _save(image, out_dir / f"{name}.webp", _KINDS[name, "webp"], "image/webp", WEBP_OPTIONS, position),
    ]


def _save(
    image: Image.Image, path: Path, kind: AssetKind, mime_type: str, options: dict, position: int
) -> Rendition:
    image.info = {}  # nothing of the original's metadata may travel with the pixels
    image.save(path, **options)
    return Rendition(
        kind=kind,
        path=path,
        mime_type=mime_type,
        width=image.width,
        height=image.height,
        bytes=path.stat().st_size,
        sha256=file_sha256(path),
        position=position,
    )
