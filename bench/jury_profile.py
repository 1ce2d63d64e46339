"""Where a judge's save-and-next spends its time: the application of bench.jury_panel's server
(configured exactly as it is: bench.web_site.bench_app) in this process, a judge logged in
through the form, PROFILED saves under cProfile; the top functions by cumulative time and the
SQL statements per save are printed to stderr. ``BENCH_JURY_PROFILE=1 python -m bench.jury``.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys

from sqlalchemy import event

PROFILED = 100


def profile(env: dict, email: str, path: str, fields: dict) -> None:
    from bench.web_data import PASSWORD
    from bench.web_site import _csrf_token, bench_app

    app = bench_app(env)
    app.config["SESSION_COOKIE_SECURE"] = False  # the test client talks plain HTTP
    client = app.test_client()
    page = client.get("/account/login")
    form = {"email": email, "password": PASSWORD, "csrf_token": _csrf_token(page.text)}
    assert client.post("/account/login", data=form).status_code == 302
    fields = {**fields, "csrf_token": _csrf_token(client.get(path).text)}
    statements = []
    event.listen(app.extensions["db"].engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    profiler = cProfile.Profile()
    for _ in range(PROFILED):
        profiler.enable()
        answer = client.post(path, data=fields, headers={"Accept": "application/json"})
        profiler.disable()
        path = answer.get_json()["next_url"]
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    print(out.getvalue(), file=sys.stderr)
    print(f"SQL statements per save: {len(statements) / PROFILED:.1f}", file=sys.stderr)
    app.extensions["db"].dispose()
    for statement in statements[-len(statements) // PROFILED :]:
        print("  ", " ".join(statement.split())[:160], file=sys.stderr)
