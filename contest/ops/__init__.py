"""Running the site on several machines: request ids, JSON logs, readiness and metrics.

``init_app`` wires them into the web application; ``contest.ops.tasks`` carries the request
id into the worker's jobs and their log lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    from contest.ops import metrics, request_id
    from contest.ops.views import bp

    request_id.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(bp)
