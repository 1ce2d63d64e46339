"""Send background tasks to the broker once the transaction that needs them has committed.

A task that cannot be sent (broker down) is not lost: the rows it would act on stay in
their queued state, and the worker's periodic sweep sends it again.
"""

from __future__ import annotations

import logging

from celery import Celery
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from contest.config import celery_settings
from contest.ops import request_id

log = logging.getLogger(__name__)
_PENDING = "contest.tasks_after_commit"


def init_app(app: Flask) -> None:
    client = Celery("contest", set_as_current=False)
    client.conf.update(celery_settings(app.config))
    app.extensions["celery_client"] = client


def send_after_commit(session: Session, task_name: str, *args) -> None:
    session.info.setdefault(_PENDING, []).append((task_name, args))


def send_now(task_name: str, *args) -> bool:
    """Send one task; False (and a log line) when the broker cannot take it."""
    if current_app.config["JOB_DISPATCH"] == "off":
        return False
    client: Celery = current_app.extensions["celery_client"]
    try:
        client.send_task(
            task_name,
            args=list(args),
            headers=request_id.celery_headers(),  # the job's log lines carry the request's id
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:  # the broker's client raises many kinds; the sweep will resend
        log.warning(
            "could not send %s%r to the broker; the sweep will resend it", task_name, args, exc_info=True
        )
        return False
    return True


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    for task_name, args in session.info.pop(_PENDING, []):
        send_now(task_name, *args)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
