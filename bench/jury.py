"""The jury's deal at the national contest's size: ``jury_deal_s_large``.

A PostgreSQL database of its own (``contest_bench_jury`` on the server of ``BENCH_PG_ADMIN_URL``,
created, migrated and dropped) holds the demo edition with 20,000 approved photos by 5,000 entrants (loaded with COPY), 30 judges
on its jury, two conflicts of interest each, and a score round of quorum 3 on five criteria whose entries are
taken. The clock runs around ``contest.jury.dealing.deal_round`` and its commit only: the
ids read, the plan made in memory, the 60,000 assignments written. Three runs, each on an
undealt round (the previous run's assignments deleted first); the median is reported.

``python -m bench.jury`` runs it alone.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from bench.exports import REPORT as EXPORTS_REPORT
from bench.exports import measure_exports
from bench.jury_panel import measure_next
from bench.tally import REPORT as TALLY_REPORT
from bench.tally import measure_tally
from bench.web_site import drop_database, recreate_database

REPORT = (
    "Jury deal: 20,000 approved entries, 30 judges (two conflicts each), quorum 3, on PostgreSQL;\n"
    "jury_deal_s_large is the median of 3 runs of the deal and its commit (ids read, plan made\n"
    "in memory, 60,000 assignments written), each on an undealt round.\n"
    "jury_next_p95_ms_large: a judge's save-and-next request on that round (bench.jury_panel):\n"
    "gunicorn -w 2 configured as production (CSRF on), the judge logged in through the form,\n"
    "95th percentile of 300 POSTs while wrk asks for the gallery over 2 connections\n"
    "(jury_next_gallery_rps_during); *_no_load: the same 300 just before, without the gallery.\n"
) + TALLY_REPORT
REPORT += EXPORTS_REPORT
DB_NAME = "contest_bench_jury"
# Five criteria, as the national contest's score rounds have (bench.tally scores them all).
CRITERIA_NAMES = (
    ("Nội dung", "Content"),
    ("Bố cục", "Composition"),
    ("Kỹ thuật", "Technique"),
    ("Cảm xúc", "Emotion"),
    ("Thông điệp", "Message"),
)
ENTRIES, AUTHORS, JUDGES, QUORUM, RUNS = 20_000, 5_000, 30, 3, 3


def measure() -> dict:
    url = recreate_database(DB_NAME)
    try:
        from contest.db import make_engine
        from tests.support import migrate

        migrate(url)
        engine = make_engine(url)
        round_id = _load(engine)
        seconds = [_one_deal(engine, round_id) for _ in range(RUNS)]
        engine.dispose()
        figures = {"jury_deal_s_large": statistics.median(seconds)}
        figures.update(measure_next(url, round_id))  # on the last deal
        engine = make_engine(url)
        figures.update(measure_tally(engine, round_id))  # every assignment scored
        figures.update(measure_exports(engine, round_id))  # the round's full results, CSV and XLSX
        engine.dispose()
    finally:
        drop_database(DB_NAME)
    return figures


def _load(engine) -> int:
    """The contest, its people, entries and jury; returns the id of the round, entries taken."""
    from contest.contests.demo import build_demo_contest
    from contest.jury.members import declare_conflict
    from contest.jury.models import JuryMember, RoundKind
    from contest.jury.rounds import CriterionSpec, RoundSpec, create_round, take_entries

    criteria = tuple(
        CriterionSpec(vi, en, weight=1 + n % 2, scale_step=0.5) for n, (vi, en) in enumerate(CRITERIA_NAMES)
    )

    with Session(engine) as session:
        contest, _ = build_demo_contest(session)
        session.commit()
        photo = next(c for c in contest.categories if c.kind.value == "photo")
        first_user = _copy_people_and_entries(session, contest.id, photo.id, contest.places[0].id)
        judges = range(first_user, first_user + JUDGES)
        session.add_all(JuryMember(contest_id=contest.id, judge_id=j) for j in judges)
        for n, judge in enumerate(judges):
            for k in (1, 2):  # two entrants each judge knows
                entrant = first_user + JUDGES + (n * 7 + k) % AUTHORS
                declare_conflict(session, contest.id, judge, entrant, "Người quen", actor_id=judge)
        now = datetime.now(UTC)
        spec = RoundSpec(
            "Vòng sơ khảo",
            "Preliminary round",
            RoundKind.score,
            now - timedelta(days=1),
            now + timedelta(days=30),
            (photo,),
            quorum=QUORUM,
            criteria=criteria,
        )
        round_ = create_round(session, contest, spec, actor_id=None)
        taken = take_entries(session, round_)
        assert taken == ENTRIES, taken
        session.commit()
        session.execute(text("ANALYZE"))
        session.commit()
        return round_.id


def _copy_people_and_entries(session: Session, contest_id: int, category_id: int, place_id: int) -> int:
    """Judges then entrants, then their entries, with COPY; returns the first user's id."""
    cursor = session.connection().connection.cursor()
    cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM users")
    first = cursor.fetchone()[0]
    now = datetime.now(UTC)
    columns = (
        "id, email, email_canonical, password_hash, full_name, country, role, locale, active, created_at"
    )
    with cursor.copy(f"COPY users ({columns}) FROM STDIN") as copy:
        for n in range(JUDGES + AUTHORS):
            role, email = (
                ("judge", f"judge{n}@bench.vn") if n < JUDGES else ("entrant", f"author{n}@bench.vn")
            )
            copy.write_row((first + n, email, email, "!", f"Người {n}", "VN", role, "vi", True, now))
    columns = "code, contest_id, category_id, author_id, place_id, title, description, taken_on, status, created_at, approved_at, updated_at, shuffle_key"
    with cursor.copy(f"COPY entries ({columns}) FROM STDIN") as copy:
        for n in range(ENTRIES):
            author = first + JUDGES + n % AUTHORS
            row = (f"BJ-{n:05d}", contest_id, category_id, author, place_id, f"Ảnh {n}", "", date(2024, 6, 1))
            copy.write_row((*row, "approved", now, now, now, n * 7919 % 2**31))
    return first


def _one_deal(engine, round_id: int) -> float:
    from contest.jury.dealing import deal_round
    from contest.jury.models import Assignment, Round

    with Session(engine) as session:
        session.execute(delete(Assignment).where(Assignment.round_id == round_id))
        round_ = session.get(Round, round_id)
        round_.seed, round_.deal_count = None, 0
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE assignments"))
    with Session(engine) as session:
        round_ = session.get(Round, round_id)
        started = time.perf_counter()
        result = deal_round(session, round_, actor_id=None, why="bench")
        session.commit()
        elapsed = time.perf_counter() - started
    assert len(result.add) == ENTRIES * QUORUM, len(result.add)
    return elapsed


if __name__ == "__main__":
    for name, value in measure().items():
        print(f"{name}={value:.3f}")
