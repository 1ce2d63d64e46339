"""The organizer's ZIP of the winners' originals: ask the worker for it, follow its progress,
download it through a short signed link. The originals are personal data: the request and
every download are audited."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from contest.audit.services import record
from contest.auth.policy import organizer_required
from contest.contests.models import Contest
from contest.extensions import db
from contest.processing.dispatch import send_after_commit
from contest.results.export_jobs import EXPORT_TASK, ExportJob, ExportKind, ExportStatus, new_export_job
from contest.results.zip_items import zip_items
from contest.storage import get_storage

bp = Blueprint("results_zip", __name__)
DOWNLOAD_LINK_S = 300


class BuildForm(FlaskForm):
    """The build button: no field, the CSRF token only."""


@bp.get("/")
@organizer_required
def index():
    contests = db.session.scalars(select(Contest).order_by(Contest.created_at.desc())).all()
    latest = {contest.id: _latest_job(contest.id) for contest in contests}
    return render_template(
        "results/exports_zip.html",
        contests=contests,
        latest=latest,
        form=BuildForm(),
        status_body=status_body,
    )


@bp.post("/contests/<int:contest_id>")
@organizer_required
def build(contest_id: int):
    contest = db.session.get(Contest, contest_id) or abort(404)
    if not BuildForm().validate_on_submit():
        abort(400)
    job = _latest_job(contest.id)
    if job is not None and not job.finished:
        flash(_("The ZIP of this contest is already being built."), "info")
    elif not zip_items(db.session, contest.id):
        flash(_("No prize has been awarded yet: there is nothing to put in the ZIP."), "error")
    else:
        _queue(contest)
        db.session.commit()
        flash(_("The ZIP is being built. This page shows its progress."), "success")
    return redirect(url_for(".index", _anchor=f"contest-{contest.id}"))


def _queue(contest: Contest) -> ExportJob:
    job = new_export_job(db.session, contest.id, ExportKind.winners_zip, current_user.id)
    record(
        db.session,
        actor_id=current_user.id,
        action="export.winners_zip_requested",
        subject_type="export_job",
        subject_id=job.id,
        contest_id=contest.id,
    )
    send_after_commit(db.session, EXPORT_TASK, job.id)
    return job


@bp.get("/jobs/<int:job_id>.json")
@organizer_required
def status(job_id: int):
    job = db.session.get(ExportJob, job_id) or abort(404)
    return jsonify(status_body(job))


def status_body(job: ExportJob) -> dict:
    done = job.status is ExportStatus.done
    return {
        "status": job.status.value,
        "label": status_label(job),
        "files_done": job.files_done,
        "files_total": job.files_total,
        "bytes_done": job.bytes_done,
        "bytes_total": job.bytes_total,
        "percent": 100 if done else int(100 * job.bytes_done / job.bytes_total) if job.bytes_total else 0,
        "finished": job.finished,
        "download_url": url_for(".download", job_id=job.id) if done else None,
    }


def status_label(job: ExportJob) -> str:
    total = job.files_total
    if job.status is ExportStatus.queued:
        return _("Waiting for the worker")
    if job.status is ExportStatus.running:
        return ngettext(
            "Building: %(done)s of %(num)d file",
            "Building: %(done)s of %(num)d files",
            total,
            done=job.files_done,
        )
    if job.status is ExportStatus.done:
        return ngettext("Ready: %(num)d file", "Ready: %(num)d files", total)
    if job.status is ExportStatus.superseded:
        return _("Replaced by a newer ZIP, and deleted")
    return _("Failed: %(error)s", error=job.error or "")


@bp.get("/jobs/<int:job_id>/download")
@organizer_required
def download(job_id: int):
    """A short signed link to the ZIP, after an audit event naming who downloaded it."""
    job = db.session.get(ExportJob, job_id) or abort(404)
    if job.status is not ExportStatus.done:
        abort(404)
    contest = db.session.get(Contest, job.contest_id)
    record(
        db.session,
        actor_id=current_user.id,
        action="export.winners_zip_downloaded",
        subject_type="export_job",
        subject_id=job.id,
        contest_id=job.contest_id,
    )
    db.session.commit()
    name = f"{contest.slug}-winners-originals-{job.id}.zip"
    return redirect(get_storage().url(job.storage_key, expires_s=DOWNLOAD_LINK_S, download_name=name))


def _latest_job(contest_id: int) -> ExportJob | None:
    return db.session.scalars(
        select(ExportJob)
        .where(ExportJob.contest_id == contest_id, ExportJob.kind == ExportKind.winners_zip)
        .order_by(ExportJob.id.desc())
        .limit(1)
    ).first()
