"""The web bench's media: real renditions, on S3 as production keeps them (moto on loopback).

``make_renditions`` makes three folders of real renditions (a photo, a series, a video) that
every entry of the data set (bench.web_data) shares by a symlink of its own folder. The
server signs every card's URLs (S3_PUBLIC_URL empty, the default), so the pages pay what
production pays. The renditions' objects (those real files) are put at their keys
for the first ``OBJECT_ENTRIES`` entries: all of the small set's, and of the large set's as
many (moto keeps objects in memory: 100,000 entries' would take ~50 GB). After a phase the
signed URLs on those entries' pages are fetched from the S3 endpoint and compared with the
files: ``media_urls_ok``.
"""

from __future__ import annotations

import html
import logging
import os
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ("Volna", "Flow", "SafeLanding")
VIDEO = ROOT / ".cache" / "test-media" / "bigbuckbunny.mp4"
BUCKET = "bench-web"
OBJECT_ENTRIES = int(os.environ.get("BENCH_S3_OBJECT_ENTRIES", "3000"))
CHECKED_ENTRIES = 30  # entry pages whose every media URL is fetched after a phase


@dataclass(frozen=True)
class Rendition:
    name: str  # file name inside the shared folder
    kind: str
    mime: str
    width: int
    height: int
    bytes: int
    position: int = 0
    label: str = ""
    duration_s: float | None = None


# --- real rendition files --------------------------------------------------------------------
def make_renditions(media_root: Path) -> dict[str, list[Rendition]]:
    """Three folders of real renditions under public/r/ (photo, series, video): their contents."""
    from PIL import Image

    from worker.photo import render_photo

    base = media_root / "public" / "r"
    made: dict[str, list[Rendition]] = {}
    for folder, photos in (("shared-photo", PHOTOS[:1]), ("shared-photo-series", PHOTOS)):
        target = base / folder
        made[folder] = []
        for position, name in enumerate(photos):
            source = Path("/usr/share/wallpapers") / name / "contents" / "images" / "5120x2880.jpg"
            for r in render_photo(source, target / f"work-{position}", position=position):
                made[folder].append(
                    Rendition(
                        f"{r.path.parent.name}/{r.path.name}",
                        r.kind.value,
                        r.mime_type,
                        r.width,
                        r.height,
                        r.bytes,
                        position,
                    )
                )
    target = base / "shared-video"
    target.mkdir(parents=True)
    made["shared-video"] = []
    for label, height in (("720p", 720), ("480p", 480)):
        out = target / f"{label}.mp4"
        _ffmpeg(
            "-i",
            VIDEO,
            "-vf",
            f"scale=-2:{height}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-c:a",
            "aac",
            "-ac",
            "2",
            out,
        )
        made["shared-video"].append(
            Rendition(
                out.name,
                "video_mp4",
                "video/mp4",
                round(height * 16 / 9),
                height,
                out.stat().st_size,
                label=label,
                duration_s=5.3,
            )
        )
    poster = target / "poster.jpg"
    _ffmpeg("-ss", "2", "-i", VIDEO, "-frames:v", "1", "-q:v", "3", poster)
    with Image.open(poster) as image:
        image.save(target / "poster.webp", "WEBP", quality=80)
        size = image.size
    for name, kind, mime in (
        ("poster.jpg", "poster_jpeg", "image/jpeg"),
        ("poster.webp", "poster_webp", "image/webp"),
    ):
        made["shared-video"].append(Rendition(name, kind, mime, *size, (target / name).stat().st_size))
    return made


def _ffmpeg(*args) -> None:
    if not VIDEO.exists():
        raise SystemExit(f"{VIDEO} missing: run 'make test-media'")
    subprocess.run(["ffmpeg", "-v", "error", "-y", *map(str, args)], check=True, timeout=300)


def link_entry_folders(media_root: Path, folders: list[str]) -> None:
    """public/r/b<entry id> -> the shared folder of the entry's kind (entry ids start at 1)."""
    base = media_root / "public" / "r"
    for entry_id, folder in enumerate(folders, start=1):
        (base / f"b{entry_id}").symlink_to(folder, target_is_directory=True)


# --- on S3 -----------------------------------------------------------------------------------
@contextmanager
def s3_settings() -> Iterator[dict]:
    """A moto S3 server on loopback for the phase; the server's storage settings."""
    from tests.support import s3_config, start_moto_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    server, endpoint = start_moto_server()
    try:
        yield {key: str(value) for key, value in s3_config(endpoint, BUCKET).items()}
    finally:
        # moto's stores are the process's: emptied, or the phase's objects outlive its server.
        requests.post(f"{endpoint}/moto-api/reset", timeout=60).raise_for_status()
        server.stop()


def put_renditions(env: dict, conninfo: str, media_root: Path, entries: int = OBJECT_ENTRIES) -> int:
    """Put the renditions of entries 1..``entries`` at their keys (the bucket made first); how many."""
    from contest.config import load_settings
    from contest.storage import build_storage

    storage = build_storage(load_settings(env))
    storage.ensure_bucket()
    with psycopg.connect(conninfo) as conn:
        assets = conn.execute(
            "SELECT storage_key, mime_type FROM media_assets WHERE kind <> 'original' AND entry_id <= %s",
            (entries,),
        ).fetchall()

    def put(asset: tuple[str, str]) -> None:
        key, mime_type = asset
        with (media_root / key).open("rb") as stream:
            storage.save(key, stream, content_type=mime_type)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, assets))
    return len(assets)


def check_media_urls(base: str, env: dict, codes: list[str], media_root: Path) -> dict:
    """Fetch every S3 URL on the first entries' pages: each must answer 200 with the file's bytes."""
    endpoint = re.escape(env["S3_ENDPOINT_URL"])
    found = re.compile(rf"{endpoint}/{BUCKET}/([^\"'\s?]+)\?[^\"'\s]+")
    checked = failed = 0
    for code in codes[: min(CHECKED_ENTRIES, OBJECT_ENTRIES)]:
        page = requests.get(f"{base}/e/{code}", timeout=30)
        page.raise_for_status()
        for match in {m.group(0): m.group(1) for m in found.finditer(page.text)}.items():
            url, key = html.unescape(match[0]), match[1]
            answer = requests.get(url, timeout=30)
            checked += 1
            if answer.status_code != 200 or answer.content != (media_root / key).read_bytes():
                failed += 1
    return {"media_urls_checked": checked, "media_urls_ok": int(checked > 0 and not failed)}
