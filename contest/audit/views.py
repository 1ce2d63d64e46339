"""The audit log page and its CSV file: who did what to which record, when and why (organizers only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _

from contest.admin import services
from contest.audit import log
from contest.audit.forms import AuditFilterForm
from contest.auth.policy import organizer_required
from contest.csvfile import csv_lines
from contest.extensions import db
from contest.timeutil import to_vn

bp = Blueprint("audit", __name__)


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(
        request.args,
        contests=services.all_contests(db.session),
        actions=log.audit_actions(db.session),
        actors=log.actors(db.session),
        subject_types=log.subject_types(db.session),
    )
    if "contest" not in request.args:
        form.contest.data = 0
    return form


@bp.get("/audit")
@organizer_required
def audit():
    """Who did what and why, newest first; filtered by who, action, dates and record."""
    form = _filter_form()
    page = {"form": form, "result": None, "subjects": {}, "action_labels": log.ACTION_LABELS}
    if request.args and not form.validate():
        return render_template("audit/log.html", **page), 400
    result = log.audit_page(db.session, form.chosen(), page=form.page.data or 1)
    page.update(result=result, subjects=log.subjects(db.session, result.events))
    return render_template("audit/log.html", **page)


@bp.get("/audit.csv")
@organizer_required
def audit_csv():
    """Every event the filter lets through, as a spreadsheet reads it (Vietnam time)."""
    form = _filter_form()
    if request.args and not form.validate():
        page = {"form": form, "result": None, "subjects": {}, "action_labels": log.ACTION_LABELS}
        return render_template("audit/log.html", **page), 400
    batches = (_rows(events) for events in log.every_event(db.session, form.chosen()))
    name = f"audit-log-{to_vn(datetime.now(UTC)):%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(csv_lines(_header(), batches)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


def _header() -> list[str]:
    return [
        _("Time (Vietnam)"),
        _("Who"),
        _("E-mail address"),
        _("Action"),
        _("Action code"),
        _("Kind of record"),
        _("Record number"),
        _("Entry code"),
        _("Reason"),
        _("Details"),
    ]


def _rows(events) -> list[list[object]]:
    names = log.subjects(db.session, events)
    return [
        [
            to_vn(event.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            event.actor.full_name if event.actor else _("the system"),
            event.actor.email if event.actor else "",
            str(log.ACTION_LABELS.get(event.action, event.action)),
            event.action,
            event.subject_type,
            event.subject_id if event.subject_id is not None else "",
            names.get((event.subject_type, event.subject_id), ""),
            event.reason,
            json.dumps(event.details, ensure_ascii=False, sort_keys=True) if event.details else "",
        ]
        for event in events
    ]
