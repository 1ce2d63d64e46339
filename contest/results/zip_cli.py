"""``flask --app wsgi contest export-zip``: the winners' ZIP from the command line.

The worker builds it, as from the organizer's page: the command asks for it (or follows a job
already asked for with ``--follow``), shows the worker's progress as a bar, and with ``--out``
copies the finished ZIP from storage into a file, streamed, complete or not at all. The request
and the copy are audit events (no account: the operator's login is recorded).
"""

from __future__ import annotations

import getpass
import os
import time

import click
from sqlalchemy import select

from contest.audit.services import record
from contest.cli import contest_cli
from contest.contests.models import Contest, current_contest
from contest.extensions import db
from contest.processing.dispatch import send_after_commit
from contest.results.export_jobs import EXPORT_TASK, ExportJob, ExportKind, ExportStatus, new_export_job
from contest.results.zip_items import zip_items
from contest.storage import get_storage

POLL_S = 1.0


@contest_cli.command("export-zip")
@click.option("--contest", "slug", help="The contest's slug (the current contest by default).")
@click.option("--follow", "job_id", type=int, help="Follow this job instead of asking for a new one.")
@click.option("--out", type=click.Path(dir_okay=False), help="Copy the finished ZIP into this file.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Follow the build until it ends.")
@click.option("--timeout", "timeout_s", type=int, default=3600, show_default=True, help="Seconds to wait.")
def export_zip_command(
    slug: str | None, job_id: int | None, out: str | None, wait: bool, timeout_s: int
) -> None:
    """Have the worker build the ZIP of the winners' original files, and follow it."""
    job = _followed(job_id) if job_id else _ask(_contest(slug))
    if not wait:
        click.echo(f"export job {job.id} queued")
        return
    job = _follow(job, timeout_s)
    if job.status is not ExportStatus.done:
        raise click.ClickException(f"export job {job.id} {job.status.value}: {job.error or ''}")
    click.echo(f"export job {job.id} done: {job.files_total} files, {job.result_bytes} bytes")
    if out:
        _copy_out(job, out)


def _ask(contest: Contest) -> ExportJob:
    if not zip_items(db.session, contest.id):
        raise click.ClickException("no prize has been awarded yet: there is nothing to put in the ZIP")
    job = new_export_job(db.session, contest.id, ExportKind.winners_zip, requested_by_id=None)
    _audit(job, "export.winners_zip_requested")
    send_after_commit(db.session, EXPORT_TASK, job.id)
    db.session.commit()
    return job


def _followed(job_id: int) -> ExportJob:
    job = db.session.get(ExportJob, job_id)
    if job is None:
        raise click.ClickException(f"there is no export job {job_id}")
    return job


def _follow(job: ExportJob, timeout_s: int) -> ExportJob:
    """A bar over the bytes the worker reports, until the job ends or ``timeout_s`` passes."""
    deadline, shown = time.monotonic() + timeout_s, 0
    with click.progressbar(length=max(job.bytes_total, 1), label=f"export job {job.id}") as bar:
        while True:
            db.session.rollback()  # each look is a fresh transaction
            job = db.session.get(ExportJob, job.id, populate_existing=True)
            bar.length = max(job.bytes_total, 1)
            done = job.bytes_total if job.status is ExportStatus.done else job.bytes_done
            bar.update(done - shown)
            shown = done
            if job.finished or time.monotonic() > deadline:
                return job
            time.sleep(POLL_S)


def _copy_out(job: ExportJob, out: str) -> None:
    partial = f"{out}.part"
    try:
        with open(partial, "wb") as target:
            for chunk in get_storage().read_chunks(job.storage_key):
                target.write(chunk)
        os.replace(partial, out)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    _audit(job, "export.winners_zip_downloaded")
    db.session.commit()
    click.echo(f"written to {out}")


def _audit(job: ExportJob, action: str) -> None:
    record(
        db.session,
        actor_id=None,
        action=action,
        subject_type="export_job",
        subject_id=job.id,
        contest_id=job.contest_id,
        details={"via": "cli", "operator": getpass.getuser()},
    )


def _contest(slug: str | None) -> Contest:
    if slug is None:
        found = current_contest(db.session)
    else:
        found = db.session.scalar(select(Contest).where(Contest.slug == slug))
    if found is None:
        raise click.ClickException(
            f"there is no contest {slug!r}" if slug else "there is no published contest"
        )
    return found
