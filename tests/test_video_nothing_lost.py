"""A worker killed with SIGKILL in the middle of a transcode: the video is not lost.

Real processes only: the job is sent through the SQLite broker to a ``celery worker``
subprocess, which is killed together with its ffmpeg while ffmpeg encodes the ladder. A
second worker's periodic sweep finds the job's heartbeat stale, sends it again, and the
second worker transcodes the video to the end. No ffmpeg is left running.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import create_app
from contest.auth.models import User
from contest.config import ROOT
from contest.contests.demo import build_demo_contest
from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.processing.services import create_job
from contest.storage import new_key, private_copy_key
from tests.support import CeleryWorker, make_test_config, migrate, new_database, real_video_source
from worker.jobs.video import STALE_WORKDIR_S, remove_stale_workdirs

pytestmark = pytest.mark.e2e

SECRET = "video-e2e-secret-" + "x" * 32
TIMEOUT_S = 180


def ffmpeg_children(parent_pid: int) -> dict[int, bytes]:
    """The ffmpeg processes ``parent_pid`` started: pid -> command line."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        comm, after = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if comm == "ffmpeg" and int(after[1]) == parent_pid:
            found[int(proc.name)] = cmdline
    return found


def is_dead(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie has stopped running; its parent reaps it


def wait_until(condition, what: str, timeout_s: float = TIMEOUT_S, interval_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(interval_s)
    return result


@pytest.fixture(scope="module")
def long_video(tmp_path_factory) -> Path:
    """10.6 s of the real footage at 6 Mb/s: above the web-safe cap, so it is encoded."""
    path = tmp_path_factory.mktemp("video") / "VID_0001.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-stream_loop", "1", "-i", str(real_video_source()),
         "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "6M", "-c:a", "aac", "-ac", "2", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request, tmp_path):
    databases = new_database(request.param, tmp_path)
    url = next(databases)
    migrate(url)
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    media = tmp_path / "media"
    app = create_app(
        make_test_config(
            tmp_path / "web", url, SECRET_KEY=SECRET, JOB_DISPATCH="celery", BROKER_URL=broker,
            STORAGE_LOCAL_ROOT=str(media),
        )
    )  # fmt: skip
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    env = {
        **os.environ,
        "CONTEST_INSTANCE": str(tmp_path / "worker"),
        "DATABASE_URL": url,
        "BROKER_URL": broker,
        "SECRET_KEY": SECRET,
        "JOB_DISPATCH": "celery",
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(media),
        "TMPDIR": str(worker_tmp),
        "PYTHONUNBUFFERED": "1",
    }
    workers: list[CeleryWorker] = []

    def start_worker(name: str, *, beat: bool = False, own_group: bool = False, **settings) -> CeleryWorker:
        worker_env = {**env, **{k: str(v) for k, v in settings.items()}}
        worker = CeleryWorker(name, tmp_path, worker_env, beat, own_group=own_group)
        workers.append(worker)
        worker.wait_ready()
        return worker

    try:
        yield app, start_worker, worker_tmp
    finally:
        for worker in workers:
            worker.stop()
            print(f"----- log of worker {worker.name} -----\n{worker.text()}")
        app.extensions["celery_client"].close()
        app.extensions["db"].dispose()
        next(databases, None)


def submit_video(app, path: Path) -> tuple[int, int]:
    """A stored original and its queued job, committed (so sent to the broker); (entry, job)."""
    with Session(app.extensions["db"].engine, expire_on_commit=False) as session:
        contest, _ = build_demo_contest(session)
        category = next(c for c in contest.categories if c.slug == "video")
        author = User(email="film@example.com", full_name="Trần Thị Bình", country="VN", birth_year=1995)
        author.set_password("correct horse battery")
        session.add(author)
        session.flush()
        key = new_key(f"originals/{contest.slug}", ".mp4")
        with path.open("rb") as stream:
            size = app.extensions["storage"].save(key, stream, content_type="video/mp4")
        entry = Entry(
            code=contest.next_entry_code(session),
            contest_id=contest.id,
            category_id=category.id,
            author_id=author.id,
            place_id=contest.places[0].id,
            title="Chợ phiên",
            taken_on=date(2024, 5, 1),
            status=EntryStatus.submitted,
            submitted_at=now_utc(),
        )
        entry.assets.append(
            MediaAsset(kind=AssetKind.original, storage_key=key, mime_type="video/mp4", bytes=size)
        )
        session.add(entry)
        job = create_job(session, entry, JobKind.video)
        with app.app_context():  # dispatch sends the task once this commit lands
            session.commit()
        return entry.id, job.id


def read(app, entry_id: int, job_id: int) -> tuple[Entry, ProcessingJob, list[MediaAsset]]:
    with Session(app.extensions["db"].engine, expire_on_commit=False) as session:
        entry, job = session.get(Entry, entry_id), session.get(ProcessingJob, job_id)
        assets = session.scalars(select(MediaAsset).where(MediaAsset.entry_id == entry_id)).all()
        return entry, job, list(assets)


def test_a_worker_killed_mid_transcode_is_replaced_and_the_video_completes(stack, long_video, monkeypatch):
    app, start_worker, worker_tmp = stack
    doomed = start_worker(f"doomed-{uuid.uuid4().hex[:4]}", own_group=True)
    entry_id, job_id = submit_video(app, long_video)

    # Wait until the doomed worker runs the job and its ffmpeg encodes the ladder.
    encoding = wait_until(
        lambda: {pid: c for pid, c in ffmpeg_children(doomed.process.pid).items() if b"video-720p.mp4" in c},
        "the doomed worker's ffmpeg",
        interval_s=0.02,
    )
    doomed.kill_group()
    wait_until(lambda: all(is_dead(pid) for pid in encoding), "ffmpeg to die with its worker", timeout_s=10)
    entry, job, assets = read(app, entry_id, job_id)
    assert (entry.status, job.state, job.attempts) == (EntryStatus.processing, JobState.running, 1)
    assert {a.kind for a in assets} == {AssetKind.original}

    # A second worker whose beat sweeps every second and takes 4 s without heartbeat as death.
    rescuer = start_worker("rescuer", beat=True, JOB_STALE_AFTER_S=4, JOB_SWEEP_INTERVAL_S=1)
    wait_until(
        lambda: read(app, entry_id, job_id)[0].status is not EntryStatus.processing,
        "the rescue",
        interval_s=0.2,
    )

    entry, job, assets = read(app, entry_id, job_id)
    assert (entry.status, job.state, job.attempts) == (EntryStatus.pending_review, JobState.succeeded, 2)
    videos = sorted((a.label, a.width, a.height) for a in assets if a.kind is AssetKind.video_mp4)
    assert videos == [("480p", 854, 480), ("720p", 1280, 720)]
    assert {a.kind for a in assets} == {
        AssetKind.original,
        AssetKind.jury_original,
        AssetKind.video_mp4,
        AssetKind.poster_jpeg,
        AssetKind.poster_webp,
        AssetKind.frame_jpeg,
    }
    storage = app.extensions["storage"]
    kept = (AssetKind.original, AssetKind.jury_original)  # at their own private keys
    assert all(storage.exists(a.storage_key) for a in assets if a.kind in kept)
    # The renditions are kept privately until the entry is approved.
    assert all(storage.exists(private_copy_key(a.storage_key)) for a in assets if a.kind not in kept)
    original = next(a for a in assets if a.kind is AssetKind.original)
    assert 10.0 < original.duration_s < 11.0
    # No ffmpeg left anywhere: not the killed one, not the rescuer's.
    assert ffmpeg_children(rescuer.process.pid) == {}
    leftover = subprocess.run(["pgrep", "-f", f"ffmpeg.*{worker_tmp}"], capture_output=True, check=False)
    assert leftover.stdout == b""
    # The rescuer removed its own working folder; the killed worker's is removed by a later
    # video job once it is older than any job can run.
    left = list(worker_tmp.glob("video-job-*"))
    assert len(left) == 1
    monkeypatch.setattr(tempfile, "tempdir", str(worker_tmp))
    assert remove_stale_workdirs(now=time.time() + STALE_WORKDIR_S - 60) == []
    assert remove_stale_workdirs(now=time.time() + STALE_WORKDIR_S + 60) == left
    assert not left[0].exists()


def test_ffmpeg_dies_with_the_process_that_started_it_even_alone(tmp_path):
    """Only the worker's own pid killed (the OOM killer's way): its ffmpeg must not run on."""
    script = (
        "import sys; from pathlib import Path; from worker.video import run_ffmpeg; "
        "run_ffmpeg(['ffmpeg', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '600', "
        "'-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-y', 'out.mp4'], Path(sys.argv[1]), 600)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT)
    try:
        encoding = wait_until(lambda: ffmpeg_children(parent.pid), "ffmpeg to start", timeout_s=30)
    finally:
        parent.kill()
        parent.wait(10)
    wait_until(lambda: all(is_dead(pid) for pid in encoding), "ffmpeg to die with its parent", timeout_s=10)
