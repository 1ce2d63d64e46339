"""The organizers' dashboard: the contests at a glance.

Setting an edition up is in contest.contests.setup_views; moderation and the flags for review
are in contest.entries.moderation_views.

The review of votes is in contest.voting.review_views, the audit log in contest.audit.views.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from contest.admin import services
from contest.admin.lists import STATUS_LABELS
from contest.auth.policy import organizer_required
from contest.extensions import db

bp = Blueprint("admin", __name__)


@bp.get("/")
@organizer_required
def index():
    return render_template(
        "admin/index.html", overview=services.contest_overview(db.session), status_labels=STATUS_LABELS
    )
