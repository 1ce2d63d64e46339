"""Prometheus metrics (prometheus_client): the web's requests and votes, the jobs' figures.

Requests and votes are counted by each web process; under gunicorn, with
``PROMETHEUS_MULTIPROC_DIR`` set before start, every worker process writes its counts there
and a scrape of any of them adds them up. The jobs' figures (by kind and state, the queue's
depth, their durations) are read from the jobs table at scrape time: the table holds every
worker machine's work, so one scrape of any web process tells the whole site.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from contest.processing.models import JobState, ProcessingJob

log = logging.getLogger(__name__)
REQUESTS = Counter("contest_http_requests", "HTTP requests answered", ["route", "method", "status"])
REQUEST_SECONDS = Histogram("contest_http_request_duration_seconds", "Time to answer a request", ["route"])
VOTES = Counter("contest_votes", "Votes asked for, by outcome (counted or refused)", ["outcome"])
JOB_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800)
UNMATCHED = "<unmatched>"


def init_app(app: Flask) -> None:
    app.before_request(_start_clock)
    app.after_request(_count_request)


def count_vote(outcome: str) -> None:
    """A vote was counted (``counted``) or refused (``refused``)."""
    VOTES.labels(outcome=outcome).inc()


def _start_clock() -> None:
    g.metrics_started = time.perf_counter()


def _count_request(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    REQUESTS.labels(route=route, method=request.method, status=str(response.status_code)).inc()
    if "metrics_started" in g:
        REQUEST_SECONDS.labels(route=route).observe(time.perf_counter() - g.metrics_started)
    return response


# --- who may read them -----------------------------------------------------------------------------
def allowed() -> bool:
    """A scrape with the ``METRICS_TOKEN`` as bearer token, or from an address in ``METRICS_ALLOW_IPS``."""
    config = current_app.config
    token = config["METRICS_TOKEN"]
    if token and request.headers.get("Authorization", "") == f"Bearer {token}":
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in config["METRICS_ALLOW_IPS"])


# --- the scrape --------------------------------------------------------------------------------------
def exposition(session: Session) -> tuple[bytes, str]:
    """The text a scrape receives, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        web = CollectorRegistry()
        multiprocess.MultiProcessCollector(web)
    else:
        web = REGISTRY
    jobs = CollectorRegistry(auto_describe=False)
    jobs.register(JobsCollector(session))
    return generate_latest(web) + generate_latest(jobs), CONTENT_TYPE_LATEST


class JobsCollector:
    """The processing jobs' figures, read from the jobs table when collected."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self):
        """The figures, and whether the table could be read (a scrape still answers when it cannot)."""
        readable = GaugeMetricFamily("contest_jobs_readable", "1 when the jobs table could be read")
        try:
            families = list(self._families())
        except SQLAlchemyError:
            self.session.rollback()
            log.warning("metrics: the jobs table could not be read", exc_info=True)
            families = []
        readable.add_metric([], 1 if families else 0)
        yield readable
        yield from families

    def _families(self):
        by_state = GaugeMetricFamily(
            "contest_jobs", "Processing jobs by kind and state", labels=["kind", "state"]
        )
        for kind, state, count in self.session.execute(
            select(ProcessingJob.kind, ProcessingJob.state, func.count()).group_by(
                ProcessingJob.kind, ProcessingJob.state
            )
        ):
            by_state.add_metric([kind.value, state.value], count)
        yield by_state
        waiting = GaugeMetricFamily(
            "contest_jobs_waiting", "Jobs queued or waiting for a retry (the queue's depth)", labels=["kind"]
        )
        for kind, count in self.session.execute(
            select(ProcessingJob.kind, func.count())
            .where(ProcessingJob.state.in_((JobState.queued, JobState.retrying)))
            .group_by(ProcessingJob.kind)
        ):
            waiting.add_metric([kind.value], count)
        yield waiting
        yield self._durations()

    def _durations(self) -> HistogramMetricFamily:
        """The last attempt's time of every finished job, by kind."""
        seconds = _seconds(self.session)
        columns = [func.count(), func.coalesce(func.sum(seconds), 0.0)] + [
            func.coalesce(func.sum(case((seconds <= bound, 1), else_=0)), 0) for bound in JOB_BUCKETS_S
        ]
        rows = self.session.execute(
            select(ProcessingJob.kind, *columns)
            .where(
                ProcessingJob.state.in_((JobState.succeeded, JobState.failed)),
                ProcessingJob.started_at.is_not(None),
                ProcessingJob.finished_at.is_not(None),
            )
            .group_by(ProcessingJob.kind)
        )
        family = HistogramMetricFamily(
            "contest_job_duration_seconds", "Time of a finished job's last attempt", labels=["kind"]
        )
        for kind, count, total, *within in rows:
            buckets = [(str(float(b)), int(n)) for b, n in zip(JOB_BUCKETS_S, within, strict=True)]
            family.add_metric([kind.value], [*buckets, ("+Inf", int(count))], float(total))
        return family


def _seconds(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", ProcessingJob.finished_at - ProcessingJob.started_at)
    return (func.julianday(ProcessingJob.finished_at) - func.julianday(ProcessingJob.started_at)) * 86400.0
