"""Stored vote review runs: the case pages read the last run (and say when it was computed),
a large contest's stale run is shown, not computed again on a page view, and a run looks
only at the votes of its window."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from contest.voting import clusters, review_runs
from contest.voting.models import Vote
from tests import vote_population
from tests.support import create_user, log_in

EN = {"Accept-Language": "en"}


def two_rings(db, contest):
    """Two rings spread over eight networks each: one voting 3 days ago, one an hour ago."""
    author = create_user(db, "author@example.com")
    plan = vote_population.Plan(entries=2)
    rng = random.Random(7)
    vote_population.spread(plan, rng, "early", 8, 0, plan.now - timedelta(days=3))
    vote_population.spread(plan, rng, "late", 8, 1, plan.now - timedelta(hours=1))
    return vote_population.load(db, contest, author, plan)


def rings_in(cases, loaded) -> set[str]:
    return {loaded.ring_of_vote[v] for case in cases for v in case.default_vote_ids}


def test_a_run_looks_only_at_its_window(db, contest):
    loaded = two_rings(db, contest)
    assert rings_in(clusters.detect_cases(db, contest.id), loaded) == {"early", "late"}
    one_day = review_runs.run_review(db, contest.id, days=1)
    latest = db.scalar(select(func.max(Vote.created_at)).where(Vote.contest_id == contest.id))
    assert one_day.since == latest - timedelta(days=1)
    assert rings_in(review_runs.run_cases(one_day), loaded) == {"late"}
    week = review_runs.run_review(db, contest.id, days=7)
    assert rings_in(review_runs.run_cases(week), loaded) == {"early", "late"}
    # The stored run is the contest's only one, and gives back the very cases found.
    assert review_runs.latest_run(db, contest.id).id == week.id
    assert db.scalar(select(func.count()).select_from(review_runs.ReviewRun)) == 1
    assert [c.id for c in review_runs.run_cases(week)] == [
        c.id for c in clusters.detect_cases(db, contest.id)
    ]


def test_the_pages_read_the_stored_run_of_a_large_contest(client, db, contest, organizer, monkeypatch):
    """Past INLINE_VOTES votes a page never runs the rules: it shows the last run, says when it
    ran and that votes changed since; the organizer runs the review again."""
    monkeypatch.setattr(review_runs, "INLINE_VOTES", 0)
    loaded = two_rings(db, contest)
    db.commit()
    log_in(client, organizer)
    page = client.get(f"/admin/votes/cases?contest={contest.id}", headers=EN).text
    assert "The review has not run yet for this contest." in page
    assert "No suspicious votes." in page
    assert review_runs.latest_run(db, contest.id) is None

    ran = client.post(f"/admin/votes/cases/run?contest={contest.id}", headers=EN, follow_redirects=True)
    assert ran.status_code == 200
    assert "2 cases found." in ran.text and "The review ran in" in ran.text
    assert "Cases computed" in ran.text and "run the review again" not in ran.text
    run = review_runs.latest_run(db, contest.id)
    first_state = run.state()
    [late, early] = review_runs.run_cases(run)
    assert rings_in([late], loaded) == {"late"} and rings_in([early], loaded) == {"early"}

    # A vote voided elsewhere: the run is stale; the page shows it as it was, and says so.
    db.execute(
        Vote.__table__.update()
        .where(Vote.id == late.vote_ids[0])
        .values(voided_at=run.computed_at, void_reason="elsewhere")
    )
    db.commit()
    stale = client.get(f"/admin/votes/cases?contest={contest.id}", headers=EN).text
    assert "2 cases found." in stale
    assert "run the review again to see them" in stale
    assert review_runs.latest_run(db, contest.id).id == run.id
    case_page = client.get(f"/admin/votes/cases/{early.id}?contest={contest.id}", headers=EN)
    assert case_page.status_code == 200

    client.post(f"/admin/votes/cases/run?contest={contest.id}", headers=EN)
    fresh = client.get(f"/admin/votes/cases?contest={contest.id}", headers=EN).text
    assert "run the review again to see them" not in fresh
    db.expire_all()
    again = review_runs.latest_run(db, contest.id)
    assert first_state[1] == 0 and again.voided_votes == 1
    assert late.vote_ids[0] not in {v for case in review_runs.run_cases(again) for v in case.vote_ids}


def test_the_command_runs_the_review(app, db, contest):
    """``contest review-votes`` (a scheduled job) stores the run the pages read."""
    loaded = two_rings(db, contest)
    db.commit()
    result = app.test_cli_runner().invoke(args=["contest", "review-votes", "--days", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{contest.slug}: 1 cases in")
    db.expire_all()
    assert rings_in(review_runs.run_cases(review_runs.latest_run(db, contest.id)), loaded) == {"late"}
