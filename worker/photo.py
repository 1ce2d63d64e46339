"""Public renditions of a photo: pure image work, no database and no storage.

The display image (long edge 1600 px) is decoded at reduced scale where the format allows
(JPEG draft mode), turned upright from its EXIF orientation, and the thumbnail (long edge
400 px) is derived from it. Every rendition is written without metadata: no EXIF, no GPS,
no XMP, no comment, no ICC profile.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

from contest.entries.models import AssetKind
from worker.renditions import Rendition, file_sha256

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


def render_photo(source: Path, out_dir: Path) -> list[Rendition]:
    """Write the four renditions of the photo at ``source`` into ``out_dir``."""
    with Image.open(source) as image:
        display = display_image(image)
    thumb = fit(display, THUMB_EDGE)
    return [*_save_both(display, "display", out_dir), *_save_both(thumb, "thumb", out_dir)]


def display_image(image: Image.Image) -> Image.Image:
    """Upright RGB image whose long edge is at most DISPLAY_EDGE, without metadata."""
    # JPEG decodes at 1/2, 1/4 or 1/8 scale when asked for a size: a fraction of the work
    # and memory of a full decode. The requested box keeps the aspect ratio, or the
    # short side would forbid any reduction.
    image.draft("RGB", fitted_size(image.size, DISPLAY_EDGE))
    upright = ImageOps.exif_transpose(image)
    return fit(to_rgb(upright), DISPLAY_EDGE)


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


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: transparency on white, 16-bit grey scaled rather than clipped."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I"):
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, "white")
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image if image.mode == "RGB" else image.convert("RGB")


def _save_both(image: Image.Image, name: str, out_dir: Path) -> list[Rendition]:
    return [
        _save(image, out_dir / f"{name}.jpg", _KINDS[name, "jpeg"], "image/jpeg", JPEG_OPTIONS),
        _save(image, out_dir / f"{name}.webp", _KINDS[name, "webp"], "image/webp", WEBP_OPTIONS),
    ]


def _save(image: Image.Image, path: Path, kind: AssetKind, mime_type: str, options: dict) -> Rendition:
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
    )
