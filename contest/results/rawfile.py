"""The raw-score file: a round's sheet as CSV, so that anyone can run the tally again.

UTF-8 with a byte-order mark (Excel then reads Vietnamese correctly). A header block of
``key,value`` rows (the format, the round, its kind, each criterion, the tally settings), an
empty row, then one row per mark: round, entry code, judge pseudonym, each criterion's value (or
the verdict "yes"/"no", or the rank), and the time of the judgement. An entry without a mark has
one row with an empty judge. Values are written exactly (``repr`` of the float), so reading the
file gives back the very sheet that was written. A text cell that Excel would run as a formula
(``= + - @``) or that begins with ``'`` is written behind a ``'``, taken off again on reading.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from contest.results.models import format_tie_break, parse_tie_break
from contest.results.sheet import Mark, RankingMethod, Sheet, SheetCriterion, TallySettings

FORMAT = "happy-nghe-an-raw-scores/1"
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "'")


class RawFileError(ValueError):
    """The file is not a raw-score file, or a line of it is malformed (the message says which)."""


def write_sheet(sheet: Sheet, file: IO[str]) -> None:
    """Write the sheet to a text stream (opened with ``newline=""``)."""
    file.write(BOM)
    out = csv.writer(file, lineterminator="\r\n")
    out.writerows(_header(sheet))
    out.writerow([])
    out.writerow(["round", "entry", "judge", *_value_columns(sheet), "time"])
    marked = set()
    for mark in sheet.marks:
        marked.add(mark.entry)
        out.writerow([sheet.round_id, mark.entry, mark.judge, *_values(sheet, mark), _time(mark.at)])
    for code in sheet.entries:
        if code not in marked:
            out.writerow([sheet.round_id, code, "", *([""] * len(_value_columns(sheet))), ""])


def _header(sheet: Sheet) -> Iterator[list]:
    settings = sheet.settings
    yield ["format", FORMAT]
    yield ["round", sheet.round_id]
    yield ["kind", sheet.kind]
    for c in sheet.criteria:
        yield ["criterion", _text(c.key), _text(c.name), repr(c.weight), repr(c.scale_min), repr(c.scale_max)]
    yield ["normalise", _flag(settings.normalise)]
    yield ["trimmed", _flag(settings.trimmed)]
    yield ["ranking_method", settings.ranking_method.value]
    yield ["tie_break", format_tie_break(settings.tie_break)]


def _value_columns(sheet: Sheet) -> list[str]:
    if sheet.kind == "score":
        return [f"criterion {c.key}" for c in sheet.criteria]
    return ["verdict"] if sheet.kind == "yes_no" else ["rank"]


def _values(sheet: Sheet, mark: Mark) -> list[str]:
    if sheet.kind == "score":
        return [repr(float(v)) for v in mark.values]
    if sheet.kind == "yes_no":
        return ["" if mark.verdict is None else ("yes" if mark.verdict else "no")]
    return ["" if mark.rank is None else str(mark.rank)]


def _time(at: datetime | None) -> str:
    return at.isoformat() if at else ""


def _flag(value: bool) -> str:
    return "yes" if value else "no"


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _untext(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def read_sheet(file: IO[str]) -> Sheet:
    """The sheet a raw-score file holds; RawFileError says which line is wrong and why."""
    rows = enumerate(csv.reader(file), start=1)
    header = _read_header(rows)
    try:
        return _read_marks(rows, header)
    except (ValueError, IndexError) as error:
        if isinstance(error, RawFileError):
            raise
        raise RawFileError(str(error)) from error


def _read_header(rows) -> dict:
    header: dict = {"criteria": []}
    for line, row in rows:
        if line == 1 and row and row[0].startswith(BOM):
            row[0] = row[0][1:]
        if not any(row):
            break
        try:
            _header_row(header, row)
        except (ValueError, IndexError) as error:
            raise RawFileError(f"line {line}: {error}") from error
    if header.get("format") != FORMAT:
        raise RawFileError(f"not a raw-score file (its first line must be: format,{FORMAT})")
    missing = {"round", "kind", "settings"} - header.keys()
    if missing:
        raise RawFileError(f"the header lacks: {', '.join(sorted(missing))}")
    return header


def _header_row(header: dict, row: list[str]) -> None:
    key, value = row[0], row[1] if len(row) > 1 else ""
    if key == "criterion":
        key_, name, weight, low, high = row[1:6]
        header["criteria"].append(
            SheetCriterion(_untext(key_), _untext(name), float(weight), float(low), float(high))
        )
    elif key in ("format", "kind"):
        header[key] = value
    elif key == "round":
        header["round"] = int(value)
    elif key in ("normalise", "trimmed"):
        header.setdefault("settings", {})[key] = _read_flag(value)
    elif key == "ranking_method":
        header.setdefault("settings", {})[key] = RankingMethod(value)
    elif key == "tie_break":
        header.setdefault("settings", {})[key] = parse_tie_break(value)
    else:
        raise ValueError(f"unknown header line {key!r}")


def _read_flag(value: str) -> bool:
    if value not in ("yes", "no"):
        raise ValueError(f"expected yes or no, not {value!r}")
    return value == "yes"


def _read_marks(rows, header: dict) -> Sheet:
    kind, criteria = header["kind"], tuple(header["criteria"])
    width = 4 + (len(criteria) if kind == "score" else 1)
    _, columns = next(rows, (0, []))
    if len(columns) != width or columns[:3] != ["round", "entry", "judge"]:
        raise RawFileError("the table of marks must begin with: round,entry,judge,...,time")
    marks, entries = [], []
    for line, row in rows:
        if not any(row):
            continue
        if len(row) != width:
            raise RawFileError(f"line {line}: {width} cells expected, {len(row)} found")
        if int(row[0]) != header["round"]:
            raise RawFileError(f"line {line}: a mark of round {row[0]}, not {header['round']}")
        entries.append(row[1])
        if row[2]:
            marks.append(_read_mark(kind, row, line))
    settings = TallySettings(**header["settings"])
    codes = tuple(sorted(set(entries)))
    return Sheet(header["round"], kind, codes, tuple(marks), criteria, settings)


def _read_mark(kind: str, row: list[str], line: int) -> Mark:
    cells, at = row[3:-1], datetime.fromisoformat(row[-1]) if row[-1] else None
    try:
        if kind == "score":
            return Mark(row[1], row[2], tuple(float(v) for v in cells), at=at)
        if kind == "yes_no":
            return Mark(row[1], row[2], verdict=_read_flag(cells[0]), at=at)
        return Mark(row[1], row[2], rank=int(cells[0]), at=at)
    except ValueError as error:
        raise RawFileError(f"line {line}: {error}") from error
