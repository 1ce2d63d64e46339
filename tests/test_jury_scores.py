"""Scores: the scale is the database's rule, one value per criterion whatever the tabs do,
every value given or changed audited, a closed round read-only until reopened with a reason."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contest.audit.models import AuditEvent
from contest.contests.demo import build_demo_contest
from contest.db import make_engine
from contest.jury.errors import JuryRefused
from contest.jury.models import Score
from contest.jury.rounds import close_round, open_round, reopen_round
from contest.jury.scores import Judgement, save_judgement
from tests.jury_support import assignments, build_jury, new_round
from tests.support import migrate, new_database

INSERT_SCORE = text(
    "INSERT INTO scores (round_id, assignment_id, criterion_id, max_steps, steps, updated_at)"
    " VALUES (:round_id, :assignment_id, :criterion_id, :max_steps, :steps, CURRENT_TIMESTAMP)"
)


@pytest.fixture
def jury(db, contest):
    return build_jury(db, contest, judges=3, entries_each=1)


@pytest.fixture
def scoring(db, jury):
    """An open score round, its first assignment and its first criterion (0 to 10 by 0.5)."""
    round_ = new_round(db, jury, quorum=2)
    open_round(db, round_, actor_id=None)
    db.commit()
    return round_, assignments(db, round_)[0], round_.criteria[0]


def raw_score(db, round_, assignment, criterion, **overrides) -> None:
    values = {
        "round_id": round_.id,
        "assignment_id": assignment.id,
        "criterion_id": criterion.id,
        "max_steps": criterion.max_steps,
        "steps": 0,
    }
    with db.begin_nested():
        db.execute(INSERT_SCORE, {**values, **overrides})


def score_events(db) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action.like("score.%")).order_by(AuditEvent.id)
    return list(db.scalars(query))


def test_the_database_refuses_a_score_off_the_scale(db, jury, scoring):
    round_, assignment, criterion = scoring
    assert criterion.max_steps == 20
    for bad in ({"steps": 21}, {"steps": -1}, {"steps": 21, "max_steps": 21}, {"steps": 5, "max_steps": 10}):
        with pytest.raises(IntegrityError):
            raw_score(db, round_, assignment, criterion, **bad)
    other_round = new_round(db, jury, name_en="Other")
    with pytest.raises(IntegrityError):  # a criterion of another round
        raw_score(db, round_, assignment, other_round.criteria[0])
    raw_score(db, round_, assignment, criterion, steps=20)
    assert db.scalar(select(Score.steps).where(Score.assignment_id == assignment.id)) == 20
    with pytest.raises(IntegrityError):  # one value per criterion
        raw_score(db, round_, assignment, criterion, steps=3)


def test_the_service_refuses_a_value_between_steps(db, scoring):
    _, assignment, criterion = scoring
    for value in (7.3, 10.5, -0.5):
        with pytest.raises(JuryRefused):
            save_judgement(db, assignment.id, assignment.judge_id, Judgement(values={criterion.id: value}))
    assert db.scalar(select(Score.id).where(Score.assignment_id == assignment.id)) is None


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_tabs_saving_the_same_score_at_once_keep_one_value_and_both_are_audited(kind, tmp_path):
    """Two real connections save the same criterion at the same moment; each holds its
    transaction open a while, so without the assignment's lock both would insert."""
    databases = new_database(kind, tmp_path)
    engine = make_engine(next(databases))
    try:
        migrate(engine.url.render_as_string(hide_password=False))
        with Session(engine, expire_on_commit=False) as setup:
            _, assignment, criterion = _scoring_round(setup)
        start, errors = threading.Barrier(2), []

        def tab(value: float) -> None:
            try:
                with Session(engine) as session:
                    start.wait()
                    save_judgement(
                        session, assignment.id, assignment.judge_id, Judgement({criterion.id: value})
                    )
                    time.sleep(0.3)
                    session.commit()
            except Exception as exc:  # reported below, with the other tab's outcome
                errors.append(exc)

        tabs = [threading.Thread(target=tab, args=(value,)) for value in (7, 8.5)]
        for thread in tabs:
            thread.start()
        for thread in tabs:
            thread.join(30)
        assert errors == []
        with Session(engine) as check:
            scores = check.scalars(select(Score).where(Score.assignment_id == assignment.id)).all()
            given, changed = score_events(check)
        key = f"criterion_{criterion.id}"
        assert len(scores) == 1 and given.action == "score.given" and changed.action == "score.changed"
        assert changed.details["old"] == given.details["new"]
        assert changed.details["new"] == {key: criterion.value(scores[0].steps)}
    finally:
        engine.dispose()
        next(databases, None)


def _scoring_round(session: Session):
    contest, _ = build_demo_contest(session)
    session.commit()
    jury = build_jury(session, contest, judges=3, entries_each=1)
    round_ = new_round(session, jury, quorum=2)
    open_round(session, round_, actor_id=None)
    session.commit()
    return round_, assignments(session, round_)[0], round_.criteria[0]


def test_a_closed_round_refuses_edits_until_reopened_with_a_reason(db, scoring):
    round_, assignment, criterion = scoring
    save_judgement(db, assignment.id, assignment.judge_id, Judgement(values={criterion.id: 6}))
    close_round(db, round_, actor_id=None)
    db.commit()
    with pytest.raises(JuryRefused):
        save_judgement(db, assignment.id, assignment.judge_id, Judgement(values={criterion.id: 9}))
    with pytest.raises(JuryRefused):
        reopen_round(db, round_, "   ", actor_id=None)
    reopen_round(db, round_, "Một giám khảo chấm nhầm", actor_id=None)
    save_judgement(db, assignment.id, assignment.judge_id, Judgement(values={criterion.id: 9}))

    db.expire_all()
    assert db.scalar(select(Score.steps).where(Score.assignment_id == assignment.id)) == 18
    reopened = db.scalar(select(AuditEvent).where(AuditEvent.action == "round.reopened"))
    assert reopened.reason == "Một giám khảo chấm nhầm"


def test_only_the_judge_of_an_assignment_saves_it(db, scoring):
    round_, assignment, criterion = scoring
    someone_else = next(a.judge_id for a in assignments(db, round_) if a.judge_id != assignment.judge_id)
    with pytest.raises(JuryRefused):
        save_judgement(db, assignment.id, someone_else, Judgement(values={criterion.id: 5}))
