"""Organizer pages: the contests at a glance and the flags for review.

Setting an edition up is in contest.contests.setup_views, moderation in contest.entries.moderation_views.

The review of votes is in contest.voting.review_views, the audit log in contest.audit.views.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from contest.admin import services
from contest.admin.forms import FlagFilterForm
from contest.admin.lists import STATUS_LABELS
from contest.auth.policy import organizer_required
from contest.entries import flags as entry_flags
from contest.entries.models import FlagKind
from contest.extensions import db

bp = Blueprint("admin", __name__)


@bp.get("/")
@organizer_required
def index():
    return render_template(
        "admin/index.html", overview=services.contest_overview(db.session), status_labels=STATUS_LABELS
    )


# --- flags: duplicates and EXIF hints for review ----------------------------------------
@bp.get("/flags")
@organizer_required
def flags():
    """The contest's flagged entries, newest first; filtered by contest and kind of flag."""
    contests = services.all_contests(db.session)
    form = FlagFilterForm(request.args, contests=contests)
    if "contest" not in request.args and contests:
        form.contest.data = contests[0].id  # the newest contest unless one is chosen
    if not contests or (request.args and not form.validate()):
        status = 400 if request.args else 200
        return render_template("admin/flags.html", form=form, result=None, **_FLAG_PAGE), status
    kind = FlagKind(form.kind.data) if form.kind.data else None
    result = entry_flags.flagged_entries(db.session, form.contest.data, kind, form.page.data or 1)
    return render_template("admin/flags.html", form=form, result=result, **_FLAG_PAGE)


_FLAG_PAGE = {
    "flag_labels": entry_flags.FLAG_LABELS,
    "status_labels": STATUS_LABELS,
    "thumb_url": entry_flags.thumb_url,
    "exif_of": entry_flags.exif_of,
    "as_date": entry_flags.as_date,
}
