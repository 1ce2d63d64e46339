"""The photo decode child (worker.render_child): lean imports, same renditions, refusals.

Real child processes (``python -m worker.render_child``) on real photographs; no database.
The job-level limits (memory, time) are in tests/test_worker_photo.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from contest.config import ROOT
from contest.contests.models import Category, CategoryKind
from contest.entries.failures import MediaRejected
from contest.entries.models import AssetKind
from contest.media.photo_files import PhotoRules
from tests.support import wallpaper
from worker.jobs.photo import PhotoRenderFailed, RenderLimits, render_original, run_render_child

LIMITS = RenderLimits(timeout_s=120, max_memory_mb=1024)
MAX_PIXELS = 120_000_000
SMALL_WALLPAPER = Path("/usr/share/wallpapers/Kite/contents/images/2560x1600.jpg")


@pytest.fixture
def category() -> Category:
    """The demo contest's single-photo rules, on a category that is never saved."""
    return Category(
        slug="photo",
        kind=CategoryKind.photo,
        allowed_formats=["jpeg"],
        min_long_edge_px=3000,
        min_bytes=3_000_000,
        max_bytes=60_000_000,
    )


def test_the_child_imports_no_web_database_or_storage_library():
    probe = (
        "import json, sys\n"
        "import worker.render_child\n"
        "heavy = ('flask', 'flask_babel', 'werkzeug', 'sqlalchemy', 'boto3', 'contest.entries.models')\n"
        "print(json.dumps([name for name in heavy if name in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_a_photo_renders_the_same_in_the_child_as_in_process(category, tmp_path):
    photo = wallpaper("Volna")

    in_child = render_original(
        photo, category, tmp_path / "child", position=2, max_pixels=MAX_PIXELS, limits=LIMITS
    )
    in_process = render_original(
        photo, category, tmp_path / "process", position=2, max_pixels=MAX_PIXELS, limits=None
    )

    (child_renditions, child_facts), (process_renditions, process_facts) = in_child, in_process
    assert {r.kind for r in child_renditions} == {
        AssetKind.display_jpeg,
        AssetKind.display_webp,
        AssetKind.thumb_jpeg,
        AssetKind.thumb_webp,
        AssetKind.jury_original,  # the original without metadata (worker.blind)
    }
    assert [_comparable(r, tmp_path / "child") for r in child_renditions] == [
        _comparable(r, tmp_path / "process") for r in process_renditions
    ]
    for rendition in child_renditions:
        assert rendition.path.read_bytes().startswith((b"\xff\xd8", b"RIFF"))
        assert rendition.bytes == rendition.path.stat().st_size
    assert asdict(child_facts) == asdict(process_facts)
    assert (child_facts.position, child_facts.width, child_facts.height) == (2, 5120, 2880)
    assert len(child_facts.phash) == 16
    assert child_facts.details["exif"]["gps_present"] is False


def _comparable(rendition, folder: Path) -> dict:
    return {**asdict(rendition), "path": rendition.path.relative_to(folder)}


def test_a_damaged_photo_refused_in_the_child_reaches_the_parent_with_its_code(category, tmp_path):
    truncated = tmp_path / "IMG_0003.JPG"
    truncated.write_bytes(wallpaper("Volna").read_bytes()[:3_300_000])

    with pytest.raises(MediaRejected) as refused:
        render_original(
            truncated, category, tmp_path / "out", position=0, max_pixels=MAX_PIXELS, limits=LIMITS
        )

    assert refused.value.code == "damaged_file"
    assert not (tmp_path / "out").exists()


def test_a_refusal_keeps_its_parameters_across_the_process_boundary(category, tmp_path):
    category.min_bytes = None  # so that the pixel rule, not the byte rule, refuses it

    with pytest.raises(MediaRejected) as refused:
        render_original(
            SMALL_WALLPAPER, category, tmp_path / "out", position=0, max_pixels=MAX_PIXELS, limits=LIMITS
        )

    assert (refused.value.code, refused.value.params) == (
        "too_small_pixels",
        {"width": 2560, "height": 1600, "min": 3000},
    )


def test_the_pixel_limit_reaches_the_child(category, tmp_path):
    with pytest.raises(MediaRejected) as refused:
        render_original(
            wallpaper("Volna"), category, tmp_path / "out", position=0, max_pixels=10_000_000, limits=LIMITS
        )

    assert (refused.value.code, refused.value.params) == ("too_many_pixels", {"megapixels": 14.7, "max": 10})


def test_a_child_that_fails_for_its_own_reasons_is_an_error_not_a_refusal(tmp_path):
    """A bug in the child (here: a request without its rules) is retried, never blamed on the photo."""
    asked = json.dumps(
        {"source": str(wallpaper("Volna")), "out_dir": str(tmp_path), "max_pixels": MAX_PIXELS}
    )

    with pytest.raises(PhotoRenderFailed, match="KeyError: 'rules'"):
        run_render_child(asked, LIMITS)


def test_the_child_reports_its_peak_memory(category, tmp_path):
    """The benchmark's figure: the child's own peak, the progressive decode's buffer included."""
    from worker import render_child

    asked = render_child.request(
        wallpaper("Volna"), tmp_path, PhotoRules.of(category), position=0, max_pixels=MAX_PIXELS
    )

    result = run_render_child(asked, LIMITS)

    # libjpeg holds every coefficient of this progressive 5120x2880 4:4:4 JPEG: 88.5 MB.
    assert result["peak_rss_mb"] > 88.5
    assert len(result["renditions"]) == 5  # and the jury copy
