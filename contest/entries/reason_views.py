"""The organizers' templates of reasons for rejecting an entry: list, add, change, delete."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from contest.auth.policy import organizer_required
from contest.entries import reasons
from contest.entries.moderation_forms import DeleteForm, ReasonTemplateForm
from contest.extensions import db

bp = Blueprint("rejection_reasons", __name__)


@bp.route("/", methods=["GET", "POST"])
@organizer_required
def index():
    """The templates, and a form to add one."""
    form = ReasonTemplateForm()
    if form.validate_on_submit():
        reasons.save_reason(
            db.session, None, current_user, text_vi=form.text_vi.data, text_en=form.text_en.data
        )
        db.session.commit()
        flash(_("The reason was added."), "success")
        return redirect(url_for(".index"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "entries/moderation/reasons.html",
        reasons=reasons.all_reasons(db.session),
        form=form,
        delete_form=DeleteForm(formdata=None),
    ), status


@bp.route("/<int:reason_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit(reason_id: int):
    reason = db.session.get(reasons.RejectionReason, reason_id) or abort(404)
    form = ReasonTemplateForm(obj=reason)
    if form.validate_on_submit():
        reasons.save_reason(
            db.session, reason, current_user, text_vi=form.text_vi.data, text_en=form.text_en.data
        )
        db.session.commit()
        flash(_("The reason was saved."), "success")
        return redirect(url_for(".index"))
    status = 400 if form.is_submitted() else 200
    return render_template("entries/moderation/reason_form.html", form=form, reason=reason), status


@bp.post("/<int:reason_id>/delete")
@organizer_required
def delete(reason_id: int):
    reason = db.session.get(reasons.RejectionReason, reason_id) or abort(404)
    if not DeleteForm().validate_on_submit():
        abort(400)
    reasons.delete_reason(db.session, reason, current_user)
    db.session.commit()
    flash(_("The reason was deleted: rejections already made keep their words."), "success")
    return redirect(url_for(".index"))
