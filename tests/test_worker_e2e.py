"""End to end: the web app takes an upload, a real Celery worker process makes its renditions.

Nothing runs eagerly: the web side commits and sends the task to the SQLite broker, a
``celery worker`` subprocess picks it up, reads the original from S3 (moto over HTTP),
writes the renditions back and moves the entry to pending_review in the real database
(SQLite file or PostgreSQL).
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest import create_app
from contest.auth.models import User
from contest.contests.demo import build_demo_contest
from contest.entries.models import AssetKind, Entry, EntryStatus
from contest.processing.models import JobState, ProcessingJob
from contest.storage import private_copy_key
from tests.support import (
    CeleryWorker,
    create_user,
    login_id,
    make_test_config,
    migrate,
    new_database,
    s3_config,
    wallpaper,
)

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret-" + "x" * 32
TIMEOUT_S = 60


@dataclass
class Stack:
    app: Flask
    tmp: Path
    env: dict
    bucket: str
    endpoint: str
    workers: list[CeleryWorker] = field(default_factory=list)

    def session(self) -> Session:
        return Session(self.app.extensions["db"].engine, expire_on_commit=False)

    def start_worker(self, name: str, *, beat: bool = False, **env) -> CeleryWorker:
        worker = CeleryWorker(name, self.tmp, {**self.env, **{k: str(v) for k, v in env.items()}}, beat)
        self.workers.append(worker)
        worker.wait_ready()
        return worker

    def object_keys(self) -> list[str]:
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        listing = client.list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture(params=["sqlite", "postgresql"])
def stack(request, tmp_path, s3_endpoint):
    databases = new_database(request.param, tmp_path)
    url = next(databases)
    migrate(url)
    bucket = f"e2e-{uuid.uuid4().hex[:10]}"
    s3 = s3_config(s3_endpoint, bucket)
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    app = create_app(
        make_test_config(
            tmp_path / "web", url, SECRET_KEY=SECRET, JOB_DISPATCH="celery", BROKER_URL=broker, **s3
        )
    )
    app.extensions["storage"].ensure_bucket()
    env = {
        **os.environ,
        **{k: v for k, v in s3.items() if v is not None},
        "CONTEST_INSTANCE": str(tmp_path / "worker"),
        "DATABASE_URL": url,
        "BROKER_URL": broker,
        "SECRET_KEY": SECRET,
        "JOB_DISPATCH": "celery",
        "PYTHONUNBUFFERED": "1",
    }
    stack = Stack(app, tmp_path, env, bucket, s3_endpoint)
    try:
        yield stack
    finally:
        for worker in stack.workers:
            worker.stop()
            # Shown by pytest when the test failed (captured output of the teardown).
            print(f"----- log of worker {worker.name} -----\n{worker.text()}")
        app.extensions["celery_client"].close()
        app.extensions["db"].dispose()
        next(databases, None)


def entrant_and_contest(stack: Stack) -> tuple[User, int, int]:
    with stack.session() as session:
        contest, _ = build_demo_contest(session)
        session.commit()
        user = create_user(session, "e2e-entrant@example.com")
        photo = next(c for c in contest.categories if c.slug == "photo")
        return user, photo.id, contest.places[0].id


def submit_photo(stack: Stack, photo: Path) -> int:
    """Log in and POST the entry form; returns the new entry's id."""
    user, category_id, place_id = entrant_and_contest(stack)
    client = stack.app.test_client()
    with client.session_transaction() as s:
        s["_user_id"], s["_fresh"] = login_id(stack.app, user), True
    with photo.open("rb") as f:
        response = client.post(
            "/entries/new",
            content_type="multipart/form-data",
            data={
                "category": str(category_id),
                "title": "Sóng biển Cửa Lò",
                "description": "Bình minh",
                "place": str(place_id),
                "taken_on": "2024-05-01",
                "photo": (f, "IMG_0001.JPG"),
                "accept_own_work": "y",
                "accept_promo_use": "y",
                "accept_not_awarded": "y",
            },
        )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with stack.session() as session:
        return session.scalars(select(Entry.id).where(Entry.author_id == user.id)).one()


@dataclass(frozen=True)
class Snapshot:
    """An entry and its job as read from the database at one instant."""

    status: EntryStatus
    failure_code: str | None
    job_state: JobState
    attempts: int
    last_error: str | None
    keys: dict[AssetKind, str]


def read_state(stack: Stack, entry_id: int) -> Snapshot:
    with stack.session() as session:
        entry = session.get(Entry, entry_id)
        job = session.scalars(select(ProcessingJob).where(ProcessingJob.entry_id == entry_id)).one()
        return Snapshot(
            entry.status,
            entry.failure_code,
            job.state,
            job.attempts,
            job.last_error,
            {a.kind: a.storage_key for a in entry.assets},
        )


def wait_for(stack: Stack, entry_id: int, condition, interval_s: float = 0.05) -> Snapshot:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition(state := read_state(stack, entry_id)):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out: {state}")
        time.sleep(interval_s)
    return state


def peak_rss(worker: CeleryWorker) -> str:
    found = re.findall(r"worker peak RSS (\d+) MB \((\d+) MB before\)", worker.text())
    return ", ".join(f"{after} MB (before the photo: {before} MB)" for after, before in found) or "?"


def renditions(entry: Snapshot) -> list[str]:
    return [
        key for kind, key in entry.keys.items() if kind not in (AssetKind.original, AssetKind.jury_original)
    ]


def assert_renditions_in_s3(stack: Stack, entry: Snapshot) -> None:
    photo_kinds = {AssetKind.original, AssetKind.display_jpeg, AssetKind.display_webp}
    assert set(entry.keys) == photo_kinds | {
        AssetKind.thumb_jpeg,
        AssetKind.thumb_webp,
        AssetKind.jury_original,
    }
    objects = stack.object_keys()
    # Awaiting review: the renditions are kept privately, none is at its public key yet.
    assert {entry.keys[AssetKind.original]} | {private_copy_key(k) for k in renditions(entry)} <= set(objects)
    assert sum(key.startswith("private/r/") for key in objects) >= 4
    assert not any(key.startswith("public/") for key in objects)
    assert entry.keys[AssetKind.original].startswith("originals/")
    assert (
        entry.keys[AssetKind.jury_original].startswith("jury/")
        and entry.keys[AssetKind.jury_original] in objects
    )


def test_upload_to_renditions_through_a_real_worker(stack):
    worker = stack.start_worker("w1")

    started = time.monotonic()
    entry_id = submit_photo(stack, wallpaper("Volna"))
    submitted = time.monotonic()
    state = wait_for(
        stack, entry_id, lambda s: s.status not in (EntryStatus.submitted, EntryStatus.processing)
    )
    done = time.monotonic()

    assert state.status is EntryStatus.pending_review, state
    assert (state.job_state, state.attempts) == (JobState.succeeded, 1)
    assert_renditions_in_s3(stack, state)
    assert len(stack.object_keys()) == 6  # the original, four renditions, the jury copy
    print(
        f"\nsubmit -> thumbnail: {done - started:.2f} s (request {submitted - started:.2f} s, "
        f"worker {done - submitted:.2f} s); worker peak RSS {peak_rss(worker)}"
    )


def test_a_job_whose_worker_was_killed_is_swept_and_completed(stack):
    doomed = stack.start_worker("doomed")
    entry_id = submit_photo(stack, wallpaper("Flow"))

    wait_for(stack, entry_id, lambda s: s.job_state is not JobState.queued, interval_s=0.005)
    doomed.kill()
    state = read_state(stack, entry_id)
    assert (state.job_state, state.status) == (JobState.running, EntryStatus.processing), (
        "the job finished before its worker could be killed"
    )

    # A second worker whose beat sweeps every second and takes 2 s without heartbeat as death.
    stack.start_worker("rescuer", beat=True, JOB_STALE_AFTER_S=2, JOB_SWEEP_INTERVAL_S=1)
    state = wait_for(stack, entry_id, lambda s: s.status is EntryStatus.pending_review)

    assert (state.job_state, state.attempts) == (JobState.succeeded, 2)
    assert_renditions_in_s3(stack, state)
