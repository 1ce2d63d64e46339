"""Nothing is lost when object storage or the broker is down: real processes, real refusals.

* Storage down while a real ``celery worker`` runs the photo job: its S3 endpoint is a
  loopback port where nothing listens (a real "connection refused"). The job goes to
  ``retrying``, the entry stays ``processing`` and the entrant reads "retrying", not a
  failure. Then an S3 server starts on that very port and the retry completes the job.
* Broker down at the moment of submission: the web application's broker is a closed
  loopback port. The upload is accepted at once, its job stays queued in the database;
  a worker whose beat sweeps every second (with a working broker) then finds the job and
  completes it.

Both run on SQLite and on PostgreSQL, with S3 over HTTP (moto).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contest import create_app
from contest.auth.models import User
from contest.contests.demo import build_demo_contest
from contest.db import now_utc
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

SECRET = "nothing-lost-" + "x" * 32
TIMEOUT_S = 90
EN = {"Accept-Language": "en"}
PHOTO_KINDS = {AssetKind.original, AssetKind.display_jpeg, AssetKind.display_webp}
PHOTO_KINDS |= {AssetKind.thumb_jpeg, AssetKind.thumb_webp, AssetKind.jury_original}


def closed_port() -> int:
    """A loopback port where nothing listens (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Stack:
    app: Flask
    tmp: Path
    env: dict
    endpoint: str
    bucket: str
    user: User | None = None
    workers: list[CeleryWorker] = field(default_factory=list)

    def session(self) -> Session:
        return Session(self.app.extensions["db"].engine, expire_on_commit=False)

    def start_worker(self, name: str, *, beat: bool = False, **env) -> CeleryWorker:
        worker = CeleryWorker(name, self.tmp, {**self.env, **{k: str(v) for k, v in env.items()}}, beat)
        self.workers.append(worker)
        worker.wait_ready()
        return worker

    def client(self):
        client = self.app.test_client()
        with client.session_transaction() as s:
            s["_user_id"], s["_fresh"], s["lang"] = login_id(self.app, self.user), True, "en"
        return client

    def object_keys(self) -> set[str]:
        s3 = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        return {item["Key"] for item in s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    databases = new_database(request.param, tmp_path)
    url = next(databases)
    migrate(url)
    yield url
    next(databases, None)


@pytest.fixture
def make_stack(database, tmp_path, s3_endpoint):
    """A web application (its broker chosen by the test) and the environment of its workers."""
    stacks: list[Stack] = []
    worker_broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"

    def make(web_broker: str = worker_broker) -> Stack:
        s3 = s3_config(s3_endpoint, f"lost-{uuid.uuid4().hex[:10]}")
        app = create_app(
            make_test_config(
                tmp_path / "web",
                database,
                SECRET_KEY=SECRET,
                JOB_DISPATCH="celery",
                BROKER_URL=web_broker,
                **s3,
            )
        )
        app.extensions["storage"].ensure_bucket()
        env = {
            **os.environ,
            **{k: v for k, v in s3.items() if v is not None},
            "CONTEST_INSTANCE": str(tmp_path / "worker"),
            "DATABASE_URL": database,
            "BROKER_URL": worker_broker,
            "SECRET_KEY": SECRET,
            "JOB_DISPATCH": "celery",
            "PYTHONUNBUFFERED": "1",
        }
        stack = Stack(app, tmp_path, env, s3_endpoint, s3["S3_BUCKET"])
        with stack.session() as session:
            build_demo_contest(session)
            session.commit()
            stack.user = create_user(session, "steadfast@example.com")
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        for worker in stack.workers:
            worker.stop()
            print(f"----- log of worker {worker.name} -----\n{worker.text()}")
        stack.app.extensions["celery_client"].close()
        stack.app.extensions["db"].dispose()


def submit_photo(stack: Stack) -> tuple[int, float]:
    """POST the real entry form with a real photo; (entry id, seconds the request took)."""
    with stack.session() as session:
        contest, _ = build_demo_contest(session)
        category = next(c for c in contest.categories if c.slug == "photo")
        form = {
            "category": str(category.id),
            "title": "Hoàng hôn Cửa Lò",
            "description": "",
            "place": str(contest.places[0].id),
            "taken_on": "2024-05-01",
            "accept_own_work": "y",
            "accept_promo_use": "y",
            "accept_not_awarded": "y",
        }
    started = time.monotonic()
    with wallpaper("SafeLanding").open("rb") as photo:
        response = stack.client().post(
            "/entries/new",
            data={**form, "photo": (photo, "IMG_2024.JPG")},
            content_type="multipart/form-data",
        )
    took = time.monotonic() - started
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert "/entries/mine?sent=" in response.headers["Location"]
    with stack.session() as session:
        return session.scalars(select(Entry.id).where(Entry.author_id == stack.user.id)).one(), took


@dataclass(frozen=True)
class Snapshot:
    code: str
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
        keys = {a.kind: a.storage_key for a in entry.assets}
        return Snapshot(
            entry.code, entry.status, entry.failure_code, job.state, job.attempts, job.last_error, keys
        )


def wait_for(stack: Stack, entry_id: int, condition, what: str) -> Snapshot:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition(state := read_state(stack, entry_id)):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}: {state}")
        time.sleep(0.1)
    return state


def assert_processed(stack: Stack, state: Snapshot, attempts: int) -> None:
    assert (state.status, state.failure_code) == (EntryStatus.pending_review, None), state
    assert (state.job_state, state.attempts) == (JobState.succeeded, attempts), state
    assert set(state.keys) == PHOTO_KINDS
    # Awaiting review: the renditions are kept privately, none is at its public key yet.
    # The original and the jury copy at their (private) keys, the renditions at their private copies.
    kept = {private_copy_key(key) if key.startswith("public/") else key for key in state.keys.values()}
    assert kept <= stack.object_keys()
    assert not any(key.startswith("public/") for key in stack.object_keys())


def test_storage_outage_while_the_worker_runs_the_job_retries_then_completes(make_stack):
    from moto.server import ThreadedMotoServer

    stack = make_stack()
    port = closed_port()
    stack.start_worker("cut-off", S3_ENDPOINT_URL=f"http://127.0.0.1:{port}")

    entry_id, _ = submit_photo(stack)
    state = wait_for(stack, entry_id, lambda s: s.job_state is JobState.retrying, "the job to retry")

    # The entrant is told it is retrying; nothing failed.
    assert (state.status, state.failure_code, state.attempts) == (EntryStatus.processing, None, 1)
    assert "StorageUnavailable" in state.last_error and "127.0.0.1" in state.last_error
    client = stack.client()
    assert client.get(f"/entries/{state.code}/status.json").get_json() == {
        "code": state.code,
        "status": "processing",
        "job_state": "retrying",
        "thumb_url": None,
    }
    page = client.get("/entries/mine", headers=EN).get_data(as_text=True)
    assert "Retrying: processing was interrupted by a temporary problem" in page
    assert "File refused" not in page

    # The storage comes back on the endpoint the worker knows (same objects: moto's state
    # is shared by its servers in this process); the backoff's retry finishes the job.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        state = wait_for(stack, entry_id, lambda s: s.job_state is not JobState.retrying, "the retry")
        state = wait_for(stack, entry_id, lambda s: s.status is not EntryStatus.processing, "the job")
    finally:
        server.stop()

    assert_processed(stack, state, attempts=2)
    assert client.get(f"/entries/{state.code}/status.json").get_json()["job_state"] == "succeeded"


def test_broker_down_at_submission_keeps_the_entry_and_the_sweep_processes_it(make_stack, caplog):
    stack = make_stack(web_broker=f"redis://127.0.0.1:{closed_port()}/0")

    with caplog.at_level(logging.WARNING, logger="contest.processing.dispatch"):
        entry_id, took = submit_photo(stack)

    # Accepted at once; the job waits in the database, the original in storage.
    assert took < 5, f"the upload request took {took:.1f} s with the broker down"
    state = read_state(stack, entry_id)
    assert (state.status, state.job_state, state.attempts) == (EntryStatus.submitted, JobState.queued, 0)
    assert state.keys[AssetKind.original] in stack.object_keys()
    assert any("could not send worker.process_media" in r.getMessage() for r in caplog.records)
    print(f"\nupload request with the broker down: {took:.2f} s")

    # The broker stayed down for two minutes (the sweep resends jobs left queued for one).
    with stack.session() as session:
        session.execute(
            update(ProcessingJob)
            .where(ProcessingJob.entry_id == entry_id)
            .values(updated_at=now_utc() - timedelta(minutes=2))
        )
        session.commit()

    stack.start_worker("after-outage", beat=True, JOB_SWEEP_INTERVAL_S=1)
    state = wait_for(stack, entry_id, lambda s: s.status is EntryStatus.pending_review, "the sweep")

    assert_processed(stack, state, attempts=1)
    assert "sweep: sent jobs" in stack.workers[0].text()
