"""What the results exports hold: a round's full results and the contest's winners, as rows.

Rows are plain values (text, int, float or None) made one at a time, so that a large round
is written as it is read (contest.results.export_files writes them as CSV or XLSX). Judges
appear under their pseudonyms in the round ("Judge A", ...) unless the organizer asks for
their names. Every export of these rows (personal data) is an audit event: ``record_export``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth.models import User
from contest.contests.models import Category, Contest
from contest.entries.models import Entry
from contest.jury.models import Round
from contest.results.awards import winners
from contest.results.readout import round_sheet
from contest.results.tally import Tally, TallyRow, tally
from contest.results.tally_core import mark_arrays
from contest.results.tally_forms import RULE_LABELS

CHUNK = 1000  # entries whose details are read in one query


@dataclass(frozen=True)
class Table:
    """One export: its file name (ASCII, without extension), its header and its rows (lazy)."""

    name: str
    title: str  # the worksheet's title
    header: tuple[str, ...]
    rows: Iterable[tuple]
    count: int  # how many rows: a progress bar's length
    contest_id: int
    what: str  # "round" or "winners": the audit's action
    subject: tuple[str, int]  # ("round", id) or ("contest", id)


@dataclass(frozen=True)
class Person:
    """An entry's details in the exports: its author is personal data."""

    entry_id: int
    code: str
    title: str
    category: str
    author: str
    email: str
    country: str


def round_table(session: Session, round_id: int, *, names: bool = False) -> Table:
    """The round's full results in place order; LookupError if there is no such round."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round {round_id}")
    contest = session.get(Contest, round_.contest_id)
    sheet, judge_ids = round_sheet(session, round_id)
    result = tally(sheet)
    judges = sheet.judges
    labels = _judge_labels(session, judges, judge_ids, names)
    figures = _figure_columns(result)
    header = (
        _("Rank"),
        *_entry_header(),
        *(label for label, _value in figures),
        _("Judges"),
        _("Tie decided by"),
        *(labels[j] for j in judges),
    )
    rows = _round_rows(session, contest, result, figures, judges)
    return Table(
        name=f"{contest.slug}-round-{round_id}-results",
        title=_("Round %(id)s", id=round_id),
        header=header,
        rows=rows,
        count=len(result.rows),
        contest_id=contest.id,
        what="round",
        subject=("round", round_id),
    )


def _entry_header() -> tuple[str, ...]:
    return (_("Code"), _("Title"), _("Category"), _("Prize"), _("Author"), _("E-mail"), _("Country"))


def _judge_labels(session: Session, judges, judge_ids: dict[str, int], names: bool) -> dict[str, str]:
    """Pseudonym -> column title: "Judge A", or the judge's name when the organizer asks."""
    labels = {j: _("Judge %(name)s", name=j) for j in judges}
    if names:
        ids = [judge_ids[j] for j in judges]
        found = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())
        labels.update({j: found.get(judge_ids[j], labels[j]) for j in judges})
    return labels


def _figure_columns(result: Tally) -> list[tuple[str, Callable[[TallyRow], object]]]:
    """The final figures the round's kind has: (column title, how to read it from a row)."""
    kind, settings = result.sheet.kind, result.sheet.settings
    columns = [(_("Final figure"), lambda row: _number(row.figure))]
    if kind == "score":
        columns.append((_("Raw mean"), lambda row: _number(row.raw)))
        if settings.normalise:
            columns.append((_("Normalised mean"), lambda row: _number(row.normalised)))
    if kind == "yes_no":
        columns.append((_("Yes"), lambda row: row.yes))
    return columns


def _round_rows(session, contest: Contest, result: Tally, figures, judges) -> Iterator[tuple]:
    marks = _marks_by_entry(result)
    prizes = prizes_by_entry(session, contest.id)
    rows = iter(result.rows)
    while chunk := list(islice(rows, CHUNK)):
        people = _people(session, contest.id, [row.entry for row in chunk])
        for row in chunk:
            person = people[row.entry]
            given = marks.get(row.entry, {})
            yield (
                row.place,
                *_entry_cells(person, prizes.get(person.entry_id, "")),
                *(read(row) for _label, read in figures),
                row.judges,
                _decided(row),
                *(given.get(j) for j in judges),
            )


def _entry_cells(person: Person, prize: str) -> tuple:
    return (person.code, person.title, person.category, prize, person.author, person.email, person.country)


def _decided(row: TallyRow) -> str:
    return str(RULE_LABELS[row.decided_by]) if row.decided_by is not None else ""


def _marks_by_entry(result: Tally) -> dict[str, dict[str, float]]:
    """Entry code -> {pseudonym: the judge's figure}: total on the scale, 1/0 (yes/no), rank."""
    arrays = mark_arrays(result.sheet)
    found: dict[str, dict[str, float]] = {}
    for entry, judge, value in zip(arrays.entry, arrays.judge, arrays.value, strict=True):
        value = int(value) if result.sheet.kind != "score" else _number(value)
        found.setdefault(arrays.codes[entry], {})[arrays.judges[judge]] = value
    return found


def _number(value) -> float | None:
    return None if value is None or value != value else round(float(value), 6)


def _people(session: Session, contest_id: int, codes: list[str]) -> dict[str, Person]:
    query = (
        select(Entry.id, Entry.code, Entry.title, Category, User.full_name, User.email, User.country)
        .join(Category, Category.id == Entry.category_id)
        .join(User, User.id == Entry.author_id)
        .where(Entry.contest_id == contest_id, Entry.code.in_(codes))
    )
    return {
        code: Person(entry_id, code, title, category.name, author, email, country)
        for entry_id, code, title, category, author, email, country in session.execute(query)
    }


def prizes_by_entry(session: Session, contest_id: int) -> dict[int, str]:
    """Entry id -> the names of the prizes it was given ("; " between two)."""
    found: dict[int, list[str]] = {}
    for winner in winners(session, contest_id):
        found.setdefault(winner.entry.id, []).append(winner.slot.name)
    return {entry_id: "; ".join(names) for entry_id, names in found.items()}


def winners_table(session: Session, contest: Contest) -> Table:
    """Every prize given in the contest, in slot and place order, with the winner's details."""
    given = winners(session, contest.id)
    header = (
        _("Prize"),
        _("Rank"),
        _("Code"),
        _("Title"),
        _("Category"),
        _("Author"),
        _("E-mail"),
        _("Country"),
    )
    return Table(
        name=f"{contest.slug}-winners",
        title=_("Winners"),
        header=header,
        rows=_winner_rows(session, contest.id, given),
        count=len(given),
        contest_id=contest.id,
        what="winners",
        subject=("contest", contest.id),
    )


def _winner_rows(session: Session, contest_id: int, given) -> Iterator[tuple]:
    people = _people(session, contest_id, sorted({w.entry.code for w in given}))
    for winner in given:
        person = people[winner.entry.code]
        cells = _entry_cells(person, "")
        yield (winner.slot.name, winner.place, *cells[:3], *cells[4:])


def record_export(
    session: Session,
    table: Table,
    *,
    actor_id: int | None,
    fmt: str,
    names: bool,
    via: str,
    operator: str = "",
) -> None:
    """Who exported what, when, in which format, with judges named or pseudonymised (``operator``:
    the system user, for the command line, where no account is logged in)."""
    subject_type, subject_id = table.subject
    record(
        session,
        actor_id=actor_id,
        action=f"results.{table.what}_exported",
        subject_type=subject_type,
        subject_id=subject_id,
        contest_id=table.contest_id,
        details={
            "format": fmt,
            "judges": "names" if names else "pseudonyms",
            "rows": table.count,
            "via": via,
            **({"operator": operator} if operator else {}),
        },
    )
