"""A judge's save-and-next on the bench's 20,000-entry round: ``jury_next_p95_ms_large``.

The application (the test configuration: no CSRF check, no rate limits) over the jury bench's
PostgreSQL database, called through Flask's test client in this process. A judge with about
2,000 entries saves the scores of one entry and is told the next, as the panel's script does
on Enter; each request saves the entry the previous answer named. The figure is the 95th
percentile of REQUESTS requests after WARMUP (each a real save: assignment and round locked,
scores written, audited, committed, progress and next entry read).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

REQUESTS, WARMUP = 300, 20


def measure_next(url: str, round_id: int) -> dict:
    from contest import create_app
    from contest.auth.models import User
    from contest.extensions import db
    from contest.jury.models import Assignment, Round, RoundStatus
    from tests.support import log_in, make_test_config

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_test_config(Path(tmp), url))
        client = app.test_client()
        with app.app_context():
            round_ = db.session.get(Round, round_id)
            round_.status = RoundStatus.open  # the deal's bench leaves it a draft
            db.session.commit()
            fields = {f"c{c.id}": str(c.scale_min + c.scale_step) for c in round_.criteria}
            judge_id, first = db.session.execute(
                select(Assignment.judge_id, Assignment.id)
                .where(Assignment.round_id == round_id)
                .order_by(Assignment.judge_id, Assignment.id)
                .limit(1)
            ).one()
            judge = db.session.get(User, judge_id)
        log_in(client, judge)
        timings, path = [], f"/jury/rounds/{round_id}/entries/{first}"
        for _ in range(REQUESTS + WARMUP):
            started = time.perf_counter()
            response = client.post(path, data=fields, headers={"Accept": "application/json"})
            timings.append(time.perf_counter() - started)
            answer = response.get_json()
            assert response.status_code == 200 and answer["done"], response.text
            path = answer["next_url"]
        app.extensions["db"].dispose()
    measured = sorted(timings[WARMUP:])
    p95 = measured[int(0.95 * len(measured)) - 1]
    return {
        "jury_next_p95_ms_large": p95 * 1000,
        "jury_next_median_ms_large": statistics.median(measured) * 1000,
    }
