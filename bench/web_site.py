"""The web bench's site: its database, its gunicorn, wrk and its scripts, visitors and voters.

Shared by the phases of bench.web (the small set) and bench.web_large (the large one). The
server runs as production does (CONTEST_ENV=production): rate limits counted in Redis,
media on S3 (bench.web_media), pages shared through Redis; the bench's own Redis databases
are emptied at each phase.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote_plus

import requests
from sqlalchemy import create_engine, text

from bench.upload import free_port, stop_server
from bench.web_data import PASSWORD, Loaded, Shape, load

ROOT = Path(__file__).resolve().parent.parent
WRK_ARGS = ("--threads=2", "--connections=16", "--duration=10s", "--timeout=5s")
WARM_UP_ARGS = ("--threads=2", "--connections=16", "--duration=2s", "--timeout=5s")
WORKERS = 2
ROUNDS = 3  # wrk runs per page, interleaved with /healthz; medians are reported
DB_NAME = os.environ.get("BENCH_DB_NAME", "contest_bench")  # another name: runs side by side
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# Production's shared page cache and rate-limit counters (Redis databases of the bench's own).
PAGE_CACHE_URL = os.environ.get("BENCH_PAGE_CACHE_URL", "redis://127.0.0.1:6379/5")
RATELIMIT_URL = os.environ.get("BENCH_RATELIMIT_URL", "redis://127.0.0.1:6379/6")
VOTERS_LOGGED_IN = 400
VISITORS = 200
GALLERY_URLS = 1_000
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


# --- the database ----------------------------------------------------------------------------
def recreate_database(name: str = DB_NAME) -> str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def empty_redis() -> None:
    """No page and no rate-limit count of an earlier run (or phase) is carried over."""
    import redis

    for url in (PAGE_CACHE_URL, RATELIMIT_URL):
        redis.Redis.from_url(url).flushdb()


def drop_database(name: str = DB_NAME) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def data_set(shape: Shape, tmp: Path):
    """A fresh database loaded with ``shape``, the Redis databases emptied, the renditions on S3
    (a moto server for the phase): yields (database URL, what was loaded, the server's env)."""
    from bench.web_media import put_renditions, s3_settings

    url = recreate_database()
    empty_redis()
    loaded = prepare(url, shape, tmp)
    with s3_settings() as storage:
        env = server_env(url, tmp, storage)
        put_renditions(env, libpq(url), tmp / "media")
        yield url, loaded, env


def prepare(url: str, shape: Shape, tmp: Path) -> Loaded:
    from tests.support import migrate

    migrate(url)
    return load(url, shape, tmp / "media", voters_returned=VOTERS_LOGGED_IN)


# --- the server ------------------------------------------------------------------------------
def server_env(url: str, tmp: Path, storage: dict) -> dict:
    """The server's environment, production's: none of the caller's settings leak in.

    ``storage`` is the S3 settings (bench.web_media). Rate limits stay on, counted in Redis,
    with raised figures so that they never refuse the bench's load but their cost is in
    every vote and log-in.
    """
    inherited = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {
        **{name: os.environ[name] for name in inherited if name in os.environ},
        "CONTEST_ENV": "production",
        "SECRET_KEY": "bench-secret-" + "b" * 32,
        "CONTEST_INSTANCE": str(tmp),
        "DATABASE_URL": url,
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        **storage,
        "BROKER_URL": f"sqla+sqlite:///{tmp / 'broker.sqlite'}",
        "JOB_DISPATCH": "off",
        "BOT_CHECK": "none",
        "MAIL_TRANSPORT": "log",  # production refuses to start without a mail server otherwise
        "PAGE_CACHE_URL": PAGE_CACHE_URL,
        "RATELIMIT_ENABLED": "1",
        "RATELIMIT_STORAGE_URI": RATELIMIT_URL,
        "VOTE_RATE_LIMIT": "100000 per minute",
        "VOTE_RATE_LIMIT_PER_ADDRESS": "1000000 per minute",
        "LOGIN_RATE_LIMIT": "100000 per minute",
    }


def bench_app(env: dict):
    """The application in this process, configured exactly as the server is."""
    from contest import create_app
    from contest.config import load_settings

    return create_app(load_settings(env))


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
-- Rows of tab-separated strings, read from a file: a table literal in the script itself
-- stops at Lua's 65,536 constants (the large phase's 100,000 entries).
function read_rows(path)
  local rows = {}
  for line in io.lines(path) do
    local row = {}
    for field in string.gmatch(line, "[^\t]+") do table.insert(row, field) end
    table.insert(rows, row)
  end
  return rows
end
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


def lua_rows(tmp: Path, name: str, rows: list[tuple[str, ...]]) -> str:
    """A Lua expression reading ``rows`` from a file of tab-separated lines written beside the script."""
    path = tmp / f"{name}.rows"
    path.write_text("".join("\t".join(row) + "\n" for row in rows))
    return f"read_rows({lua_string(str(path))})"


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
paths = {lua_rows(tmp, f"{name}-paths", [(p,) for p in paths])}
cookies = {lua_rows(tmp, f"{name}-cookies", [(c,) for c in cookies])}
function request()
  local path = paths[math.random(#paths)][1]
  return wrk.format("GET", path, {{["Cookie"] = cookies[math.random(#cookies)][1]}})
end
"""
    return write_script(tmp, name, body)


def vote_script(
    tmp: Path, voters: list[tuple[str, str]], entries: list[tuple[str, str]], pace_ms: int = 0
) -> Path:
    """POST a vote of a random logged-in voter for a random entry; count the answers by kind.

    ``pace_ms``: each connection waits that long before each vote (wrk's ``delay``), for a
    steady flow of votes beside another load rather than a saturating one.
    """
    name = "vote-paced" if pace_ms else "vote"
    pace = f"function delay() return {pace_ms} end" if pace_ms else ""
    body = f"""{pace}
voters = {lua_rows(tmp, f"{name}-voters", voters)}
entries = {lua_rows(tmp, f"{name}-entries", entries)}
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
    return write_script(tmp, name, body, counters=("ok", "refused", "other"))


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
    return wrk_result(script, done.returncode, done.stdout, done.stderr)


@contextmanager
def wrk_beside(server: Server, script: Path, args: tuple[str, ...], limit_s: int):
    """wrk with ``script`` in the background while the block runs (``limit_s`` at most, wrk's
    own duration), then stopped with SIGINT (wrk then reports); its result fills the dict yielded."""
    command = ["wrk", *args, f"--duration={limit_s}s", "--script", str(script), server.base]
    process = subprocess.Popen(
        [*command, "--", str(next(_RUN_NUMBERS))], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    result: dict = {}
    started = time.perf_counter()
    try:
        yield result
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    if time.perf_counter() - started >= limit_s:
        raise SystemExit(f"the background load {script.name} ended before the measurement did")
    result.update(wrk_result(script, process.returncode, out, err))


def wrk_result(script: Path, returncode: int, stdout: str, stderr: str) -> dict[str, float]:
    """The figures of wrk's BENCH line (LUA_COMMON's ``done``); SystemExit on any error."""
    line = next((x for x in stdout.splitlines() if x.startswith("BENCH ")), None)
    if returncode or line is None:
        raise SystemExit(f"wrk failed ({returncode}):\n{stdout}\n{stderr}")
    raw = {key: float(value) for key, value in (part.split("=") for part in line.split()[1:])}
    result = {
        "rps": raw.pop("requests") / (raw.pop("duration_us") / 1e6),
        **{key.replace("_us", "_ms"): raw[key] / 1000 for key in ("p50_us", "p95_us", "p99_us")},
        **{key: value for key, value in raw.items() if not key.endswith("_us")},
    }
    unexpected = result.get("other", 0) if "refused" in result else result["status_errors"]
    if result["socket_errors"] or unexpected:
        raise SystemExit(f"wrk saw errors with {script.name}: {result}\n{stdout}")
    return result


# --- visitors, voters and the pages they ask for ---------------------------------------------
class _LoopbackCookies(requests.cookies.RequestsCookieJar):
    """Keeps production's Secure cookies as plain ones: the bench talks HTTP on loopback."""

    def set_cookie(self, cookie, *args, **kwargs):
        cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


def browser() -> requests.Session:
    session = requests.Session()
    session.cookies = _LoopbackCookies()
    return session


def visitor_cookies(server: Server, count: int) -> list[str]:
    """Session cookies of ``count`` anonymous visitors who opened the gallery once."""

    def one(_: int) -> str:
        with browser() as visitor:
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
        with browser() as voter:
            page = voter.get(server.base + "/account/login", timeout=30)
            form = {"email": email, "password": PASSWORD, "csrf_token": _csrf_token(page.text)}
            answer = voter.post(server.base + "/account/login", data=form, allow_redirects=False, timeout=30)
            if answer.status_code != 302:
                raise SystemExit(f"log-in of {email} refused: {answer.status_code} {answer.text[:300]!r}")
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


# --- rounds ----------------------------------------------------------------------------------
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
