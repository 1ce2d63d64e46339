"""The public site on a large set, with votes flowing: ``python -m bench.web large``.

100,000 approved entries and 2,000,000 votes from 50,000 voters loaded with COPY
(``large_load_s``; ``rank_votes`` left for the application to fill), then the rounds of
/healthz and the gallery mix (``gallery_p95_ms_large``, ``gallery_rps_ratio_large``) while
votes flow: ``VOTES_PER_S`` a second from the bench's logged-in voters (a paced wrk on one
connection, beside the measured load), so that the "most voted" copy is refreshed as the
gallery's pages ask for it, as on a live site (``large_votes_per_s_during_gallery``).

Then, from the application's own code on the data it counted (its counters, moved by the
votes it took during the run, and its tally):

- ``large_counts_consistent``: the votes added during the phase equal the 200 answers in
  gunicorn's access log, and every entry's and month's counter equals its valid votes;
- ``audience_tally_s_large_first`` and ``audience_tally_s_large``: the first and the median
  of ``TALLY_ROUNDS`` in-process runs of ``category_awards`` + ``monthly_awards``;
- ``large_tally_consistent``: each category's placed entries have, in the tally (which
  counts the votes), the votes of their counter, and the first placed has the most votes of
  the category's public ranking (``live_ranking``, which reads the counters);
- ``figures_s_large``: every figure of the organizers' dashboard computed once, first time
  (bench.figures_large);
- ``vote_cases_s_large``: the vote review run over the last days of the 2,000,000 votes, and
  ``vote_cases_page_s_large``: the case pages reading its stored result (bench.vote_cases_large);
- ``large_rank_votes_stale``: entries whose "most voted" copy differs from their counter
  at the end (those voted for since the last refresh: a few, not the 100,000 left at 0).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.figures_large import figures_s
from bench.vote_cases_large import vote_cases_s
from bench.web_data import Shape, counts_consistent
from bench.web_media import check_media_urls
from bench.web_site import (
    answered_votes,
    bench_app,
    data_set,
    gallery_paths,
    gunicorn,
    healthz_script,
    libpq,
    logged_in_voters,
    measure_rounds,
    median,
    pages_script,
    ratio,
    view_tokens,
    visitor_cookies,
    vote_script,
    votes_since,
    wrk_beside,
)

LARGE = Shape(entries=100_000, authors=30_000, voters=50_000, votes=2_000_000)
VISITORS = 200
TALLY_ROUNDS = 3
VOTES_PER_S = int(os.environ.get("BENCH_LARGE_VOTES_PER_S", "20"))
VOTE_LOAD_MAX_S = 600  # the background votes' own limit: far beyond the rounds (~80 s)


def large_phase(tmp: Path) -> dict:
    with data_set(LARGE, tmp) as (url, loaded, env):
        started = datetime.now(UTC)
        with gunicorn(env, tmp, "large") as server:
            figures = measure_with_votes(server, env, loaded, tmp)
            figures |= check_media_urls(server.base, env, loaded.codes, tmp / "media")
        answered = answered_votes(server.access_log)["200"]
        in_db = votes_since(url, loaded.contest_id, started)
        times, tally_agrees = audience_tally(env)
        figures |= figures_s(bench_app(env))
        figures |= vote_cases_s(bench_app(env))
    return figures | {
        "large_entries": count_rows(url, "entries"),
        "large_votes": count_rows(url, "votes"),
        "large_load_s": loaded.seconds,
        "large_votes_cast": in_db,
        "large_counts_consistent": int(
            in_db == answered and counts_consistent(libpq(url), loaded.contest_id)
        ),
        "audience_tally_s_large_first": times[0],
        "audience_tally_s_large": statistics.median(times),
        "large_tally_consistent": int(tally_agrees),
        "large_rank_votes_stale": count_rows(url, "entries", "rank_votes <> vote_count"),
    }


def measure_with_votes(server, env: dict, loaded, tmp: Path) -> dict:
    """The gallery's rounds against /healthz while paced votes flow beside them."""
    cookies = visitor_cookies(server, VISITORS)
    voters = logged_in_voters(server, loaded.voter_emails)
    votes = vote_script(tmp, voters, view_tokens(env, loaded), pace_ms=round(1000 / VOTES_PER_S))
    scripts = {
        "healthz": healthz_script(tmp),
        "gallery": pages_script(tmp, "gallery-large", gallery_paths(loaded), cookies),
    }
    started = time.perf_counter()
    with wrk_beside(
        server, votes, ("--threads=1", "--connections=1", "--timeout=5s"), VOTE_LOAD_MAX_S
    ) as flow:
        runs = measure_rounds(server, scripts)
    return {
        "gallery_p95_ms_large": median(runs, "gallery", "p95_ms"),
        "gallery_rps_ratio_large": ratio(runs, "gallery"),
        "large_votes_per_s_during_gallery": flow["ok"] / (time.perf_counter() - started),
    }


def audience_tally(env: dict) -> tuple[list[float], bool]:
    """The tally's run times (the first one first), and whether it agrees with the counters."""
    from contest.contests.models import current_contest
    from contest.extensions import db
    from contest.results.audience import category_awards, monthly_awards

    app = bench_app(env)
    times, agrees = [], True
    for _ in range(TALLY_ROUNDS):
        with app.app_context():
            contest = current_contest(db.session)
            started = time.perf_counter()
            awards, months = category_awards(db.session, contest), monthly_awards(db.session, contest)
            times.append(time.perf_counter() - started)
            if not all(award.placed for award in awards) or not months:
                raise SystemExit("the tally found no winner")
            agrees = agrees and tally_agrees_with_counters(db.session, contest, awards)
    app.extensions["db"].engine.dispose()
    return times, agrees


def tally_agrees_with_counters(session, contest, awards) -> bool:
    """The tally (it counts the votes) against the counters the votes moved, as the app reads them."""
    from contest.voting.counts import live_ranking

    for award in awards:
        leader = live_ranking(session, contest, award.category, limit=1)
        if any(placed.votes != placed.entry.vote_count for placed in award.placed):
            return False
        if not leader or leader[0].vote_count != award.placed[0].votes:
            return False
    return True


def count_rows(url: str, table: str, where: str = "true") -> int:
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]
