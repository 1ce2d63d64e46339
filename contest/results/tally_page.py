"""What a round's tally page shows, gathered in one place: the sheet, the tally, one page of its
rows with the entries' titles, the final figures with public votes (share mode), Schulze's matrix
for the first places, and the jury's reliability."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.entries.models import Entry
from contest.jury.models import Round
from contest.results import tally_core
from contest.results.final import FinalFigures, figure_scale, final_figures, is_final
from contest.results.readout import round_sheet
from contest.results.schulze import MAX_ENTRIES
from contest.results.sheet import RankingMethod, Sheet
from contest.results.tally import Tally, TallyRow, tally

PER_PAGE = 200
MATRIX_SIZE = 20


@dataclass(frozen=True)
class Matrix:
    codes: tuple[str, ...]
    pairwise: dict[str, dict[str, int]]
    strongest: dict[str, dict[str, int]]


@dataclass(frozen=True)
class TallyPage:
    sheet: Sheet
    tally: Tally
    rows: tuple[TallyRow, ...]  # this page's
    titles: dict[str, str]
    final: FinalFigures | None
    matrix: Matrix | None
    reliability: object | None
    page: int
    pages: int
    scale: tuple[float, float]
    schulze_refused: bool = False  # the round asks for Schulze but has too many entries for it

    @property
    def final_by_code(self) -> dict:
        return self.final.by_code() if self.final else {}


def build(session: Session, round_: Round, *, page: int = 1) -> TallyPage:
    sheet, _names = round_sheet(session, round_.id)
    fallback = _too_big_for_schulze(sheet)
    if fallback:  # recorded before the round took its entries: shown with Borda, and said so
        sheet = replace(sheet, settings=replace(sheet.settings, ranking_method=RankingMethod.borda))
    arrays = tally_core.mark_arrays(sheet)
    result = tally(sheet)
    final = final_figures(session, round_, result) if is_final(session, round_) else None
    ordered = list(final.rows) if final else list(result.rows)
    pages = max(1, -(-len(ordered) // PER_PAGE))
    page = min(page, pages)
    shown = ordered[(page - 1) * PER_PAGE : page * PER_PAGE]
    by_code = {r.entry: r for r in result.rows}
    rows = tuple(by_code[r.entry] for r in shown)
    return TallyPage(
        sheet=sheet,
        tally=result,
        rows=rows,
        titles=_titles(session, [r.entry for r in rows]),
        final=final,
        matrix=_matrix(result),
        reliability=_reliability(sheet, result, arrays),
        page=page,
        pages=pages,
        scale=figure_scale(sheet) if sheet.criteria or sheet.kind != "score" else (0.0, 0.0),
        schulze_refused=fallback,
    )


def _too_big_for_schulze(sheet: Sheet) -> bool:
    return sheet.settings.ranking_method is RankingMethod.schulze and len(sheet.entries) > MAX_ENTRIES


def _titles(session: Session, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    return dict(session.execute(select(Entry.code, Entry.title).where(Entry.code.in_(codes))).all())


def _matrix(result: Tally) -> Matrix | None:
    if result.pairwise is None or result.strongest is None:
        return None
    codes = tuple(r.entry for r in result.rows[:MATRIX_SIZE])
    return Matrix(codes, result.pairwise, result.strongest)


def _reliability(sheet: Sheet, result: Tally, arrays: tally_core.MarkArrays):
    """H3b's analysis (contest.results.reliability) when the round has marks to analyse."""
    if not sheet.marks:
        return None
    from contest.results.reliability import round_reliability

    return round_reliability(sheet, result, arrays=arrays)
