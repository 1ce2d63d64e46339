"""The worker's Celery application: ``celery -A worker.celery_app worker --beat``.

Importing this module reads the settings from the environment and nothing else; the
Flask application (database engine, storage client) is created lazily, once per worker
process, when its first task runs, so that no engine or socket crosses a fork.
"""

from __future__ import annotations

import logging

from celery import Celery, Task
from flask import Flask, has_app_context

from contest.config import celery_settings, load_settings
from contest.ops import tasks

log = logging.getLogger(__name__)
_flask_app: Flask | None = None


def flask_app() -> Flask:
    """The one Flask application of this worker process, created on first use."""
    global _flask_app
    if _flask_app is None:
        from contest import create_app

        _flask_app = create_app()
        log.info("worker application ready (database %s)", _flask_app.config["DATABASE_URL"].split("@")[-1])
    return _flask_app


class AppContextTask(Task):
    """Runs the task inside an application context; the session is closed afterwards.

    A caller that already holds an application context (a test, a CLI command) keeps it.
    """

    def __call__(self, *args, **kwargs):
        if has_app_context():
            return super().__call__(*args, **kwargs)
        with flask_app().app_context():  # its teardown closes db.session
            return super().__call__(*args, **kwargs)


settings = load_settings()
tasks.connect(settings)  # the request id into the jobs' log lines; the site's log format and level
celery = Celery(
    "worker", include=["worker.tasks", "worker.jury_copies", "worker.uploads"], task_cls=AppContextTask
)
celery.conf.update(celery_settings(settings))
# Results whose publication time has come are published within this many seconds.
celery.conf.beat_schedule["publish-results"] = {
    "task": "worker.publish_results",
    "schedule": float(settings.get("RESULTS_PUBLISH_INTERVAL_S", 30)),
}
# Uploads left half-way or never taken by an entry (contest.uploads.sweep): checked this often.
celery.conf.beat_schedule["sweep-uploads"] = {
    "task": "worker.sweep_uploads",
    "schedule": float(settings.get("UPLOAD_SWEEP_INTERVAL_S", 600)),
}
# E-mails of a state (a jury round open or closing soon, results published) within this many seconds.
celery.conf.beat_schedule["send-notices"] = {
    "task": "worker.send_notices",
    "schedule": float(settings.get("NOTICES_INTERVAL_S", 60)),
}
