"""The site's state as the journeys need it: the contest moved through its phases, the worker's
jobs run, entries approved or waiting, a jury round open. Each helper commits its own work."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, select

from contest.auth.models import Role, User
from contest.contests.models import CategoryKind, Contest
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.entries.reasons import RejectionReason
from contest.extensions import db
from contest.jury.members import add_judge
from contest.jury.models import RoundKind
from contest.jury.rounds import CriterionSpec, RoundSpec, create_round, open_round
from contest.processing.models import JobState, ProcessingJob
from contest.results.prizes import Award, PrizeKind, PrizeSlot, Publication, PublicationState
from tests.support import category, create_user, log_in, post_entry
from worker.tasks import run_media_job


def _contest():
    return db.session.scalar(select(Contest))


@contextmanager
def contest_in_phase(app, submissions, votes, results_in: int, *, published: bool):
    """The contest's dates moved to days from now (Vietnam time), its results published if asked;
    yields the next dates (submissions close, votes close, results); all put back afterwards."""
    now = now_utc() + timedelta(hours=1)
    fields = (
        "submission_opens_at",
        "submission_closes_at",
        "voting_opens_at",
        "voting_closes_at",
        "results_at",
    )
    moved = [now + timedelta(days=d) for d in (*submissions, *votes, results_in)]
    with app.app_context():
        contest = _contest()
        saved = [getattr(contest, name) for name in fields]
        for name, value in zip(fields, moved, strict=True):
            setattr(contest, name, value)
        if published:
            _publish(contest, now - timedelta(days=2))
        db.session.commit()
    try:
        yield moved[1], moved[3], moved[4]
    finally:
        with app.app_context():
            contest = _contest()
            for name, value in zip(fields, saved, strict=True):
                setattr(contest, name, value)
            db.session.execute(delete(Award))
            db.session.execute(delete(Publication))
            db.session.commit()


def _publish(contest, at) -> None:
    """The first jury prize of the photo category given to its first entry, and published."""
    slot = db.session.scalars(
        select(PrizeSlot).where(PrizeSlot.contest_id == contest.id, PrizeSlot.kind == PrizeKind.jury)
    ).first()
    entry = db.session.scalars(
        select(Entry).where(Entry.category_id == slot.category_id, Entry.status == EntryStatus.approved)
    ).first()
    organizer = db.session.scalar(select(User).where(User.role == Role.organizer))
    award = Award(slot_id=slot.id, kind=slot.kind, category_id=slot.category_id, place=1, entry_id=entry.id)
    award.assigned_by_id, award.reason = organizer.id, "The journeys' winner"
    db.session.add(award)
    state = PublicationState.published
    db.session.add(Publication(contest_id=contest.id, state=state, frozen_at=at, published_at=at))


def run_pending_jobs(app, rounds: int = 5) -> None:
    """What the worker does with the queued media jobs (the tests dispatch none), until none is
    left: a job may queue the next one (the upload's check, then the renditions)."""
    for _ in range(rounds):
        with app.app_context():
            pending = db.session.scalars(
                select(ProcessingJob.id)
                .where(ProcessingJob.state == JobState.queued)
                .order_by(ProcessingJob.id)
            ).all()
            db.session.rollback()
            for job_id in pending:
                run_media_job(job_id)
        if not pending:
            return


def approve(app, code: str) -> None:
    """The entry put in the gallery, as an organizer's approval does (the organizer's journey
    approves through the moderation page)."""
    with app.app_context():
        db.session.scalar(select(Entry).where(Entry.code == code)).transition(EntryStatus.approved)
        db.session.commit()


def pending_entry(app, title: str) -> str:
    """An entry waiting for review, with the files of an approved one."""
    with app.app_context():
        contest = _contest()
        model = db.session.scalar(
            select(Entry).where(Entry.status == EntryStatus.approved).order_by(Entry.id)
        )
        entry = Entry(
            code=contest.next_entry_code(db.session),
            contest_id=contest.id,
            category_id=model.category_id,
            author_id=model.author_id,
            place_id=model.place_id,
            title=title,
            taken_on=model.taken_on,
            status=EntryStatus.pending_review,
            submitted_at=now_utc(),
        )
        db.session.add(entry)
        db.session.commit()
        return entry.code


def entry_codes(app) -> dict[str, str]:
    """The code of the first approved entry of each category kind."""
    with app.app_context():
        entries = db.session.scalars(
            select(Entry).where(Entry.status == EntryStatus.approved).order_by(Entry.id)
        )
        return {entry.category.kind.value: entry.code for entry in reversed(entries.all())}


def open_jury_round(app, judge_email: str) -> int:
    """A score round of the photo category, open, with ``judge_email`` on the jury; its id."""
    with app.app_context():
        contest = _contest()
        judge = db.session.scalar(select(User).where(User.email == judge_email))
        organizer = db.session.scalar(select(User).where(User.role == Role.organizer))
        add_judge(db.session, contest.id, judge, actor_id=organizer.id)
        photo = next(c for c in contest.categories if c.kind is CategoryKind.photo)
        now = now_utc()
        spec = RoundSpec(
            name_vi="Vòng sơ khảo",
            name_en="Preliminary round",
            kind=RoundKind.score,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=7),
            categories=(photo,),
            quorum=1,
            criteria=(
                CriterionSpec("Nội dung", "Content", weight=1, scale_min=0, scale_max=10, scale_step=1),
            ),
        )
        round_ = create_round(db.session, contest, spec, actor_id=organizer.id)
        open_round(db.session, round_, actor_id=organizer.id, seed=7)
        db.session.commit()
        return round_.id


def verified_user(app, email: str, lang: str) -> None:
    with app.app_context():
        create_user(db.session, email, locale=lang)


def newest_entry_code(app) -> str:
    with app.app_context():
        return db.session.scalars(select(Entry.code).order_by(Entry.id.desc())).first()


def duplicate_pair(app, email: str, photos: list) -> list[str]:
    """Two photos sent by ``email`` through the entry form (the test client's), one a copy of the
    other saved again; the worker processes both and flags the pair. The codes, oldest first; a
    reason template for the organizer to pick."""
    with app.app_context():
        user = create_user(db.session, email, locale="vi")
        client = app.test_client()
        log_in(client, user)
        contest = _contest()
        for photo in photos:
            response = post_entry(client, contest, category(contest, CategoryKind.photo), photo, "photo")
            assert response.status_code == 302, response.text
        db.session.add(RejectionReason(text_vi="Trùng với tác phẩm khác.", text_en="Same as another entry."))
        db.session.commit()
        codes = db.session.scalars(
            select(Entry.code).where(Entry.author_id == user.id).order_by(Entry.id)
        ).all()
    run_pending_jobs(app)
    return list(codes)


def statuses(app, codes: list[str]) -> dict[str, EntryStatus]:
    with app.app_context():
        return dict(db.session.execute(select(Entry.code, Entry.status).where(Entry.code.in_(codes))).all())


def photo_category(app):
    """(id, smallest long side, largest size in bytes) of the contest's photo category."""
    with app.app_context():
        photo = category(_contest(), CategoryKind.photo)
        return photo.id, photo.min_long_edge_px, photo.max_bytes
