"""Operations (contest.ops): /readyz, /metrics, request ids in the logs, production's mail check."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from contest import create_app
from contest.config import ROOT, ConfigError, load_settings
from contest.db import now_utc
from contest.extensions import db as db_ext
from contest.ops import logs
from contest.ops.tasks import header_of
from contest.processing.models import JobKind, JobState, ProcessingJob
from tests.support import (
    create_user,
    log_in,
    make_entry,
    make_test_config,
    migrate,
    s3_config,
    start_moto_server,
)

JSON = {"Accept": "application/json"}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sqlite_app(tmp_path, **overrides):
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}", **overrides)
    migrate(config["DATABASE_URL"])
    return create_app(config)


# --- /readyz ------------------------------------------------------------------------------------
def test_readyz_is_ready_when_everything_answers(client):
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {
        "ok": True,
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
        "failed": [],
    }


def test_readyz_names_an_unreachable_database(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/contest"
    app = create_app(make_test_config(tmp_path, url))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["ok"] is False and body["failed"] == ["database"]
    assert body["checks"]["database"] == "OperationalError"


def test_readyz_answers_in_time_when_the_database_never_answers(tmp_path):
    """A server that takes the connection and says nothing (a black-holed host): /readyz gives
    up after READYZ_TIMEOUT_S and says "timeout"; the next request does not pile up another try."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/contest"
        app = create_app(make_test_config(tmp_path, url, READYZ_TIMEOUT_S=0.5))
        client = app.test_client()
        for _ in range(2):
            answer = client.get("/readyz")
            assert answer.status_code == 503
            assert answer.get_json()["checks"] == {"database": "timeout", "broker": "ok", "storage": "ok"}


def test_readyz_names_an_unreachable_broker(tmp_path):
    app = sqlite_app(tmp_path, BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0")
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["failed"] == ["broker"]


def test_readyz_names_a_stopped_s3_endpoint(tmp_path):
    server, endpoint = start_moto_server()
    try:
        app = sqlite_app(tmp_path, **s3_config(endpoint, "readyz"))
        app.extensions["storage"].ensure_bucket()
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
    finally:
        server.stop()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["failed"] == ["storage"]


def test_readyz_names_a_local_storage_it_cannot_write(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    app = sqlite_app(tmp_path, STORAGE_LOCAL_ROOT=str(blocked / "media"))
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503 and answer.get_json()["failed"] == ["storage"]


# --- request ids --------------------------------------------------------------------------------
def test_a_request_id_is_kept_or_made_and_returned(client):
    assert client.get("/healthz", headers={"X-Request-Id": "lb-1234abcd"}).headers["X-Request-Id"] == (
        "lb-1234abcd"
    )
    made = client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"}).headers["X-Request-Id"]
    assert len(made) == 32 and made != client.get("/healthz").headers["X-Request-Id"]
    assert client.get("/no-such-page").headers["X-Request-Id"]  # errors carry one too


@pytest.fixture
def json_lines():
    """Every log line of the test, formatted as production writes it (JSON, with the request id)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logs.dress(handler, "json")
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_the_request_id_goes_with_the_job_into_its_log_lines(tmp_path, json_lines):
    """A web request sends a job through a real broker; the job, run from that message with its
    headers, logs with the request's id."""
    from kombu import Connection

    from worker.tasks import deliver_mail

    app = sqlite_app(tmp_path, JOB_DISPATCH="celery")
    with app.app_context():
        create_user(db_ext.session, "entrant@example.com")
        db_ext.session.commit()
    answer = app.test_client().post(
        "/account/forgot-password",
        data={"email": "entrant@example.com"},
        headers={"X-Request-Id": "req-reset-0001"},
    )
    assert answer.status_code == 302 and answer.headers["X-Request-Id"] == "req-reset-0001"
    with Connection(app.config["BROKER_URL"]) as connection:
        message = connection.SimpleQueue("celery").get(timeout=10)
        message.ack()
    assert message.headers["task"] == "worker.deliver_mail"
    assert message.headers["request_id"] == "req-reset-0001"
    args = message.decode()[0]
    with app.app_context():
        deliver_mail.apply(args=args, headers=message.headers)
    mail_lines = [line for line in json_lines() if "no MAIL_SERVER set" in line["message"]]
    assert mail_lines and {line["request_id"] for line in mail_lines} == {"req-reset-0001"}
    assert mail_lines[0]["logger"] == "contest.mail"


def test_a_worker_reads_the_request_id_from_the_messages_headers():
    """A worker's task request carries a message's headers as attributes; an eager one under ``headers``."""
    from celery.app.task import Context

    assert header_of(Context(request_id="req-abcdef12")) == "req-abcdef12"
    assert header_of(Context(headers={"request_id": "req-abcdef12"})) == "req-abcdef12"
    assert header_of(Context(headers={"request_id": "not ok\n"})) is None
    assert header_of(Context()) is None


# --- /metrics -----------------------------------------------------------------------------------
def scrape(client, **headers) -> dict:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.status_code
    samples = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_and_votes(client, db, contest):
    entry = make_entry(db, contest, create_user(db, "author@example.com"))
    voter = create_user(db, "voter@example.com")
    log_in(client, voter)
    vote_route = {"route": "/e/<code>/vote", "method": "POST", "status": "200"}
    before = scrape(client)
    assert client.post(f"/e/{entry.code}/vote", headers=JSON).get_json()["ok"] is True
    assert client.post(f"/e/{entry.code}/vote", headers=JSON).status_code == 409  # the second: refused
    after = scrape(client)
    counted = ("contest_votes_total", {"outcome": "counted"})
    refused = ("contest_votes_total", {"outcome": "refused"})
    assert value(after, counted[0], **counted[1]) - value(before, counted[0], **counted[1]) == 1
    assert value(after, refused[0], **refused[1]) - value(before, refused[0], **refused[1]) == 1
    requests = "contest_http_requests_total"
    assert value(after, requests, **vote_route) - value(before, requests, **vote_route) == 1
    scrapes = {"route": "/metrics", "method": "GET", "status": "200"}
    assert value(after, requests, **scrapes) - value(before, requests, **scrapes) == 1


def test_metrics_tell_the_jobs_by_kind_and_state_the_queue_and_durations(client, db, contest):
    author = create_user(db, "author@example.com")
    now = now_utc()
    jobs = [
        ProcessingJob(entry=make_entry(db, contest, author), kind=JobKind.photo, state=JobState.queued),
        ProcessingJob(entry=make_entry(db, contest, author), kind=JobKind.photo, state=JobState.retrying),
        ProcessingJob(
            entry=make_entry(db, contest, author),
            kind=JobKind.video,
            state=JobState.succeeded,
            started_at=now - timedelta(seconds=20),
            finished_at=now,
        ),
    ]
    db.add_all(jobs)
    db.flush()
    samples = scrape(client)
    assert value(samples, "contest_jobs", kind="photo", state="queued") == 1
    assert value(samples, "contest_jobs", kind="photo", state="retrying") == 1
    assert value(samples, "contest_jobs", kind="video", state="succeeded") == 1
    assert value(samples, "contest_jobs_waiting", kind="photo") == 2
    assert value(samples, "contest_job_duration_seconds_count", kind="video") == 1
    assert value(samples, "contest_job_duration_seconds_bucket", kind="video", le="15.0") == 0
    assert value(samples, "contest_job_duration_seconds_bucket", kind="video", le="30.0") == 1
    assert 19 < value(samples, "contest_job_duration_seconds_sum", kind="video") < 21


def test_metrics_answer_only_allowed_addresses_or_the_token(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOW_IPS", ("10.0.0.0/8",))
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-secret-123")
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


# --- access matrix --------------------------------------------------------------------------------
# route -> status for (anonymous, entrant, judge, organizer), from loopback and from elsewhere:
# health and readiness are anyone's; metrics depend on the address (or token), never on the role.
ROUTES = {
    "/healthz": ((200,) * 4, (200,) * 4),
    "/readyz": ((200,) * 4, (200,) * 4),
    "/metrics": ((200,) * 4, (403,) * 4),
}
ROLES = ("anonymous", "entrant", "judge", "organizer")


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(request, client, db, route, role):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    here, elsewhere = ROUTES[route]
    assert client.get(route).status_code == here[ROLES.index(role)]
    far = client.get(route, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert far.status_code == elsewhere[ROLES.index(role)]


# --- production's mail ----------------------------------------------------------------------------
PRODUCTION = {
    "CONTEST_ENV": "production",
    "SECRET_KEY": "p" * 40,
    "DATABASE_URL": "postgresql+psycopg://contest@db.invalid/contest",
    "RATELIMIT_STORAGE_URI": "redis://redis.invalid:6379/1",
}


def test_production_refuses_to_start_without_a_mail_server(tmp_path):
    with pytest.raises(ConfigError, match="MAIL_SERVER") as refused:
        create_app(load_settings({**PRODUCTION, "CONTEST_INSTANCE": str(tmp_path)}))
    assert "MAIL_TRANSPORT=log" in str(refused.value)


def test_production_starts_with_mail_written_to_the_log_when_told_so(tmp_path):
    app = create_app(
        load_settings({**PRODUCTION, "CONTEST_INSTANCE": str(tmp_path), "MAIL_TRANSPORT": "log"})
    )
    assert app.config["MAIL_TRANSPORT"] == "log" and app.config["LOG_FORMAT"] == "json"
    with pytest.raises(ConfigError, match="MAIL_TRANSPORT"):
        load_settings_checked = load_settings({**PRODUCTION, "MAIL_TRANSPORT": "pigeon"})
        create_app(load_settings_checked)


def test_beat_keeps_its_schedule_in_the_state_folder(tmp_path):
    from contest.config import celery_settings

    settings = load_settings({"CONTEST_INSTANCE": str(tmp_path / "state")})
    assert celery_settings(settings)["beat_schedule_filename"] == str(
        tmp_path / "state" / "celerybeat-schedule"
    )


@pytest.mark.e2e
def test_a_worker_started_without_a_level_logs_json_with_the_requests_id(tmp_path):
    """A real ``celery worker`` (no --loglevel, LOG_FORMAT=json) runs the job a web request sent:
    it logs at INFO, one JSON object a line, and the job's lines carry the request's id."""
    app = sqlite_app(tmp_path, JOB_DISPATCH="celery")
    with app.app_context():
        create_user(db_ext.session, "entrant@example.com")
        db_ext.session.commit()
    answer = app.test_client().post(
        "/account/forgot-password",
        data={"email": "entrant@example.com"},
        headers={"X-Request-Id": "req-worker-0002"},
    )
    assert answer.status_code == 302
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTEST_", "FLASK_", "LOG_"))}
    env.update(
        CONTEST_ENV="testing",
        CONTEST_INSTANCE=str(tmp_path),
        DATABASE_URL=app.config["DATABASE_URL"],
        BROKER_URL=app.config["BROKER_URL"],
        STORAGE_LOCAL_ROOT=str(tmp_path / "media"),
        LOG_FORMAT="json",
    )
    log_path = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "worker.celery_app", "worker", "--pool=solo"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip", "-n", "ops@%h"]
    with log_path.open("wb") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            lines = _json_lines_until(log_path, worker, lambda line: "no MAIL_SERVER set" in line["message"])
        finally:
            worker.terminate()
            worker.wait(30)
    assert any(line["message"].endswith(" ready.") and line["level"] == "INFO" for line in lines)
    job_lines = [line for line in lines if line["request_id"] == "req-worker-0002"]
    assert {line["logger"] for line in job_lines} >= {"contest.mail", "celery.app.trace"}


def _json_lines_until(path, process, done, timeout_s: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while True:
        text = path.read_text(errors="replace")
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        if any(done(line) for line in lines):
            return lines
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the worker did not run the job:\n{text}")
        time.sleep(0.2)


@pytest.mark.e2e
def test_beat_started_without_options_logs_json_and_keeps_its_schedule_in_the_state_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTEST_", "FLASK_", "LOG_"))}
    env.update(
        CONTEST_ENV="testing",
        CONTEST_INSTANCE=str(tmp_path / "state"),
        BROKER_URL=f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
        LOG_FORMAT="json",
    )
    before = set(ROOT.glob("celerybeat-schedule*"))
    log_path = tmp_path / "beat.log"
    with log_path.open("wb") as log:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker.celery_app", "beat"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            lines = _json_lines_until(log_path, beat, lambda line: "Starting" in line["message"])
        finally:
            beat.terminate()  # it writes its schedule out as it stops, if not before
            beat.wait(30)
    assert list((tmp_path / "state").glob("celerybeat-schedule*")), "no schedule in the state folder"
    assert any(line["logger"] == "celery.beat" and line["level"] == "INFO" for line in lines)
    assert set(ROOT.glob("celerybeat-schedule*")) == before  # nothing written into the checkout
