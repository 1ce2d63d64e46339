"""A judge's save-and-next on the bench's 20,000-entry round while the gallery is under load:
``jury_next_p95_ms_large``.

The application runs as production does, in gunicorn (bench.web_site: ``server_env``,
``gunicorn``; CSRF on, rate limits and pages in Redis, media on a moto S3) over the jury bench's
PostgreSQL database. A judge with about 2,000 entries logs in through the login form, reads
the CSRF token from their first entry's page, then saves the scores of one entry and is told
the next, as the panel's script does on Enter: ``POST`` with ``Accept: application/json``, each
request saving the entry the previous answer named, over one ``requests`` session (gunicorn's
sync workers close each connection: a new loopback connection per request). Meanwhile ``wrk``
asks for the gallery (a mix of its URLs, bench.web_site.gallery_paths) over GALLERY_CONNECTIONS
connections, a closed loop keeping both workers busy. The figures: the 50th and 95th percentiles
of REQUESTS saves after WARMUP (each a real save: assignment and round locked, scores written,
audited, committed, the next entry read) and the gallery's requests per second meanwhile.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

REQUESTS, WARMUP = 300, 20
GALLERY_CONNECTIONS = 2  # one gallery request in flight per gunicorn worker
GALLERY_VISITORS = 50
LOAD_LIMIT_S = 600  # wrk's own end, far beyond the measurement's


def measure_next(url: str, round_id: int) -> dict:
    from bench.jury_profile import profile
    from bench.web_data import PASSWORD
    from bench.web_media import s3_settings
    from bench.web_site import _csrf_token, empty_redis, gunicorn, server_env

    email, first, fields = _judge_ready(url, round_id, PASSWORD)
    empty_redis()
    with tempfile.TemporaryDirectory() as tmp_name, s3_settings() as storage:
        tmp = Path(tmp_name)
        with gunicorn(server_env(url, tmp, storage), tmp, "jury") as server:
            judge = _logged_in(server, email, PASSWORD)
            path = f"/jury/rounds/{round_id}/entries/{first}"
            fields["csrf_token"] = _csrf_token(judge.get(server.base + path, timeout=30).text)
            gallery = _gallery_script(server, tmp)
            path, _ = _saves(judge, server.base, path, fields, WARMUP)  # warm, without the load
            path, idle = _saves(judge, server.base, path, fields, REQUESTS)
            with _gallery_load(server, gallery) as load:
                path, timings = _saves(judge, server.base, path, fields, REQUESTS)
            if os.environ.get("BENCH_JURY_PROFILE"):
                profile(server_env(url, tmp, storage), email, path, fields)
    return {
        "jury_next_p95_ms_large": _percentile(timings, 95),
        "jury_next_median_ms_large": _percentile(timings, 50),
        "jury_next_gallery_rps_during": load["rps"],
        "jury_next_gallery_p50_ms_during": load["p50_ms"],
        "jury_next_p95_ms_large_no_load": _percentile(idle, 95),
        "jury_next_median_ms_large_no_load": _percentile(idle, 50),
    }


def _percentile(seconds: list[float], n: int) -> float:
    """The ``n``-th percentile in milliseconds (the median for 50)."""
    ordered = sorted(seconds)
    if n == 50:
        return statistics.median(ordered) * 1000
    return ordered[int(n / 100 * len(ordered)) - 1] * 1000


def _judge_ready(url: str, round_id: int, password: str) -> tuple[str, int, dict[str, str]]:
    """Open the round (the deal's bench leaves it a draft) and give its first judge a password;
    returns the judge's e-mail, their first assignment and the form's scores."""
    from contest.auth.models import User
    from contest.db import make_engine
    from contest.jury.models import Assignment, Round, RoundStatus

    engine = make_engine(url)
    with Session(engine) as session:
        round_ = session.get(Round, round_id)
        round_.status = RoundStatus.open
        fields = {f"c{c.id}": str(c.scale_min + c.scale_step) for c in round_.criteria}
        judge_id, first = session.execute(
            select(Assignment.judge_id, Assignment.id)
            .where(Assignment.round_id == round_id)
            .order_by(Assignment.judge_id, Assignment.id)
            .limit(1)
        ).one()
        cheap = generate_password_hash(password, method="pbkdf2:sha256:1000")
        session.execute(
            update(User)
            .where(User.id == judge_id)
            .values(password_hash=cheap, email_verified_at=datetime.now(UTC))
        )
        email = session.get(User, judge_id).email
        session.commit()
    engine.dispose()
    return email, first, fields


def _logged_in(server, email: str, password: str):
    """A browser session of the judge, logged in through the real login form."""
    from bench.web_site import _csrf_token, browser

    judge = browser()
    page = judge.get(server.base + "/account/login", timeout=30)
    form = {"email": email, "password": password, "csrf_token": _csrf_token(page.text)}
    answer = judge.post(server.base + "/account/login", data=form, allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise SystemExit(f"the judge's log-in was refused: {answer.status_code} {answer.text[:300]!r}")
    return judge


def _gallery_script(server, tmp: Path) -> Path:
    from bench.jury import ENTRIES
    from bench.web_site import gallery_paths, pages_script, visitor_cookies

    codes = SimpleNamespace(codes=[f"BJ-{n:05d}" for n in range(0, ENTRIES, 97)])
    return pages_script(tmp, "jury-gallery", gallery_paths(codes), visitor_cookies(server, GALLERY_VISITORS))


def _gallery_load(server, script: Path):
    from bench.web_site import wrk_beside

    args = ("--threads=1", f"--connections={GALLERY_CONNECTIONS}", "--timeout=5s")
    return wrk_beside(server, script, args, LOAD_LIMIT_S)


def _saves(judge, base: str, path: str, fields: dict, count: int) -> tuple[str, list[float]]:
    """``count`` saves-and-next in a row; the path of the next one and each one's seconds."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = judge.post(base + path, data=fields, headers={"Accept": "application/json"}, timeout=30)
        timings.append(time.perf_counter() - started)
        answer = response.json() if response.ok else {}
        if not answer.get("done"):
            raise SystemExit(f"a save was refused: {response.status_code} {response.text[:300]!r}")
        path = answer["next_url"]
    return path, timings
