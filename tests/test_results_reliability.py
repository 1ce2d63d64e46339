"""How reliable was the jury: agreement measures against published and SciPy values, judges who
stand apart, and the stability of the top places (leave one judge out, bootstrap). Pure: no DB."""

from __future__ import annotations

import random

import numpy as np
import pytest
from flask import render_template
from flask_babel import force_locale
from scipy import stats

from contest.results import tally_core
from contest.results.agreement import (
    Band,
    Measure,
    Undefined,
    average_ranks,
    fleiss_kappa,
    kendall_w,
)
from contest.results.judges import APART_MIN_SHARED
from contest.results.reliability import agreement, positions, round_reliability
from contest.results.sheet import Mark, RankingMethod, Sheet, SheetCriterion, TallySettings, TieBreak
from contest.results.tally import place_order, tally

ONE_CRITERION = (SheetCriterion("1", "Overall", 1.0, 0.0, 10.0),)


def score_sheet(table: dict[str, dict[str, float]], **settings) -> Sheet:
    """``table[judge][entry] = score`` on one criterion 0..10."""
    marks = tuple(Mark(e, j, values=(v,)) for j, row in table.items() for e, v in row.items())
    entries = tuple(sorted({m.entry for m in marks}))
    return Sheet(1, "score", entries, marks, ONE_CRITERION, TallySettings(**settings))


def ranking_sheet(table: dict[str, list[str]]) -> Sheet:
    """``table[judge] = entries from the best``."""
    marks = tuple(Mark(e, j, rank=r) for j, order in table.items() for r, e in enumerate(order, start=1))
    return Sheet(2, "ranking", tuple(sorted({m.entry for m in marks})), marks)


def yes_no_sheet(table: dict[str, dict[str, bool]]) -> Sheet:
    marks = tuple(Mark(e, j, verdict=v) for j, row in table.items() for e, v in row.items())
    return Sheet(3, "yes_no", tuple(sorted({m.entry for m in marks})), marks)


# --- Agreement -------------------------------------------------------------------------------


def test_average_ranks_match_scipy():
    values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0]
    assert average_ranks(values).tolist() == stats.rankdata(values).tolist()


def test_kendall_w_siegel_example():
    """Siegel (1956): three judges rank six applicants, S = 25.5, W = 12 S / (m² (n³ - n)) = 0.162."""
    sheet = ranking_sheet(
        {
            "A": ["a", "d", "c", "f", "e", "b"],  # ranks a1 b6 c3 d2 e5 f4
            "B": ["a", "e", "f", "d", "b", "c"],  # ranks a1 b5 c6 d4 e2 f3
            "C": ["f", "c", "b", "e", "d", "a"],  # ranks a6 b3 c2 d5 e4 f1
        }
    )
    result = agreement(tally_core.mark_arrays(sheet))
    assert result.measure is Measure.kendall_w
    assert result.value == pytest.approx(12 * 25.5 / (9 * (6**3 - 6)))
    assert result.value == pytest.approx(0.162, abs=5e-4)
    assert (result.entries, result.judges, result.band) == (6, 3, Band.poor)


def test_kendall_w_with_ties_equals_friedman_corrected():
    """With tied ranks, W = Friedman's tie-corrected chi² / (m (n - 1)) (SciPy's friedmanchisquare)."""
    ranks = np.array([[1, 2, 2, 4, 5], [1, 3, 2, 5, 4], [2, 1, 3, 3, 5], [1, 2, 4, 3, 5]], dtype=float)
    chi2 = stats.friedmanchisquare(*ranks.T).statistic
    m, n = ranks.shape
    assert kendall_w(ranks) == pytest.approx(chi2 / (m * (n - 1)))
    assert kendall_w(np.array([[1, 2, 3], [1, 2, 3]], dtype=float)) == pytest.approx(1.0)


def test_kendall_w_on_the_entries_every_judge_ranked():
    """Judges who each ranked only some entries: W on the entries all of them ranked, re-ranked."""
    sheet = ranking_sheet({"A": ["a", "b", "c", "x"], "B": ["y", "a", "b", "c"], "C": ["a", "z", "b", "c"]})
    result = agreement(tally_core.mark_arrays(sheet))
    assert (result.value, result.entries, result.band) == (pytest.approx(1.0), 3, Band.excellent)
    apart = agreement(tally_core.mark_arrays(ranking_sheet({"A": ["a", "b"], "B": ["c", "d"]})))
    assert (apart.value, apart.undefined) == (None, Undefined.no_common_entries)
    alone = agreement(tally_core.mark_arrays(ranking_sheet({"A": ["a", "b"]})))
    assert (alone.value, alone.undefined) == (None, Undefined.few_judges)


def test_icc_shrout_fleiss_table():
    """Shrout & Fleiss (1979), Table 2: six targets, four judges; ICC(1,1) = .17, ICC(1,k) = .44."""
    data = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    sheet = score_sheet({j: {f"t{t}": row[i] for t, row in enumerate(data)} for i, j in enumerate("ABCD")})
    result = agreement(tally_core.mark_arrays(sheet))
    assert result.measure is Measure.icc
    assert round(result.value, 2) == 0.17
    assert round(result.average, 2) == 0.44
    assert (result.k0, result.entries, result.judges, result.band) == (pytest.approx(4), 6, 4, Band.poor)


def one_way_icc_by_hand(groups: list[list[float]]) -> tuple[float, float]:
    """ICC(1) and ICC(k0) from the one-way ANOVA's mean squares, written out plainly."""
    everything = [y for g in groups for y in g]
    grand = sum(everything) / len(everything)
    a, n = len(groups), len(everything)
    ssb = sum(len(g) * (sum(g) / len(g) - grand) ** 2 for g in groups)
    ssw = sum((y - sum(g) / len(g)) ** 2 for g in groups for y in g)
    msb, msw = ssb / (a - 1), ssw / (n - a)
    k0 = (n - sum(len(g) ** 2 for g in groups) / n) / (a - 1)
    return (msb - msw) / (msb + (k0 - 1) * msw), (msb - msw) / msb


def test_icc_unbalanced_matches_the_anova_by_hand():
    """Each entry scored by its own subset of judges, two to five of them."""
    rng = random.Random(7)
    judges = "ABCDEFGH"
    table: dict[str, dict[str, float]] = {j: {} for j in judges}
    groups = []
    for e in range(40):
        quality = rng.uniform(2, 8)
        group = []
        for j in rng.sample(judges, rng.randint(2, 5)):
            table[j][f"e{e:02}"] = round(min(10, max(0, quality + rng.gauss(0, 1.5))), 1)
            group.append(table[j][f"e{e:02}"])
        groups.append(group)
    result = agreement(tally_core.mark_arrays(score_sheet(table)))
    single, average = one_way_icc_by_hand(groups)
    assert result.value == pytest.approx(single)
    assert result.average == pytest.approx(average)
    assert 2 < result.k0 < 5
    assert result.band in (Band.moderate, Band.good, Band.excellent)


def test_icc_of_a_normalised_round_reads_the_normalised_totals():
    """Lenient and harsh judges: the round's normalisation puts them on one footing, and so does
    its agreement (the totals an entry's figure is made of)."""
    table = quality_table("ABCD", 20)
    table["A"] = {e: min(10.0, v + 2) for e, v in table["A"].items()}
    table["B"] = {e: max(0.0, v - 2) for e, v in table["B"].items()}
    raw = reliability_of(score_sheet(table)).agreement
    normalised = reliability_of(score_sheet(table, normalise=True)).agreement
    assert (raw.normalised, normalised.normalised) == (False, True)
    arrays = tally_core.mark_arrays(score_sheet(table))
    by_entry: dict[int, list[float]] = {}
    for e, v in zip(arrays.entry, tally_core.normalised_totals(arrays), strict=True):
        by_entry.setdefault(int(e), []).append(float(v))
    assert normalised.value == pytest.approx(one_way_icc_by_hand(list(by_entry.values()))[0])
    assert normalised.value > raw.value + 0.1


WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_wikipedia_example():
    """Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories: 0.210."""
    assert fleiss_kappa(np.array(WIKIPEDIA_FLEISS)) == pytest.approx(0.2099, abs=1e-4)


def test_yes_no_agreement_is_fleiss_kappa_of_the_yes_and_no_counts():
    table = {
        "A": {"a": True, "b": True, "c": False, "d": False, "e": True, "f": False},
        "B": {"a": True, "b": False, "c": False, "d": False, "e": True, "f": True},
        "C": {"a": True, "b": True, "c": False, "d": True, "e": True, "f": False, "g": True},
    }
    result = agreement(tally_core.mark_arrays(yes_no_sheet(table)))
    counts = [[3, 0], [2, 1], [0, 3], [1, 2], [3, 0], [1, 2]]  # entry g has one judge: left out
    assert result.measure is Measure.fleiss_kappa
    assert result.value == pytest.approx(fleiss_kappa(np.array(counts)))
    assert (result.entries, result.judges) == (6, 3)
    agreed = agreement(
        tally_core.mark_arrays(yes_no_sheet({"A": {"a": True, "b": False}, "B": {"a": True, "b": False}}))
    )
    assert (agreed.value, agreed.band) == (pytest.approx(1.0), Band.excellent)


# --- Judges ----------------------------------------------------------------------------------


def quality_table(judges: str, entries: int, seed: int = 3) -> dict[str, dict[str, float]]:
    """Every judge scores every entry near its quality (0.5 steps, a little noise)."""
    rng = random.Random(seed)
    quality = {f"e{e:02}": rng.uniform(2, 8) for e in range(entries)}
    return {j: {e: round(2 * (q + rng.gauss(0, 0.6))) / 2 for e, q in quality.items()} for j in judges}


def reliability_of(sheet: Sheet, **options):
    return round_reliability(sheet, tally(sheet), **options)


def test_a_judge_who_scores_the_reverse_of_the_others_stands_apart():
    table = quality_table("ABC", 12)
    table["D"] = {e: 10 - v for e, v in table["A"].items()}
    result = reliability_of(score_sheet(table))
    by_judge = {j.judge: j for j in result.judges}
    assert result.apart == ("D",)
    assert by_judge["D"].apart_correlation
    codes = sorted(table["A"])
    others = [np.mean([table[j][e] for j in "ABC"]) for e in codes]
    expected = stats.pearsonr([table["D"][e] for e in codes], others).statistic
    assert by_judge["D"].correlation == pytest.approx(expected)
    assert by_judge["D"].correlation < -0.5
    assert (by_judge["D"].marks, by_judge["D"].shared) == (12, 12)
    assert by_judge["A"].mean == pytest.approx(np.mean(list(table["A"].values())))
    assert by_judge["A"].sd == pytest.approx(np.std(list(table["A"].values()), ddof=1))
    assert by_judge["A"].correlation > 0.5  # its consensus holds D, the reverse of A


def test_a_reverse_judge_on_too_few_entries_is_not_marked_on_correlation():
    table = quality_table("ABC", APART_MIN_SHARED - 1)
    table["D"] = {e: 10 - v for e, v in table["A"].items()}
    by_judge = {j.judge: j for j in reliability_of(score_sheet(table)).judges}
    assert by_judge["D"].correlation < 0
    assert not by_judge["D"].apart_correlation


def test_a_lenient_judge_stands_apart_by_their_mean():
    table = quality_table("ABCDEF", 12)
    table["G"] = {e: min(10.0, v + 3) for e, v in table["A"].items()}
    result = reliability_of(score_sheet(table))
    by_judge = {j.judge: j for j in result.judges}
    assert result.apart == ("G",)
    assert by_judge["G"].apart_mean and not by_judge["G"].apart_correlation


def test_yes_no_judges_mean_is_their_yes_share():
    sheet = yes_no_sheet({"A": {"a": True, "b": True, "c": False, "d": True}, "B": {"a": True, "b": False}})
    by_judge = {j.judge: j for j in reliability_of(sheet).judges}
    assert (by_judge["A"].mean, by_judge["A"].sd, by_judge["B"].mean) == (0.75, None, 0.5)
    assert (by_judge["A"].shared, by_judge["B"].shared) == (2, 2)


def test_ranking_judges_correlation_is_spearman_with_the_others_positions():
    rng = random.Random(5)
    entries = [f"e{i:02}" for i in range(12)]
    table = {}
    for j in "ABCD":
        noisy = sorted(entries, key=lambda e: int(e[1:]) + rng.gauss(0, 3))
        table[j] = noisy
    table["E"] = list(reversed(table["A"]))
    sheet = ranking_sheet(table)
    result = reliability_of(sheet)
    by_judge = {j.judge: j for j in result.judges}
    arrays = tally_core.mark_arrays(sheet)
    position = positions(arrays)
    where = {
        (arrays.judges[j], arrays.codes[e]): p
        for j, e, p in zip(arrays.judge, arrays.entry, position, strict=True)
    }
    own = [where[("E", e)] for e in entries]
    others = [np.mean([where[(j, e)] for j in "ABCD"]) for e in entries]
    assert by_judge["E"].correlation == pytest.approx(stats.spearmanr(own, others).statistic)
    assert (by_judge["E"].mean, by_judge["E"].sd) == (None, None)
    assert result.apart == ("E",)


# --- Stability -------------------------------------------------------------------------------


def test_a_clear_winner_holds_in_every_resample_and_without_any_judge():
    table = quality_table("ABCDE", 15)
    for row in table.values():
        row["winner"] = 10.0
    result = reliability_of(score_sheet(table), places=3, resamples=100, seed=1)
    first = result.stability.places[0]
    assert (first.place, first.entry, first.holds, first.in_top, first.changed_by) == (
        1,
        "winner",
        1.0,
        1.0,
        (),
    )
    assert (result.stability.resamples, result.stability.seed, result.stability.judges) == (100, 1, 5)
    assert len(result.stability.places) == 3


def coin_flip_sheet() -> Sheet:
    """21 judges: 11 put "y" just above "x", 10 the reverse; the other entries far below."""
    judges = [f"J{n:02}" for n in range(21)]
    table = {j: {"x": 8.0 if n < 11 else 9.0, "y": 9.0 if n < 11 else 8.0} for n, j in enumerate(judges)}
    for n, j in enumerate(judges):
        table[j].update({f"low{k}": 1.0 + k + (n % 3) * 0.5 for k in range(4)})
    return score_sheet(table)


def test_a_coin_flip_pair_holds_about_as_often_as_the_binomial_says():
    """y keeps 1st place when more of its 11 supporters than of x's 10 are drawn: P(Bin(21, 11/21) >= 11)."""
    sheet = coin_flip_sheet()
    result = reliability_of(sheet, places=2, resamples=400, seed=16)
    first, second = result.stability.places
    assert (first.entry, second.entry) == ("y", "x")
    expected = stats.binom.sf(10, 21, 11 / 21)  # ~0.58
    assert first.holds == pytest.approx(expected, abs=0.08)
    assert second.holds == first.holds  # the pair swaps or does not
    assert first.in_top == second.in_top == 1.0
    # Without any of y's 11 supporters the pair ties, and the code rule gives 1st place to x.
    supporters = tuple(f"J{n:02}" for n in range(11))
    assert first.changed_by == second.changed_by == supporters


def test_same_seed_same_result_and_the_seed_defaults_to_the_round():
    sheet = coin_flip_sheet()
    once = reliability_of(sheet, places=4, resamples=60, seed=99)
    again = reliability_of(sheet, places=4, resamples=60, seed=99)
    other = reliability_of(sheet, places=4, resamples=60, seed=100)
    assert once == again
    assert once.stability.places[0].holds != other.stability.places[0].holds
    assert reliability_of(sheet, resamples=5).stability.seed == sheet.round_id


def test_stability_reads_the_tally_settings():
    """A harsh judge who alone scored an entry: normalisation lifts it; the stability follows the
    normalised tally (the rule of tally_core), not the raw one."""
    table = quality_table("ABCD", 10)
    table["E"] = {e: max(0.0, v - 3) for e, v in table["A"].items()}
    table["E"]["solo"] = 6.0
    raw = reliability_of(score_sheet(table), places=1, resamples=20, seed=2)
    normalised = reliability_of(score_sheet(table, normalise=True), places=1, resamples=20, seed=2)
    assert raw.stability.places[0].entry != "solo"
    assert normalised.stability.places[0].entry == "solo"
    assert normalised.stability.places[0].changed_by == ("E",)


def test_every_kind_gives_a_reliability():
    ranking = reliability_of(
        ranking_sheet({"A": ["a", "b", "c"], "B": ["a", "c", "b"], "C": ["a", "b", "c"]})
    )
    assert ranking.agreement.measure is Measure.kendall_w
    assert ranking.stability.places[0].entry == "a"
    yes_no = reliability_of(yes_no_sheet({"A": {"a": True, "b": False}, "B": {"a": True, "b": True}}))
    assert yes_no.agreement.measure is Measure.fleiss_kappa
    assert [p.entry for p in yes_no.stability.places] == ["a", "b"]
    empty = reliability_of(Sheet(9, "score", ("a",), (), ONE_CRITERION))
    assert (empty.agreement.undefined, empty.judges, empty.stability.places) == (Undefined.few_judges, (), ())


@pytest.mark.parametrize(
    "rules",
    [
        (TieBreak.median, TieBreak.firsts, TieBreak.code),
        (TieBreak.lowest_spread, TieBreak.code),
        (TieBreak.firsts, TieBreak.median, TieBreak.lowest_spread, TieBreak.code),
    ],
)
def test_the_top_places_are_the_first_places_of_the_whole_order(rules):
    """place_order(top=n), what the stability analysis re-runs, orders the top exactly as the
    tally does, ties at the boundary included (whole-number scores: many equal figures)."""
    rng = random.Random(11)
    table = {
        j: {f"e{e:03}": float(rng.randint(5, 10)) for e in range(200) if rng.random() < 0.4} for j in "ABCDEF"
    }
    sheet = score_sheet(table, tie_break=rules)
    arrays = tally_core.mark_arrays(sheet)
    found = tally_core.figures(arrays, sheet.settings)
    whole, decided = place_order(arrays, found, rules)
    for n in (1, 3, 10, 25):
        top, top_decided = place_order(arrays, found, rules, top=n)
        assert top == whole[:n]
        assert top_decided == {i: decided[i] for i in whole[:n]}
    assert sum(d is not None for d in decided.values()) > 20


# --- The page section ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ("Kendall's W", "Stands apart", "apart: correlation")),
        ("vi", ("Kendall", "Tách biệt", "tách biệt: tương quan")),
    ],
)
def test_the_section_shows_agreement_judges_and_stability(app, locale, words):
    entries = [f"e{i:02}" for i in range(12)]
    table = dict.fromkeys("ABCD", entries)
    table["E"] = list(reversed(entries))
    reliability = reliability_of(ranking_sheet(table), places=3, resamples=20, seed=4)
    with app.test_request_context(), force_locale(locale):
        html = render_template("results/_reliability.html", reliability=reliability)
    for word in words:
        assert word in html
    assert html.count('<tr id="judge-') == 5
    assert "Spread (sd)" not in html and "Mean</th>" not in html  # ranks have no mean
    assert html.count("status status-rejected") == 1  # judge E, on correlation
    assert reliability.agreement.value == pytest.approx(0.36, abs=0.005)  # 4 alike, 1 reversed
    value = "0.36" if locale == "en" else "0,36"  # on the locale's decimals
    assert f'<span class="agreement-value">{value}</span>' in html
    assert "e00" in html and "90 %" in html


def test_the_section_of_a_score_round_shows_each_judges_mean_and_spread(app):
    table = quality_table("ABC", 12)
    table["D"] = {e: 10 - v for e, v in table["A"].items()}
    reliability = reliability_of(score_sheet(table, normalise=True), places=2, resamples=10)
    with app.test_request_context(), force_locale("en"):
        html = render_template("results/_reliability.html", reliability=reliability)
    judge_d = next(j for j in reliability.judges if j.judge == "D")
    assert "Spread (sd)" in html and "Intra-class correlation" in html
    assert "normalised totals" in html
    assert f'<td class="num">{judge_d.mean:.2f}</td>' in html
    assert f'<td class="num">{judge_d.sd:.2f}</td>' in html
    assert html.count('<tr id="judge-') == 4


def test_a_schulze_round_is_resampled_with_schulze():
    rng = random.Random(1)
    entries = [f"e{i}" for i in range(8)]
    table = {j: sorted(entries, key=lambda e: int(e[1:]) + rng.gauss(0, 2)) for j in "ABCDEFG"}
    marks = tuple(Mark(e, j, rank=r) for j, order in table.items() for r, e in enumerate(order, start=1))
    settings = TallySettings(ranking_method=RankingMethod.schulze)
    sheet = Sheet(5, "ranking", tuple(entries), marks, settings=settings)
    result = reliability_of(sheet, places=3, resamples=50)
    assert [p.entry for p in result.stability.places] == [r.entry for r in tally(sheet).rows[:3]]
    assert result.stability.places[0].holds > 0.7
    assert result == reliability_of(sheet, places=3, resamples=50)
