"""The figures' SQL: each one aggregated in the database (GROUP BY a Vietnam day, a country...).

Days are Vietnam's: a vote carries its day; an entry's or an account's instant is turned into
one by ``vn_day`` (Vietnam keeps UTC+7 all year).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Date, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from contest.auth.models import User
from contest.contests.models import Contest, Place
from contest.entries.models import Entry, EntryStatus
from contest.figures.models import PageVisit
from contest.processing.models import JobState, ProcessingJob
from contest.timeutil import VN_TZ
from contest.voting.models import Vote


class vn_day(FunctionElement):
    """The Vietnam calendar day of a UTC instant, computed by the database."""

    type = Date()
    name = "vn_day"
    inherit_cache = True


@compiles(vn_day, "postgresql")
def _vn_day_postgresql(element, compiler, **kw) -> str:
    return f"CAST(timezone('{VN_TZ.key}', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(vn_day, "sqlite")
def _vn_day_sqlite(element, compiler, **kw) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '+7 hours')"


def _received(contest_id: int):
    """Entries the contest received: submitted once, whatever became of them since."""
    return and_(Entry.contest_id == contest_id, Entry.submitted_at.is_not(None))


def entries_per_day(session: Session, contest_id: int) -> list[tuple[date, int, int]]:
    """(day, category id, entries) for each day an entry was submitted."""
    day = vn_day(Entry.submitted_at).label("day")
    stmt = (
        select(day, Entry.category_id, func.count())
        .where(_received(contest_id))
        .group_by(day, Entry.category_id)
        .order_by(day)
    )
    return [(_as_date(d), category_id, n) for d, category_id, n in session.execute(stmt)]


def entrants_by_country(session: Session, contest_id: int) -> list[tuple[str, int, int]]:
    """(country code, entrants, entries), the most entrants first."""
    authors = (
        select(Entry.author_id, func.count().label("entries"))
        .where(_received(contest_id))
        .group_by(Entry.author_id)
        .subquery()
    )
    entrants = func.count()
    stmt = (
        select(User.country, entrants, func.sum(authors.c.entries))
        .join(authors, authors.c.author_id == User.id)
        .group_by(User.country)
        .order_by(entrants.desc(), User.country)
    )
    return [(country, n, int(entries)) for country, n, entries in session.execute(stmt)]


def entries_by_place(session: Session, contest_id: int) -> list[tuple[Place, int]]:
    """Every place of the contest in its order, with its entries (0 for none)."""
    counts = (
        select(Entry.place_id, func.count().label("n"))
        .where(_received(contest_id))
        .group_by(Entry.place_id)
        .subquery()
    )
    stmt = (
        select(Place, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.place_id == Place.id)
        .where(Place.contest_id == contest_id)
        .order_by(Place.position, Place.id)
    )
    return [tuple(row) for row in session.execute(stmt)]


def votes_per_day(session: Session, contest_id: int) -> list[tuple[date, int, int]]:
    """(day, votes cast, of which voided).

    Two index-only scans: every vote from the (contest, day) index, the voided ones from the
    small partial index of voided votes (migration 0027), rather than one pass over the rows.
    """
    cast = select(Vote.day, func.count()).where(Vote.contest_id == contest_id).group_by(Vote.day)
    voided = (
        select(Vote.day, func.count())
        .where(Vote.contest_id == contest_id, Vote.voided_at.is_not(None))
        .group_by(Vote.day)
    )
    voided_on = dict(session.execute(voided).all())
    return sorted((day, n, voided_on.get(day, 0)) for day, n in session.execute(cast))


def accounts_per_day(session: Session, since: datetime, until: datetime) -> list[tuple[date, int]]:
    """(day, accounts opened) between two instants."""
    day = vn_day(User.created_at).label("day")
    stmt = (
        select(day, func.count())
        .where(User.created_at >= since, User.created_at < until)
        .group_by(day)
        .order_by(day)
    )
    return [(_as_date(d), n) for d, n in session.execute(stmt)]


def top_entries(session: Session, contest_id: int, limit: int) -> list[Entry]:
    """The public entries with the most valid votes (their counters, kept with each vote)."""
    stmt = (
        select(Entry)
        .where(Entry.contest_id == contest_id, Entry.status == EntryStatus.approved)
        .order_by(Entry.vote_count.desc(), Entry.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def visits_by_source(session: Session, contest_id: int) -> dict[tuple[str, str], int]:
    """{(kind, source): count} over the contest's entry pages."""
    stmt = (
        select(PageVisit.kind, PageVisit.source, func.sum(PageVisit.count))
        .join(Entry, Entry.id == PageVisit.entry_id)
        .where(Entry.contest_id == contest_id)
        .group_by(PageVisit.kind, PageVisit.source)
    )
    return {(kind.value, source.value): int(n) for kind, source, n in session.execute(stmt)}


def jobs_by_state(session: Session, contest_id: int) -> dict[JobState, int]:
    stmt = (
        select(ProcessingJob.state, func.count())
        .join(Entry, Entry.id == ProcessingJob.entry_id)
        .where(Entry.contest_id == contest_id)
        .group_by(ProcessingJob.state)
    )
    return dict(session.execute(stmt).all())


def ready_times_s(session: Session, contest_id: int, since: datetime) -> list[float]:
    """Seconds from a job's creation to its success, for the jobs that succeeded since ``since``."""
    stmt = (
        select(ProcessingJob.created_at, ProcessingJob.finished_at)
        .join(Entry, Entry.id == ProcessingJob.entry_id)
        .where(
            Entry.contest_id == contest_id,
            ProcessingJob.state == JobState.succeeded,
            ProcessingJob.finished_at >= since,
        )
    )
    return sorted((done - made).total_seconds() for made, done in session.execute(stmt))


def oldest_waiting(session: Session, contest_id: int) -> datetime | None:
    stmt = (
        select(func.min(ProcessingJob.created_at))
        .join(Entry, Entry.id == ProcessingJob.entry_id)
        .where(Entry.contest_id == contest_id, ProcessingJob.state.in_([JobState.queued, JobState.retrying]))
    )
    return session.scalar(stmt)


def accounts_window(contest: Contest) -> tuple[datetime, datetime]:
    """Accounts counted for an edition: from a month before submission opens to voting's end."""
    return contest.submission_opens_at - timedelta(days=30), contest.voting_closes_at


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
