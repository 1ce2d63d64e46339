"""Rounds on the database: opening deals the entries, judges join and leave mid-round,
conflicts, recusals, disqualification, the next round's selection and who may judge."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contest.audit.models import AuditEvent
from contest.auth.policy import can_judge
from contest.jury.errors import JuryRefused
from contest.jury.members import add_judge, declare_conflict, remove_judge
from contest.jury.models import AssignmentState, RoundKind, SourceRule
from contest.jury.rounds import close_round, disqualify, open_round, reopen_round, restore
from contest.jury.scores import Judgement, recuse, save_judgement
from contest.jury.selection import passing, preview
from tests.jury_support import assignments, build_jury, holders, loads, new_round
from tests.support import create_user


@pytest.fixture
def jury(db, contest):
    return build_jury(db, contest)


def audit_actions(db, subject_type: str) -> list[str]:
    query = select(AuditEvent.action).where(AuditEvent.subject_type == subject_type).order_by(AuditEvent.id)
    return list(db.scalars(query))


def score_all(db, round_, judge_id: int, value: float) -> None:
    for a in assignments(db, round_):
        if a.judge_id == judge_id and a.state is AssignmentState.assigned:
            values = {c.id: value if c.position == 0 else 3 for c in round_.criteria}
            save_judgement(db, a.id, judge_id, Judgement(values=values))
    db.commit()


def test_opening_deals_every_entry_to_quorum_judges_never_their_own_or_conflicted(db, jury):
    judge_a, judge_b = jury.judges[:2]
    declare_conflict(db, jury.contest.id, judge_b.id, jury.entrants[0].id, "Anh em họ", actor_id=judge_b.id)
    round_ = new_round(db, jury)
    open_round(db, round_, actor_id=jury.organizer.id)
    db.commit()

    held = holders(db, round_)
    assert set(held) == {e.id for e in jury.entries}
    assert all(len(judges) == 3 for judges in held.values())
    own = next(e for e in jury.entries if e.author_id == judge_a.id)
    assert judge_a.id not in held[own.id]
    conflicted = [e.id for e in jury.entries if e.author_id == jury.entrants[0].id]
    assert all(judge_b.id not in held[e] for e in conflicted)
    counts = loads(db, round_).values()
    assert max(counts) - min(counts) <= 1 and sum(counts) == 3 * len(jury.entries)
    dealt = db.scalar(select(AuditEvent).where(AuditEvent.action == "round.dealt"))
    assert dealt.details["seed"] == round_.seed and dealt.details["added"] == 3 * len(jury.entries)


def test_the_recorded_seed_deals_the_same_again(db, jury):
    first, second = new_round(db, jury), new_round(db, jury, name_en="Again")
    open_round(db, first, actor_id=None)
    open_round(db, second, actor_id=None, seed=first.seed)
    db.commit()
    pairs = [{(a.entry_id, a.judge_id) for a in assignments(db, r)} for r in (first, second)]
    assert second.seed == first.seed and pairs[0] == pairs[1]


def test_a_judge_added_or_removed_mid_round_moves_only_what_is_not_scored(db, jury):
    round_ = new_round(db, jury)
    open_round(db, round_, actor_id=None)
    leaving, staying = jury.judges[1], jury.judges[2]
    score_all(db, round_, leaving.id, 7.5)
    score_all(db, round_, staying.id, 6)
    scored = {(a.entry_id, a.judge_id) for a in assignments(db, round_) if a.scored_at}

    newcomer = create_user(db, "giam.khao.moi@example.com", role=jury.judges[0].role, birth_year=None)
    add_judge(db, jury.contest.id, newcomer, actor_id=jury.organizer.id)
    remove_judge(db, jury.contest.id, jury.judges[3].id, actor_id=jury.organizer.id)
    db.commit()

    after = assignments(db, round_)
    assert scored <= {(a.entry_id, a.judge_id) for a in after if a.scored_at}
    assert loads(db, round_)[newcomer.id] >= 1
    assert jury.judges[3].id not in {a.judge_id for a in after}  # they had scored nothing
    assert all(len(judges) == 3 for judges in holders(db, round_).values())
    remove_judge(db, jury.contest.id, leaving.id, actor_id=None)
    assert scored <= {(a.entry_id, a.judge_id) for a in assignments(db, round_) if a.scored_at}
    assert audit_actions(db, "round").count("round.rebalanced") == 3


def test_a_recused_entry_goes_to_the_least_loaded_judge_who_never_had_it(db, jury):
    round_ = new_round(db, jury, quorum=2)
    open_round(db, round_, actor_id=None)
    mine = next(a for a in assignments(db, round_) if a.judge_id == jury.judges[1].id)
    with pytest.raises(JuryRefused):
        recuse(db, mine.id, jury.judges[1].id, "  ")
    before, old = loads(db, round_), holders(db, round_)[mine.entry_id]
    recuse(db, mine.id, jury.judges[1].id, "Tôi quen tác giả")
    db.commit()

    held = holders(db, round_)[mine.entry_id]
    assert jury.judges[1].id not in held and len(held) == 2
    (newcomer,) = held - old
    author = next(e.author_id for e in jury.entries if e.id == mine.entry_id)
    candidates = {j.id for j in jury.judges} - old - {author}
    assert before[newcomer] == min(before[j] for j in candidates)
    assert "assignment.recused" in audit_actions(db, "assignment")


def test_a_disqualified_entry_leaves_the_selection_and_can_be_restored(db, jury):
    round_ = new_round(db, jury, kind=RoundKind.yes_no, quorum=None)
    open_round(db, round_, actor_id=None)
    for a in assignments(db, round_):
        save_judgement(db, a.id, a.judge_id, Judgement(verdict=True))
    target = jury.entries[0].id
    assert target in passing(db, round_, SourceRule.min_yes, 1)
    with pytest.raises(JuryRefused):
        disqualify(db, round_, target, "", actor_id=jury.organizer.id)
    disqualify(db, round_, target, "Ảnh đã đăng ở cuộc thi khác", actor_id=jury.organizer.id)
    assert target not in passing(db, round_, SourceRule.min_yes, 1)
    restore(db, round_, target, actor_id=jury.organizer.id)
    assert target in passing(db, round_, SourceRule.min_yes, 1)
    assert {"round.entry_disqualified", "round.entry_restored"} <= set(audit_actions(db, "round"))


def test_the_best_entries_go_on_to_a_final_round_with_a_full_panel(db, jury):
    first = new_round(db, jury)
    open_round(db, first, actor_id=None)
    by_entry = {}
    for a in assignments(db, first):
        value = 5 + (jury.entries.index(next(e for e in jury.entries if e.id == a.entry_id)) % 5)
        by_entry[a.entry_id] = value
        save_judgement(
            db,
            a.id,
            a.judge_id,
            Judgement(values={c.id: value if c.position == 0 else 5 for c in first.criteria}),
        )
    close_round(db, first, actor_id=None)

    counts = preview(db, first)
    best = max(by_entry.values())
    expected_best = (best * 2 + 5) / 3
    assert counts[0] == (
        pytest.approx(expected_best, abs=1e-4),
        sum(1 for v in by_entry.values() if v == best),
    )
    assert counts[-1][1] == len(jury.entries)
    top = passing(db, first, SourceRule.top_n, 2)
    assert set(top) == {e for e, v in by_entry.items() if v == best}  # the tie with the 2nd kept

    final = new_round(
        db,
        jury,
        name_en="Final",
        quorum=None,
        source_rule=SourceRule.top_n,
        source_round=first,
        source_threshold=2,
    )
    open_round(db, final, actor_id=None)
    held = holders(db, final)
    assert set(held) == set(top)
    for entry_id, judges in held.items():
        author = next(e.author_id for e in jury.entries if e.id == entry_id)
        assert judges == {j.id for j in jury.judges} - {author}


def test_a_round_reads_only_a_previous_round_of_the_right_kind(db, jury):
    yes_no = new_round(db, jury, kind=RoundKind.yes_no)
    with pytest.raises(JuryRefused):
        new_round(db, jury, source_rule=SourceRule.top_n, source_round=yes_no, source_threshold=10)
    with pytest.raises(JuryRefused):
        new_round(db, jury, source_rule=SourceRule.min_yes, source_round=yes_no, source_threshold=1.5)


def test_can_judge(app, db, jury, judge):
    round_ = new_round(db, jury)
    member, outsider = jury.judges[1], judge
    with app.app_context():
        assert not can_judge(member, round_)  # a draft
        open_round(db, round_, actor_id=None)
        assert can_judge(member, round_) and can_judge(member, round_, reading=True)
        assert not can_judge(outsider, round_) and not can_judge(jury.organizer, round_)
        close_round(db, round_, actor_id=None)
        assert not can_judge(member, round_) and can_judge(member, round_, reading=True)
        reopen_round(db, round_, "Thiếu điểm một bài", actor_id=None)
        remove_judge(db, jury.contest.id, member.id, actor_id=None)
        assert not can_judge(member, round_) and not can_judge(member, round_, reading=True)


def test_a_conflict_declared_mid_round_takes_the_judges_entries_of_that_author_away(db, jury):
    round_ = new_round(db, jury)
    open_round(db, round_, actor_id=None)
    author = jury.entrants[1]
    theirs = {e.id for e in jury.entries if e.author_id == author.id}
    holding = next(j for j in jury.judges if any(j.id in holders(db, round_)[e] for e in theirs))
    declare_conflict(db, jury.contest.id, holding.id, author.id, "Đồng nghiệp", actor_id=jury.organizer.id)
    db.commit()

    held = holders(db, round_)
    assert all(holding.id not in held[e] and len(held[e]) == 3 for e in theirs)
    recused = [a for a in assignments(db, round_) if a.judge_id == holding.id and a.entry_id in theirs]
    assert recused and all(a.recusal_reason == "Đồng nghiệp" for a in recused)
    assert "jury.conflict_declared" in audit_actions(db, "conflict")
