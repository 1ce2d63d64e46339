"""``/readyz`` (can this process serve?) and ``/metrics`` (Prometheus); ``/healthz`` (alive) is main's."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify

from contest.extensions import db
from contest.ops import metrics, readiness

bp = Blueprint("ops", __name__)


@bp.get("/readyz")
def readyz():
    """200 when the database, the broker and the storage all answer; 503 naming those that do not."""
    checks = readiness.check(current_app._get_current_object())
    failed = sorted(name for name, result in checks.items() if result != "ok")
    response = jsonify(ok=not failed, checks=checks, failed=failed)
    response.status_code = 503 if failed else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def scrape():
    if not metrics.allowed():
        abort(403)
    body, content_type = metrics.exposition(db.session)
    return current_app.response_class(body, content_type=content_type, headers={"Cache-Control": "no-store"})
