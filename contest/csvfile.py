"""CSV files for spreadsheets: UTF-8 with a BOM (Excel then reads Vietnamese), text kept as text.

A cell someone typed (a title, a name, a reason) may begin like a formula ("=HYPERLINK(...)",
"+1", "@SUM"): ``csv_cell`` puts an apostrophe in front of it, so a spreadsheet shows it as
typed and never runs it. Every CSV download of the site writes its cells through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: object) -> bool:
    """A text a spreadsheet would read as a formula (numbers are numbers, never text)."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_cell(value: object) -> object:
    return "'" + value if formula_like(value) else value


def csv_lines(header: Iterable[object], batches: Iterable[Iterable[Iterable[object]]]) -> Iterator[str]:
    """The CSV text in pieces: the BOM and the header first, then one piece per batch of rows."""
    yield BOM + _lines([header])
    for rows in batches:
        yield _lines(rows)


def _lines(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()
