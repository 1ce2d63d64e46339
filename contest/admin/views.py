"""Organizer pages: the contests at a glance, contest settings, category rules, moderation.

The review of votes is in contest.voting.review_views, the audit log in contest.audit.views.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.admin import services
from contest.admin.forms import (
    CATEGORY_FORMS,
    ContestForm,
    FlagFilterForm,
)
from contest.admin.lists import STATUS_LABELS
from contest.auth.policy import organizer_required
from contest.contests.models import Category, Contest
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


@bp.route("/contests/<int:contest_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_contest(contest_id: int):
    contest = db.session.get(Contest, contest_id) or abort(404)
    locked = services.has_entries(db.session, contest)
    form = ContestForm(data=services.contest_settings(contest))
    if form.validate_on_submit() and _saved(form, services.update_contest, contest):
        flash(_("The contest settings were saved."), "success")
        return redirect(url_for(".index"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/contest_form.html", form=form, contest=contest, prefix_locked=locked
    ), status


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_category(category_id: int):
    category = db.session.get(Category, category_id) or abort(404)
    form = CATEGORY_FORMS[category.kind](data=services.category_settings(category))
    if form.validate_on_submit() and _saved(form, services.update_category, category):
        flash(_("The category %(name)s was saved.", name=category.name), "success")
        return redirect(url_for(".index"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/category_form.html", form=form, category=category), status


def _saved(form, update, target) -> bool:
    """Run ``update`` with the form's values and commit; a refusal becomes a field error."""
    try:
        update(db.session, target, form.data, current_user)
    except services.SettingsRejected as exc:
        form[exc.field].errors.append(exc.message)
        return False
    db.session.commit()
    return True


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
