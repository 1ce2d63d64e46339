"""The results exports written as CSV (UTF-8 with a BOM, for Excel) or XLSX, row by row.

A cell an entrant typed (a title, a name) may begin like a formula ("=HYPERLINK(...)", "+1",
"@SUM"): ``contest.csvfile.formula_like`` spots it for both formats. In CSV such a cell gets an apostrophe in
front; in XLSX it is written as a plain string with Excel's quote prefix, so that it shows
as typed and never runs. XLSX uses openpyxl's write-only mode: rows go to disk as they come.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from contest.csvfile import csv_cell, formula_like
from contest.results.exports import Table

FORMATS = ("csv", "xlsx")
MIME_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CSV_ROWS_PER_CHUNK = 500
SHEET_TITLE_MAX = 31  # Excel's limit on a worksheet's name


def csv_chunks(table: Table, rows: Iterable[tuple] | None = None) -> Iterator[str]:
    """The CSV text in pieces: the BOM and the header first, then a few hundred rows at a time."""
    rows = iter(table.rows if rows is None else rows)
    chunk = [table.header]
    first = True
    while chunk:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows([csv_cell(value) for value in row] for row in chunk)
        yield ("\ufeff" if first else "") + buffer.getvalue()
        first = False
        chunk = list(islice(rows, CSV_ROWS_PER_CHUNK))


def write_csv(table: Table, out: IO[str], rows: Iterable[tuple] | None = None) -> None:
    for piece in csv_chunks(table, rows):
        out.write(piece)


def write_xlsx(table: Table, out: IO[bytes], rows: Iterable[tuple] | None = None) -> None:
    """One worksheet, the header first; numbers stay numbers, text stays text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(table.title))
    sheet.append([_xlsx_cell(sheet, value) for value in table.header])
    for row in table.rows if rows is None else rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    book.save(out)


def _xlsx_cell(sheet, value: object) -> object:
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # openpyxl would take a leading "=" for a formula
    if formula_like(value):
        cell.quotePrefix = True
    return cell


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title)
    return cleaned[:SHEET_TITLE_MAX] or "Sheet"


def write(table: Table, fmt: str, out: IO[bytes], rows: Iterable[tuple] | None = None) -> None:
    """Write ``table`` to the binary file ``out`` in ``fmt`` ("csv" or "xlsx")."""
    if fmt == "xlsx":
        write_xlsx(table, out, rows)
        return
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        write_csv(table, text, rows)
    finally:
        text.flush()
        text.detach()
