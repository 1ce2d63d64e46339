"""``vote_cases_s_large``: the vote review run over the large phase's votes (2,000,000), and the
case pages that read its stored result (``vote_cases_page_s_large``, the slowest of the list
and a case page).

The run examines the window the organizers' button does (contest.voting.review_runs: the
last VOTE_REVIEW_DAYS days up to the latest vote), every rule, and stores the cases.
"""

from __future__ import annotations

import time

BASE = "https://127.0.0.1"  # production's session cookie is sent over HTTPS only


def vote_cases_s(app) -> dict:
    from contest.auth import sessions
    from contest.auth.models import Role, User
    from contest.contests.models import current_contest
    from contest.extensions import db
    from contest.voting import review_runs

    with app.app_context():
        contest = current_contest(db.session)
        started = time.perf_counter()
        run = review_runs.run_review(db.session, contest.id)
        db.session.commit()
        seconds = time.perf_counter() - started
        cases = review_runs.run_cases(run)
        organizer = db.session.query(User).filter(User.role == Role.organizer).first()
        login_id = sessions.begin(db.session, organizer, remember=False, user_agent="bench")
        db.session.commit()
        contest_id, cookie_id = contest.id, f"{organizer.id}:{login_id}"
    client = app.test_client()
    with client.session_transaction(
        base_url=BASE
    ) as session:  # logged in as the organizer (a login of its own)
        session["_user_id"] = cookie_id
        session["_fresh"] = True
    # The process's first page (templates compiled, translations read) is timed apart.
    first = _timed(client, f"/admin/votes?contest={contest_id}")
    pages = [f"/admin/votes/cases?contest={contest_id}"]
    if cases:
        pages.append(f"/admin/votes/cases/{cases[0].id}?contest={contest_id}")
    page_s = max(_timed(client, path) for path in pages)
    app.extensions["db"].engine.dispose()
    return {
        "vote_cases_s_large": seconds,
        "vote_cases_found_large": len(cases),
        "vote_cases_page_s_large": page_s,
        "vote_cases_first_page_s_large": first,
    }


def _timed(client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path, base_url=BASE)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    return seconds


if __name__ == "__main__":  # on an already loaded database: python -m bench.vote_cases_large URL
    import sys
    from pathlib import Path

    from contest import create_app
    from tests.support import make_test_config

    print(vote_cases_s(create_app(make_test_config(Path("/tmp"), sys.argv[1]))))
