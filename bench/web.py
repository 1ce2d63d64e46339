"""The public site under load: gallery, entry page and votes against the trivial endpoint, with wrk.

Every figure is measured in one run, with ``wrk`` (Debian's, on loopback) against the real
application in gunicorn with 2 sync workers (``gunicorn -w 2 wsgi:app``) on a PostgreSQL
database made for the bench (``contest_bench``, dropped and created again at each phase):

* The small phase: the demo edition with 3,000 approved entries, 1,500 voters and 60,000
  past votes (bench.web_data). After a short warm-up, ``ROUNDS`` rounds of one wrk run per
  page, each with the same settings (``WRK_ARGS``), in this order; a ratio is the median
  over the rounds of the page's requests per second over /healthz's in the same round
  (interleaved, the two see the same background load), latencies are medians too:

  - ``GET /healthz`` (the trivial endpoint: the denominator of every ratio);
  - the gallery: a fixed mix of 1,000 URLs drawn from what visitors do (random order page 1
    most of all, further pages, newest and most voted, category and place filters, searches
    by title word, author name and entry code), each request with the session cookie of one
    of 200 visitors, so a visitor's random order (a seed kept in their session) is stable
    as it is in a browser; the gallery's caches are on (contest.gallery.cache: a page lives as
    long as its cards, 5 minutes here, unless the contest's public version moves on; its vote
    counts are filled in from a copy read again every GALLERY_CACHE_S, 15 s);
  - the home page (``/``), same visitors, kept like the gallery's pages (home_rps_ratio);
    then, once, what a phone downloads for its first screen (bench.home: home_first_view_kb);
  - an entry page (``/e/<code>``) over all entries, same visitors (reported, no target);
  - votes: ``POST /e/<code>/vote`` (``Accept: application/json``) as 400 verified voters
    (plain entrants, authors of no entry) logged in beforehand through the real login form
    (their session cookies and CSRF tokens are written into the Lua script; CSRF protection
    stays on), each request a random voter
    and a random entry with the entry page's signed view token, so nearly every vote is a new
    insert; an "already voted" answer (409) is a valid answer, counted apart.

  After the vote run gunicorn is stopped (its workers finish what they hold), then the
  votes cast during the phase are counted in the database and compared with the 200 answers gunicorn's
  access log shows (wrk itself never sees the answers still in flight when it stops), and
  the entries' and monthly counters with the valid votes: ``vote_count_consistent``.
  Then the same rounds of /healthz and votes on a second server with VOTE_ASYNC_COMMIT on
  (votes commit without waiting for the disk; the organizers' option, off by default):
  ``vote_rps_ratio_async_commit``, ``vote_p99_ms_async_commit``, ``vote_count_consistent_async_commit``.

* The large phase (bench.web_large): 100,000 approved entries and 2,000,000 votes, the
  gallery's rounds while votes flow, the audience tally's first and median runs, and checks
  that read what the application counted.

wrk keeps its 16 connections busy (a closed loop): once the 2 workers are saturated, a
request's latency is mostly its wait in the queue, about 16 / (requests per second).

The server runs as production does (bench.web_site.server_env): CONTEST_ENV=production with
its own SECRET_KEY, media on S3 (a moto server on loopback, every card's URLs signed, the
renditions' objects present: bench.web_media, ``media_urls_ok``), the pages that the web
processes share in Redis (PAGE_CACHE_URL, database 5 of the local Redis) and the rate limits
counted in Redis (RATELIMIT_STORAGE_URI, database 6), both emptied at each phase; the limits
have raised figures (VOTE_RATE_LIMIT, VOTE_RATE_LIMIT_PER_ADDRESS, LOGIN_RATE_LIMIT), so they
never refuse the bench but their cost is in every vote. Also BOT_CHECK=none, JOB_DISPATCH=off.

``python -m bench.web`` runs it alone; ``python -m bench.web small`` runs one phase, and
``BENCH_WEB_PAGES=gallery,entry`` limits the small phase to those pages (with /healthz, same
settings), for a quick check of one page while working on it.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.home import PIXEL_RATIO
from bench.home import first_view as home_first_view
from bench.web_data import Loaded, Shape, counts_consistent
from bench.web_large import LARGE, TALLY_ROUNDS, VOTES_PER_S, large_phase
from bench.web_media import OBJECT_ENTRIES, check_media_urls
from bench.web_site import (
    GALLERY_URLS,
    ROUNDS,
    VISITORS,
    VOTERS_LOGGED_IN,
    WORKERS,
    Server,
    answered_votes,
    data_set,
    drop_database,
    entry_paths,
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
)

SMALL = Shape(entries=3_000, authors=1_000, voters=1_500, votes=60_000)

REPORT = f"""
Public site (bench/web.py): wrk -t2 -c16 -d10s for every page, on loopback, against gunicorn
-w {WORKERS} (sync workers) on PostgreSQL, configured as production (CONTEST_ENV=production):
rate limits counted in Redis (raised figures), media on S3 (moto on loopback; every card's
URLs signed; the objects of the first {OBJECT_ENTRIES:,} entries present, media_urls_ok: every media URL
of the first entries' pages answers with the file), pages shared by the two workers through
Redis (PAGE_CACHE_URL). A ratio is the median over {ROUNDS} interleaved rounds of the
page's requests per second over GET /healthz's in the same round; latencies are the medians
of the rounds' percentiles (a closed loop: at saturation, latency is about 16 / rps).
Gallery: a fixed mix of {GALLERY_URLS:,} URLs (first pages in random order most, further pages,
newest, most voted, category and place filters, searches) with the session cookies of {VISITORS}
visitors. Home: GET / with the same cookies; home_first_view_kb: the bytes headless Chromium
at 390x844 (pixel ratio {PIXEL_RATIO}, empty cache) receives until the home page's load event (HTML,
CSS, JavaScript, images from S3; bench/home.py). Votes: {VOTERS_LOGGED_IN} verified voters (entrants,
authors of no entry) logged in through the login form, CSRF on, a random (voter, entry) per
request, JSON answers.
*_async_commit: the votes again on a server with VOTE_ASYNC_COMMIT=1 (off by default).
Small data: {SMALL.entries:,} approved entries, {SMALL.votes:,} votes. Large data: {LARGE.entries:,} approved entries
(3 categories, 21 places), {LARGE.votes:,} votes of {LARGE.voters:,} voters over 2 months (Zipf over
entries), loaded with COPY, "most voted" copy (rank_votes) left for the application to fill;
gallery_*_large measured while votes flow ({VOTES_PER_S} a second asked, one paced connection:
large_votes_per_s_during_gallery). vote_count_consistent, large_counts_consistent: the votes
added in the database equal the 200 answers in gunicorn's access log, and the counters (moved
by the application's votes) equal the valid votes. audience_tally_s_large_first: the tally's
first run on the large set, audience_tally_s_large the median of {TALLY_ROUNDS};
large_tally_consistent: the application's tally agrees with its counters and its ranking.
figures_s_large: every figure of the organizers' dashboard (/admin/figures) computed once on the
large set, the first computation, no cache (target < 1 s).
"""


# --- the phases ------------------------------------------------------------------------------
SMALL_PAGES = ("gallery", "home", "entry", "vote")


def small_pages() -> tuple[str, ...]:
    """The pages of the small phase: all, or those named in BENCH_WEB_PAGES (a quick check)."""
    asked = [name.strip() for name in os.environ.get("BENCH_WEB_PAGES", "").split(",") if name.strip()]
    unknown = set(asked) - set(SMALL_PAGES)
    if unknown:
        raise SystemExit(f"BENCH_WEB_PAGES: unknown page(s) {sorted(unknown)}; known: {SMALL_PAGES}")
    return tuple(name for name in SMALL_PAGES if name in asked) or SMALL_PAGES


def small_phase(tmp: Path) -> dict:
    with data_set(SMALL, tmp) as (url, loaded, env):
        return small_rounds(tmp, env, url, loaded)


def small_rounds(tmp: Path, env: dict, url: str, loaded: Loaded) -> dict:
    pages = small_pages()
    started = datetime.now(UTC)
    with gunicorn(env, tmp, "small") as server:
        cookies = visitor_cookies(server, VISITORS)
        scripts = {"healthz": healthz_script(tmp)}
        if "gallery" in pages:
            scripts["gallery"] = pages_script(tmp, "gallery", gallery_paths(loaded), cookies)
        if "home" in pages:
            scripts["home"] = pages_script(tmp, "home", ["/"], cookies)
        if "entry" in pages:
            scripts["entry"] = pages_script(tmp, "entry", entry_paths(loaded), cookies)
        if "vote" in pages:
            voters = logged_in_voters(server, loaded.voter_emails)
            scripts["vote"] = vote_script(tmp, voters, view_tokens(env, loaded))
        runs = measure_rounds(server, scripts)
        media = check_media_urls(server.base, env, loaded.codes, tmp / "media")
        first_view = home_first_view(server.base) if "home" in pages else {}
    figures = {"healthz_rps": median(runs, "healthz", "rps"), **media, **first_view}
    if "gallery" in pages:
        figures |= {
            "gallery_rps": median(runs, "gallery", "rps"),
            "gallery_rps_ratio": ratio(runs, "gallery"),
            "gallery_p99_ms": median(runs, "gallery", "p99_ms"),
        }
    if "home" in pages:
        figures |= {"home_rps_ratio": ratio(runs, "home"), "home_p99_ms": median(runs, "home", "p99_ms")}
    if "entry" in pages:
        figures |= {
            "entry_page_rps_ratio": ratio(runs, "entry"),
            "entry_page_p99_ms": median(runs, "entry", "p99_ms"),
        }
    if "vote" in pages:
        figures |= vote_figures(runs, server, url, loaded, started)
        figures |= async_commit_figures(tmp, env, url, loaded, scripts["vote"])
    return figures


ASYNC_COMMIT_FIGURES = ("vote_rps_ratio", "vote_p99_ms", "vote_count_consistent")


def async_commit_figures(tmp: Path, env: dict, url: str, loaded: Loaded, script: Path) -> dict:
    """The votes again on a server with VOTE_ASYNC_COMMIT on (the organizers' option,
    contest.db.Database), the same voters (their cookies are signed with the same key)."""
    started = datetime.now(UTC)
    with gunicorn({**env, "VOTE_ASYNC_COMMIT": "1"}, tmp, "small-async-commit") as server:
        runs = measure_rounds(server, {"healthz": healthz_script(tmp), "vote": script})
    found = vote_figures(runs, server, url, loaded, started)
    return {f"{name}_async_commit": found[name] for name in ASYNC_COMMIT_FIGURES}


def vote_figures(
    runs: dict[str, list[dict]], server: Server, url: str, loaded: Loaded, started: datetime
) -> dict:
    answered = answered_votes(server.access_log)
    in_db = votes_since(url, loaded.contest_id, started)
    consistent = in_db == answered["200"] and counts_consistent(libpq(url), loaded.contest_id)
    return {
        "vote_rps": median(runs, "vote", "rps"),
        "vote_rps_ratio": ratio(runs, "vote"),
        "vote_p99_ms": median(runs, "vote", "p99_ms"),
        "vote_ok": sum(int(r["ok"]) for r in runs["vote"]),
        "vote_already_voted": sum(int(r["refused"]) for r in runs["vote"]),
        "votes_cast_in_db": in_db,
        "vote_200_in_access_log": answered["200"],
        "vote_count_consistent": int(consistent),
    }


PHASES = {"small": small_phase, "large": large_phase}


def measure(phases: tuple[str, ...] = tuple(PHASES)) -> dict:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk missing: 'make bench' installs Debian's wrk")
    figures: dict = {}
    try:
        for phase in phases:
            with tempfile.TemporaryDirectory() as tmp:
                figures.update(PHASES[phase](Path(tmp)))
    finally:
        if not os.environ.get("BENCH_KEEP_DB"):
            drop_database()
    return figures


def main() -> None:
    """``python -m bench.web [small|large ...]``: both phases by default."""
    for name, value in measure(tuple(sys.argv[1:]) or tuple(PHASES)).items():
        print(f"{name}={value:.3f}" if isinstance(value, float) else f"{name}={value}")


if __name__ == "__main__":
    main()
