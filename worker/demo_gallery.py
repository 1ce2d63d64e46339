"""The demo gallery: approved entries with real files in the edition ``contest seed-demo`` made.

Run ``python -m worker.demo_gallery`` after ``flask --app wsgi contest seed-demo`` (``make seed``
runs both): the files are made by the worker's code, and contest/ never imports worker/.

Development data only (contest.contests.demo.DEMO_ENTRIES says what the entries are). A photo
is a picture drawn with Pillow (worker.demo_pictures): a landscape of Nghệ An with the place's
name on it, 2400x1600. A video is a few seconds of ffmpeg panning across such a picture, with
a sound of waves. Their renditions are made by the worker's own code (worker.photo.render,
worker.video.transcode_video), then stored and recorded as the worker's jobs record them
(worker.jobs.base.MediaAttempt): the gallery, the entry pages and votes work on them as on
real entries. The originals are smaller than the 2025 rules ask (3000 px, 3 MB) to keep the
seed quick: they never meet the upload checks, which only the entrants' files go through.

Videos are made only when ffmpeg is installed. An entry already in the contest (same author
and title) is left alone, so running the seed twice adds nothing.
"""

from __future__ import annotations

import functools
import os
import shutil
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.demo import DEMO_ENTRIES, DEMO_SLUG, DemoEntry, DemoPicture
from contest.contests.models import Category, Contest
from contest.db import now_utc
from contest.entries.flags import record_flags
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.entries.services import discard_objects
from contest.entries.video import check_video
from contest.extensions import db
from contest.storage import get_storage, new_key, private_copy_key
from worker.demo_pictures import SIZE, caption_layer, draw_picture, with_caption
from worker.inspect import difference_hash, exif_hints
from worker.jobs.base import OriginalFacts
from worker.jobs.video import original_facts
from worker.photo import render
from worker.renditions import Rendition, file_sha256
from worker.video import FFMPEG, run_ffmpeg, transcode_video

VIDEO_SIZE = (1280, 720)
# The picture a video pans across: a little wider than the video, in the picture's proportions.
PAN_SIZE = (VIDEO_SIZE[0] * 9 // 8, VIDEO_SIZE[0] * 9 // 8 * SIZE[1] // SIZE[0])
VIDEO_SECONDS = 4
VIDEO_FPS = 25


# --- seeding ---------------------------------------------------------------------------------
@click.command("seed-demo-gallery")
@with_appcontext
def seed_command() -> None:
    """Add the demo entries missing from the demo edition, with their files (safe to run twice)."""
    contest = db.session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    if contest is None:
        raise click.ClickException("no demo edition: run `flask --app wsgi contest seed-demo` first")
    gallery = seed_demo_gallery(db.session, contest)
    db.session.commit()
    click.echo(gallery.summary())


def main() -> None:
    from contest import create_app

    seed_command.main(obj=ScriptInfo(create_app=create_app))


@dataclass(frozen=True)
class GallerySeed:
    """What the run found and made: demo entries in the contest, new ones, videos left out."""

    entries: int
    created: int
    videos_left_out: int

    def summary(self) -> str:
        line = f"Demo gallery: {self.entries} entries ({self.created} created)"
        if self.videos_left_out:
            line += f"; {self.videos_left_out} videos left out: ffmpeg is not installed"
        return line


def ffmpeg_available() -> bool:
    return shutil.which(FFMPEG) is not None and shutil.which("ffprobe") is not None


def seed_demo_gallery(session: Session, contest: Contest, *, with_video: bool | None = None) -> GallerySeed:
    """Create the DEMO_ENTRIES that are missing, approved, with their files; flushes, never commits.

    The demo accounts must exist (contest.contests.services.seed_demo). Videos are made when
    ``with_video`` (default: when ffmpeg is installed). Objects stored before an error are
    deleted before it goes up.
    """
    with_video = ffmpeg_available() if with_video is None else with_video
    authors = _authors(session)
    categories = {category.slug: category for category in contest.categories}
    places = {place.code: place for place in contest.places}
    missing = [demo for demo in DEMO_ENTRIES if not _exists(session, contest, authors[demo.author], demo)]
    videos_left_out = [demo for demo in missing if demo.category == "video" and not with_video]
    # An organizer may have removed a demo entry's category or place since the first run.
    wanted = [
        demo
        for demo in missing
        if demo not in videos_left_out and demo.category in categories and demo.place in places
    ]
    keys: list[str] = []
    with TemporaryDirectory(prefix="demo-gallery-") as tmp:
        works = make_works(wanted, categories, Path(tmp))
        try:
            for demo in wanted:
                entry = Entry(
                    contest_id=contest.id,
                    category_id=categories[demo.category].id,
                    author_id=authors[demo.author].id,
                    place_id=places[demo.place].id,
                    title=demo.title,
                    description=demo.description,
                    taken_on=demo.taken_on,
                )
                _add_entry(session, contest, entry, works[demo.title], keys, age=_age(demo))
        except BaseException:
            discard_objects(keys)
            raise
    return GallerySeed(
        entries=len(DEMO_ENTRIES) - len(missing) + len(wanted),
        created=len(wanted),
        videos_left_out=len(videos_left_out),
    )


def _authors(session: Session) -> dict[str, User]:
    emails = {demo.author for demo in DEMO_ENTRIES}
    return {user.email: user for user in session.scalars(select(User).where(User.email.in_(emails)))}


def _exists(session: Session, contest: Contest, author: User, demo: DemoEntry) -> bool:
    found = select(Entry.id).where(
        Entry.contest_id == contest.id, Entry.author_id == author.id, Entry.title == demo.title
    )
    return session.scalar(found.limit(1)) is not None


def _age(demo: DemoEntry) -> timedelta:
    """How long ago the entry was approved: a few hours apart, in DEMO_ENTRIES' order."""
    return timedelta(hours=7 * (len(DEMO_ENTRIES) - DEMO_ENTRIES.index(demo)))


def _add_entry(
    session: Session,
    contest: Contest,
    entry: Entry,
    works: list[MadeWork],
    keys: list[str],
    *,
    age: timedelta,
) -> None:
    """Store the works and take the entry through the statuses a real one goes through up to approved."""
    entry.code = contest.next_entry_code(session)
    entry.status = EntryStatus.draft
    session.add(entry)
    entry.transition(EntryStatus.submitted)
    entry.transition(EntryStatus.processing)
    for work in works:
        entry.assets += _stored_assets(contest, work, keys)
    session.flush()
    for work in works:  # what the worker learnt of each original, as MediaAttempt.finish records it
        work.facts.record_on(entry.asset(AssetKind.original, work.facts.position))
    record_flags(session, entry)
    entry.transition(EntryStatus.pending_review)
    entry.transition(EntryStatus.approved)
    entry.submitted_at = entry.declarations_accepted_at = now_utc() - age - timedelta(days=1)
    entry.approved_at = now_utc() - age
    session.flush()


def _stored_assets(contest: Contest, work: MadeWork, keys: list[str]) -> list[MediaAsset]:
    """Store the original (as an upload is) and the renditions (as the worker's are): their rows."""
    storage = get_storage()
    key = new_key(f"originals/{contest.slug}", work.original.suffix)
    _save(storage, key, work.original, work.original_mime, keys)
    assets = [
        MediaAsset(
            kind=AssetKind.original,
            position=work.facts.position,
            storage_key=key,
            mime_type=work.original_mime,
            bytes=work.original.stat().st_size,
            original_filename=work.original.name,
        )
    ]
    for rendition in work.renditions:
        key = new_key("public/r", f"/{rendition.path.name}")  # published when the entry is approved
        _save(storage, private_copy_key(key), rendition.path, rendition.mime_type, keys)
        assets.append(rendition.asset(key))
    return assets


def _save(storage, key: str, path: Path, content_type: str, keys: list[str]) -> None:
    with path.open("rb") as stream:
        storage.save(key, stream, content_type=content_type)
    keys.append(key)


# --- files -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MadeWork:
    """One work of an entry on disk: its original, its renditions and what the worker learns of it."""

    original: Path
    original_mime: str
    renditions: list[Rendition]
    facts: OriginalFacts


def make_works(
    demos: list[DemoEntry], categories: dict[str, Category], tmp: Path
) -> dict[str, list[MadeWork]]:
    """Every work of ``demos``, by title, made in parallel (Pillow and ffmpeg work without the GIL)."""
    config = current_app.config
    video = functools.partial(
        make_video, threads=config["VIDEO_THREADS"], timeout_s=config["VIDEO_TIMEOUT_S"]
    )
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        futures = {
            demo.title: [
                pool.submit(video, demo, picture, categories[demo.category], tmp / f"{number}-{position}")
                if demo.category == "video"
                else pool.submit(make_photo, demo, picture, position, tmp / f"{number}-{position}")
                for position, picture in enumerate(demo.pictures)
            ]
            for number, demo in enumerate(demos)
        }
        return {title: [future.result() for future in made] for title, made in futures.items()}


def make_photo(demo: DemoEntry, picture: DemoPicture, position: int, folder: Path) -> MadeWork:
    """The original JPEG and its four renditions, as worker.render_child makes them."""
    folder.mkdir(parents=True, exist_ok=True)
    original = folder / f"{_slug(demo.place)}-{position + 1}.jpg"
    image = with_caption(draw_picture(picture, seed=_seed(demo, position)), demo)
    image.save(original, "JPEG", quality=90, exif=_exif(demo.taken_on))
    rendered = render(original, folder / "renditions", found="jpeg", position=position)
    facts = OriginalFacts(
        position=position,
        sha256=file_sha256(original),
        width=SIZE[0],
        height=SIZE[1],
        phash=difference_hash(rendered.display),
        details={"exif": exif_hints(rendered.exif)},
    )
    return MadeWork(original, "image/jpeg", rendered.renditions, facts)


def make_video(
    demo: DemoEntry, picture: DemoPicture, category: Category, folder: Path, *, threads: int, timeout_s: float
) -> MadeWork:
    """A short MP4 panning across the picture, and its ladder, poster and frames (worker.video)."""
    folder.mkdir(parents=True, exist_ok=True)
    still, caption = folder / "still.png", folder / "caption.png"
    draw_picture(picture, seed=_seed(demo, 0), size=PAN_SIZE).save(still, compress_level=1)
    caption_layer(VIDEO_SIZE, demo).save(caption, compress_level=1)
    original = folder / f"{_slug(demo.place)}.mp4"
    run_ffmpeg(footage_args(still, caption, original, threads), folder, timeout_s)
    info = check_video(original, category, quick=False)
    renditions = transcode_video(original, info, folder, threads=threads, timeout_s=timeout_s)
    return MadeWork(original, info.mime_type, renditions, original_facts(info, file_sha256(original)))


def footage_args(still: Path, caption: Path, target: Path, threads: int) -> list[str]:
    """ffmpeg: a slow pan across ``still`` with the caption on top and the sound of waves, H.264/AAC."""
    (width, height), (wide, high) = VIDEO_SIZE, PAN_SIZE
    pan = f"crop={width}:{height}:x='{wide - width}*t/{VIDEO_SECONDS}':y={(high - height) // 2}"
    frames = VIDEO_SECONDS * VIDEO_FPS
    still_frames = f"loop=loop={frames - 1}:size=1,setpts=N/{VIDEO_FPS}/TB"  # the still decoded once
    graph = f"[0:v]{still_frames},{pan}[bg];[bg][1:v]overlay=0:0,format=yuv420p[v]"
    waves = "anoisesrc=color=brown:amplitude=0.3:sample_rate=48000,tremolo=f=0.25:d=0.6"
    return [
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error",
        "-i", f"file:{still}",
        "-i", f"file:{caption}",
        "-f", "lavfi", "-t", str(VIDEO_SECONDS), "-i", waves,
        "-filter_complex", graph, "-map", "[v]", "-map", "2:a",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-r", str(VIDEO_FPS), "-threads", str(threads),
        "-c:a", "aac", "-b:a", "96k", "-ac", "2",
        "-t", str(VIDEO_SECONDS), "-movflags", "+faststart", "-f", "mp4", "-y", f"file:{target}",
    ]  # fmt: skip


def _seed(demo: DemoEntry, position: int) -> int:
    return zlib.crc32(f"{demo.title}/{position}".encode())


def _slug(place_code: str) -> str:
    return place_code.replace("-", "_")


def _exif(taken_on: date) -> bytes:
    """The date taken, as a camera writes it: the organizers' EXIF hints read it."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Happy Nghe An", "Demo"  # Make, Model
    exif.get_ifd(0x8769)[0x9003] = f"{taken_on:%Y:%m:%d} 07:30:00"  # DateTimeOriginal
    return exif.tobytes()


if __name__ == "__main__":
    main()
