"""The scheduled publication of results: contests whose publish_at has passed are published.

Run by beat every RESULTS_PUBLISH_INTERVAL_S (worker.tasks.publish_results); safe to run
twice or at the same time in two workers: each contest's row is locked and published once,
and each winner's e-mail is queued in that same transaction (contest.results.publication).
"""

from __future__ import annotations

import logging

from contest.db import now_utc
from contest.extensions import db
from contest.results.publication import publish_due

log = logging.getLogger(__name__)


def publish_due_results() -> list[int]:
    """Publish what is due and commit; the winners' e-mails leave once the commit lands."""
    session = db.session
    published = publish_due(session, now_utc())
    session.commit()
    if published:
        log.info("results published for contests %s", published)
    return published
