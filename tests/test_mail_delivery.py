"""Issue 18 §5: every e-mail, caused where its event happens, delivered by the worker's task
to a real SMTP server on loopback (aiosmtpd) and read there, in each user's language."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from contest.auth.models import Role
from contest.contests.models import CategoryKind
from contest.db import now_utc
from contest.entries.mails import tell_processed
from contest.entries.models import Entry, EntryStatus
from contest.entries.moderation import DecisionRefused, Reason, approve, reject, reopen
from contest.jury.mails import tell_rounds
from contest.jury.rounds import open_round
from contest.mail.models import OutboundEmail
from contest.processing import services as jobs
from contest.processing.models import JobKind, ProcessingJob
from contest.results.mails import tell_results_published
from contest.results.prizes import Publication, PublicationState
from tests.jury_support import build_jury, loads, new_round
from tests.support import category, create_user, log_in, make_entry, post_entry, wallpaper
from worker.tasks import deliver_mail

LANGUAGES = ["vi", "en"]
REASON = Reason("Ảnh không chụp tại Nghệ An", "The photo was not taken in Nghe An")


# --- a real SMTP server on 127.0.0.1 ------------------------------------------------------
class Mailbox:
    """aiosmtpd's handler: keeps each message received; refuses the next ``refusals`` ones."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refusals = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refusals:
            self.refusals -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 2.0.0 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": controller.port, "MAIL_USE_TLS": False}
    for key, value in {**settings, "MAIL_USERNAME": "", "MAIL_PASSWORD": ""}.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        yield mailbox
    finally:
        controller.stop()


def deliver_outbox(app) -> list[int]:
    """What the worker does with each unsent message (Celery runs the task's retries in turn)."""
    from contest.extensions import db as ext_db

    with app.app_context():
        ids = ext_db.session.scalars(
            select(OutboundEmail.id).where(OutboundEmail.sent_at.is_(None)).order_by(OutboundEmail.id)
        ).all()
        for email_id in ids:
            assert deliver_mail.apply(args=[email_id]).successful()
    return list(ids)


def body(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def outbox_count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count(OutboundEmail.id)))


def run_job(app, entry_id: int, failure: str | None = None) -> int:
    """A processing job of the entry, claimed and ended as the worker ends it; its id."""
    from contest.extensions import db as ext_db

    with app.app_context():
        session = ext_db.session
        job = session.scalars(select(ProcessingJob).where(ProcessingJob.entry_id == entry_id)).first()
        if job is None:
            job = jobs.create_job(session, session.get(Entry, entry_id), JobKind.photo)
        job = jobs.claim_job(session, job.id)
        if failure:
            jobs.fail(session, job, failure)
        else:
            jobs.complete(session, job)
        session.commit()
        return job.id


# --- the entrant: received, ready, failed, approved, rejected ----------------------------------
SUBJECTS = {
    "vi": {
        "received": "Chúng tôi đã nhận tác phẩm {} của bạn",
        "ready": "Tác phẩm {} của bạn đã sẵn sàng và đang chờ duyệt",
        "approved": "Tác phẩm {} của bạn đã được chấp nhận và có trong thư viện",
        "failed": "Chúng tôi không xử lý được tác phẩm {} của bạn",
        "rejected": "Tác phẩm {} của bạn không được chấp nhận",
    },
    "en": {
        "received": "We received your entry {}",
        "ready": "Your entry {} is ready and waits for review",
        "approved": "Your entry {} is accepted and in the gallery",
        "failed": "We could not process your entry {}",
        "rejected": "Your entry {} was not accepted",
    },
}
BODIES = {
    "vi": {
        "hello": "Xin chào Trần Thị Mai,",
        "failed": "Lý do: Tệp bị hỏng hoặc không đầy đủ.",
        "rejected": "Lý do: Ảnh không chụp tại Nghệ An",
    },
    "en": {
        "hello": "Hello Trần Thị Mai,",
        "failed": "The reason: The file is damaged or incomplete.",
        "rejected": "The reason: The photo was not taken in Nghe An",
    },
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_entrant_receives_each_entry_email_in_their_language(
    app, db, client, contest, storage, smtp, lang
):
    entrant = create_user(db, "mai@example.com", full_name="Trần Thị Mai", locale=lang)
    organizer = create_user(db, "btc@example.com", role=Role.organizer, birth_year=None)
    log_in(client, entrant, lang="vi")  # the site in Vietnamese: the e-mails follow the account
    photo = category(contest, CategoryKind.photo)
    assert post_entry(client, contest, photo, wallpaper("Volna"), "photo").status_code == 302
    assert smtp.messages == []  # the request only wrote the message: the worker sends it
    entry = db.scalars(select(Entry).where(Entry.author_id == entrant.id)).one()
    run_job(app, entry.id)
    broken = make_entry(db, contest, entrant, status=EntryStatus.submitted)
    run_job(app, broken.id, failure="damaged_file")
    refused = make_entry(db, contest, entrant, status=EntryStatus.pending_review)
    with app.app_context():  # the moderation's request
        db.refresh(entry)
        approve(db, entry, organizer)
        reject(db, refused, organizer, REASON)
        db.commit()

    deliver_outbox(app)

    received = {m["Subject"]: m for m in smtp.to("mai@example.com")}
    words = SUBJECTS[lang]
    expected = [
        words["received"].format(entry.code),
        words["ready"].format(entry.code),
        words["approved"].format(entry.code),
        words["failed"].format(broken.code),
        words["rejected"].format(refused.code),
    ]
    assert sorted(received) == sorted(expected)
    assert all(body(m).startswith(BODIES[lang]["hello"] + "\n") for m in received.values())
    assert BODIES[lang]["failed"] in body(received[expected[3]])
    assert BODIES[lang]["rejected"] in body(received[expected[4]])
    assert f"/e/{entry.code}" in body(received[expected[2]])  # the public page, to share
    assert "/entries/mine" in body(received[expected[0]])


# --- judges: round opened, closing soon; entrants: results published --------------------------
def beat(app, days_later: int = 0) -> int:
    """The worker's beat (no request) at now + ``days_later``: the judges' notices."""
    from contest.extensions import db as ext_db

    with app.app_context():
        told = tell_rounds(ext_db.session, now_utc() + timedelta(days=days_later))
        ext_db.session.commit()
    return told


@pytest.mark.parametrize("lang", LANGUAGES)
def test_judges_hear_of_a_round_opening_and_closing_in_their_language(app, db, contest, smtp, lang):
    jury = build_jury(db, contest, judges=3, entries_each=2)
    for judge in jury.judges:
        judge.locale = lang
    round_ = new_round(db, jury, quorum=2)
    open_round(db, round_, actor_id=jury.organizer.id)
    db.commit()
    assert beat(app) == 3  # opened; it closes in 7 days: not soon yet
    deliver_outbox(app)
    assert beat(app, days_later=6) == 3  # closing within 48 hours, nothing judged
    deliver_outbox(app)

    opened = {"vi": "Vòng chấm đã mở: Vòng sơ khảo", "en": "A jury round is open: Preliminary round"}
    closing = {"vi": "Vòng chấm Vòng sơ khảo sắp đóng", "en": "The jury round Preliminary round closes soon"}
    for judge in jury.judges:
        subjects = [m["Subject"] for m in smtp.to(judge.email)]
        assert subjects == [opened[lang], closing[lang]]
    first, warning = (body(m) for m in smtp.to(jury.judges[0].email))
    held = loads(db, round_)[jury.judges[0].id]
    dealt = {"vi": f"bạn được giao {held} tác phẩm", "en": f"{held} entries are dealt to you"}
    judged = {"vi": f"Bạn đã chấm 0 trên {held} tác phẩm", "en": f"You have judged 0 of the {held} entries"}
    assert dealt[lang] in first and f"/jury/rounds/{round_.id}/" in first
    assert judged[lang] in warning


@pytest.mark.parametrize("lang", LANGUAGES)
def test_entrants_hear_that_the_results_are_published(app, db, contest, smtp, lang):
    author = create_user(db, "tac.gia@example.com", full_name="Lê Văn Hùng", locale=lang)
    make_entry(db, contest, author)
    make_entry(db, contest, author)  # two entries, one e-mail
    db.add(
        Publication(
            contest_id=contest.id,
            state=PublicationState.published,
            frozen_at=now_utc(),
            published_at=now_utc(),
        )
    )
    db.commit()
    from contest.extensions import db as ext_db

    with app.app_context():
        assert tell_results_published(ext_db.session, now_utc()) == 1
        assert tell_results_published(ext_db.session, now_utc()) == 0
        ext_db.session.commit()
    deliver_outbox(app)

    (message,) = smtp.to("tac.gia@example.com")
    expected = {
        "vi": "Kết quả Nghệ An Hạnh phúc 2025 đã được công bố",
        "en": "The results of Happy Nghe An 2025 are published",
    }
    assert message["Subject"] == expected[lang]
    assert "/results" in body(message)


# --- retries and the record ------------------------------------------------------------------
def test_a_refusing_server_is_retried_until_it_accepts_and_each_attempt_is_recorded(app, db, contest, smtp):
    entrant = create_user(db, "mai@example.com", full_name="Trần Thị Mai", locale="en")
    entry = make_entry(db, contest, entrant, status=EntryStatus.submitted)
    job_id = run_job(app, entry.id)
    smtp.refusals = 2  # "451 try again later" twice, then accepted

    (email_id,) = deliver_outbox(app)

    (message,) = smtp.messages
    assert message["Subject"] == f"Your entry {entry.code} is ready and waits for review"
    db.expire_all()
    row = db.get(OutboundEmail, email_id)
    assert (row.attempts, row.last_error) == (3, None) and row.sent_at is not None
    assert (row.recipient, row.kind, row.user_id, row.locale) == (
        "mai@example.com",
        "entry_ready",
        entrant.id,
        "en",
    )
    assert row.event_key == f"entry.ready:job:{job_id}"
    assert row.subject == message["Subject"] and row.body_text == body(message)


def test_a_server_still_refusing_leaves_the_message_unsent_with_its_error(app, db, contest, smtp):
    entrant = create_user(db, "mai@example.com", locale="vi")
    run_job(app, make_entry(db, contest, entrant, status=EntryStatus.submitted).id)
    smtp.refusals = 100
    from contest.extensions import db as ext_db

    with app.app_context():
        email_id = ext_db.session.scalar(select(OutboundEmail.id))
        result = deliver_mail.apply(args=[email_id])
    assert result.failed() and smtp.messages == []
    db.expire_all()
    row = db.get(OutboundEmail, email_id)
    assert row.sent_at is None and row.attempts >= app.config["JOB_MAX_ATTEMPTS"]
    assert "451" in row.last_error and "try again later" in row.last_error


# --- each event once ---------------------------------------------------------------------------
def test_each_event_is_told_once_however_often_it_is_noticed(app, db, contest, smtp, app_ctx):
    jury = build_jury(db, contest, judges=2, entries_each=1)
    entrant = jury.entrants[0]
    entry = make_entry(db, contest, entrant, status=EntryStatus.submitted)
    job_id = run_job(app, entry.id)
    round_ = new_round(db, jury, quorum=1)
    open_round(db, round_, actor_id=jury.organizer.id)
    db.commit()
    assert tell_rounds(db, now_utc() + timedelta(days=6)) == 4  # opened and closing, to 2 judges
    db.commit()
    before = outbox_count(db)

    tell_processed(db, db.get(Entry, entry.id), job_id)  # a job's end noticed again
    assert tell_rounds(db, now_utc() + timedelta(days=6)) == 0  # the next beat
    with pytest.raises(DecisionRefused):  # an approved entry cannot be approved again
        approve(db, make_entry(db, contest, entrant), jury.organizer)
    db.rollback()
    assert outbox_count(db) == before

    refused = make_entry(db, contest, entrant, status=EntryStatus.pending_review)
    reject(db, refused, jury.organizer, REASON)
    reopen(db, refused, jury.organizer)
    reject(db, refused, jury.organizer, REASON)  # a second decision: told again
    db.commit()
    kinds = db.scalars(
        select(OutboundEmail.kind).where(OutboundEmail.user_id == entrant.id).order_by(OutboundEmail.id)
    ).all()
    assert kinds == ["entry_ready", "entry_rejected", "entry_rejected"]
    assert len(deliver_outbox(app)) == outbox_count(db)
    assert deliver_outbox(app) == []  # delivered once
    assert len(smtp.messages) == outbox_count(db)


# --- the e-mails that existed before: their record names the kind, the user and the language ---
@pytest.mark.parametrize("lang", LANGUAGES)
def test_account_emails_are_recorded_and_arrive_in_the_users_language(app, db, smtp, lang):
    from contest.auth.services import send_judge_invitation, send_verification_email

    entrant = create_user(db, "mai@example.com", verified=False, locale=lang)
    judge = create_user(db, "giam.khao@example.com", role=Role.judge, birth_year=None, locale=lang)
    with app.test_request_context():
        send_verification_email(db, entrant)
        send_judge_invitation(db, judge)
        db.commit()
    deliver_outbox(app)

    rows = db.scalars(select(OutboundEmail).order_by(OutboundEmail.id)).all()
    assert [(r.kind, r.user_id, r.locale) for r in rows] == [
        ("verify_email", entrant.id, lang),
        ("judge_invitation", judge.id, lang),
    ]
    subjects = {
        "vi": [
            "Xác nhận địa chỉ email cho tài khoản Nghệ An Hạnh phúc",
            "Mời bạn tham gia Ban giám khảo cuộc thi Happy Nghe An",
        ],
        "en": [
            "Confirm your e-mail address for Happy Nghe An",
            "You are invited to the jury of Happy Nghe An",
        ],
    }
    assert [m["Subject"] for m in smtp.messages] == subjects[lang]
