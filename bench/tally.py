"""The whole tally of the jury bench's round: ``tally_s_large``.

On bench.jury's PostgreSQL database (20,000 entries, 30 judges, quorum 3, five criteria): every
assignment is given five scores (COPY), the round is set to normalise, and the clock runs around
what the organizer's tally page computes: the sheet read from the database
(``contest.results.readout.round_sheet``), the tally with normalisation
(``contest.results.tally.tally``) and the jury's reliability with the stability of the top places
(``contest.results.reliability.round_reliability``: 200 bootstrap resamples and leave-one-judge-out).
Median of RUNS runs; the parts are reported beside it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

REPORT = (
    "Tally: the same round with five scores for each of its 60,000 assignments; tally_s_large is the\n"
    "median of 3 runs of the sheet read from PostgreSQL, the tally with normalisation and the\n"
    "reliability analysis (agreement, judges, stability of the top 10 over 200 bootstrap resamples\n"
    "of the judges and leave-one-judge-out); tally_sheet_s, tally_tally_s, tally_reliability_s: its parts.\n"
)
RUNS = 3


def measure_tally(engine, round_id: int) -> dict:
    _score_everything(engine, round_id)
    runs = [_one_run(engine, round_id) for _ in range(RUNS)]
    middle = sorted(runs, key=lambda r: r["total"])[len(runs) // 2]
    return {
        "tally_s_large": middle["total"],
        "tally_sheet_s": middle["sheet"],
        "tally_tally_s": middle["tally"],
        "tally_reliability_s": middle["reliability"],
        "tally_marks_large": middle["marks"],
    }


def _score_everything(engine, round_id: int) -> None:
    """Five scores for every assignment (a judge's own leniency plus the entry's merit), and the
    round's tally set to normalise."""
    from contest.jury.models import Assignment, Criterion, Score
    from contest.results.models import RoundTallySettings

    with Session(engine) as session:
        session.execute(delete(Score).where(Score.round_id == round_id))
        criteria = session.execute(
            select(Criterion.id, Criterion.max_steps).where(Criterion.round_id == round_id)
        ).all()
        dealt = session.execute(
            select(Assignment.id, Assignment.entry_id, Assignment.judge_id).where(
                Assignment.round_id == round_id
            )
        ).all()
        now = datetime.now(UTC)
        cursor = session.connection().connection.cursor()
        columns = "round_id, assignment_id, criterion_id, max_steps, steps, updated_at"
        with cursor.copy(f"COPY scores ({columns}) FROM STDIN") as copy:
            for assignment_id, entry_id, judge_id in dealt:
                for n, (criterion_id, max_steps) in enumerate(criteria):
                    steps = (entry_id * 31 + n * 7) % (max_steps // 2 + 1) + judge_id % (max_steps // 2)
                    copy.write_row(
                        (round_id, assignment_id, criterion_id, max_steps, min(steps, max_steps), now)
                    )
        session.execute(
            update(Assignment).where(Assignment.round_id == round_id).values(scored_at=now, updated_at=now)
        )
        session.merge(RoundTallySettings(round_id=round_id, normalise=True, tie_break="median,firsts,code"))
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE scores"))
        conn.execute(text("VACUUM ANALYZE assignments"))


def _one_run(engine, round_id: int) -> dict:
    from contest.results import tally_core
    from contest.results.readout import round_sheet
    from contest.results.reliability import round_reliability
    from contest.results.tally import tally

    with Session(engine) as session:
        started = time.perf_counter()
        sheet, _names = round_sheet(session, round_id)
        read = time.perf_counter()
        arrays = tally_core.mark_arrays(sheet)
        result = tally(sheet)
        tallied = time.perf_counter()
        round_reliability(sheet, result, arrays=arrays)
        done = time.perf_counter()
    assert sheet.settings.normalise and len(result.rows) > 0
    return {
        "total": done - started,
        "sheet": read - started,
        "tally": tallied - read,
        "reliability": done - tallied,
        "marks": len(sheet.marks),
    }


def main() -> None:
    """``python -m bench.tally``: bench.jury's database and one deal, then this measure alone."""
    from bench.jury import DB_NAME, _load, _one_deal
    from bench.web_site import drop_database, recreate_database
    from contest.db import make_engine
    from tests.support import migrate

    url = recreate_database(DB_NAME)
    try:
        migrate(url)
        engine = make_engine(url)
        round_id = _load(engine)
        _one_deal(engine, round_id)
        for name, value in measure_tally(engine, round_id).items():
            print(f"{name}={value:.3f}")
        engine.dispose()
    finally:
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
