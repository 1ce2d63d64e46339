"""A judge's ranks are unique (the database's rule), each save is the judge's last activity, and
the results read finished judgements through one narrow function (contest.jury.readout)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from contest.entries.models import Entry
from contest.jury.models import Assignment, AssignmentState, RoundKind
from contest.jury.progress import judges_progress
from contest.jury.readout import finished_judgements
from contest.jury.rounds import disqualify, open_round
from contest.jury.scores import Judgement, recuse, save_judgement, save_ranking
from tests.jury_support import assignments, build_jury, new_round
from tests.support import log_in


@pytest.fixture
def jury(db, contest):
    return build_jury(db, contest, judges=3, entries_each=2)


def _open(db, jury, kind: RoundKind, **overrides):
    round_ = new_round(db, jury, kind, **overrides)
    open_round(db, round_, actor_id=None)
    db.commit()
    return round_


def _mine(db, round_, judge_id: int) -> list[Assignment]:
    return [a for a in assignments(db, round_) if a.judge_id == judge_id]


def _check_now(db) -> None:
    """PostgreSQL checks the unique rank at the commit: check it now."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


def test_the_database_refuses_two_entries_of_one_judge_with_the_same_rank(db, jury):
    round_ = _open(db, jury, RoundKind.ranking, quorum=None)
    judge = jury.judges[1]
    first, second, *_ = _mine(db, round_, judge.id)
    set_rank = text("UPDATE assignments SET rank = :rank WHERE id = :id")
    db.execute(set_rank, {"rank": 3, "id": first.id})
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(set_rank, {"rank": 3, "id": second.id})
        _check_now(db)
    other = _mine(db, round_, jury.judges[2].id)[0]
    db.execute(set_rank, {"rank": 3, "id": other.id})  # another judge's rank 3
    _check_now(db)
    assert db.scalar(select(Assignment.rank).where(Assignment.id == other.id)) == 3


def test_a_reorder_rewrites_the_ranks_in_one_transaction(db, jury):
    round_ = _open(db, jury, RoundKind.ranking, quorum=None)
    judge = jury.judges[1]
    ids = [a.id for a in _mine(db, round_, judge.id)]
    save_ranking(db, round_.id, judge.id, ids)
    _check_now(db)
    swapped = [ids[1], ids[0], *reversed(ids[2:])]
    save_ranking(db, round_.id, judge.id, swapped)
    _check_now(db)
    ranks = {a.id: a.rank for a in _mine(db, round_, judge.id)}
    assert [ranks[i] for i in swapped] == list(range(1, len(ids) + 1))


def test_standing_aside_takes_the_entry_out_of_the_judges_order(db, jury):
    round_ = _open(db, jury, RoundKind.ranking, quorum=None)
    judge = jury.judges[1]
    ids = [a.id for a in _mine(db, round_, judge.id)]
    save_ranking(db, round_.id, judge.id, ids)
    recuse(db, ids[0], judge.id, "Tôi quen tác giả")
    # A rank left on an entry taken away (as a conflict's recusal does) leaves the order too.
    db.execute(
        text("UPDATE assignments SET rank = 1, state = 'recused', recusal_reason = 'x' WHERE id = :id"),
        {"id": ids[1]},
    )
    save_ranking(db, round_.id, judge.id, list(reversed(ids[2:])))
    _check_now(db)
    ranks = {a.id: a.rank for a in _mine(db, round_, judge.id)}
    assert (ranks[ids[0]], ranks[ids[1]]) == (None, None)
    assert sorted(ranks[i] for i in ids[2:]) == list(range(1, len(ids) - 1))


def test_each_save_and_recusal_is_the_judges_last_activity(db, jury):
    round_ = _open(db, jury, RoundKind.yes_no)
    judge = jury.judges[1]
    first, second, *_ = _mine(db, round_, judge.id)
    assert _last_activity(db, round_, judge.id) is None  # dealt, not yet at work
    save_judgement(db, first.id, judge.id, Judgement(verdict=True))
    saved = first.updated_at
    assert saved > first.created_at and _last_activity(db, round_, judge.id) == saved
    save_judgement(db, first.id, judge.id, Judgement(verdict=True))  # the same again: still a visit
    assert first.updated_at > saved
    recuse(db, second.id, judge.id, "Tôi quen tác giả")
    db.expire_all()
    assert _last_activity(db, round_, judge.id) == db.get(Assignment, second.id).updated_at


def _last_activity(db, round_, judge_id):
    return next(p.last_activity for p in judges_progress(db, round_) if p.judge.id == judge_id)


def test_finished_judgements_are_what_counts_as_plain_values(db, jury):
    round_ = _open(db, jury, RoundKind.score)
    content, technique = round_.criteria
    held = assignments(db, round_)
    complete, partial, recused, disqualified = held[0], held[1], held[2], None
    disqualified = next(a for a in held[3:] if a.entry_id not in {complete.entry_id, recused.entry_id})
    both = Judgement(values={content.id: 7.5, technique.id: 4})
    save_judgement(db, complete.id, complete.judge_id, both)
    save_judgement(db, partial.id, partial.judge_id, Judgement(values={content.id: 3}))
    save_judgement(db, recused.id, recused.judge_id, both)
    recused.state, recused.recusal_reason = AssignmentState.recused, "Xung đột"
    save_judgement(db, disqualified.id, disqualified.judge_id, both)
    disqualify(db, round_, disqualified.entry_id, "Vi phạm thể lệ", actor_id=jury.organizer.id)
    db.flush()
    found = list(finished_judgements(db, round_.id))
    code = db.scalar(select(Entry.code).where(Entry.id == complete.entry_id))
    assert [(j.entry_code, j.judge_id) for j in found] == [(code, complete.judge_id)]
    (only,) = found
    assert only.values == {content.id: 7.5, technique.id: 4.0}
    assert (only.verdict, only.rank, only.saved_at) == (None, None, complete.updated_at)
    assert list(finished_judgements(db, 0)) == []


def test_the_progress_page_shows_each_judges_last_activity_in_vietnam_time(db, client, jury):
    round_ = _open(db, jury, RoundKind.yes_no)
    judge = jury.judges[1]
    first = _mine(db, round_, judge.id)[0]
    save_judgement(db, first.id, judge.id, Judgement(verdict=True))
    first.updated_at = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # 06:30 on the 5th in Vietnam
    db.commit()
    log_in(client, jury.organizer)
    page = client.get(f"/admin/jury/rounds/{round_.id}").text
    row = re.search(rf'<tr id="judge-{judge.id}".*?</tr>', page, re.S).group(0)
    assert "12/5/26" in row and "6:30" in row
    idle = re.search(rf'<tr id="judge-{jury.judges[2].id}".*?</tr>', page, re.S).group(0)
    assert "\u2013" in idle  # dealt, never at work
