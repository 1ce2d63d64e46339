"""One original photo's file work, in a short-lived child process of the worker.

``python -m worker.render_child REQUEST`` (REQUEST: a JSON object with ``source``,
``out_dir``, ``position``, ``max_pixels`` and the category's ``rules`` as plain data)
reads the photo's header against the rules, checks that a JPEG's data is all there
(contest.media.jpeg), decodes it once, writes its four renditions and its jury copy
(no metadata, worker.blind) into ``out_dir``, fingerprints it (difference hash, EXIF hints)
and digests it, then prints one JSON object on stdout::

    {"renditions": [{"kind", "file", "mime_type", "width", "height", "bytes", "sha256",
                     "position"}, ...],
     "facts": {"sha256", "width", "height", "phash", "details"},
     "peak_rss_mb": ...}

or ``{"rejected": code, "params": {...}}`` when the photo breaks a rule (MediaRejected).
It exits with EXIT_OUT_OF_MEMORY when Python runs out of the memory it may use.

Why a child: the decode is the step that faces hostile files and needs the most memory
(libjpeg holds every coefficient of a progressive JPEG: 88 MB for 5120x2880 4:4:4). Here it
runs with Pillow and the pure image modules only (about 22 MB, where the worker holds
63 MB of Flask, SQLAlchemy and boto3), under the limits its parent sets (address space,
CPU seconds, no core file; worker.jobs.photo), and it dies with its parent. A decoder
crash, a bomb or a hang ends this process only, and the decode's memory goes back to the
system when it exits (the long-lived worker's allocator would keep it). This contains
crashes and resource use; it is not a sandbox (the child runs as the worker's user).
Nothing imported here may pull Flask, SQLAlchemy or boto3 (tests/test_render_child.py checks).
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from PIL import Image

from contest.media.photo_files import PhotoRules, check_jpeg_data, read_photo_header
from contest.media.rejection import MediaRejected
from worker.blind import make_jury_copy
from worker.inspect import difference_hash, exif_hints, gps_check
from worker.photo import render
from worker.renditions import Rendition, file_sha256

EXIT_OUT_OF_MEMORY = 3


def render_original_files(
    source: Path, out_dir: Path, rules: PhotoRules, *, position: int, max_pixels: int
) -> dict:
    """Header checks, one decode, four renditions and the facts to record: the JSON result above."""
    try:
        info = read_photo_header(source, rules, max_pixels=max_pixels)
        if info.format == "jpeg":
            check_jpeg_data(source)
        rendered = render(source, out_dir, found=info.format, position=position)
        jury_copy = make_jury_copy(
            source, out_dir, info.format, position=position, width=info.width, height=info.height
        )
    except MediaRejected as exc:
        return {"rejected": exc.code, "params": exc.params}
    return {
        "renditions": [_described(rendition) for rendition in [*rendered.renditions, jury_copy]],
        "facts": {
            "sha256": file_sha256(source),
            "width": info.width,
            "height": info.height,
            # For the organizers' duplicate and eligibility flags, from the same single decode.
            "phash": difference_hash(rendered.display),
            # Whether its GPS position lies in Nghe An: the verdict leaves this child, not the position.
            "details": {"exif": exif_hints(rendered.exif), "gps": gps_check(rendered.exif).value},
        },
    }


def request(source: Path, out_dir: Path, rules: PhotoRules, *, position: int, max_pixels: int) -> str:
    """The REQUEST argument for the child (absolute paths: it runs in another folder)."""
    return json.dumps(
        {
            "source": str(source.resolve()),
            "out_dir": str(out_dir.resolve()),
            "position": position,
            "max_pixels": max_pixels,
            "rules": {
                "allowed_formats": list(rules.allowed_formats),
                "min_bytes": rules.min_bytes,
                "max_bytes": rules.max_bytes,
                "min_long_edge_px": rules.min_long_edge_px,
            },
        }
    )


def _described(rendition: Rendition) -> dict:
    return {
        "kind": rendition.kind.value,
        "file": rendition.path.name,
        "mime_type": rendition.mime_type,
        "width": rendition.width,
        "height": rendition.height,
        "bytes": rendition.bytes,
        "sha256": rendition.sha256,
        "position": rendition.position,
    }


def main(argv: list[str]) -> int:
    asked = json.loads(argv[0])
    rules = asked["rules"]
    # The application sets Pillow's guard in the worker (create_app); render() relies on it.
    Image.MAX_IMAGE_PIXELS = asked["max_pixels"]
    try:
        result = render_original_files(
            Path(asked["source"]),
            Path(asked["out_dir"]),
            PhotoRules(**{**rules, "allowed_formats": tuple(rules["allowed_formats"])}),
            position=asked["position"],
            max_pixels=asked["max_pixels"],
        )
    except MemoryError:
        return EXIT_OUT_OF_MEMORY
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
