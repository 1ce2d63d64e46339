"""The results exports of the jury bench's round: ``export_csv_s_large``, ``export_xlsx_s_large``.

On bench.jury's PostgreSQL round (20,000 entries, 30 judges, quorum 3, every assignment scored
by bench.tally), the clock runs around what the organizer's download does: the round's table
(``contest.results.exports.round_table``: sheet, tally, entries and authors read 1,000 at a
time) written to a temporary file as CSV or as XLSX (openpyxl's write-only mode). Median of
RUNS runs each. One more run of each, traced from the tally on (tracemalloc), gives the peak
of Python memory while the rows are made and written: what streaming them is for.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc

from sqlalchemy.orm import Session

REPORT = (
    "Exports: the same round's full results (20,000 rows, 30 judges' columns) written as CSV and\n"
    "XLSX; export_csv_s_large and export_xlsx_s_large are the medians of 3 runs (table read from\n"
    "PostgreSQL, tally, file written); export_*_write_peak_mb: Python's peak allocation while the\n"
    "rows are made and written, after the tally (tracemalloc, one extra run); export_*_file_mb: the\n"
    "file's size.\n"
)
RUNS = 3
DB_NAME = "contest_bench_exports"


def measure_exports(engine, round_id: int) -> dict:
    figures: dict = {}
    for fmt in ("csv", "xlsx"):
        seconds = [_one_run(engine, round_id, fmt)[0] for _ in range(RUNS)]
        _, size, peak = _one_run(engine, round_id, fmt, traced=True)
        figures[f"export_{fmt}_s_large"] = statistics.median(seconds)
        figures[f"export_{fmt}_write_peak_mb"] = peak / 2**20
        figures[f"export_{fmt}_file_mb"] = size / 2**20
    return figures


def _one_run(engine, round_id: int, fmt: str, traced: bool = False) -> tuple[float, int, int]:
    """(seconds, file size, peak bytes allocated while writing when ``traced``) of one export."""
    from contest.results.export_files import write
    from contest.results.exports import round_table

    with Session(engine) as session, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        table = round_table(session, round_id)
        if traced:
            tracemalloc.start()
        write(table, fmt, out)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        tracemalloc.stop()
        assert table.count > 0 and out.tell() > 0
        return elapsed, out.tell(), peak


def main() -> None:
    """``python -m bench.exports``: bench.jury's database, one deal, every score, then this alone."""
    from bench.jury import _load, _one_deal
    from bench.tally import _score_everything
    from bench.web_site import drop_database, recreate_database
    from contest.db import make_engine
    from tests.support import migrate

    url = recreate_database(DB_NAME)  # its own database: bench.jury may run beside it
    try:
        migrate(url)
        engine = make_engine(url)
        round_id = _load(engine)
        _one_deal(engine, round_id)
        _score_everything(engine, round_id)
        for name, value in measure_exports(engine, round_id).items():
            print(f"{name}={value:.3f}")
        engine.dispose()
    finally:
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
