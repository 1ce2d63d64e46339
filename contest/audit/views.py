"""The audit log page: who did what to which record, when and why (organizers only)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from contest.admin import services
from contest.audit import log
from contest.audit.forms import AuditFilterForm
from contest.auth.policy import organizer_required
from contest.extensions import db

bp = Blueprint("audit", __name__)


@bp.get("/audit")
@organizer_required
def audit():
    """Who did what and why, newest first; filtered by contest and action."""
    contests = services.all_contests(db.session)
    form = AuditFilterForm(request.args, contests=contests, actions=log.audit_actions(db.session))
    if "contest" not in request.args:
        form.contest.data = 0
    page = {"form": form, "result": None, "subjects": {}, "action_labels": log.ACTION_LABELS}
    if request.args and not form.validate():
        return render_template("admin/audit.html", **page), 400
    result = log.audit_page(
        db.session,
        contest_id=form.contest.data or None,
        action=form.action.data or "",
        page=form.page.data or 1,
    )
    page.update(result=result, subjects=log.subjects(db.session, result.events))
    return render_template("admin/audit.html", **page)
