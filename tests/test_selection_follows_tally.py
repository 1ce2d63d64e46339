"""The next round's selection reads a score round by the figure its tally gives (one rule):
with the round's normalisation chosen, "top N" and thresholds follow the normalised figures."""

from __future__ import annotations

from contest.jury import selection
from contest.jury.models import SourceRule
from contest.results.readout import round_sheet
from contest.results.settings import save_tally_settings
from contest.results.sheet import TallySettings
from contest.results.tally import tally
from tests.results_support import judged_round


def _tally_figures(db, round_) -> dict[str, float]:
    sheet, _judges = round_sheet(db, round_.id)
    return {row.entry: row.figure for row in tally(sheet).rows if row.figure is not None}


def _by_code(db, scores: dict[int, float]) -> dict[str, float]:
    from contest.entries.models import Entry

    return {db.get(Entry, entry_id).code: value for entry_id, value in scores.items()}


def test_top_n_follows_the_rounds_normalisation(db, contest):
    jury, round_ = judged_round(db, contest)
    raw = _by_code(db, selection.entry_scores(db, round_))
    assert raw == _tally_figures(db, round_)  # without settings: the plain mean of weighted totals

    save_tally_settings(db, round_, TallySettings(normalise=True), actor_id=jury.organizer.id)
    db.commit()
    normalised = _by_code(db, selection.entry_scores(db, round_))
    assert normalised == _tally_figures(db, round_)
    assert normalised != raw  # the judges differ in leniency: the figures move

    best = sorted(normalised, key=normalised.get, reverse=True)[:3]
    passing = _by_code(db, dict.fromkeys(selection.passing(db, round_, SourceRule.top_n, 3), 0.0))
    assert set(best) <= set(passing)  # ties with the third are kept too
    assert all(normalised[code] >= normalised[best[-1]] - 1e-9 for code in passing)
