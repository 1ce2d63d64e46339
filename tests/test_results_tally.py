"""The tally of a round against figures computed by hand (pure: no database)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from contest.results.sheet import Mark, RankingMethod, Sheet, SheetCriterion, TallySettings, TieBreak
from contest.results.tally import tally
from contest.results.tally_core import figures, mark_arrays, resample

ONE = (SheetCriterion("1", "Impression", 1.0, 0.0, 10.0),)


def score_sheet(totals: dict[str, dict[str, float]], criteria=ONE, entries=None, **settings) -> Sheet:
    """totals: judge -> entry -> value (one criterion)."""
    marks = tuple(Mark(e, j, (v,)) for j, row in totals.items() for e, v in row.items())
    codes = entries or tuple(sorted({m.entry for m in marks}))
    return Sheet(1, "score", codes, marks, criteria, TallySettings(**settings))


def ranking_sheet(lists: list[str], **settings) -> Sheet:
    """lists: one string per judge, best first."""
    marks = tuple(
        Mark(code, f"J{n:02d}", rank=r)
        for n, order in enumerate(lists)
        for r, code in enumerate(order, start=1)
    )
    codes = tuple(sorted({m.entry for m in marks}))
    return Sheet(2, "ranking", codes, marks, settings=TallySettings(**settings))


def by_code(result):
    return {row.entry: row for row in result.rows}


def test_weighted_total_is_on_the_scale():
    criteria = (SheetCriterion("1", "Idea", 2.0, 0.0, 10.0), SheetCriterion("2", "Craft", 1.0, 1.0, 4.0))
    sheet = Sheet(1, "score", ("X",), (Mark("X", "A", (8.0, 2.0)), Mark("X", "B", (5.0, 4.0))), criteria)
    row = tally(sheet).rows[0]
    # (2*8 + 2) / 3 = 6 and (2*5 + 4) / 3 = 14/3; mean 16/3.
    assert row.figure == pytest.approx((6 + 14 / 3) / 2)
    assert row.raw == row.figure and row.normalised is None and row.judges == 2
    assert mark_arrays(sheet).scale == pytest.approx(((0 + 1) / 3, (20 + 4) / 3))


def test_normalisation_puts_a_lenient_and_a_harsh_judge_on_one_footing():
    sheet = score_sheet({"A": {"X": 8, "Y": 6}, "B": {"X": 4, "Y": 2, "Z": 3}}, normalise=True)
    rows = by_code(tally(sheet))
    totals = [8, 6, 4, 2, 3]
    mean = sum(totals) / 5  # 4.6
    sd = math.sqrt(sum((t - mean) ** 2 for t in totals) / 5)  # population sd, sqrt(4.64)
    sd_b = math.sqrt(2 / 3)  # judge B: 4, 2, 3 around 3
    x = ((1 * sd + mean) + ((4 - 3) / sd_b * sd + mean)) / 2
    y = ((-1 * sd + mean) + ((2 - 3) / sd_b * sd + mean)) / 2
    assert rows["X"].normalised == pytest.approx(x)
    assert rows["Y"].normalised == pytest.approx(y)
    assert rows["Z"].normalised == pytest.approx(mean)  # B's average mark lands on the round's mean
    assert rows["X"].raw == 6 and rows["Y"].raw == 4 and rows["Z"].raw == 3  # side by side
    assert rows["X"].figure == rows["X"].normalised
    # Raw, Z (3) is below Y (4); normalised, Z is above Y: B is harsh, A lenient.
    assert [r.entry for r in tally(sheet).rows] == ["X", "Z", "Y"]


def test_normalised_totals_are_clipped_to_the_scale():
    # Judge A: 10, 0, 0, 0 -> z of 10 is sqrt(3); the round's spread takes it above 10.
    sheet = score_sheet({"A": {"W": 10, "X": 0, "Y": 0, "Z": 0}, "B": {"W": 10, "X": 10}}, normalise=True)
    assert by_code(tally(sheet))["W"].figure <= 10.0
    assert by_code(tally(sheet))["W"].normalised == pytest.approx(10.0)


def test_a_judge_with_one_mark_or_no_spread_keeps_raw_totals():
    sheet = score_sheet({"A": {"X": 9}, "B": {"Y": 5, "Z": 5}, "C": {"X": 2, "Y": 8}}, normalise=True)
    normal = figures(mark_arrays(sheet), sheet.settings)
    arrays = mark_arrays(sheet)
    from contest.results.tally_core import normalised_totals

    kept = normalised_totals(arrays)
    for i, (judge, value) in enumerate(zip(arrays.judge, arrays.value, strict=True)):
        if arrays.judges[judge] in ("A", "B"):
            assert kept[i] == value
        else:
            assert kept[i] != value
    assert normal.count.tolist() == [2, 2, 1]


def test_trimmed_mean_drops_highest_and_lowest_from_five_judges():
    five = {j: {"X": v} for j, v in zip("ABCDE", [1, 5, 6, 7, 10], strict=True)}
    four = {j: {"Y": v} for j, v in zip("FGHI", [1, 5, 6, 10], strict=True)}
    rows = by_code(tally(score_sheet({**five, **four}, trimmed=True)))
    assert rows["X"].figure == pytest.approx(6.0)  # (5 + 6 + 7) / 3
    assert rows["Y"].figure == pytest.approx(5.5)  # four judges: not trimmed
    assert rows["X"].judges == 5
    untrimmed = by_code(tally(score_sheet({**five, **four})))
    assert untrimmed["X"].figure == pytest.approx(5.8)


def test_trimmed_and_normalised_trims_each_series():
    judges = {j: {"X": v, "Y": 10 - v} for j, v in zip("ABCDE", [1, 4, 6, 7, 9], strict=True)}
    rows = by_code(tally(score_sheet(judges, trimmed=True, normalise=True)))
    assert rows["X"].raw == pytest.approx((4 + 6 + 7) / 3)
    assert rows["X"].normalised is not None and rows["X"].figure == rows["X"].normalised


def test_yes_no_counts_and_shares():
    marks = (Mark("X", "A", verdict=True), Mark("X", "B", verdict=False), Mark("Y", "A", verdict=True))
    rows = tally(Sheet(3, "yes_no", ("X", "Y", "Z"), marks)).rows
    assert [(r.entry, r.figure, r.yes, r.judges) for r in rows] == [
        ("Y", 1.0, 1, 1),
        ("X", 0.5, 1, 2),
        ("Z", None, 0, 0),
    ]


def test_borda_gives_n_minus_rank_points_per_judge():
    rows = by_code(tally(ranking_sheet(["ABC", "BAC", "ACB", "CA"])))
    # n - rank: A 2+1+2+0 = 5, B 1+2+0 = 3, C 0+0+1+1 = 2 (the last judge listed two: n = 2).
    assert {c: r.figure for c, r in rows.items()} == {"A": 5.0, "B": 3.0, "C": 2.0}
    assert [r.entry for r in tally(ranking_sheet(["ABC", "BAC", "ACB", "CA"])).rows] == ["A", "B", "C"]


WIKIPEDIA_SCHULZE = [  # en.wikipedia.org/wiki/Schulze_method, the 45 voters' example
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
]


def test_schulze_reproduces_wikipedias_worked_example():
    lists = [order for n, order in WIKIPEDIA_SCHULZE for _ in range(n)]
    result = tally(ranking_sheet(lists, ranking_method=RankingMethod.schulze))
    assert [r.entry for r in result.rows] == ["E", "A", "C", "B", "D"]
    assert [r.figure for r in result.rows] == [4.0, 3.0, 2.0, 1.0, 0.0]
    d, p = result.pairwise, result.strongest
    # The article's matrix of pairwise preferences d[*,*] and strongest paths p[*,*].
    assert [d["A"][x] for x in "BCDE"] == [20, 26, 30, 22]
    assert [d["B"][x] for x in "ACDE"] == [25, 16, 33, 18]
    assert [d["C"][x] for x in "ABDE"] == [19, 29, 17, 24]
    assert [d["E"][x] for x in "ABCD"] == [23, 27, 21, 31]
    assert [p["A"][x] for x in "BCDE"] == [28, 28, 30, 24]
    assert [p["E"][x] for x in "ABCD"] == [25, 28, 28, 31]
    assert [p["D"][x] for x in "ABCE"] == [25, 28, 28, 24]
    assert [p["C"][x] for x in "ABDE"] == [25, 29, 29, 24]
    # Borda on the same lists does not give the same winner order.
    assert [r.entry for r in tally(ranking_sheet(lists)).rows] == ["E", "A", "B", "C", "D"]
    assert tally(ranking_sheet(lists)).pairwise is None


def test_schulze_counts_only_pairs_a_judge_ranked():
    result = tally(ranking_sheet(["AB", "CB"], ranking_method=RankingMethod.schulze))
    assert result.pairwise["A"]["C"] == 0 and result.pairwise["C"]["A"] == 0
    assert result.pairwise["A"]["B"] == 1 and result.pairwise["C"]["B"] == 1


SPREAD = {"A": {"X": 2, "Y": 4}, "B": {"X": 6, "Y": 5}, "C": {"X": 7, "Y": 6}}  # both mean 5


@pytest.mark.parametrize(
    ("rules", "first", "decided"),
    [
        ((TieBreak.median, TieBreak.code), "X", TieBreak.median),  # medians 6 and 5
        ((TieBreak.lowest_spread, TieBreak.code), "Y", TieBreak.lowest_spread),
        ((TieBreak.lowest_spread, TieBreak.median), "Y", TieBreak.lowest_spread),
        ((TieBreak.code,), "X", TieBreak.code),
        ((), "X", TieBreak.code),  # code is always the last rule, recorded or not
    ],
)
def test_ties_follow_the_recorded_rules_in_order(rules, first, decided):
    rows = tally(score_sheet(SPREAD, tie_break=rules)).rows
    assert rows[0].entry == first and rows[0].decided_by is None
    assert rows[1].decided_by is decided
    assert rows[0].figure == rows[1].figure == 5.0
    assert [r.place for r in rows] == [1, 2]


def test_firsts_break_a_yes_no_tie_that_the_median_leaves():
    marks = [Mark("B", j, verdict=v) for j, v in zip("ABCD", [True, True, False, False], strict=True)]
    marks += [Mark("A", j, verdict=v) for j, v in zip("EF", [True, False], strict=True)]
    rows = tally(Sheet(3, "yes_no", ("A", "B"), tuple(marks))).rows  # default: median, firsts, code
    assert [(r.entry, r.decided_by) for r in rows] == [("B", None), ("A", TieBreak.firsts)]


def test_firsts_in_score_rounds_are_each_judges_highest_total():
    # X and Y: totals 8 and 4 each (same mean, median and spread); X is judge A's best, and
    # B's best is W: X has one first, Y none.
    judges = {"A": {"X": 8, "Y": 4, "Z": 2}, "B": {"X": 4, "Y": 8, "W": 9}}
    rules = (TieBreak.firsts, TieBreak.code)
    rows = tally(score_sheet(judges, tie_break=rules)).rows
    assert [(r.entry, r.decided_by) for r in rows if r.entry in "XY"] == [("X", None), ("Y", TieBreak.firsts)]
    judges["B"]["W"] = 1  # now Y is B's best: one first each, the code decides
    rows = tally(score_sheet(judges, tie_break=rules)).rows
    assert [(r.entry, r.decided_by) for r in rows if r.entry in "XY"] == [("X", None), ("Y", TieBreak.code)]


def test_firsts_in_ranking_rounds_are_first_places():
    rows = tally(ranking_sheet(["ABC", "ACB", "BCA", "CBA"], tie_break=(TieBreak.firsts,))).rows
    # Borda: A 2+2+0+0 = 4, B 1+0+2+1 = 4, C 0+1+1+2 = 4; first places A 2, B 1, C 1.
    assert [(r.entry, r.decided_by) for r in rows] == [
        ("A", None),
        ("B", TieBreak.firsts),
        ("C", TieBreak.code),
    ]


def test_entries_without_marks_come_last_by_code():
    sheet = score_sheet({"A": {"M": 3}}, entries=("Q", "M", "B"))
    rows = tally(sheet).rows
    assert [(r.entry, r.figure, r.judges, r.place) for r in rows] == [
        ("M", 3.0, 1, 1),
        ("B", None, 0, 2),
        ("Q", None, 0, 3),
    ]
    assert rows[2].decided_by is TieBreak.code


@pytest.mark.parametrize("normalise", [False, True])
def test_shuffled_marks_give_the_same_tally(normalise):
    rng = random.Random(16)
    criteria = tuple(SheetCriterion(str(i), f"c{i}", 1.0 + i, 0.0, 10.0) for i in range(3))
    marks = [
        Mark(f"E{e:03d}", j, tuple(float(rng.randint(0, 4)) for _ in criteria))
        for e in range(60)
        for j in rng.sample("ABCDEFG", 3)
    ]
    settings = TallySettings(normalise=normalise, tie_break=(TieBreak.median, TieBreak.lowest_spread))
    codes = tuple(sorted({m.entry for m in marks}))
    first = tally(Sheet(1, "score", codes, tuple(marks), criteria, settings))
    if not normalise:
        assert any(r.decided_by is not None for r in first.rows)  # the example has ties to break
    for _ in range(5):
        rng.shuffle(marks)
        shuffled_codes = list(codes)
        rng.shuffle(shuffled_codes)
        again = tally(Sheet(1, "score", tuple(shuffled_codes), tuple(marks), criteria, settings))
        assert again.rows == first.rows


def test_resample_counts_a_judge_drawn_twice_twice_and_leaves_out_one_not_drawn():
    sheet = score_sheet({"A": {"X": 8, "Y": 2}, "B": {"X": 2, "Y": 6}, "C": {"X": 5, "Y": 5}})
    arrays = mark_arrays(sheet)
    again = figures(resample(arrays, np.array([2, 0, 1])), sheet.settings)
    by_hand = score_sheet({"A": {"X": 8, "Y": 2}, "A2": {"X": 8, "Y": 2}, "C": {"X": 5, "Y": 5}})
    assert again.figure.tolist() == pytest.approx(
        figures(mark_arrays(by_hand), sheet.settings).figure.tolist()
    )
    assert again.count.tolist() == [3, 3]


@pytest.mark.parametrize(
    "sheet",
    [
        Sheet(1, "score", ("X",), (Mark("Y", "A", (1.0,)),), ONE),  # an entry not in the round
        Sheet(1, "score", ("X",), (Mark("X", "A", (1.0, 2.0)),), ONE),  # two values, one criterion
        Sheet(1, "yes_no", ("X",), (Mark("X", "A"),)),  # no verdict
        Sheet(1, "ranking", ("X",), (Mark("X", "A", rank=0),)),
        Sheet(1, "best_of", ("X",), ()),
        Sheet(1, "yes_no", ("X",), (Mark("X", "A", verdict=True), Mark("X", "A", verdict=False))),  # twice
    ],
)
def test_a_malformed_sheet_is_refused_with_a_reason(sheet):
    with pytest.raises(ValueError, match=r"\w+"):
        tally(sheet)


def test_a_share_of_the_votes_on_the_jurys_scale_makes_the_final_figure():
    from contest.results.final import combine, figure_scale

    sheet = score_sheet({"A": {"X": 8, "Y": 7, "Z": 6}}, entries=("W", "X", "Y", "Z"))
    assert figure_scale(sheet) == (0.0, 10.0)
    votes = {"X": 50, "Y": 100, "W": 400}
    final = combine(tally(sheet), votes, {"W": 1, "X": 1, "Y": 1, "Z": 2}, 0.2, (0.0, 10.0))
    # Category 1's most voted entry is W (400 votes): X 50/400 and Y 100/400 of the scale.
    rows = {r.entry: r for r in final.rows}
    assert rows["X"].votes_on_scale == pytest.approx(1.25) and rows["Y"].votes_on_scale == pytest.approx(2.5)
    assert rows["X"].figure == pytest.approx(0.8 * 8 + 0.2 * 1.25)  # 6.65
    assert rows["Y"].figure == pytest.approx(0.8 * 7 + 0.2 * 2.5)  # 6.1
    assert rows["Z"].votes_on_scale == 0.0 and rows["Z"].figure == pytest.approx(
        0.8 * 6
    )  # no votes in its category
    assert rows["W"].figure is None and rows["W"].votes == 400  # no jury figure: no final figure
    assert [r.entry for r in final.rows] == ["X", "Y", "Z", "W"] and [r.place for r in final.rows] == [
        1,
        2,
        3,
        4,
    ]
    swapped = combine(tally(sheet), {"Y": 400, "X": 0}, {"X": 1, "Y": 1, "Z": 2, "W": 1}, 0.5, (0.0, 10.0))
    assert [r.entry for r in swapped.rows][:2] == ["Y", "X"]  # 0.5*7 + 0.5*10 = 8.5 > 0.5*8 = 4


def test_schulze_refuses_more_than_a_shortlist():
    from contest.results.schulze import MAX_ENTRIES

    codes = [f"E{n:04d}" for n in range(MAX_ENTRIES + 1)]
    sheet = ranking_sheet([codes[:3]], ranking_method=RankingMethod.schulze)
    sheet = Sheet(sheet.round_id, "ranking", tuple(codes), sheet.marks, settings=sheet.settings)
    with pytest.raises(ValueError, match="use Borda"):
        tally(sheet)
