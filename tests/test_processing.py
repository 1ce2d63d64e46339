"""The job lifecycle on real databases: claim, retry backoff, the sweep of lost jobs, mail delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contest.db import now_utc
from contest.entries.models import EntryStatus
from contest.mail.models import OutboundEmail
from contest.processing import services
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.storage import new_key
from tests.support import create_entry_with_original, create_user
from worker.tasks import deliver_mail

STALE_S = 600


@pytest.fixture
def entry(db, contest):
    author = create_user(db, "sweep@example.com")
    entry = create_entry_with_original(
        db,
        contest,
        author,
        storage_key=new_key("originals/t", ".jpg"),
        size=4_000_000,
        title="Cửa Lò at dawn",
    )
    db.commit()
    return entry


@pytest.fixture
def make_job(db, entry):
    now = now_utc()

    def make(
        state: JobState,
        *,
        touched_ago_s: int = 0,
        heartbeat_ago_s: int | None = None,
        run_after_in_s: int | None = None,
    ) -> ProcessingJob:
        touched = now - timedelta(seconds=touched_ago_s)
        job = ProcessingJob(
            entry_id=entry.id,
            kind=JobKind.photo,
            state=state,
            created_at=touched,
            updated_at=touched,
            attempts=0 if state is JobState.queued else 1,
            heartbeat_at=None if heartbeat_ago_s is None else now - timedelta(seconds=heartbeat_ago_s),
            run_after=None if run_after_in_s is None else now + timedelta(seconds=run_after_in_s),
        )
        db.add(job)
        db.commit()
        return job

    make.now = now
    return make


def test_sweep_resends_forgotten_and_orphaned_jobs_only(db, make_job):
    resent = {
        "old queued": make_job(JobState.queued, touched_ago_s=120),
        "running, stale heartbeat": make_job(
            JobState.running, touched_ago_s=STALE_S + 60, heartbeat_ago_s=STALE_S + 60
        ),
        "retrying, due": make_job(JobState.retrying, touched_ago_s=120, run_after_in_s=-5),
    }
    left = {
        "fresh queued": make_job(JobState.queued, touched_ago_s=10),
        "running, fresh heartbeat": make_job(
            JobState.running, touched_ago_s=STALE_S + 60, heartbeat_ago_s=30
        ),
        "retrying, before run_after": make_job(JobState.retrying, touched_ago_s=120, run_after_in_s=60),
        "succeeded": make_job(JobState.succeeded, touched_ago_s=3600),
        "failed": make_job(JobState.failed, touched_ago_s=3600),
    }

    found = set(services.sweep_candidates(db, make_job.now, STALE_S))

    assert found == {job.id for job in resent.values()}
    assert not found & {job.id for job in left.values()}


def test_resent_jobs_wait_a_minute_before_the_next_sweep(db, make_job, app_ctx):
    old = make_job(JobState.queued, touched_ago_s=120)
    orphan = make_job(JobState.running, touched_ago_s=STALE_S + 60, heartbeat_ago_s=STALE_S + 60)

    job_ids, _ = services.sweep(db, make_job.now, STALE_S)
    db.commit()

    assert job_ids == [old.id, orphan.id]
    db.expire_all()
    assert orphan.state is JobState.queued  # its worker died: back to the queue
    assert services.sweep_candidates(db, make_job.now + timedelta(seconds=30), STALE_S) == []
    later = make_job.now + timedelta(seconds=90)
    assert services.sweep_candidates(db, later, STALE_S) == [old.id, orphan.id]


def test_claim_refuses_a_job_held_with_a_fresh_heartbeat(db, make_job):
    held = make_job(JobState.running, touched_ago_s=60, heartbeat_ago_s=30)

    assert services.claim_job(db, held.id, stale_after_s=STALE_S) is None
    db.rollback()
    db.expire_all()
    assert held.state is JobState.running
    assert held.attempts == 1


def test_claim_takes_over_a_job_whose_worker_died(db, make_job, entry):
    orphan = make_job(JobState.running, touched_ago_s=STALE_S + 60, heartbeat_ago_s=STALE_S + 60)

    job = services.claim_job(db, orphan.id, stale_after_s=STALE_S)
    db.commit()

    assert job is orphan
    assert job.attempts == 2
    assert job.heartbeat_at > make_job.now - timedelta(seconds=5)


def test_claim_starts_a_queued_job_and_the_entry_processing(db, make_job, entry):
    queued = make_job(JobState.queued)

    job = services.claim_job(db, queued.id)
    db.commit()

    assert job.state is JobState.running
    assert job.attempts == 1
    assert job.started_at is not None
    assert entry.status is EntryStatus.processing


@pytest.mark.parametrize("state", [JobState.succeeded, JobState.failed])
def test_claim_refuses_a_finished_job(db, make_job, state):
    done = make_job(state, touched_ago_s=10)
    assert services.claim_job(db, done.id) is None
    assert services.claim_job(db, 987_654) is None


def test_retry_backoff_doubles_up_to_ten_minutes(db, make_job, entry):
    assert [services.retry_delay_s(n) for n in range(1, 9)] == [15, 30, 60, 120, 240, 480, 600, 600]
    job = services.claim_job(db, make_job(JobState.queued).id)
    job.attempts = 3
    now = now_utc()

    delay = services.schedule_retry(db, job, "StorageUnavailable: connection refused", now=now)
    db.commit()

    assert delay == 60
    assert job.state is JobState.retrying
    assert job.run_after == now + timedelta(seconds=60)
    assert entry.status is EntryStatus.processing  # the entrant sees "retrying", not a failure


def test_complete_and_fail_move_the_entry(db, make_job, entry, app_ctx):  # the entrant is e-mailed
    job = services.claim_job(db, make_job(JobState.queued).id)
    services.complete(db, job)
    db.commit()
    assert (job.state, entry.status) == (JobState.succeeded, EntryStatus.pending_review)
    assert job.finished_at is not None

    entry.transition(EntryStatus.withdrawn)
    other = services.claim_job(db, make_job(JobState.queued).id)
    services.fail(db, other, "damaged_file")
    db.commit()
    assert other.state is JobState.failed
    assert entry.status is EntryStatus.withdrawn  # a withdrawn entry is never touched again


def test_fail_records_the_reason_for_the_entrant(db, make_job, entry, app_ctx):  # the entrant is e-mailed
    job = services.claim_job(db, make_job(JobState.queued).id)
    services.fail(db, job, "too_small_pixels", width=2560, height=1600, min=3000)
    db.commit()
    db.expire_all()
    assert entry.status is EntryStatus.failed
    assert entry.failure_code == "too_small_pixels"
    assert entry.failure_params == {"width": 2560, "height": 1600, "min": 3000}
    assert job.last_error == "too_small_pixels"


def test_sweep_command_reports_what_it_sent(app, db, make_job):
    make_job(JobState.queued, touched_ago_s=120)
    make_job(JobState.queued, touched_ago_s=5)

    result = app.test_cli_runner().invoke(args=["contest", "sweep-jobs"])

    assert result.exit_code == 0, result.output
    assert "jobs sent again: 1;" in result.output
    assert "JOB_DISPATCH=off" in result.output


def test_sweep_resends_e_mails_left_unsent(db, app_ctx):
    now = now_utc()
    forgotten = OutboundEmail(
        recipient="a@example.com", subject="s", body_text="b", created_at=now - timedelta(minutes=5)
    )
    recent = OutboundEmail(
        recipient="b@example.com", subject="s", body_text="b", created_at=now - timedelta(seconds=30)
    )
    db.add_all([forgotten, recent])
    db.commit()

    _, email_ids = services.sweep(db, now, STALE_S)

    assert email_ids == [forgotten.id]


def test_deliver_mail_task_records_a_refused_smtp_server_and_retries(app, db, monkeypatch):
    email = OutboundEmail(recipient="entrant@example.com", subject="Xin chào", body_text="Chào bạn")
    db.add(email)
    db.commit()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", 1)  # a real closed port

    with app.app_context(), pytest.raises(ConnectionRefusedError):
        deliver_mail(email.id)  # called directly, Celery's retry re-raises the cause

    db.expire_all()
    assert (email.sent_at, email.attempts) == (None, 1)
    assert "ConnectionRefusedError" in email.last_error

    monkeypatch.setitem(app.config, "MAIL_SERVER", "")  # the embedded default: written to the log
    with app.app_context():
        deliver_mail(email.id)
    db.expire_all()
    assert email.sent_at is not None
