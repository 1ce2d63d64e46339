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
  - an entry page (``/e/<code>``) over all entries, same visitors (reported, no target);
  - votes: ``POST /e/<code>/vote`` (``Accept: application/json``) as 400 verified voters
    logged in beforehand through the real login form (their session cookies and CSRF tokens
    are written into the Lua script; CSRF protection stays on), each request a random voter
    and a random entry with the entry page's signed view token, so nearly every vote is a new
    insert; an "already voted" answer (409) is a valid answer, counted apart.

  After the vote run gunicorn is stopped (its workers finish what they hold), then the
  votes cast during the phase are counted in the database and compared with the 200 answers gunicorn's
  access log shows (wrk itself never sees the answers still in flight when it stops), and
  the entries' and monthly counters with the valid votes: ``vote_count_consistent``.
  Then the same rounds of /healthz and votes on a second server with VOTE_ASYNC_COMMIT on
  (votes commit without waiting for the disk; the organizers' option, off by default):
  ``vote_rps_ratio_async_commit``, ``vote_p99_ms_async_commit``, ``vote_count_consistent_async_commit``.

* The large phase: 100,000 approved entries and 2,000,000 votes from 50,000 voters loaded
  with COPY (``large_load_s``), then the same rounds of /healthz and the gallery mix for
  ``gallery_p95_ms_large`` (and ``gallery_rps_ratio_large``), and
  ``audience_tally_s_large``: the median of 3 in-process runs of
  ``contest.voting.tally.category_awards`` + ``monthly_awards`` on that data.

wrk keeps its 16 connections busy (a closed loop): once the 2 workers are saturated, a
request's latency is mostly its wait in the queue, about 16 / (requests per second).

The server's environment is the application's defaults and: CONTEST_ENV=development,
BOT_CHECK=none, JOB_DISPATCH=off, local storage; the pages that the web processes share go
to production's Redis page cache (PAGE_CACHE_URL, database 5 of the local Redis, emptied at
each phase); rate limits stay on (in memory, the embedded default) with raised figures
(VOTE_RATE_LIMIT, VOTE_RATE_LIMIT_PER_ADDRESS, LOGIN_RATE_LIMIT), so their cost is in every vote.

``python -m bench.web`` runs it alone; ``python -m bench.web small`` runs one phase, and
``BENCH_WEB_PAGES=gallery,entry`` limits the small phase to those pages (with /healthz, same
settings), for a quick check of one page while working on it.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus

import requests
from sqlalchemy import create_engine, text

from bench.upload import free_port, stop_server
from bench.web_data import PASSWORD, Loaded, Shape, counts_consistent, load

ROOT = Path(__file__).resolve().parent.parent
WRK_ARGS = ("--threads=2", "--connections=16", "--duration=10s", "--timeout=5s")
WARM_UP_ARGS = ("--threads=2", "--connections=16", "--duration=2s", "--timeout=5s")
WORKERS = 2
DB_NAME = os.environ.get("BENCH_DB_NAME", "contest_bench")  # another name: runs side by side
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Production's shared page cache (a Redis database of the bench's own: emptied at each phase).
PAGE_CACHE_URL = os.environ.get("BENCH_PAGE_CACHE_URL", "redis://127.0.0.1:6379/5")
SMALL = Shape(entries=3_000, authors=1_000, voters=1_500, votes=60_000)
LARGE = Shape(entries=100_000, authors=30_000, voters=50_000, votes=2_000_000)
VOTERS_LOGGED_IN = 400
VISITORS = 200
GALLERY_URLS = 1_000
TALLY_ROUNDS = 3
ROUNDS = 3  # wrk runs per page, interleaved with /healthz; medians are reported
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')

REPORT = f"""
Public site (bench/web.py): wrk -t2 -c16 -d10s for every page, on loopback, against gunicorn
-w {WORKERS} (sync workers) on PostgreSQL. A ratio is the median over {ROUNDS} interleaved rounds of the
page's requests per second over GET /healthz's in the same round; latencies are the medians
of the rounds' percentiles (a closed loop: at saturation, latency is about 16 / rps).
Gallery: a fixed mix of {GALLERY_URLS:,} URLs (first pages in random order most, further pages,
newest, most voted, category and place filters, searches) with the session cookies of {VISITORS}
visitors. Votes: {VOTERS_LOGGED_IN} verified voters logged in through the login form, CSRF on, a random
(voter, entry) per request, JSON answers; rate limits on with raised figures (in memory).
*_async_commit: the votes again on a server with VOTE_ASYNC_COMMIT=1 (off by default).
Pages kept for anonymous visitors are shared by the two workers through Redis (PAGE_CACHE_URL).
Small data: {SMALL.entries:,} approved entries, {SMALL.votes:,} votes. Large data: {LARGE.entries:,} approved entries
(3 categories, 21 places), {LARGE.votes:,} votes of {LARGE.voters:,} voters over 2 months (Zipf over
entries), loaded with COPY. vote_count_consistent: the votes in the database equal the 200
answers in gunicorn's access log, and the counters equal the valid votes.
"""


# --- the database ----------------------------------------------------------------------------
def recreate_database() -> str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{DB_NAME}"


def empty_page_cache() -> None:
    """No page of an earlier run (or phase) is served from the shared page cache."""
    import redis

    redis.Redis.from_url(PAGE_CACHE_URL).flushdb()


def drop_database() -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
    admin.dispose()


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def prepare(url: str, shape: Shape, tmp: Path) -> Loaded:
    from tests.support import migrate

    migrate(url)
    return load(url, shape, tmp / "media", voters_returned=VOTERS_LOGGED_IN)


# --- the server ------------------------------------------------------------------------------
def server_env(url: str, tmp: Path) -> dict:
    """The server's environment: none of the caller's settings leak in."""
    inherited = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {
        **{name: os.environ[name] for name in inherited if name in os.environ},
        "CONTEST_ENV": "development",
        "CONTEST_INSTANCE": str(tmp),
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-" + "b" * 32,
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(tmp / "media"),
        "BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
        "JOB_DISPATCH": "off",
        "BOT_CHECK": "none",
        "PAGE_CACHE_URL": PAGE_CACHE_URL,
        "RATELIMIT_ENABLED": "1",
        "VOTE_RATE_LIMIT": "100000 per minute",
        "VOTE_RATE_LIMIT_PER_ADDRESS": "1000000 per minute",
        "LOGIN_RATE_LIMIT": "100000 per minute",
    }


def bench_app(env: dict):
    """The application in this process, configured as the server is."""
    from contest import create_app

    keys = (
        "SECRET_KEY",
        "DATABASE_URL",
        "STORAGE_BACKEND",
        "STORAGE_LOCAL_ROOT",
        "BROKER_URL",
        "JOB_DISPATCH",
    )
    return create_app({"INSTANCE_DIR": env["CONTEST_INSTANCE"], **{key: env[key] for key in keys}})


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    access_log: Path
    error_log: Path


@contextmanager
def gunicorn(env: dict, tmp: Path, name: str):
    port = free_port()
    access_log, error_log = tmp / f"{name}-access.log", tmp / f"{name}-error.log"
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        f"--workers={WORKERS}",
        f"--bind=127.0.0.1:{port}",
        f"--access-logfile={access_log}",
        "--access-logformat=%(m)s %(U)s %(s)s",
        f"--error-logfile={error_log}",
        "wsgi:app",
    ]
    with error_log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", access_log, error_log)
    try:
        _wait_ready(server)
        yield server
    finally:
        stop_server(process)


def _wait_ready(server: Server, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{server.error_log.read_text()}")
        try:
            if requests.get(server.base + "/healthz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or its first answer is slow (workers still importing)
        time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer:\n{server.error_log.read_text()}")


# --- wrk -------------------------------------------------------------------------------------
LUA_COMMON = """
local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(tonumber(args[1]) * 1000 + thread_id)
end
function done(summary, latency, requests)
  local e = summary.errors
  local line = string.format(
    "BENCH requests=%d duration_us=%d p50_us=%.0f p95_us=%.0f p99_us=%.0f socket_errors=%d status_errors=%d",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status)
  for _, name in ipairs(COUNTERS) do
    local total = 0
    for _, t in ipairs(threads) do total = total + (t:get(name) or 0) end
    line = line .. string.format(" %s=%d", name, total)
  end
  io.write(line .. "\\n")
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_table(rows: list[tuple[str, ...]]) -> str:
    return "{\n" + ",\n".join("{" + ", ".join(map(lua_string, row)) + "}" for row in rows) + "\n}"


def write_script(tmp: Path, name: str, body: str, counters: tuple[str, ...] = ()) -> Path:
    path = tmp / f"{name}.lua"
    names = ", ".join(map(lua_string, counters))
    path.write_text(f"COUNTERS = {{{names}}}\n{LUA_COMMON}\n{body}\n")
    return path


def healthz_script(tmp: Path) -> Path:
    return write_script(tmp, "healthz", 'wrk.path = "/healthz"')


def pages_script(tmp: Path, name: str, paths: list[str], cookies: list[str]) -> Path:
    """GET a random one of ``paths`` as a random visitor (their session cookie)."""
    body = f"""
paths = {lua_table([(p,) for p in paths])}
cookies = {lua_table([(c,) for c in cookies])}
function request()
  local path = paths[math.random(#paths)][1]
  return wrk.format("GET", path, {{["Cookie"] = cookies[math.random(#cookies)][1]}})
end
"""
    return write_script(tmp, name, body)


def vote_script(tmp: Path, voters: list[tuple[str, str]], entries: list[tuple[str, str]]) -> Path:
    """POST a vote of a random logged-in voter for a random entry; count the answers by kind."""
    body = f"""
voters = {lua_table(voters)}
entries = {lua_table(entries)}
ok, refused, other = 0, 0, 0
function request()
  local voter = voters[math.random(#voters)]
  local entry = entries[math.random(#entries)]
  local headers = {{
    ["Cookie"] = voter[1],
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }}
  local body = "csrf_token=" .. voter[2] .. "&view_token=" .. entry[2]
  return wrk.format("POST", "/e/" .. entry[1] .. "/vote", headers, body)
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 409 then refused = refused + 1 else other = other + 1 end
end
"""
    return write_script(tmp, "vote", body, counters=("ok", "refused", "other"))


_RUN_NUMBERS = itertools.count(1)


def wrk(server: Server, script: Path, args: tuple[str, ...] = WRK_ARGS) -> dict[str, float]:
    """Run wrk with ``script``: requests per second, latency percentiles (ms) and the counters.

    Each run draws its own random sequence (the run's number seeds the script), so a run
    after its warm-up does not repeat the warm-up's votes.
    """
    done = subprocess.run(
        ["wrk", *args, "--script", str(script), server.base, "--", str(next(_RUN_NUMBERS))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
    if done.returncode or line is None:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    raw = {key: float(value) for key, value in (part.split("=") for part in line.split()[1:])}
    result = {
        "rps": raw.pop("requests") / (raw.pop("duration_us") / 1e6),
        **{key.replace("_us", "_ms"): raw[key] / 1000 for key in ("p50_us", "p95_us", "p99_us")},
        **{key: value for key, value in raw.items() if not key.endswith("_us")},
    }
    unexpected = result.get("other", 0) if "refused" in result else result["status_errors"]
    if result["socket_errors"] or unexpected:
        raise SystemExit(f"wrk saw errors with {script.name}: {result}\n{done.stdout}")
    return result


# --- visitors, voters and the pages they ask for ---------------------------------------------
def visitor_cookies(server: Server, count: int) -> list[str]:
    """Session cookies of ``count`` anonymous visitors who opened the gallery once."""

    def one(_: int) -> str:
        with requests.Session() as visitor:
            visitor.get(server.base + "/gallery", timeout=30).raise_for_status()
            return f"session={visitor.cookies['session']}"

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def _csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    if found is None:
        raise SystemExit("no CSRF token on the page")
    return found.group(1) or found.group(2)


def logged_in_voters(server: Server, emails: list[str]) -> list[tuple[str, str]]:
    """(Cookie header, CSRF token) of each voter, logged in through the real login form."""

    def one(email: str) -> tuple[str, str]:
        with requests.Session() as voter:
            page = voter.get(server.base + "/account/login", timeout=30)
            form = {"email": email, "password": PASSWORD, "csrf_token": _csrf_token(page.text)}
            answer = voter.post(server.base + "/account/login", data=form, allow_redirects=False, timeout=30)
            if answer.status_code != 302:
                raise SystemExit(f"log-in of {email} refused: {answer.status_code}")
            token = _csrf_token(voter.get(server.base + "/votes/mine", timeout=30).text)
            return f"session={voter.cookies['session']}", token

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, emails))


def view_tokens(env: dict, loaded: Loaded) -> list[tuple[str, str]]:
    """(code, signed view token) of every entry: what the entry page puts in its vote form."""
    from types import SimpleNamespace

    from contest.voting.views import view_token

    with bench_app(env).test_request_context():
        return [(code, view_token(SimpleNamespace(id=i))) for i, code in enumerate(loaded.codes, start=1)]


SEARCHES = ("sen", "Bình minh", "chợ", "Nguyễn Văn", "Trần Thị Lan", "hoàng hôn", "Lễ hội")


def gallery_paths(loaded: Loaded, count: int = GALLERY_URLS, seed: int = 4) -> list[str]:
    """A fixed mix of gallery URLs, weighted like visitors' use of the page."""
    from contest.contests.demo import NGHE_AN_PLACES

    rng = random.Random(seed)
    categories = ("photo", "photo-series", "video")
    places = [code for code, _, _ in NGHE_AN_PLACES]
    # (weight, make the query string)
    kinds = (
        (30, lambda: ""),
        (15, lambda: f"?page={rng.randint(2, 6)}"),
        (12, lambda: f"?sort=newest&page={rng.choice((1, 1, 1, 2, 3))}"),
        (12, lambda: f"?sort=votes&page={rng.choice((1, 1, 1, 2, 3))}"),
        (12, lambda: f"?category={rng.choice(categories)}&sort={rng.choice(('random', 'newest', 'votes'))}"),
        (9, lambda: f"?place={rng.choice(places)}&category={rng.choice(('', *categories))}"),
        (6, lambda: f"?q={quote_plus(rng.choice(SEARCHES))}"),
        (3, lambda: f"?q={rng.choice(loaded.codes)}"),
        (1, lambda: "?q=kh%C3%B4ng+c%C3%B3"),  # a search that finds nothing
    )
    makers = rng.choices([make for _, make in kinds], weights=[w for w, _ in kinds], k=count)
    return ["/gallery" + make() for make in makers]


def entry_paths(loaded: Loaded) -> list[str]:
    return [f"/e/{code}" for code in loaded.codes]


# --- the checks after the vote run -----------------------------------------------------------
def answered_votes(access_log: Path) -> dict[str, int]:
    answers = {"200": 0, "409": 0}
    for line in access_log.read_text().splitlines():
        method, path, status = line.split()
        if method == "POST" and path.endswith("/vote"):
            answers[status] = answers.get(status, 0) + 1
    return answers


def votes_since(url: str, contest_id: int, since: datetime) -> int:
    """Votes cast since ``since`` (the loaded ones are all older: they end yesterday)."""
    import psycopg

    with psycopg.connect(libpq(url)) as conn:
        return conn.execute(
            "SELECT count(*) FROM votes WHERE contest_id = %s AND created_at >= %s", (contest_id, since)
        ).fetchone()[0]


# --- the audience tally ----------------------------------------------------------------------
def audience_tally_s(env: dict) -> float:
    from contest.contests.models import current_contest
    from contest.extensions import db
    from contest.voting.tally import category_awards, monthly_awards

    app = bench_app(env)
    times = []
    for _ in range(TALLY_ROUNDS):
        with app.app_context():
            contest = current_contest(db.session)
            started = time.perf_counter()
            awards, months = category_awards(db.session, contest), monthly_awards(db.session, contest)
            times.append(time.perf_counter() - started)
            if not all(award.placed for award in awards) or not months:
                raise SystemExit("the tally found no winner")
    app.extensions["db"].engine.dispose()
    return statistics.median(times)


# --- the phases ------------------------------------------------------------------------------
def measure_rounds(server: Server, scripts: dict[str, Path]) -> dict[str, list[dict]]:
    """Warm up, then ``ROUNDS`` rounds of one wrk run per script, in turn.

    Interleaving keeps each ratio's two figures close in time: on a machine that does other
    work too, a page and the trivial endpoint then see the same background load.
    """
    for script in scripts.values():
        wrk(server, script, WARM_UP_ARGS)
    runs: dict[str, list[dict]] = {name: [] for name in scripts}
    for _ in range(ROUNDS):
        for name, script in scripts.items():
            runs[name].append(wrk(server, script))
    return runs


def ratio(runs: dict[str, list[dict]], name: str) -> float:
    """The median over rounds of the page's requests per second over /healthz's in its round."""
    return statistics.median(
        r["rps"] / base["rps"] for r, base in zip(runs[name], runs["healthz"], strict=True)
    )


def median(runs: dict[str, list[dict]], name: str, figure: str) -> float:
    return statistics.median(r[figure] for r in runs[name])


SMALL_PAGES = ("gallery", "entry", "vote")


def small_pages() -> tuple[str, ...]:
    """The pages of the small phase: all, or those named in BENCH_WEB_PAGES (a quick check)."""
    asked = [name.strip() for name in os.environ.get("BENCH_WEB_PAGES", "").split(",") if name.strip()]
    unknown = set(asked) - set(SMALL_PAGES)
    if unknown:
        raise SystemExit(f"BENCH_WEB_PAGES: unknown page(s) {sorted(unknown)}; known: {SMALL_PAGES}")
    return tuple(name for name in SMALL_PAGES if name in asked) or SMALL_PAGES


def small_phase(tmp: Path) -> dict:
    pages = small_pages()
    url = recreate_database()
    empty_page_cache()
    loaded = prepare(url, SMALL, tmp)
    env = server_env(url, tmp)
    started = datetime.now(UTC)
    with gunicorn(env, tmp, "small") as server:
        cookies = visitor_cookies(server, VISITORS)
        scripts = {"healthz": healthz_script(tmp)}
        if "gallery" in pages:
            scripts["gallery"] = pages_script(tmp, "gallery", gallery_paths(loaded), cookies)
        if "entry" in pages:
            scripts["entry"] = pages_script(tmp, "entry", entry_paths(loaded), cookies)
        if "vote" in pages:
            voters = logged_in_voters(server, loaded.voter_emails)
            scripts["vote"] = vote_script(tmp, voters, view_tokens(env, loaded))
        runs = measure_rounds(server, scripts)
    figures = {"healthz_rps": median(runs, "healthz", "rps")}
    if "gallery" in pages:
        figures |= {
            "gallery_rps": median(runs, "gallery", "rps"),
            "gallery_rps_ratio": ratio(runs, "gallery"),
            "gallery_p99_ms": median(runs, "gallery", "p99_ms"),
        }
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


def large_phase(tmp: Path) -> dict:
    url = recreate_database()
    empty_page_cache()
    loaded = prepare(url, LARGE, tmp)
    env = server_env(url, tmp)
    with gunicorn(env, tmp, "large") as server:
        cookies = visitor_cookies(server, VISITORS)
        scripts = {
            "healthz": healthz_script(tmp),
            "gallery": pages_script(tmp, "gallery-large", gallery_paths(loaded), cookies),
        }
        runs = measure_rounds(server, scripts)
    return {
        "large_entries": count_rows(url, "entries"),
        "large_votes": count_rows(url, "votes"),
        "large_load_s": loaded.seconds,
        "large_counts_consistent": int(counts_consistent(libpq(url), loaded.contest_id)),
        "gallery_p95_ms_large": median(runs, "gallery", "p95_ms"),
        "gallery_rps_ratio_large": ratio(runs, "gallery"),
        "audience_tally_s_large": audience_tally_s(env),
    }


def count_rows(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(libpq(url)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


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
