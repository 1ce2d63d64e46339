"""``python -m bench.scale``: 300 entries submitted at once on one machine, a worker killed half-way.

The production layout on one machine: the application in gunicorn (``--workers=2``) on
PostgreSQL, Celery on a Redis broker, three ``celery worker`` processes (``--pool=solo``, one job
at a time each; the first also runs beat, whose sweep resends a job whose worker died), S3 over
HTTP (moto in a process of its own). The bench contest is the demo edition with small rules
(BENCH_RULES: a photo's long edge from 1200 px and 100 kB), so that its 300 entries are real
but quick: 180 photos, 60 series of 3 photos and 60 two-second videos, each file different.

ENTRANTS verified entrants log in through the login form and send their entry at once,
SUBMITTERS at a time, either through the resumable path (the upload API, parts to presigned
URLs, then the entry form naming the stored uploads: BENCH_SCALE_PATH=resumable, the default when
the form takes ``upload_<field>``) or through the form's own file fields (BENCH_SCALE_PATH=form),
while VOTERS logged-in voters vote for the edition's approved entries. When half of the
entries are processed, the second worker and its children are killed with SIGKILL, then
started again.

Figures: ``scale_entries_per_min`` (entries processed from the first request to the last
rendition), ``scale_jobs_lost`` (entries sent but never processed), ``scale_jobs_twice``
(entries with a rendition kind recorded twice, or whose job succeeded more than once: the
rows; ``scale_orphan_renditions``: rendition objects in the bucket that no row names, e.g. what
the killed job had written), ``scale_cpu_busy`` (the workers' CPU, theirs and their children's,
over two cores, summed over the half-second samples in which jobs were waiting;
``scale_machine_busy``: the share of the machine's cores busy with anything in those samples).
"""

from __future__ import annotations

import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bench.s3_process import moto_process
from bench.scale_media import machine_cpu, make_files, tree_cpu_seconds
from bench.scale_submit import Submitter, resumable_supported
from bench.upload import free_port, log_in, stop_server
from bench.upload_resumable import s3_client
from bench.web_site import drop_database, recreate_database

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "contest_bench_scale"
BROKER_URL = os.environ.get("BENCH_SCALE_BROKER_URL", "redis://127.0.0.1:6379/7")
MIX = {"photo": 180, "photo-series": 60, "video": 60}
SERIES_ITEMS = 3
SUBMITTERS = 8
VOTERS = 40
VOTED_ENTRIES = 80
CORES = 2
SAMPLE_S = 0.5
WAIT_S = 900
BENCH_RULES = {"min_long_edge_px": 1200, "min_bytes": 100_000}
SECRET = "bench-scale-" + "x" * 32
REPORT = (
    "Scale (bench/scale.py): gunicorn --workers=2 on PostgreSQL, Celery on Redis, 3 worker processes\n"
    "(solo pool; one SIGKILLed with its children when half the entries were processed, then started\n"
    "again; beat's sweep with JOB_STALE_AFTER_S=20), S3 in moto (own process), 300 entries (180 photos\n"
    "1200x800, 60 series of 3, 60 two-second 640x360 videos; the bench contest's rules lowered to a\n"
    "1200 px long edge and 100 kB) sent by 8 clients at once while 40 voters vote. scale_cpu_busy:\n"
    "the workers' CPU (with their children) over 2 cores while jobs were waiting.\n"
)


# --- the data ----------------------------------------------------------------------------------
def prepare(url: str) -> dict:
    from contest.auth.models import User
    from contest.contests.demo import build_demo_contest
    from contest.contests.models import Category
    from contest.db import make_engine
    from contest.entries.models import EntryStatus
    from tests.support import create_user, make_entry, migrate

    migrate(url)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        contest, _ = build_demo_contest(session)
        session.commit()
        session.execute(update(Category).where(Category.kind != "video").values(**BENCH_RULES))
        session.execute(update(Category).where(Category.kind == "video").values(min_bytes=None))
        first = create_user(session, "entrant-0000@example.com")
        emails = [f"entrant-{i:04d}@example.com" for i in range(1, sum(MIX.values()))]
        emails += [f"voter-{i:03d}@example.com" for i in range(VOTERS)]
        emails += [f"author-{i:03d}@example.com" for i in range(VOTED_ENTRIES)]
        session.add_all(
            User(
                email=e,
                full_name="Nguyễn Văn An",
                country="VN",
                birth_year=1990,
                email_verified_at=first.email_verified_at,
                password_hash=first.password_hash,
            )
            for e in emails
        )
        session.commit()
        authors = session.scalars(select(User).where(User.email.like("author-%"))).all()
        codes = [make_entry(session, contest, author, status=EntryStatus.approved).code for author in authors]
        ids = {c.slug: c.id for c in contest.categories} | {"place": contest.places[0].id}
    engine.dispose()
    return {"categories": ids, "codes": codes}


# --- the processes -----------------------------------------------------------------------------
def environment(tmp: Path, url: str, s3: dict) -> dict:
    return {
        **os.environ,
        **{k: v for k, v in s3.items() if v},
        "CONTEST_ENV": "development",
        "CONTEST_INSTANCE": str(tmp / "instance"),
        "DATABASE_URL": url,
        "BROKER_URL": BROKER_URL,
        "SECRET_KEY": SECRET,
        "JOB_DISPATCH": "celery",
        "JOB_STALE_AFTER_S": "20",
        "JOB_SWEEP_INTERVAL_S": "2",
        "RATELIMIT_ENABLED": "false",
        "VIDEO_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }


def start_gunicorn(env: dict, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers=2", f"--bind=127.0.0.1:{port}", "--timeout=300"]
    with (tmp / "gunicorn.log").open("wb") as out:
        server = subprocess.Popen(
            [*command, "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            requests.get(f"{base}/healthz", timeout=10)
            return server, base
        except (requests.ConnectionError, requests.Timeout):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "gunicorn.log").read_text()) from None
            time.sleep(0.2)


def start_worker(name: str, tmp: Path, env: dict, beat: bool = False):
    from tests.support import CeleryWorker

    worker = CeleryWorker(name, tmp, env, beat, own_group=True)
    worker.wait_ready(120)
    return worker


# --- the run -----------------------------------------------------------------------------------
class Monitor(threading.Thread):
    """Every SAMPLE_S: the jobs waiting, the entries processed, the workers' CPU; kills one
    worker (and its children) when half of the entries are processed, and starts it again."""

    def __init__(self, engine, workers: list, restart) -> None:
        super().__init__(daemon=True)
        self.engine, self.workers, self.restart = engine, workers, restart
        self.busy_s = self.waiting_s = self.machine_busy_s = self.machine_s = 0.0
        self.killed_at: float | None = None
        self.restarting: threading.Thread | None = None
        self.done = threading.Event()

    def counts(self) -> tuple[int, int]:
        """(jobs waiting in the queue, entries processed)."""
        from contest.processing.models import JobState, ProcessingJob

        with Session(self.engine) as session:
            waiting = session.scalar(select(func.count()).where(ProcessingJob.state == JobState.queued))
            return waiting, processed_entries(session)

    def cpu(self) -> dict[int, float]:
        return {w.process.pid: s for w in self.workers if (s := tree_cpu_seconds(w.process.pid)) is not None}

    def run(self) -> None:
        before, then, machine = self.cpu(), time.monotonic(), machine_cpu()
        while not self.done.wait(SAMPLE_S):
            waiting, processed = self.counts()
            now, after, machine_now = time.monotonic(), self.cpu(), machine_cpu()
            if waiting:
                self.waiting_s += now - then
                self.busy_s += sum(after[pid] - before[pid] for pid in after if pid in before)
                self.machine_busy_s += machine_now[0] - machine[0]
                self.machine_s += machine_now[1] - machine[1]
            before, then, machine = after, now, machine_now
            if self.killed_at is None and processed >= sum(MIX.values()) // 2:
                self.killed_at = now
                self.workers[1].kill_group()
                self.restarting = threading.Thread(target=self.start_again, daemon=True)
                self.restarting.start()  # the samples go on while it starts

    def start_again(self) -> None:
        self.workers[1] = self.restart()

    def machine_busy(self) -> float:
        """The share of all the machine's cores busy (anyone's work) in the same samples."""
        return self.machine_busy_s / self.machine_s if self.machine_s else 0.0

    def cpu_busy(self) -> float:
        return self.busy_s / (self.waiting_s * CORES) if self.waiting_s else 0.0


def vote_while(base: str, codes: list[str], stop: threading.Event) -> int:
    """Votes by VOTERS logged-in voters for random approved entries until ``stop``; the counted ones."""
    from bench.upload import csrf_token

    voters = [log_in(base, f"voter-{i:03d}@example.com") for i in range(VOTERS)]
    tokens = [csrf_token(v.get(f"{base}/e/{codes[0]}").text) for v in voters]
    pairs = [(v, c) for v in range(VOTERS) for c in codes]
    random.Random(19).shuffle(pairs)
    counted = 0
    for voter, code in pairs:
        if stop.is_set():
            break
        answer = voters[voter].post(
            f"{base}/e/{code}/vote",
            data={"csrf_token": tokens[voter]},
            headers={"Accept": "application/json"},
            timeout=60,
        )
        counted += answer.status_code == 200 and answer.json().get("ok") is True
        time.sleep(0.02)
    return counted


def processed_entries(session: Session) -> int:
    """Entries of the run whose processing ended (the voted ones are approved, nobody approves here)."""
    from contest.entries.models import Entry, EntryStatus

    over = select(func.count()).where(Entry.status.in_((EntryStatus.pending_review, EntryStatus.failed)))
    return session.scalar(over)


def wait_processed(engine, count: int) -> float:
    """When ``count`` entries are processed (or WAIT_S has passed)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with Session(engine) as session:
            if processed_entries(session) >= count:
                break
        time.sleep(0.5)
    return time.monotonic()


def measure(tmp: Path) -> dict:
    import redis

    from contest.db import make_engine
    from contest.storage import build_storage
    from tests.support import s3_config

    redis.Redis.from_url(BROKER_URL).flushdb()
    photos, videos = make_files(
        tmp / "files", MIX["photo"] + MIX["photo-series"] * SERIES_ITEMS, MIX["video"]
    )
    url = recreate_database(DB_NAME)
    data = prepare(url)
    engine = make_engine(url)
    try:
        with moto_process(tmp / "moto.log") as (_moto, endpoint):
            s3 = s3_config(endpoint, f"bench-scale-{uuid.uuid4().hex[:8]}")
            build_storage({"MEDIA_URL_EXPIRES_S": 3600, "SECRET_KEY": SECRET, **s3}).ensure_bucket()
            env = environment(tmp, url, s3)
            server, base = start_gunicorn(env, tmp)
            workers = [start_worker("w1", tmp, env, beat=True), start_worker("w2", tmp, env)]
            workers.append(start_worker("w3", tmp, env))
            try:
                figures = run(tmp, engine, base, env, data, photos, videos, workers)
                figures |= renditions_written(engine, s3_client(endpoint), s3["S3_BUCKET"])
            finally:
                for worker in workers:
                    worker.stop()
                stop_server(server)
    finally:
        engine.dispose()
        drop_database(DB_NAME)
    return figures


def run(tmp, engine, base, env, data, photos, videos, workers) -> dict:
    path = os.environ.get("BENCH_SCALE_PATH") or ("resumable" if resumable_supported() else "form")
    submitter = Submitter(base, data["categories"], path)
    plan = submitter.plan(MIX, SERIES_ITEMS, photos, videos)
    restarts = iter(range(2, 10))
    monitor = Monitor(engine, workers, lambda: start_worker(f"w2-again{next(restarts)}", tmp, env))
    stop_votes = threading.Event()
    started = time.monotonic()
    monitor.start()
    with ThreadPoolExecutor(1) as voting:
        votes = voting.submit(vote_while, base, data["codes"], stop_votes)
        with ThreadPoolExecutor(SUBMITTERS) as pool:
            answers = list(pool.map(submitter.send, plan))
        finished = wait_processed(engine, sum(a.ok for a in answers))
        stop_votes.set()
        monitor.done.set()
        monitor.join()
        if monitor.restarting is not None:
            monitor.restarting.join()
        counted = votes.result()
    for problem in [a.problem for a in answers if not a.ok][:3]:
        print(f"scale: refused: {problem}", flush=True)
    with Session(engine) as session:
        lost = sum(a.ok for a in answers) - processed_entries(session)
    return {
        "scale_path_resumable": int(path == "resumable"),
        "scale_entries_sent": sum(a.ok for a in answers),
        "scale_entries_refused": sum(not a.ok for a in answers),
        "scale_entries_per_min": sum(a.ok for a in answers) / (finished - started) * 60,
        "scale_send_s_median": statistics.median(a.seconds for a in answers),
        "scale_jobs_lost": lost,
        "scale_votes_counted": counted,
        "scale_cpu_busy": monitor.cpu_busy(),
        "scale_machine_busy": monitor.machine_busy(),
        "scale_worker_killed": int(monitor.killed_at is not None),
    }


def renditions_written(engine, client, bucket: str) -> dict:
    from contest.entries.models import Entry, EntryStatus, MediaAsset
    from contest.processing.models import JobState, ProcessingJob
    from contest.storage import private_copy_key

    with Session(engine) as session:
        failed = session.scalar(select(func.count()).where(Entry.status == EntryStatus.failed))
        slot = (MediaAsset.entry_id, MediaAsset.kind, MediaAsset.position, MediaAsset.label)
        twice_rows = select(MediaAsset.entry_id).group_by(*slot)
        twice = set(session.scalars(twice_rows.having(func.count() > 1)))
        done_twice = select(ProcessingJob.entry_id).where(ProcessingJob.state == JobState.succeeded)
        twice |= set(
            session.scalars(
                done_twice.group_by(ProcessingJob.entry_id, ProcessingJob.kind).having(func.count() > 1)
            )
        )
        reruns = session.scalar(select(func.count()).where(ProcessingJob.attempts > 1))
        named = set(session.scalars(select(MediaAsset.storage_key)))
        named |= {private_copy_key(key) for key in named if key.startswith("public/")}
    objects = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        objects += [item["Key"] for item in page.get("Contents", [])]
    renditions = [k for k in objects if k.startswith(("public/r/", "private/r/", "jury/"))]
    return {
        "scale_jobs_failed": failed,
        "scale_jobs_twice": len(twice),
        "scale_jobs_rerun": reruns,
        "scale_rendition_objects": len(renditions),
        "scale_orphan_renditions": sum(k not in named for k in renditions),
    }


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(tmp))
    for name, value in figures.items():
        print(f"{name}={value:.3f}" if isinstance(value, float) else f"{name}={value}")


if __name__ == "__main__":
    main()
