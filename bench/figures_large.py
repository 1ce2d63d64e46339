"""``figures_s_large``: every figure of the organizers' dashboard at once, first computation.

Run in this process on the large phase's data (100,000 entries, 2,000,000 votes), as the page
computes them (contest.figures.services.all_figures), with no cache in front.
"""

from __future__ import annotations

import time


def figures_s(app) -> dict:
    from contest.contests.models import current_contest
    from contest.extensions import db
    from contest.figures.services import all_figures

    with app.test_request_context(headers={"Accept-Language": "vi"}):
        contest = current_contest(db.session)
        started = time.perf_counter()
        figures = all_figures(db.session, contest)
        seconds = time.perf_counter() - started
        votes = sum(row[1] for row in next(f for f in figures if f.key == "votes-per-day").rows)
    app.extensions["db"].engine.dispose()
    if not votes:
        raise SystemExit("the figures counted no vote")
    return {"figures_s_large": seconds, "figures_votes_counted_large": votes}


if __name__ == "__main__":  # on an already loaded database: python -m bench.figures_large URL
    import sys

    from contest import create_app
    from tests.support import make_test_config

    print(figures_s(create_app(make_test_config(__import__("pathlib").Path("/tmp"), sys.argv[1]))))
