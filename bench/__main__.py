"""``make bench``: the media pipeline and the upload path, measured side by side in one run.

- bench.photo: renditions of real photos against vipsthumbnail (CPU ratio, peak memory).
- bench.video: the one-process ladder against one ffmpeg run per rendition.
- bench.upload: the web process's memory while a 200 MB video is uploaded through it.
- bench.upload_resumable: the same video sent straight to S3 in parts (the upload API) against
   one plain PUT, and the web process's memory meanwhile.
- bench.scale: 300 entries sent at once to 2 gunicorn and 3 worker processes (PostgreSQL, Redis,
   S3), a worker killed half-way: nothing lost, nothing done twice, the workers kept busy.
- bench.web: the public gallery, the entry page and votes under wrk against gunicorn on
   PostgreSQL, as ratios to the trivial endpoint; the gallery and the audience tally with
   100,000 entries and 2,000,000 votes.
- bench.export_zip: the winners' ZIP of 1 GB, S3 to S3: the worker's memory growth and speed.
- bench.rings: the vote review's cases on generated populations of honest voters and rings.
- bench.jury: the jury's deal of 20,000 entries to 30 judges (quorum 3) on PostgreSQL.
- bench.tally (run by bench.jury, on its round): the whole tally of that round with five
   criteria scored: the sheet read, normalisation and the jury's reliability (tally_s_large).
- Submit-to-thumbnail (below): a real ``celery worker`` process (SQLite broker, the embedded default),
   a migrated SQLite database, S3 over HTTP (moto on loopback, the production code path), and
   the web application's real upload route; the clock runs from the start of the upload
   request until the entry's renditions are recorded.

Prints ``name=value`` lines last and writes bench/report.md.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench import rings
from bench.export_zip import REPORT as EXPORT_ZIP_REPORT
from bench.export_zip import measure as measure_export_zip
from bench.jury import REPORT as JURY_REPORT
from bench.jury import measure as measure_jury
from bench.photo import REPORT as PHOTO_REPORT
from bench.photo import measure as measure_photo
from bench.scale import REPORT as SCALE_REPORT
from bench.scale import measure as measure_scale
from bench.upload import REPORT as UPLOAD_REPORT
from bench.upload import measure_upload
from bench.upload_resumable import REPORT as UPLOAD_RESUMABLE_REPORT
from bench.upload_resumable import measure as measure_upload_resumable
from bench.video import measure_video
from bench.video import report_text as video_report
from bench.web import REPORT as WEB_REPORT
from bench.web import measure as measure_web

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ["Volna", "Flow", "SafeLanding"]
ROUNDS = 2  # each photo submitted this many times


def wallpaper(name: str) -> Path:
    return Path("/usr/share/wallpapers") / name / "contents" / "images" / "5120x2880.jpg"


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_end_to_end(tmp: Path) -> dict:
    from contest import create_app
    from contest.auth.models import User
    from contest.contests.demo import build_demo_contest
    from contest.contests.models import CategoryKind
    from contest.entries.models import Entry, EntryStatus
    from tests.support import (
        CeleryWorker,
        create_user,
        login_id,
        make_test_config,
        migrate,
        s3_config,
        start_moto_server,
    )

    server, endpoint = start_moto_server()
    url = f"sqlite:///{tmp / 'bench.sqlite'}"
    migrate(url)
    broker = f"sqla+sqlite:///{tmp / 'broker.sqlite'}"
    storage_config = s3_config(endpoint, f"bench-{uuid.uuid4().hex[:8]}")
    config = make_test_config(tmp, url, **storage_config, BROKER_URL=broker, JOB_DISPATCH="celery")
    app = create_app(config)
    app.extensions["storage"].ensure_bucket()
    env = {
        **os.environ,
        "CONTEST_INSTANCE": str(tmp),
        "DATABASE_URL": url,
        "BROKER_URL": broker,
        "SECRET_KEY": config["SECRET_KEY"],
        "JOB_DISPATCH": "celery",
        **{k: str(v) for k, v in storage_config.items()},
    }
    worker = CeleryWorker("bench", tmp, env, beat=False)
    worker.wait_ready()
    try:
        engine = app.extensions["db"].engine
        with Session(engine, expire_on_commit=False) as session:
            contest, _ = build_demo_contest(session)
            session.commit()
            user = create_user(session, "bench@example.com")
            category = next(c for c in contest.categories if c.kind is CategoryKind.photo)
            form = {
                "category": category.id,
                "title": "Bench",
                "description": "",
                "place": contest.places[0].id,
                "taken_on": "2024-05-01",
                "accept_own_work": "y",
                "accept_promo_use": "y",
                "accept_not_awarded": "y",
            }
        client = app.test_client()
        with client.session_transaction() as s:
            s["_user_id"], s["_fresh"] = login_id(app, user), True
        idle_rss = status_mb(worker.process.pid, "VmRSS")
        latencies, requests_s = [], []
        photos = [wallpaper(n) for n in PHOTOS] * ROUNDS
        for index, photo in enumerate([photos[0], *photos]):  # the first one warms the worker up
            t0 = time.perf_counter()
            with photo.open("rb") as f:
                response = client.post(
                    "/entries/new", data={**form, "photo": (f, "IMG.JPG")}, content_type="multipart/form-data"
                )
            t_request = time.perf_counter() - t0
            if response.status_code != 302:
                raise SystemExit(f"upload refused: {response.status_code}")
            status = _wait_processed(engine, User, Entry, EntryStatus, user.id, index + 1)
            if status is not EntryStatus.pending_review:
                raise SystemExit(f"entry ended {status}:\n{worker.text()}")
            if index:
                latencies.append(time.perf_counter() - t0)
                requests_s.append(t_request)
        return {
            "photo_submit_request_s_median": statistics.median(requests_s),
            "photo_submit_to_thumbnail_s_median": statistics.median(latencies),
            "photo_submit_to_thumbnail_s_max": max(latencies),
            "worker_idle_rss_mb": idle_rss,
            "worker_peak_rss_mb": status_mb(worker.process.pid, "VmHWM"),
            "photos_measured": len(latencies),
        }
    finally:
        worker.stop()
        server.stop()


def _wait_processed(engine, User, Entry, EntryStatus, user_id: int, count: int, timeout_s: float = 120):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Session(engine) as session:
            entries = session.scalars(
                select(Entry).where(Entry.author_id == user_id).order_by(Entry.id.desc())
            ).all()
            if len(entries) >= count and entries[0].status in (
                EntryStatus.pending_review,
                EntryStatus.failed,
            ):
                return entries[0].status
        time.sleep(0.02)
    raise SystemExit("timed out waiting for the worker")


def _lines(figures: dict) -> list[str]:
    return [
        f"{name}={value:.3f}" if isinstance(value, float) else f"{name}={value}"
        for name, value in figures.items()
    ]


def _in_tmp(measure):
    def run() -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            return measure(Path(tmp))

    return run


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    figures: dict = {}
    for part in (
        measure_photo,
        _in_tmp(measure_end_to_end),
        _in_tmp(measure_upload),
        _in_tmp(measure_upload_resumable),
        _in_tmp(measure_scale),
        measure_video,
        measure_web,
        measure_jury,
        measure_export_zip,
        _in_tmp(rings.measure),
    ):
        found = part()
        print("\n".join(_lines(found)), flush=True)  # kept in the log even if a later part fails
        figures.update(found)
    lines = _lines(figures)
    report = ROOT / "bench" / "report.md"
    report.write_text(
        "# Benchmark report\n\n"
        f"Machine: {os.cpu_count()} cores. Photos: real 5120x2880 JPEGs ({', '.join(PHOTOS)}),\n"
        "S3 over HTTP (moto), SQLite database and SQLite broker (the embedded default), one\n"
        "worker process (solo pool). Submit-to-thumbnail includes the upload request, the\n"
        "broker's polling interval and the renditions' upload.\n"
        f"{PHOTO_REPORT}"
        f"{UPLOAD_REPORT}\n"
        f"{UPLOAD_RESUMABLE_REPORT}\n"
        f"{SCALE_REPORT}\n"
        f"{video_report()}\n"
        f"{WEB_REPORT}\n"
        f"{JURY_REPORT}\n"
        f"{EXPORT_ZIP_REPORT}\n"
        f"{rings.REPORT}\n"
        "```\n" + "\n".join(lines) + "\n```\n"
    )
    print(f"report written to {report}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
