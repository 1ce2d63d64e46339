"""A round's sheet read from the database, and the digest of a ranking.

The jury's judgements come through ``contest.jury.readout.finished_judgements`` (the narrow
door); judges become pseudonyms "A", "B", ... "Z", "AA", ... in the order they joined the jury
(their jury membership id), among the judges with a mark in the round, so a round's pseudonyms
are stable and name nobody.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.entries.models import Entry
from contest.jury.models import JuryMember, Round, RoundEntry
from contest.jury.readout import finished_rows
from contest.results.models import RoundTallySettings
from contest.results.sheet import Mark, Sheet, SheetCriterion, TallySettings
from contest.results.tally import Tally, tally


def pseudonym(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA", 27 -> "AB" (spreadsheet columns)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def tally_settings(session: Session, round_id: int) -> TallySettings:
    row = session.get(RoundTallySettings, round_id)
    return row.as_settings() if row else TallySettings()


def round_sheet(session: Session, round_id: int) -> tuple[Sheet, dict[str, int]]:
    """The round's sheet, and each pseudonym's judge user id (for the organizers only)."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise LookupError(f"no round {round_id}")
    criteria = tuple(
        SheetCriterion(str(c.id), c.name_vi, float(c.weight), float(c.scale_min), float(c.scale_max))
        for c in round_.criteria
    )
    _ids, rows = finished_rows(session, round_id)  # a score round's values in criterion order
    names = _pseudonyms(session, round_.contest_id, {row[1] for row in rows})
    marks = tuple(_marks(round_.kind.value, rows, names))
    sheet = Sheet(
        round_id=round_id,
        kind=round_.kind.value,
        entries=tuple(sorted(_entry_codes(session, round_id))),
        marks=marks,
        criteria=criteria,
        settings=tally_settings(session, round_id),
    )
    return sheet, {name: judge_id for judge_id, name in names.items()}


def round_figures(session: Session, round_id: int) -> dict[int, float]:
    """Entry id -> the round's figure as its tally makes it (with the round's normalisation and
    trimming): what the next round's selection reads, so that it passes the entries the tally
    page ranks. Entries without a finished judgement are absent."""
    sheet, _judges = round_sheet(session, round_id)
    by_code = {row.entry: row.figure for row in tally(sheet).rows if row.figure is not None}
    ids = session.execute(select(Entry.code, Entry.id).where(Entry.code.in_(list(by_code))))
    return {entry_id: by_code[code] for code, entry_id in ids}


def _marks(kind: str, rows: list[tuple], names: dict[int, str]):
    """The judgements as marks (a loop kept lean: 60,000 of them in a national round)."""
    yes_no, ranking = kind == "yes_no", kind == "ranking"
    for code, judge_id, verdict, rank, saved_at, *values in rows:
        yield Mark(
            code,
            names[judge_id],
            tuple(values),
            verdict if yes_no else None,
            rank if ranking else None,
            saved_at,
        )


def _entry_codes(session: Session, round_id: int) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(Entry.code)
            .join(RoundEntry, RoundEntry.entry_id == Entry.id)
            .where(RoundEntry.round_id == round_id, RoundEntry.disqualified_at.is_(None))
            .order_by(Entry.code)
        )
    )


def _pseudonyms(session: Session, contest_id: int, judge_ids: set[int]) -> dict[int, str]:
    joined = session.execute(
        select(JuryMember.judge_id).where(JuryMember.contest_id == contest_id).order_by(JuryMember.id)
    ).scalars()
    order = [judge_id for judge_id in joined if judge_id in judge_ids]
    order += sorted(judge_ids - set(order))  # a judge no longer on the jury's list, if any
    return {judge_id: pseudonym(n) for n, judge_id in enumerate(order)}


def canonical_ranking(tally: Tally) -> str:
    """One line per place, "place<TAB>code<TAB>figure" (6 decimals, "-" for no figure)."""
    return "".join(f"{row.place}\t{row.entry}\t{_figure(row.figure)}\n" for row in tally.rows)


def _figure(figure: float | None) -> str:
    return "-" if figure is None else f"{round(figure, 6) + 0.0:.6f}"


def ranking_digest(tally: Tally) -> str:
    """sha256 (hex) of the canonical ranking: what is published, and what a recomputation must match."""
    return hashlib.sha256(canonical_ranking(tally).encode("utf-8")).hexdigest()
