"""A round's sheet from the database, the raw-score file, and an outsider's recomputation."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from contest.db import now_utc
from contest.entries.models import Entry
from contest.jury.models import JuryMember, RoundEntry, RoundKind
from contest.jury.readout import finished_judgements
from contest.results.prizes import Publication, PublicationState, PublishedRanking
from contest.results.rawfile import BOM, RawFileError, read_sheet, write_sheet
from contest.results.readout import canonical_ranking, pseudonym, ranking_digest, round_sheet
from contest.results.sheet import Mark, RankingMethod, Sheet, SheetCriterion, TallySettings, TieBreak
from contest.results.tally import tally
from tests.results_support import judged_round


def test_pseudonyms_count_like_spreadsheet_columns():
    assert [pseudonym(n) for n in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


def test_round_sheet_holds_every_finished_judgement_under_pseudonyms(db, contest):
    jury, round_ = judged_round(db, contest)
    sheet, names = round_sheet(db, round_.id)
    judgements = list(finished_judgements(db, round_.id))
    assert len(sheet.marks) == len(judgements) > 0
    assert sheet.kind == "score" and [c.weight for c in sheet.criteria] == [2.0, 1.0]
    in_round = db.scalars(
        select(Entry.code)
        .join(RoundEntry, RoundEntry.entry_id == Entry.id)
        .where(RoundEntry.round_id == round_.id)
    )
    assert sheet.entries == tuple(sorted(in_round))
    members = db.scalars(select(JuryMember.judge_id).order_by(JuryMember.id)).all()
    judged = [j for j in members if j in {x.judge_id for x in judgements}]
    assert names == {pseudonym(n): judge_id for n, judge_id in enumerate(judged)}
    by_judge = {(j.entry_code, j.judge_id): j for j in judgements}
    for mark in sheet.marks:
        found = by_judge[(mark.entry, names[mark.judge])]
        assert mark.values == tuple(found.values[c.id] for c in round_.criteria)
        assert mark.at == found.saved_at
    assert not any(judge.email in repr(sheet) for judge in jury.judges)  # nothing but pseudonyms
    assert {m.judge for m in sheet.marks} <= set(names)


@pytest.mark.parametrize("kind", [RoundKind.score, RoundKind.yes_no, RoundKind.ranking])
def test_the_raw_file_gives_back_the_very_sheet(db, contest, kind):
    _, round_ = judged_round(db, contest, kind)
    sheet, _names = round_sheet(db, round_.id)
    text = _file(sheet)
    assert text.startswith(BOM)
    assert read_sheet(io.StringIO(text, newline="")) == sheet
    assert tally(read_sheet(io.StringIO(text, newline=""))).rows == tally(sheet).rows


def test_the_raw_file_keeps_settings_unmarked_entries_and_formula_like_names():
    criteria = (
        SheetCriterion("7", '=HYPERLINK("x")', 1.5, -2.0, 2.0),
        SheetCriterion("8", "'quoted", 1.0, 0.0, 1.0),
    )
    at = datetime(2026, 12, 4, 13, 5, 7, 123456, tzinfo=UTC)
    sheet = Sheet(
        round_id=4,
        kind="score",
        entries=("HNA25-0001", "HNA25-0002", "HNA25-0003"),
        marks=(Mark("HNA25-0002", "A", (-1.5, 0.1), at=at), Mark("HNA25-0001", "AB", (2.0, 1 / 3), at=at)),
        criteria=criteria,
        settings=TallySettings(
            normalise=True,
            trimmed=True,
            ranking_method=RankingMethod.schulze,
            tie_break=(TieBreak.lowest_spread,),
        ),
    )
    text = _file(sheet)
    assert "'=HYPERLINK" in text and "''quoted" in text  # Excel shows it as text
    assert read_sheet(io.StringIO(text, newline="")) == sheet
    assert "\r\n4,HNA25-0003,," in text  # the entry without a mark keeps its place in the ranking


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t.replace("format,happy-nghe-an-raw-scores/1", "format,other"), "not a raw-score file"),
        (lambda t: t.replace("kind,score\r\n", ""), "lacks: kind"),
        (lambda t: t.replace("normalise,no", "normalise,maybe"), "line"),
        (lambda t: t.replace('tie_break,"median,firsts,code"', 'tie_break,"median,oldest"'), "line"),
        (lambda t: t + "4,HNA25-0001,B,abc,\r\n", "could not convert"),
        (lambda t: t + "5,HNA25-0001,B,1.0,\r\n", "round 5"),
        (lambda t: t + "4,HNA25-0001,B\r\n", "cells expected"),
    ],
)
def test_a_malformed_file_is_refused_with_its_reason(damage, message):
    sheet = Sheet(
        4, "score", ("HNA25-0001",), (Mark("HNA25-0001", "A", (1.0,)),), (SheetCriterion("1", "x", 1, 0, 10),)
    )
    with pytest.raises(RawFileError, match=message):
        read_sheet(io.StringIO(damage(_file(sheet)), newline=""))


def test_the_digest_is_of_the_canonical_ranking():
    marks = (Mark("B", "A", (2.0,)), Mark("A", "A", (1.0 / 3,)))
    result = tally(Sheet(1, "score", ("A", "B", "C"), marks, (SheetCriterion("1", "x", 1, 0, 10),)))
    assert canonical_ranking(result) == "1\tB\t2.000000\n2\tA\t0.333333\n3\tC\t-\n"
    import hashlib

    assert ranking_digest(result) == hashlib.sha256(canonical_ranking(result).encode()).hexdigest()


def _file(sheet: Sheet) -> str:
    buffer = io.StringIO(newline="")
    write_sheet(sheet, buffer)
    return buffer.getvalue()


def _write(tmp_path, sheet: Sheet, change=None):
    text = _file(sheet)
    path = tmp_path / "round.csv"
    path.write_bytes((change(text) if change else text).encode("utf-8"))
    return path


def _recompute(app, *args):
    return app.test_cli_runner().invoke(args=["contest", "recompute", *map(str, args)])


def test_recompute_prints_the_database_tally_and_matches_its_digest(app, db, contest, tmp_path):
    _, round_ = judged_round(db, contest)
    sheet, _names = round_sheet(db, round_.id)
    expected = tally(sheet)
    result = _recompute(app, _write(tmp_path, sheet), "--digest", ranking_digest(expected).upper())
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for row in expected.rows:
        assert f"{row.place:>6}  {row.entry:<16} {row.figure:.6f}" in lines
    assert f"digest: {ranking_digest(expected)}" in lines
    assert lines[-1] == "matches the digest given"


def test_recompute_refuses_a_tampered_file(app, db, contest, tmp_path):
    _, round_ = judged_round(db, contest)
    sheet, _names = round_sheet(db, round_.id)
    digest = ranking_digest(tally(sheet))
    mark = sheet.marks[0]
    row = f"{round_.id},{mark.entry},{mark.judge},{mark.values[0]!r},"
    tampered = _write(
        tmp_path,
        sheet,
        lambda t: t.replace(row, f"{round_.id},{mark.entry},{mark.judge},{mark.values[0] + 0.5!r},", 1),
    )
    assert tampered.read_text(encoding="utf-8") != _file(sheet)
    result = _recompute(app, tampered, "--digest", digest)
    assert result.exit_code == 1
    assert f"does not match the digest given ({digest})" in result.output


def test_recompute_checks_the_published_digest_once_results_are_published(app, db, contest, tmp_path):
    _, round_ = judged_round(db, contest)
    sheet, _names = round_sheet(db, round_.id)
    path = _write(tmp_path, sheet)
    assert "no digest to compare with" in _recompute(app, path).output
    now = now_utc()
    db.add(PublishedRanking(round_id=round_.id, contest_id=contest.id, digest=ranking_digest(tally(sheet))))
    publication = Publication(contest_id=contest.id, state=PublicationState.frozen, frozen_at=now)
    db.add(publication)
    db.commit()
    assert "no digest to compare with" in _recompute(app, path).output  # frozen, not yet published
    publication.state, publication.published_at = PublicationState.published, now
    db.commit()
    result = _recompute(app, path)
    assert result.exit_code == 0 and result.output.splitlines()[-1] == "matches the published digest"
    db.get(PublishedRanking, round_.id).digest = "0" * 64
    db.commit()
    assert _recompute(app, path).exit_code == 1


def test_recompute_says_what_is_wrong_with_a_file_that_is_not_one(app, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\xff\xd8\xff\xe0 not a csv")
    result = _recompute(app, path)
    assert result.exit_code == 1 and "Error:" in result.output and "photo.csv" in result.output
    path.write_text("format,happy-nghe-an-raw-scores/1\nround,1\nkind,score\n", encoding="utf-8")
    assert "lacks: settings" in _recompute(app, path).output
