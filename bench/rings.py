"""ring_recall and ring_false_positive_votes: the vote review's cases on generated populations.

Each population (tests/vote_population.py, one seed each) holds 300 honest voters (with a
share wave: 30 votes within 10 minutes, 40 % by visitors registering on arrival) and five
rings: a farm behind one carrier network, a smaller one, a ring spread over 15 networks, a
burst on four networks mixed with 4 honest hasty votes, and look-alike accounts voting over
two days. Votes are cast through the real vote path into a migrated SQLite database.

- ``ring_recall``: the share of ring votes that some case voids by default (target >= 0.9);
- ``ring_false_positive_votes``: honest votes that some case voids by default (target 0);
- ``ring_cases_split``: rings whose votes fall into more than one case (target 0).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from sqlalchemy.orm import Session

SEEDS = range(1, 6)

REPORT = """## Vote review on generated rings (bench.rings)

{populations} populations (seeds {seeds}) of 300 honest voters (one share wave of 30 votes in
10 minutes, 40 % by accounts made on arrival) and five rings each (farm of
25 behind one carrier network, farm of 12, 15 accounts over 15 networks, a burst of 22 on
four networks mixed with 4 honest hasty votes, 10 look-alike accounts over two days).

| figure | value | target |
|---|---|---|
| ring_recall (ring votes voided by default) | {ring_recall:.3f} | >= 0.9 |
| ring_false_positive_votes (honest votes voided by default) | {ring_false_positive_votes} | 0 |
| ring_cases_split (rings in more than one case) | {ring_cases_split} | 0 |
| honest votes shown in a case, not selected | {ring_honest_shown} | |
| cases found per population (median; 5 rings) | {ring_cases_median} | |
| detection time per population (s, median; ~{votes} votes) | {ring_detect_s:.3f} | |

Recall by ring: {by_ring}.
"""


def measure(tmp: Path) -> dict:
    from contest.db import make_engine
    from tests.support import migrate

    url = f"sqlite:///{tmp / 'rings.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    try:
        runs = [_one_population(engine, seed) for seed in SEEDS]
    finally:
        engine.dispose()
    caught, total = Counter(), Counter()
    for run in runs:
        caught.update(run["caught_by_ring"])
        total.update(run["votes_by_ring"])
    figures = {
        "ring_recall": sum(caught.values()) / sum(total.values()),
        "ring_false_positive_votes": sum(run["false_positive_votes"] for run in runs),
        "ring_cases_split": sum(run["split"] for run in runs),
    }
    global REPORT
    REPORT = REPORT.format(
        populations=len(runs),
        seeds=", ".join(str(s) for s in SEEDS),
        ring_honest_shown=sum(run["honest_shown"] for run in runs),
        ring_cases_median=sorted(run["cases"] for run in runs)[len(runs) // 2],
        ring_detect_s=sorted(run["seconds"] for run in runs)[len(runs) // 2],
        votes=runs[0]["votes"],
        by_ring=", ".join(f"{ring} {caught[ring] / total[ring]:.2f}" for ring in sorted(total)),
        **figures,
    )
    return figures


def _one_population(engine, seed: int) -> dict:
    """One population loaded in a transaction rolled back afterwards, and its cases scored."""
    from contest.auth.models import User
    from contest.contests.demo import build_demo_contest
    from contest.voting import clusters, review_runs
    from tests import vote_population

    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        contest, _ = build_demo_contest(session)
        author = User(email="author@example.com", full_name="Tác Giả", password_hash="x", birth_year=1990)
        session.add(author)
        session.flush()
        loaded = vote_population.load(session, contest, author, vote_population.population(seed))
        started = time.perf_counter()
        # As a review run looks: the last DEFAULT_DAYS days of votes (all of the population's).
        since = review_runs.window_start(session, contest.id, review_runs.DEFAULT_DAYS)
        cases = clusters.detect_cases(session, contest.id, since=since)
        seconds = time.perf_counter() - started
        session.close()
        outer.rollback()
    score = vote_population.score(cases, loaded.ring_of_vote)
    chosen = {vote for case in cases for vote in case.default_vote_ids}
    shown = {vote for case in cases for vote in case.vote_ids}
    rings = loaded.ring_of_vote
    return {
        "caught_by_ring": Counter(rings[v] for v in chosen if rings.get(v)),
        "votes_by_ring": Counter(ring for ring in rings.values() if ring),
        "false_positive_votes": score.false_positive_votes,
        "honest_shown": sum(1 for v in shown - chosen if not rings.get(v)),
        "split": sum(1 for count in score.cases_per_ring.values() if count > 1),
        "cases": len(cases),
        "seconds": seconds,
        "votes": len(rings),
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, value in measure(Path(tmp)).items():
            print(f"{name}={value}")
        print(REPORT)
