"""The worker's side of the request id and the logs (signals connected by ``connect``).

A job sent during a web request carries its id as a Celery header; while the job runs the id
is current, so its log lines carry it. Celery's worker and beat log in the site's format
(``LOG_FORMAT``) at ``LOG_LEVEL`` even when started without ``--loglevel``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import signals
from celery.beat import PersistentScheduler

from contest.ops import logs, request_id

_settings: dict = {}


class StateFolderScheduler(PersistentScheduler):
    """Celery's own scheduler, which first makes the state folder its schedule file lives in
    (beat never creates the application, which makes it for the web and the worker)."""

    def setup_schedule(self):
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()


_tokens: dict[str, object] = {}


def header_of(task_request) -> str | None:
    """The request id a task's message carries: a top-level header (a worker's message) or
    inside ``headers`` (``Task.apply(headers=...)``, the eager path)."""
    value = getattr(task_request, request_id.CELERY_HEADER, None)
    if value is None:
        value = (getattr(task_request, "headers", None) or {}).get(request_id.CELERY_HEADER)
    return request_id.accepted(value)


def _job_started(task_id=None, task=None, **_):
    _tokens[task_id] = request_id.bind(header_of(task.request) if task is not None else None)


def _job_ended(task_id=None, **_):
    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id.unbind(token)


def _dress_logger(logger=None, **_):
    for handler in logger.handlers if logger is not None else ():
        logs.dress(handler, _settings["LOG_FORMAT"])
    if logger is not None and logger is logging.getLogger():
        logger.setLevel(min(logger.level or logging.WARNING, logging.getLevelName(_settings["LOG_LEVEL"])))


def connect(settings: dict) -> None:
    """Connect the signals of the worker process (and of beat) for these settings."""
    _settings.update(LOG_FORMAT=settings["LOG_FORMAT"], LOG_LEVEL=settings["LOG_LEVEL"])
    signals.task_prerun.connect(_job_started, weak=False)
    signals.task_postrun.connect(_job_ended, weak=False)
    signals.after_setup_logger.connect(_dress_logger, weak=False)
    signals.after_setup_task_logger.connect(_dress_logger, weak=False)
