"""``flask --app wsgi contest sweep-jobs``: send lost jobs and unsent e-mails to the broker again.

The worker's beat runs the same sweep every JOB_SWEEP_INTERVAL_S seconds; this command is
for operators (after a broker outage, or where no beat runs). Plain English output.
"""

from __future__ import annotations

import click
from flask import current_app

from contest.cli import contest_cli
from contest.db import now_utc
from contest.extensions import db
from contest.processing.services import sweep


@contest_cli.command("sweep-jobs")
def sweep_jobs_command() -> None:
    """Send again the jobs nobody is working on and the e-mails still unsent."""
    job_ids, email_ids = sweep(db.session, now_utc(), current_app.config["JOB_STALE_AFTER_S"])
    db.session.commit()  # the tasks go to the broker once this commit lands
    click.echo(f"jobs sent again: {len(job_ids)}; e-mails sent again: {len(email_ids)}")
    if current_app.config["JOB_DISPATCH"] == "off":
        click.echo("JOB_DISPATCH=off: nothing was sent to the broker")
